"""The command line's parser and dispatch: parse arguments, then call the command's module.

One module per command family lives beside this one (``dashboard``, ``snapshot``,
``traffic``, ``alerts``, ``containers``, ``runbook``, ``audit``, ``lab``, ``sim``, ``slo``,
``capacity`` (with ``cost``), ``models``); a new
command gets its own module and one entry here. No logic of its own.

Common flags (``-c``, ``--read-only``, ``--yes``, ``--json``, ``--theme``, ``--refresh``,
``--debug``) are accepted before or after the subcommand. Exit codes: 0 success, 1 the
action failed, 2 usage or configuration error. Errors are one line unless ``--debug``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from tui.commands import alerts as alerts_cli
from tui.commands import audit as audit_cli
from tui.commands import capacity as capacity_cli
from tui.commands import containers as containers_cli
from tui.commands import dashboard, snapshot
from tui.commands import incident as incident_cli
from tui.commands import lab as lab_cli
from tui.commands import models as models_cli
from tui.commands import runbook as runbooks_cli
from tui.commands import sim as sim_cli
from tui.commands import slo as slo_cli
from tui.commands import traffic as traffic_cli
from tui.commands.common import error
from tui.config import ConfigError
from tui.wiring import StartError


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Add the common flags; on subcommands they default to SUPPRESS so either place works."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        default=default(None),
        help="config file (else $INFERDECK_CONFIG, ./inferdeck.yaml, "
        "$XDG_CONFIG_HOME/inferdeck/config.yaml)",
    )
    parser.add_argument(
        "--read-only", action="store_true", default=default(False), help="no action can run"
    )
    parser.add_argument(
        "--yes", action="store_true", default=default(False), help="do not ask for confirmation"
    )
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="print data as JSON"
    )
    parser.add_argument(
        "--theme",
        metavar="NAME",
        default=default(None),
        help="inferdeck-dark, inferdeck-light or inferdeck-high-contrast",
    )
    parser.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=float,
        default=default(None),
        help="seconds between screen refreshes",
    )
    parser.add_argument(
        "--debug", action="store_true", default=default(False), help="show tracebacks"
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(
        prog="inferdeck",
        description="The on-call console for self-hosted LLM inference.",
    )
    _common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="a simulated fleet and the dashboard on it")
    _common(demo, suppress=True)
    dashboard.add_demo_arguments(demo)

    sim = commands.add_parser("sim", help="run the simulated fleet alone")
    _common(sim, suppress=True)
    sim_cli.add_sim_arguments(sim)
    sim_commands = sim.add_subparsers(dest="sim_command", metavar="fault")
    fault = sim_commands.add_parser("fault", help="inject or clear a fault on a backend")
    _common(fault, suppress=True)
    sim_cli.add_fault_arguments(fault)

    snap = commands.add_parser("snapshot", help="one collection pass, printed")
    _common(snap, suppress=True)
    snapshot.add_snapshot_arguments(snap)
    lab = commands.add_parser("lab", help="a real local stack around the simulator")
    _common(lab, suppress=True)
    lab_cli.add_lab_arguments(lab)

    ack = commands.add_parser("ack", help="acknowledge an alert (an Alertmanager silence)")
    _common(ack, suppress=True)
    alerts_cli.add_ack_arguments(ack)
    unack = commands.add_parser("unack", help="expire an alert's acknowledgement")
    _common(unack, suppress=True)
    alerts_cli.add_unack_arguments(unack)
    containers = commands.add_parser("containers", help="list, restart, stop or start containers")
    _common(containers, suppress=True)
    containers_cli.add_containers_arguments(containers)

    traffic = commands.add_parser(
        "traffic", help="the split between pools: show, set, rollback, rollout"
    )
    _common(traffic, suppress=True)
    traffic_cli.add_traffic_arguments(traffic)

    runbook = commands.add_parser("runbook", help="list, show, dry-run or run a runbook")
    _common(runbook, suppress=True)
    runbooks_cli.add_runbook_arguments(runbook, common=lambda p: _common(p, suppress=True))

    audit = commands.add_parser("audit", help="the last actions: who, what, how it ended")
    _common(audit, suppress=True)
    audit_cli.add_audit_arguments(audit)

    incident = commands.add_parser("incident", help="incidents: list, show, note, sev, resolve")
    _common(incident, suppress=True)
    incident_cli.add_incident_arguments(incident, common=lambda p: _common(p, suppress=True))

    alerts = commands.add_parser("alerts", help="the firing alerts, most severe first")
    _common(alerts, suppress=True)

    for name, help_text, add in (
        ("slo", "every SLO objective, the error budget and its burn rates",
         slo_cli.add_slo_arguments),
        ("capacity", "hosts, GPUs, the scaling decision, growth and headroom",
         capacity_cli.add_capacity_arguments),
        ("cost", "cost per request and per 1,000 tokens", capacity_cli.add_cost_arguments),
        ("models", "the model inventory, what each pool serves, retention warnings",
         models_cli.add_models_arguments),
    ):  # fmt: skip
        judging = commands.add_parser(name, help=help_text)
        _common(judging, suppress=True)
        add(judging)

    shots = commands.add_parser("screenshots", help="regenerate screenshots/ from the demo")
    _common(shots, suppress=True)
    shots.add_argument("--dir", default="screenshots", help="where to write (default screenshots)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``inferdeck`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        _error(str(exc), args)
        return 2
    except StartError as exc:
        _error(str(exc), args)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        _error(f"{type(exc).__name__}: {exc}", args)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "sim":
        if getattr(args, "sim_command", None) == "fault":
            return int(sim_cli.run_fault(args))
        return int(sim_cli.run_sim(args))
    if args.command == "demo":
        return dashboard.run_demo(args)
    if args.command == "snapshot":
        return snapshot.run_snapshot(args)
    if args.command == "lab":
        return int(lab_cli.run_lab(args))
    if args.command == "ack":
        return alerts_cli.run_ack(args)
    if args.command == "unack":
        return alerts_cli.run_unack(args)
    if args.command == "containers":
        return containers_cli.run_containers(args)
    if args.command == "traffic":
        return traffic_cli.run_traffic(args)
    if args.command == "runbook":
        return runbooks_cli.run_runbook(args)
    if args.command == "audit":
        return audit_cli.run_audit(args)
    if args.command == "incident":
        return incident_cli.run_incident(args)
    if args.command == "alerts":
        return alerts_cli.run_alerts(args)
    if args.command in _JUDGING:
        return _JUDGING[args.command](args)
    if args.command == "screenshots":
        return dashboard.run_screenshots(args)
    return dashboard.run_dashboard(args)


_JUDGING = {
    "slo": slo_cli.run_slo,
    "capacity": capacity_cli.run_capacity,
    "cost": capacity_cli.run_cost,
    "models": models_cli.run_models,
}


def _error(message: str, args: argparse.Namespace) -> None:
    if getattr(args, "debug", False):
        traceback.print_exc()
    error(message)


if __name__ == "__main__":
    sys.exit(main())
