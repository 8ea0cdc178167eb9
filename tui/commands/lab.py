"""``inferdeck lab up|down|status``: the arguments and what each subcommand does.

``tui.commands.main`` adds these with `add_lab_arguments` and calls `run_lab`. ``lab load``
is the load generator that ``lab up`` starts as a process of its own.

Exit codes: 0 done, 1 failed (or already running), 2 a missing binary or bad arguments.
Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from pathlib import Path

from tui.commands.common import error, say
from tui.commands.sim import pools_argument
from tui.lab.binaries import MissingBinary
from tui.lab.load import DEFAULT_MODEL
from tui.lab.load import run as send_load
from tui.lab.options import AlreadyRunning, LabError, LabOptions
from tui.lab.render import status_text
from tui.lab.stack import Lab
from tui.lab.state import LabPaths, default_dir, read_state
from tui.lab.status import lab_status


def _dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", type=Path, default=None, metavar="DIR",
        help="the lab's folder (default: $XDG_STATE_HOME/inferdeck/lab)",
    )  # fmt: skip


def add_lab_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``up``, ``down`` and ``status`` subcommands (``dest="lab_command"``)."""
    commands = parser.add_subparsers(dest="lab_command", metavar="up|down|status|load")
    commands.required = True
    up = commands.add_parser("up", help="start the lab (returns while it keeps running)")
    _dir_argument(up)
    up.add_argument(
        "--containers", action="store_true",
        help="run each backend in a container (a private podman serving the Docker API)",
    )  # fmt: skip
    up.add_argument(
        "--pools", type=pools_argument, default={"blue": 2, "green": 1}, metavar="POOL=N,...",
        help="backends per pool (default: blue=2,green=1); the first pool gets 100%%",
    )  # fmt: skip
    up.add_argument("--gpus", type=int, default=4, help="simulated GPUs (default: 4)")
    up.add_argument(
        "--rps", type=float, default=20.0,
        help="requests/s for the whole fleet, sent through nginx (default: 20)",
    )  # fmt: skip
    up.add_argument("--seed", type=int, default=7, help="simulator seed (default: 7)")
    up.add_argument(
        "--fast-alerts", action=argparse.BooleanOptionalAction, default=True,
        help="alert rules with for: shortened to 5s, evaluated every second (default: on)",
    )  # fmt: skip
    down = commands.add_parser("down", help="stop everything the lab started")
    _dir_argument(down)
    status = commands.add_parser("status", help="where the lab's parts are, and if they run")
    _dir_argument(status)
    status.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    load = commands.add_parser("load", help="the lab's load generator alone (lab up starts it)")
    load.add_argument("--target", required=True, help="base URL to send requests to (nginx)")
    load.add_argument("--rps", type=float, default=20.0, help="requests per second")
    load.add_argument("--seed", type=int, default=7, help="random seed")
    load.add_argument("--model", default=DEFAULT_MODEL, help="model name to ask for")


def _say(line: str) -> None:
    """Progress on stdout; a closed stdout (``lab up | head``) does not stop the lab."""
    with contextlib.suppress(OSError):
        say(f"lab: {line}", flush=True)


def _error(message: str) -> None:
    error(message)


def run_lab(args: argparse.Namespace) -> int:
    """Run ``lab up``, ``lab down`` or ``lab status`` as parsed by `add_lab_arguments`."""
    command = args.lab_command
    if command == "load":
        asyncio.run(send_load(args.target, args.rps, args.seed, args.model))
        return 0
    paths = LabPaths((args.dir or default_dir()).expanduser().absolute())
    if command == "up":
        return _up(paths, args)
    if command == "down":
        return _down(paths)
    return _status(paths, bool(getattr(args, "json", False)))


def _up(paths: LabPaths, args: argparse.Namespace) -> int:
    if args.gpus < 0 or args.rps < 0:
        _error("--gpus and --rps must not be negative")
        return 2
    opts = LabOptions(
        dir=paths.root, pools=dict(args.pools), gpus=args.gpus, rps=args.rps,
        engines=dict(getattr(args.pools, "engines", {})),
        seed=args.seed, containers=args.containers, fast_alerts=args.fast_alerts,
    )  # fmt: skip
    began = time.monotonic()
    lab = Lab(paths, say=_say)
    try:
        state = lab.up(opts)
    except MissingBinary as exc:
        _error(str(exc))
        return 2
    except AlreadyRunning as exc:
        _error(str(exc))
        return 1
    except LabError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        _error("interrupted; everything started was stopped")
        return 130
    data = lab_status(state)
    say(status_text(data).replace("lab: running", f"lab: up in {time.monotonic() - began:.1f}s"))
    return 0


def _down(paths: LabPaths) -> int:
    state = read_state(paths)
    if state is None:
        say(f"lab: nothing running in {paths.root}")
        return 0
    try:
        stopped = Lab(paths).down(state)
    except LabError as exc:
        _error(str(exc))
        return 1
    say(f"lab: stopped {', '.join(stopped) if stopped else 'nothing (all parts were gone)'}")
    return 0


def _status(paths: LabPaths, as_json: bool) -> int:
    state = read_state(paths)
    if state is None:
        if as_json:
            print(json.dumps({"running": False, "dir": str(paths.root)}))
        else:
            say(f"lab: not running ({paths.root})")
        return 1
    data = lab_status(state)
    say(json.dumps(data, indent=2) if as_json else status_text(data))
    return 0 if data["running"] else 1
