"""Every command: its module, one line of help, and the functions that add its arguments
and run it. The parser imports a command's module only when that command is asked for.

A new command is one entry here and one module beside this one.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True, slots=True)
class Command:
    """One ``inferdeck COMMAND``: where it lives and what it is for."""

    module_name: str
    help: str
    add: str | None  # the module's function that adds the arguments, if any
    run: str  # the module's function that runs it: run(args) -> exit code
    nested: bool = False  # ``add`` takes ``common=`` for subcommands of its own

    def module(self) -> ModuleType:
        """The command's module, imported now."""
        return importlib.import_module(self.module_name)


def _in(name: str) -> str:
    return f"tui.commands.{name}"


COMMANDS: dict[str, Command] = {
    "demo": Command(_in("dashboard"), "a simulated fleet and the dashboard on it",
                    "add_demo_arguments", "run_demo"),
    "sim": Command(_in("sim"), "run the simulated fleet alone (sim fault: inject a fault)",
                   "add_sim_command_arguments", "run_sim", nested=True),
    "snapshot": Command(_in("snapshot"), "one collection pass, printed",
                        "add_snapshot_arguments", "run_snapshot"),
    "lab": Command(_in("lab"), "a real local stack around the simulator",
                   "add_lab_arguments", "run_lab"),
    "ack": Command(_in("alerts"), "acknowledge an alert (an Alertmanager silence)",
                   "add_ack_arguments", "run_ack"),
    "unack": Command(_in("alerts"), "expire an alert's acknowledgement",
                     "add_unack_arguments", "run_unack"),
    "containers": Command(_in("containers"), "list, restart, stop or start containers",
                          "add_containers_arguments", "run_containers"),
    "traffic": Command(_in("traffic"), "the split between pools: show, set, rollback, rollout",
                       "add_traffic_arguments", "run_traffic"),
    "runbook": Command(_in("runbook"), "list, show, dry-run or run a runbook",
                       "add_runbook_arguments", "run_runbook", nested=True),
    "audit": Command(_in("audit"), "the last actions: who, what, how it ended",
                     "add_audit_arguments", "run_audit"),
    "incident": Command(_in("incident"), "incidents: list, show, note, sev, resolve",
                        "add_incident_arguments", "run_incident", nested=True),
    "record": Command(_in("record"), "record what the fleet looks like, without a dashboard",
                      "add_record_arguments", "run_record"),
    "replay": Command(_in("replay"), "replay a recording: the dashboard, or --at TIME --json",
                      "add_replay_arguments", "run_replay"),
    "alerts": Command(_in("alerts"), "the firing alerts, most severe first", None, "run_alerts"),
    "slo": Command(_in("slo"), "every SLO objective, the error budget and its burn rates",
                   "add_slo_arguments", "run_slo"),
    "capacity": Command(_in("capacity"), "hosts, GPUs, the scaling decision, growth and headroom",
                        "add_capacity_arguments", "run_capacity"),
    "cost": Command(_in("capacity"), "cost per request and per 1,000 tokens",
                    "add_cost_arguments", "run_cost"),
    "models": Command(_in("models"), "the model inventory, what each pool serves, retention",
                      "add_models_arguments", "run_models"),
    "loadtest": Command(_in("loadtest"), "run a load-test scenario and judge it (list: scenarios)",
                        "add_loadtest_arguments", "run_loadtest"),
    "autopilot": Command(_in("autopilot"), "remediation rules: list them, or watch and propose/act",
                         "add_autopilot_arguments", "run_autopilot"),
    "serve": Command(_in("serve"), "the dashboard in browsers (war room): loopback, read-only",
                     "add_serve_arguments", "run_serve"),
    "screenshots": Command(_in("dashboard"), "regenerate screenshots/ from the demo",
                           "add_screenshots_arguments", "run_screenshots"),
}  # fmt: skip
"""Every command, in the order ``inferdeck --help`` lists them."""

VALUE_FLAGS = frozenset({"-c", "--config", "--theme", "--refresh", "--context"})
"""Common flags that take a value (the next word is not a command)."""


def command_in(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first word that is not a flag or a flag's value."""
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word in VALUE_FLAGS:
            skip = True
            continue
        if word.startswith("-"):
            continue
        return word if word in COMMANDS else None
    return None
