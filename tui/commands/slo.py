"""``inferdeck slo [--json] [-c FILE | --demo]``: every objective of the tier, and the error budget.

Objectives from a few polls of the fleet; the timeout rate from Prometheus (the gateway's
504s when ``slo.timeout_query`` is set, else the engine's aborts) or from the engines'
own counters. The error budget from Prometheus range queries when Prometheus is
configured, else from what this run recorded (a few seconds: it says so).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tui.analysis.budget import DEFAULT_WINDOW_S, ErrorBudget, Objective, duration
from tui.commands._observe import add_observe_arguments, observed
from tui.commands.common import terminal_safe
from tui.commands.snapshot import to_jsonable
from tui.judging import budget_for, judge
from tui.model import OverallState

__all__ = ["add_slo_arguments", "budget_for", "describe", "judge", "run_slo"]


def add_slo_arguments(parser: argparse.ArgumentParser) -> None:
    """``--demo``, ``--samples``, ``--interval``, ``--window-days``."""
    add_observe_arguments(parser)
    parser.add_argument(
        "--window-days", type=float, default=None, help="SLO window (default: slo.window_days, 30)"
    )


def run_slo(args: argparse.Namespace) -> int:
    """`inferdeck slo`: print the objectives and the error budget (exit 0)."""
    with observed(args) as seen:
        days = getattr(args, "window_days", None)
        if days is None and seen.config.slo is not None:
            days = seen.config.slo.window_days
        report = judge(seen, days * 86400 if days else DEFAULT_WINDOW_S)
    if getattr(args, "json", False):
        print(json.dumps(to_jsonable(_jsonable(report)), indent=2, sort_keys=True))
    else:
        print(terminal_safe_lines(describe(report)))
    return 0


def _jsonable(report: dict[str, Any]) -> dict[str, Any]:
    budget: ErrorBudget = report["budget"]
    return {
        **report,
        "objectives": [
            {**to_jsonable(o), "shown": o.shown, "shown_target": o.shown_target}
            for o in report["objectives"]
        ],
        "budget": {
            **to_jsonable(budget),
            "remaining_min": budget.remaining_min,
            "remaining_pct": budget.remaining_pct,
            "availability": budget.availability,
        },
    }


def terminal_safe_lines(text: str) -> str:
    """Each line made safe for the terminal (labels and reasons come from outside)."""
    return "\n".join(terminal_safe(line) for line in text.splitlines())


def describe(report: dict[str, Any]) -> str:
    """The report for the terminal: objectives table, overall state, budget, burn rates."""
    state: OverallState = report["overall"]
    lines = [f"SLO tier {report['tier']} · {report['environment']}: {state.value}"]
    lines += [f"  {r}" for r in report["reasons"]]
    lines.append("")
    lines.append(f"{'Objective':<30} {'Value':>18} {'Target':>20}  State")
    o: Objective
    for o in report["objectives"]:
        lines.append(f"{o.label:<30} {o.shown:>18} {o.shown_target:>20}  {o.state}")
        if o.note and o.key in ("timeout_rate", "availability", "requests_per_min"):
            lines.append(f"{'':<30}   ({o.note})")
    b: ErrorBudget = report["budget"]
    lines += [
        "",
        f"Error budget over {duration(b.window_s)} ({b.source_detail})",
        f"  allowed {b.allowed_min:.1f} min · used {b.used_min:.1f} min · "
        f"remaining {b.remaining_min:.1f} min ({b.remaining_pct:.0f}%)",
        "  burn rates: "
        + "  ".join(
            f"{duration(r.window_s)} {'-' if r.rate is None else f'{r.rate:.2f}x'}"
            + ("*" if r.partial else "")
            for r in b.burn_rates
        ),
        "  (* fewer data than the window)",
    ]
    lines += [f"  {a.summary}" for a in b.alerts]
    return "\n".join(lines)
