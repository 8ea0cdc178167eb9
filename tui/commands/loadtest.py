"""``inferdeck loadtest SCENARIO [--target URL] [--model M] [--scale X] [--duration D]``.

Runs one of the handbook's load-test scenarios (or the operator's own, or a YAML file)
with Locust against an OpenAI-compatible target, prints a progress line about once a
second, and at the end the report: client-side TTFT/E2E/ITL percentiles, throughput,
errors by kind, each criterion met or not, beside what the backends counted over the
same interval (``--json`` prints the report as JSON). ``inferdeck loadtest list`` lists
the scenarios.

Refused in read-only mode; audited; a target that is neither loopback nor known to the
config (backends, nginx, ``loadtest.targets``) is asked about (``--yes`` says yes);
rate and duration are capped by ``loadtest:`` in the config. Ctrl-C stops it at once.
Exit codes: 0 every criterion met, 1 not met / stopped / failed, 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from tui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    error,
    executor_for,
    guarded,
    load,
    read_line,
    say,
    stopped_by,
    terminal_safe,
)
from tui.config import Config, ConfigError

__all__ = ["add_loadtest_arguments", "run_loadtest"]


def add_loadtest_arguments(parser: argparse.ArgumentParser) -> None:
    """SCENARIO and the run's options (common flags come from the CLI)."""
    parser.add_argument("scenario", metavar="SCENARIO",
                        help="a scenario's name (`list` lists them) or a YAML file")  # fmt: skip
    parser.add_argument("--target", metavar="URL",
                        help="where to send requests (default: nginx, else a backend)")  # fmt: skip
    parser.add_argument("--model", metavar="M", help="the model (default: the target's first)")
    parser.add_argument("--scale", metavar="X", type=float, default=1.0,
                        help="multiply every stage's users or rate by X")  # fmt: skip
    parser.add_argument("--duration", metavar="D",
                        help="stretch or squeeze the stages to last D (90s, 10m, 1h)")  # fmt: skip
    parser.add_argument("--workers", metavar="N", type=int, default=0,
                        help="a Locust master with N local worker processes (cores)")  # fmt: skip


def _list(config: Config | None, args: argparse.Namespace) -> int:
    from tui.loadtest.config import loadtest_config
    from tui.loadtest.scenario import load_scenarios

    scenarios = load_scenarios(loadtest_config(config).scenarios_dir)
    if getattr(args, "json", False):
        print(json.dumps({n: {"description": s.description, "duration_s": s.duration_s,
                              "load": s.load, "peak": s.peak, "source": s.source}
                          for n, s in sorted(scenarios.items())}, indent=2))  # fmt: skip
        return EXIT_OK
    for name, s in sorted(scenarios.items()):
        say(f"{terminal_safe(name):<12} {s.load:<5} peak {s.peak:>5g}  {s.duration_s:>6g}s  "
            f"{terminal_safe(s.description)}")  # fmt: skip
    return EXIT_OK


def _confirm_target(target: str, args: argparse.Namespace) -> bool:
    """Ask before loading a target the config does not know (``--yes`` says yes)."""
    if getattr(args, "yes", False):
        return True
    print(f"{terminal_safe(target)} is neither loopback nor a target in the config.",
          file=sys.stderr)  # fmt: skip
    print("Send load to it? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = asyncio.run(read_line(sys.stdin))
    return answer.strip().lower() in ("y", "yes")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}ms"


