"""The Capacity screen's panels: hosts, GPU bands and in-flight load, the scaling decision
with growth and headroom, and the cost table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui.analysis.capacity import (
    GPU_IDLE_PCT,
    GPU_TARGET_PCT,
    HEADROOM_BAND_PCT,
    IN_FLIGHT_LIMIT,
    Check,
    GpuUse,
    Headroom,
    HostMetrics,
    InFlight,
    Projection,
    ScalingDecision,
)
from tui.analysis.cost import CostReport
from widgets.report import ReportPanel, mark
from widgets.text import outside

_STATE_OF_CHECK = {"ok": "ok", "warn": "warn", "breach": "breach", "unknown": "unknown"}


def pct(value: float | None) -> str:
    """A percentage figure, ``-`` when unknown."""
    return "-" if value is None else f"{value:.0f}%"


@dataclass(frozen=True)
class HostsReport:
    """Every host read, its checks, and why some could not be read (one line)."""

    hosts: tuple[tuple[HostMetrics, tuple[Check, ...]], ...]
    note: str = ""


class HostsPanel(ReportPanel):
    """Each host's CPU, RAM, disk I/O and disk space against the handbook's limits."""

    TITLE = "Hosts"

    def line_count(self, report: object | None) -> int:
        """A row per host, a heading, the note."""
        return 2 + len(report.hosts) if isinstance(report, HostsReport) else 1

    def render_report(self, report: object) -> RenderableType:
        """One row per host: each check as figure, limit and state."""
        r: HostsReport = report  # type: ignore[assignment]
        dim = self.style("dim")
        lines: list[RenderableType] = [
            Text("limits: CPU > 90% · RAM > 85% · disk I/O > 80% · disk space > 90%", dim)
        ]
        if not r.hosts:
            lines.append(Text("no host read yet", dim))
        for host, checks in r.hosts:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append_text(outside(host.host, width=24))
            line.append(f" [{host.source}] ", dim)
            if host.error:
                line.append_text(outside(host.error, self.style("warn")))
            for c in checks:
                word, style = mark(_STATE_OF_CHECK[c.state])
                line.append("  ")
                line.append_text(outside(c.name, dim, width=20))
                line.append(f" {pct(c.value)} ", self.style(style if c.state != "ok" else ""))
                line.append(word.split(" ", 1)[0], self.style(style))
                if c.state in ("warn", "breach"):
                    line.append(f" {'over' if c.state == 'breach' else 'near'} {c.limit:g}%")
            lines.append(line)
        if r.note:
            lines.append(outside(r.note, self.style("warn")))
        return Group(*lines)


@dataclass(frozen=True)
class LoadReport:
    """GPU utilisation bands and in-flight requests against ``max_num_seqs``."""

    gpus: tuple[GpuUse, ...]
    in_flight: tuple[InFlight, ...]


class LoadPanel(ReportPanel):
    """GPU bands (idle < 20 %, target 60-80 %) and running requests per backend."""

    TITLE = "GPUs and in-flight requests"

    def line_count(self, report: object | None) -> int:
        """Rows of the taller of the two columns, plus headings."""
        if not isinstance(report, LoadReport):
            return 1
        return 2 + max(len(report.gpus), len(report.in_flight), 1)

    def render_report(self, report: object) -> RenderableType:
        """Two tables side by side."""
        r: LoadReport = report  # type: ignore[assignment]
        dim = self.style("dim")
        gpus = Table.grid(padding=(0, 1))
        gpus.add_column(no_wrap=True, max_width=24, overflow="ellipsis")
        gpus.add_column(justify="right", no_wrap=True)
        gpus.add_column(no_wrap=True)
        low, high = GPU_TARGET_PCT
        gpu_head = Text(f"GPU (target {low:.0f}-{high:.0f}%, idle < {GPU_IDLE_PCT:.0f}%)", dim)
        if not r.gpus:
            gpus.add_row(Text("no GPU figures", dim))
        for g in r.gpus:
            gpus.add_row(outside(g.key, width=24), Text(pct(g.util_pct)), self.state_text(g.band))
        flights = Table.grid(padding=(0, 1))
        flights.add_column(no_wrap=True, max_width=24, overflow="ellipsis")
        flights.add_column(justify="right", no_wrap=True)
        flights.add_column(no_wrap=True)
        flight_head = Text(f"in flight / max_num_seqs (flag > {IN_FLIGHT_LIMIT:.0%})", dim)
        if not r.in_flight:
            flights.add_row(Text("no backends", dim))
        for f in r.in_flight:
            running = "-" if f.running is None else f"{f.running:g}"
            limit = "?" if not f.max_num_seqs else str(f.max_num_seqs)
            ratio = f.ratio
            if ratio is None:
                state = Text("max_num_seqs not configured" if not f.max_num_seqs else "-", dim)
            else:
                state = self.state_text("breach" if f.over else "ok")
                state.append(f" {ratio:.0%}")
            flights.add_row(outside(f.backend, width=24), Text(f"{running}/{limit}"), state)
        grid = Table.grid(padding=(0, 4), expand=True)
        grid.add_column(ratio=1)
        grid.add_column(ratio=1)
        grid.add_row(Group(gpu_head, gpus), Group(flight_head, flights))
        return grid


@dataclass(frozen=True)
class ScalingReport:
    """The scaling decision, the utilisation it read, growth projection and headroom."""

    decision: ScalingDecision
    utilisation_pct: float | None
    utilisation_source: str
    projection: Projection
    headroom: Headroom


_ACTION_LEVEL = {0: "ok", 1: "warn", 2: "breach", 3: "breach"}


class ScalingPanel(ReportPanel):
    """The handbook's scaling matrix applied, with the figures that decided it."""

    TITLE = "Scaling decision"

    def line_count(self, report: object | None) -> int:
        """The decision, its figures, growth and headroom."""
        return 3 + len(report.decision.figures) if isinstance(report, ScalingReport) else 1

    def render_report(self, report: object) -> RenderableType:
        """Action, decided-by figures, growth projection, headroom."""
        r: ScalingReport = report  # type: ignore[assignment]
        dim = self.style("dim")
        d = r.decision
        lvl = _ACTION_LEVEL.get(d.level, "dim")
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"{'✓' if lvl == 'ok' else '▲' if lvl == 'warn' else '✗'} {d.action}",
                    self.style(lvl))  # fmt: skip
        head.append("  decided by ", dim).append(", ".join(d.decided_by) or "-")
        lines: list[RenderableType] = [head]
        for f in d.figures:
            line = Text(no_wrap=True, overflow="ellipsis")
            star = "▶ " if f.name in d.decided_by else "  "
            line.append(f"{star}{f.name:<12} ", dim).append(f"{f.shown:<12}")
            if f.note:
                line.append_text(outside(f.note, dim))
            lines.append(line)
        p, h = r.projection, r.headroom
        growth = Text(no_wrap=True, overflow="ellipsis")
        rate = "-" if p.monthly_growth is None else f"{p.monthly_growth:.1%}/month"
        months = "-" if p.months is None else f"{p.months:.1f} months"
        growth.append("growth ", dim).append(rate).append(" → ", dim)
        growth.append(months, self.style("warn" if p.months is not None and p.months < 3 else ""))
        growth.append(f" until {p.threshold_pct:g}% ", dim)
        growth.append_text(outside(f"({p.growth_source})", dim))
        room = Text(no_wrap=True, overflow="ellipsis")
        low, high = HEADROOM_BAND_PCT
        room.append("headroom ", dim).append(f"{pct(h.free_pct)} free ")
        room.append_text(self.state_text(h.state))
        room.append(f"  (keep {low:.0f}-{high:.0f}%) · utilisation {pct(r.utilisation_pct)} ", dim)
        room.append_text(outside(f"({r.utilisation_source})", dim))
        return Group(*lines, growth, room)


