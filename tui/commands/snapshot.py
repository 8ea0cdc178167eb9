"""``inferdeck snapshot [--json]``: one collection pass, printed."""

from __future__ import annotations

import argparse
import json
import time

from tui.commands.common import load_dashboard_config, say, terminal_safe
from tui.commands.dashboard import demo_config_from, sim_config_from
from tui.model import FleetSnapshot
from tui.model_json import to_jsonable
from tui.wiring import collect, simulated_fleet

__all__ = ["add_snapshot_arguments", "describe", "run_snapshot", "to_jsonable"]


def add_snapshot_arguments(parser: argparse.ArgumentParser) -> None:
    """``--demo``, ``--seed``, ``--interval``."""
    parser.add_argument("--demo", action="store_true", help="take it from a simulated fleet")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed with --demo")
    parser.add_argument(
        "--interval",
        type=float,
        default=2.0,
        help="seconds between the two scrapes that rates need (default 2)",
    )


def run_snapshot(args: argparse.Namespace) -> int:
    """`inferdeck snapshot`: two scrapes ``--interval`` apart (rates need two), printed."""
    interval = getattr(args, "interval", 2.0)
    if getattr(args, "demo", False):
        with simulated_fleet(sim_config_from(args)) as description:
            time.sleep(2.0)  # let the load generator finish some requests
            snapshot = collect(
                demo_config_from(description, args), description["control"], interval
            )
    else:
        snapshot = collect(load_dashboard_config(args), None, interval)
    if getattr(args, "json", False):
        print(json.dumps(to_jsonable(snapshot), indent=2, sort_keys=True))
    else:
        say(describe(snapshot))
    return 0


def describe(snapshot: FleetSnapshot) -> str:
    """A short human summary of a snapshot, for the terminal; outside values made safe."""
    t = terminal_safe
    lines = [f"{t(snapshot.environment)}: {snapshot.overall.value}"]
    lines += [f"  {t(r)}" for r in snapshot.overall_reasons]
    for b in snapshot.backends:
        p95 = f"{b.ttft.p95:.3f}s" if b.ttft.p95 is not None else "-"
        lines.append(
            f"  {t(b.name):<12} {t(b.pool):<8} {b.health.value:<8} ttft_p95={p95} {t(b.reason)}"
        )
    for g in snapshot.gpus:
        lines.append(f"  gpu {t(g.key)}: util={g.util_pct}% temp={g.temp_c}C")
    for s in snapshot.sources:
        lines.append(f"  source {t(s.name)}: {s.state.value} {t(s.message)}")
    return "\n".join(lines)
