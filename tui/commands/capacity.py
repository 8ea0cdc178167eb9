"""``inferdeck capacity [--json]`` and ``inferdeck cost [--json]``: room to grow, and its price.

``capacity``: host checks (this machine through psutil; the fleet's through node
exporter when Prometheus is configured), GPU bands, in-flight requests against
``max_num_seqs``, the handbook's scaling decision, the growth projection (growth from
``capacity.growth_monthly``, else fitted to Prometheus's GPU history) and headroom.
``cost``: the monthly cost table over the month's requests and tokens.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tui import judging
from tui.analysis.cost import CostReport
from tui.commands._observe import add_observe_arguments, observed
from tui.commands.slo import terminal_safe_lines
from tui.commands.snapshot import to_jsonable
from tui.judging import Observation, cost_for, growth_for, hosts_for

__all__ = ["capacity_report", "cost_for", "growth_for", "hosts_for", "run_capacity", "run_cost"]


def add_capacity_arguments(parser: argparse.ArgumentParser) -> None:
    """``--demo``, ``--samples``, ``--interval``, ``--no-local``."""
    add_observe_arguments(parser)
    parser.add_argument(
        "--no-local", action="store_true", help="leave out this machine's own host metrics"
    )


def add_cost_arguments(parser: argparse.ArgumentParser) -> None:
    """``--demo``, ``--samples``, ``--interval``."""
    add_observe_arguments(parser)


def capacity_report(seen: Observation, *, local: bool = True) -> dict[str, Any]:
    """Everything ``capacity`` prints, as data (in-flight rows as plain dicts for JSON)."""
    report = judging.capacity_report(seen, local=local)
    report["in_flight"] = [
        {**to_jsonable(f), "ratio": f.ratio, "over": f.over} for f in report["in_flight"]
    ]
    return report


def run_capacity(args: argparse.Namespace) -> int:
    """`inferdeck capacity`: print the capacity report (exit 0)."""
    with observed(args) as seen:
        report = capacity_report(seen, local=not getattr(args, "no_local", False))
    if getattr(args, "json", False):
        print(json.dumps(to_jsonable(report), indent=2, sort_keys=True))
    else:
        print(terminal_safe_lines(describe_capacity(report)))
    return 0


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def describe_capacity(report: dict[str, Any]) -> str:
    """The capacity report for the terminal."""
    lines = ["Hosts"]
    for entry in report["hosts"]:
        host = entry["host"]
        cells = "  ".join(
            f"{c.name} {_pct(c.value)}{'' if c.state == 'ok' else f' ({c.state} > {c.limit:g}%)'}"
            for c in entry["checks"]
        )
        lines.append(f"  {host.host} [{host.source}]: {cells}")
    if report["host_note"]:
        lines.append(f"  {report['host_note']}")
    if report["gpus"]:
        lines.append("GPUs (target 60-80%, idle < 20%)")
        lines += [f"  {g.key}: {_pct(g.util_pct)} {g.band}" for g in report["gpus"]]
    flights = [f for f in report["in_flight"] if f["max_num_seqs"]]
    if flights:
        lines.append("In flight / max_num_seqs (flag > 80%)")
        lines += [
            f"  {f['backend']}: {f['running'] or 0:g}/{f['max_num_seqs']} {_pct(100 * f['ratio'])}"
            + ("  OVER 80%" if f["over"] else "")
            for f in flights
            if f["ratio"] is not None
        ]
    d = report["decision"]
    lines.append(f"Scaling decision: {d.action} (decided by {', '.join(d.decided_by) or '-'})")
    lines += [f"  {f.name}: {f.shown}{f' ({f.note})' if f.note else ''}" for f in d.figures]
    p, h = report["projection"], report["headroom"]
    lines.append(f"Utilisation {_pct(p.current_pct)} ({report['utilisation']['source']})")
    growth = "-" if p.monthly_growth is None else f"{p.monthly_growth:.1%}/month"
    months = "-" if p.months is None else f"{p.months:.1f} months"
    lines.append(f"Growth {growth} ({p.growth_source}): {months} until {p.threshold_pct:g}%")
    lines.append(f"Headroom {_pct(h.free_pct)}: {h.state} (keep 20-30%)")
    return "\n".join(lines)


def run_cost(args: argparse.Namespace) -> int:
    """`inferdeck cost`: print the cost per request and per 1,000 tokens (exit 0)."""
    with observed(args) as seen:
        report = cost_for(seen)
    if getattr(args, "json", False):
        print(json.dumps(to_jsonable(report), indent=2, sort_keys=True))
    else:
        print(terminal_safe_lines(describe_cost(report)))
    return 0


def _usd(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"${value:,.{digits}f}"


def _unit(value: float | None) -> str:
    """A unit price to three significant figures: ``$0.0124``."""
    return "-" if value is None else f"${value:.3g}"


def describe_cost(r: CostReport) -> str:
    """The cost report for the terminal."""
    lines = ["Monthly cost"]
    lines += [f"  {i.name:<28} {_usd(i.monthly_usd):>10}  {i.allocation}" for i in r.items]
    lines.append(f"  {'Total':<28} {_usd(r.total_usd):>10}")
    count = "-" if r.requests.count is None else f"{r.requests.count:,.0f}"
    tokens = "-" if r.tokens.count is None else f"{r.tokens.count:,.0f}"
    lines.append(f"Requests a month {count} ({r.requests.source})")
    lines.append(f"Tokens a month {tokens} ({r.tokens.source})")
    lines.append(f"Cost per request {_unit(r.per_request_usd)}")
    lines.append(f"Cost per 1,000 tokens {_unit(r.per_1k_tokens_usd)}")
    if r.cloud is not None:
        for label, cloud, saved in (
            ("request", r.cloud.per_request_usd, r.savings_per_request),
            ("1,000 tokens", r.cloud.per_1k_tokens_usd, r.savings_per_1k_tokens),
        ):
            if cloud is not None:
                verdict = (
                    "-"
                    if saved is None
                    else f"{abs(saved):.0%} {'cheaper' if saved >= 0 else 'dearer'}"
                )
                lines.append(f"{r.cloud.name} per {label} {_unit(cloud)}: {verdict}")
    return "\n".join(lines)
