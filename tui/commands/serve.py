"""``inferdeck serve``: the dashboard in browsers, for a war room, through textual-serve.

textual-serve runs a small web server; every browser that opens the page gets its own
dashboard process (started with a shell command) whose terminal streams over a websocket
to xterm.js in the page. So:

- the dashboard each browser sees is ``inferdeck -c FILE --read-only`` (``--allow-actions``
  drops ``--read-only``); ``--demo`` starts ONE simulated fleet here and writes a config
  for it, so every browser watches the same fleet;
- it listens on 127.0.0.1 unless ``--host`` says otherwise, and has no authentication of
  its own: anyone who reaches the port gets a dashboard. Put it behind a proxy that
  authenticates (and pass ``--public-url``, which the page uses for its websocket).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

from tui.commands.common import error, load_dashboard_config, say
from tui.commands.dashboard import sim_config_from

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """``--demo``, ``--host``, ``--port``, ``--public-url``, ``--allow-actions``, ``--wall``."""
    parser.add_argument(
        "--demo", action="store_true",
        help="serve the demo: one simulated fleet, watched by every browser",
    )  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--public-url", default=None, metavar="URL",
        help="the URL browsers reach, when a proxy is in front (default http://HOST:PORT)",
    )  # fmt: skip
    parser.add_argument(
        "--allow-actions", action="store_true",
        help="let browsers act (roll back, ack, ...); read-only without it",
    )  # fmt: skip
    parser.add_argument("--wall", action="store_true", default=argparse.SUPPRESS,
                        help="serve the NOC wall instead of the console")  # fmt: skip
    parser.add_argument("--seed", type=int, default=7, help="the demo's simulator seed (7)")
    parser.add_argument("--port-base", type=int, default=18000,
                        help="the demo simulator's ports from here (18000)")  # fmt: skip


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dashboard_command(config_path: str, args: argparse.Namespace) -> str:
    """The shell command textual-serve starts for each browser."""
    words = [sys.executable, "-m", "tui.commands", "-c", config_path]
    if not getattr(args, "allow_actions", False):
        words.append("--read-only")
    if getattr(args, "theme", None):
        words += ["--theme", args.theme]
    if getattr(args, "refresh", None):
        words += ["--refresh", str(args.refresh)]
    if getattr(args, "wall", False):
        words.append("--wall")
    return " ".join(shlex.quote(word) for word in words)


def demo_config_text(description: dict[str, Any], state_dir: Path) -> str:
    """A config file for the simulated fleet ``description`` describes."""
    lines = ["environment: demo", f"state_dir: {json_str(str(state_dir))}", "backends:"]
    for b in description["backends"]:
        lines.append(
            f"  - {{name: {json_str(b['name'])}, pool: {json_str(b['pool'])}, "
            f"url: {json_str(b['url'])}, model: {json_str(b.get('model', ''))}}}"
        )
    lines += [
        "sources:",
        "  scrape:",
        f"    gpu_exporters: [{json_str(description['gpu_exporter'])}]",
        "traffic:",
        "  router: sim",
        f"  sim_control: {json_str(description['control'])}",
    ]
    return "\n".join(lines) + "\n"


def json_str(value: str) -> str:
    """A YAML scalar that is exactly ``value`` (JSON strings are YAML)."""
    return json.dumps(value)


def _serve(command: str, args: argparse.Namespace) -> int:
    from textual_serve.server import Server

    class QuietServer(Server):
        """textual-serve, logging without tracebacks' local variables (they hold URLs
        with credentials, tokens)."""

        def initialize_logging(self) -> None:
            from rich.logging import RichHandler

            handler = RichHandler(show_path=False, show_time=False, console=self.console)
            logging.basicConfig(level="INFO", format="%(message)s", handlers=[handler])

    if not is_loopback(args.host):
        error(
            f"warning: serving on {args.host}, beyond this machine, with no authentication:"
            " put it behind a proxy that authenticates"
        )
    say(
        f"inferdeck serve: http://{args.host}:{args.port} "
        f"({'actions allowed' if args.allow_actions else 'read-only'}; no authentication)"
    )
    server = QuietServer(command, host=args.host, port=args.port, title="inferdeck",
                         public_url=args.public_url)  # fmt: skip
    server.serve()
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """`inferdeck serve`: the dashboard in browsers until Ctrl+C."""
    if args.demo:
        from tui.wiring import simulated_fleet

        with (
            tempfile.TemporaryDirectory(prefix="inferdeck-serve-") as folder,
            simulated_fleet(sim_config_from(args)) as description,
        ):
            path = Path(folder) / "demo.yaml"
            path.write_text(demo_config_text(description, Path(folder)))
            return _serve(dashboard_command(str(path), args), args)
    config = load_dashboard_config(args)  # a bad config is one line here, not in each browser
    assert config.path is not None
    return _serve(dashboard_command(str(Path(config.path).resolve()), args), args)