def _unit(value: float | None) -> str:
    return "-" if value is None else f"${value:.3g}"


class CostPanel(ReportPanel):
    """The monthly cost table, cost per request and per 1,000 tokens, against the cloud.

    ``report`` is a `CostReport`, or a string saying why there is none.
    """

    TITLE = "Cost"

    def line_count(self, report: object | None) -> int:
        """The table's rows and the per-unit lines."""
        return 5 + len(report.items) if isinstance(report, CostReport) else 1

    def render_report(self, report: object) -> RenderableType:
        """Items and total, volumes, unit costs, the cloud comparison."""
        dim = self.style("dim")
        if not isinstance(report, CostReport):
            return outside(report, dim)
        items = Table.grid(padding=(0, 2))
        items.add_column(no_wrap=True, min_width=14, max_width=28, overflow="ellipsis")
        items.add_column(justify="right", no_wrap=True)
        items.add_column(no_wrap=True, min_width=9, max_width=12, overflow="ellipsis")
        for i in report.items:
            items.add_row(
                outside(i.name), Text(f"${i.monthly_usd:,.0f}"), outside(i.allocation, dim)
            )
        items.add_row(Text("Total a month", dim), Text(f"${report.total_usd:,.0f}"))
        units = Table.grid(padding=(0, 2))
        units.add_column(no_wrap=True, min_width=13)
        units.add_column(justify="right", no_wrap=True)
        units.add_column(no_wrap=False, overflow="fold")
        volumes = _volumes(report)
        units.add_row(Text("per request", dim), Text(_unit(report.per_request_usd)),
                      outside(volumes[0], dim))  # fmt: skip
        units.add_row(Text("per 1k tokens", dim), Text(_unit(report.per_1k_tokens_usd)),
                      outside(volumes[1], dim))  # fmt: skip
        cloud = report.cloud
        if cloud is not None:
            for label, price, saved in (
                ("request", cloud.per_request_usd, report.savings_per_request),
                ("1k tokens", cloud.per_1k_tokens_usd, report.savings_per_1k_tokens),
            ):
                if price is None:
                    continue
                verdict = Text("-", dim)
                if saved is not None:
                    verdict = Text(f"{abs(saved):.0%} {'cheaper' if saved >= 0 else 'dearer'}",
                                   self.style("ok" if saved >= 0 else "warn"))  # fmt: skip
                name = outside(f"{cloud.name} per {label}", dim)
                units.add_row(name, Text(_unit(price)), verdict)
        grid = Table.grid(padding=(0, 4), expand=True)
        grid.add_column(ratio=2)
        grid.add_column(ratio=3)
        grid.add_row(items, units)
        return grid


def _volumes(report: CostReport) -> Sequence[str]:
    """Where the month's requests and tokens come from, in words."""
    req = "-" if report.requests.count is None else f"{report.requests.count:,.0f}"
    tok = "-" if report.tokens.count is None else f"{report.tokens.count:,.0f}"
    return (
        f"{req} requests a month ({report.requests.source})",
        f"{tok} tokens a month ({report.tokens.source})",
    )