def _print_report(data: dict[str, Any]) -> None:
    server = data.get("server") or {}
    say(f"\nscenario {terminal_safe(data['scenario'])} on {terminal_safe(data['target'])}: "
        f"{data['duration_s']:.0f}s, {data['requests']} requests, {data['ok']} ok, "
        f"error rate {data['error_rate']:.2%}")  # fmt: skip
    if data.get("stopped"):
        say(f"stopped early: {terminal_safe(data['stopped'])}")
    say(f"{'':<16}{'client p50':>11}{'p95':>9}{'p99':>9}   {'server p50':>11}{'p95':>9}{'p99':>9}")
    for key, label in (("ttft_s", "TTFT"), ("e2e_s", "E2E"), ("itl_s", "ITL")):
        c, s = data[key], server.get(key, {})
        say(f"{label:<16}{_seconds(c.get('p50')):>11}{_seconds(c.get('p95')):>9}"
            f"{_seconds(c.get('p99')):>9}   {_seconds(s.get('p50')):>11}"
            f"{_seconds(s.get('p95')):>9}{_seconds(s.get('p99')):>9}")  # fmt: skip
    say(f"{'requests/s':<16}{data['requests_per_s']:>11.2f}{'':>18}   "
        f"{server.get('requests_per_s', 0.0):>11.2f}")  # fmt: skip
    say(f"{'output tokens/s':<16}{data['output_tokens_per_s']:>11.1f}{'':>18}   "
        f"{server.get('output_tokens_per_s', 0.0):>11.1f}")  # fmt: skip
    say(f"{'completed':<16}{data['ok']:>11}{'':>18}   {server.get('completed', 0):>11.0f}")
    if server.get("unread"):
        say(f"not read from: {terminal_safe(', '.join(server['unread']))}")
    errors = data.get("errors") or {}
    say("errors: " + (", ".join(f"{terminal_safe(k)} {v}" for k, v in sorted(errors.items()))
                      or "none"))  # fmt: skip
    for v in data["criteria"]:
        mark = "met    " if v["met"] else "NOT met"
        say(f"  {mark}  {terminal_safe(v['name'])}: {v['seen']} ({v['limit']})")
    say("PASSED: every criterion met" if data["passed"] else "FAILED")


@guarded
def run_loadtest(args: argparse.Namespace) -> int:
    """Run a scenario, print progress and the report; 0 only when every criterion is met."""
    from tui.analysis.slo import get_tier
    from tui.loadtest.config import (
        check_caps,
        default_target,
        is_loopback,
        known_targets,
        loadtest_config,
    )
    from tui.loadtest.drill import DrillError, audited, drill, first_model
    from tui.loadtest.run import RunSettings
    from tui.loadtest.scenario import find_scenario
    from tui.ops.alerts.silences import parse_duration

    config = load(args, required=False)
    if args.scenario == "list":
        return _list(config, args)
    settings = loadtest_config(config)
    scenario = find_scenario(args.scenario, settings.scenarios_dir)
    if not args.scale > 0:
        raise ValueError("--scale must be greater than 0")
    duration = parse_duration(args.duration) if args.duration else None
    scenario = scenario.scaled(args.scale, duration)
    check_caps(scenario.peak, scenario.load, scenario.duration_s, settings)
    target = (args.target or default_target(config, settings) or "").rstrip("/")
    if not target:
        raise ConfigError("no target: pass --target URL (or configure backends or nginx)")
    if not target.startswith(("http://", "https://")):
        raise ValueError(f"--target must be an http(s) URL, not {target!r}")
    executor = executor_for(config, args)
    known = is_loopback(target) or target in known_targets(config, settings)
    if executor.read_only is None and not known and not _confirm_target(target, args):
        error(f"refused: {target} is not a target in the config (nothing was sent)")
        return EXIT_FAILED
    try:
        model = args.model or ("" if executor.read_only else first_model(target))
    except DrillError as exc:
        error(str(exc))
        return EXIT_FAILED
    tier = get_tier(config.slo_tier if config else "standard")
    backends = [(b.name, b.url) for b in config.backends] if config else []
    from tui.loadtest.server import backends_to_watch

    folder = Path(tempfile.mkdtemp(prefix="inferdeck-loadtest-"))
    run_settings = RunSettings(
        scenario, target, model, folder / "records.jsonl",
        per_user_rps=settings.per_user_rps, request_timeout_s=settings.request_timeout_s,
        grace_s=settings.grace_s, workers=max(0, args.workers),
    )  # fmt: skip
    stop = threading.Event()
    quiet = getattr(args, "json", False)

    def progress(p: Any) -> None:
        print(p.line(), file=sys.stderr if quiet else sys.stdout, flush=True)

    try:
        with stopped_by(stop, signal.SIGINT):
            report = audited(executor, run_settings, lambda: drill(
                run_settings, tier, backends_to_watch(backends, target), progress=progress,
                stop=stop,
            ))  # fmt: skip
    except DrillError as exc:
        error(str(exc))
        return EXIT_FAILED
    data = report.to_dict()
    data["records"] = str(run_settings.records)
    if quiet:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        _print_report(data)
    return EXIT_OK if report.passed else EXIT_FAILED
