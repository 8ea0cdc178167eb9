"""The Latency panel: TTFT and end-to-end p50/p95 against the SLO tier, with history charts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.color import Color
from textual.containers import Horizontal
from textual.widget import Widget
from textual_plotext import PlotextPlot

from tui.analysis.slo import TIERS
from tui.model import FleetSnapshot
from widgets.format import seconds
from widgets.levels import level, marked
from widgets.panel import Panel


class LatencyFigures(Widget):
    """One line per measure: p50 and p95 now, each coloured against its SLO limit."""

    DEFAULT_CSS = """
    LatencyFigures { height: 3; }
    """

    def __init__(self, panel: Panel, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._panel = panel

    def render(self) -> RenderableType:
        """Draw TTFT and E2E figures with the tier's limits beside them."""
        snapshot = self._panel.snapshot
        style = self._panel.style
        if snapshot is None or snapshot.fleet is None:
            return Text("no latency data yet", style("dim"))
        tier = TIERS[snapshot.slo_tier]
        fleet = snapshot.fleet
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        with_limits = self.size.width >= 40
        if with_limits:
            table.add_column(no_wrap=True)
        table.add_row(Text(""), Text("p50", style("dim")), Text("p95", style("dim")))
        for name, q, p50_max, p95_max in (
            ("TTFT", fleet.ttft, tier.ttft_p50_s, tier.ttft_p95_s),
            ("E2E", fleet.e2e, tier.e2e_p50_s, tier.e2e_p95_s),
        ):
            cells = [
                Text(name, style("dim")),
                *(
                    Text(marked(seconds(value), lvl), style(lvl))
                    for value, lvl in (
                        (q.p50, level(q.p50, p50_max)),
                        (q.p95, level(q.p95, p95_max)),
                    )
                ),
            ]
            if with_limits:
                cells.append(Text(f"SLO <{seconds(p50_max)} / <{seconds(p95_max)}", style("dim")))
            table.add_row(*cells)
        return table


class LatencyChart(PlotextPlot):
    """History of one measure's p50 and p95, with the tier's p95 limit drawn as a line."""

    DEFAULT_CSS = """
    LatencyChart { height: 1fr; min-height: 6; }
    """

    def __init__(self, measure: str, title: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.measure = measure
        self.title = title
        self._snapshot: FleetSnapshot | None = None

    def show(self, snapshot: FleetSnapshot) -> None:
        """Keep the snapshot; the plot is rebuilt at the next paint, at the current size."""
        self._snapshot = snapshot
        self.refresh()

    def render(self) -> RenderResult:
        """Replot from the latest snapshot's history, then draw."""
        if self._snapshot is not None:
            self._replot(self._snapshot)
        return super().render()

    def _replot(self, snapshot: FleetSnapshot) -> None:
        tier = TIERS[snapshot.slo_tier]
        limit = getattr(tier, f"{self.measure}_p95_s")
        p50 = list(snapshot.history.get(f"fleet.{self.measure}_p50", ()))
        p95 = list(snapshot.history.get(f"fleet.{self.measure}_p95", ()))
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        variables = self.app.theme_variables
        xs = list(range(-len(p95) + 1, 1))
        for series, name, var in ((p50, "p50", "slo-ok"), (p95, "p95", "pool-blue")):
            points = [(x, y) for x, y in zip(xs, series, strict=False) if not math.isnan(y)]
            if points:
                plt.plot(
                    [p[0] for p in points],
                    [p[1] for p in points],
                    label=name,
                    color=_rgb(variables[var]),
                    marker="braille",
                )
        plt.hline(limit, _rgb(variables["slo-breach"]))
        top = max([limit * 1.15, *(_finite(p95))])
        plt.ylim(0, top)
        plt.xticks([])


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def _rgb(value: str) -> tuple[int, int, int]:
    return Color.parse(value).rgb


class LatencyPanel(Panel):
    """Figures on top, two history charts below (dropped when the panel is short)."""

    TITLE = "Latency"
    DEFAULT_CSS = """
    LatencyPanel {
        height: 1fr;
        layout: vertical;
        #latency-charts { height: 1fr; }
    }
    """

    def compose(self) -> ComposeResult:
        """The figures line and the TTFT / E2E charts."""
        yield LatencyFigures(self)
        with Horizontal(id="latency-charts"):
            yield LatencyChart("ttft", "TTFT (s)", id="ttft-chart")
            yield LatencyChart("e2e", "E2E (s)", id="e2e-chart")

    def watch_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        """Update the border, the figures and the charts."""
        super().watch_snapshot(snapshot)
        if snapshot is None or not self.is_mounted:
            return
        self.query_one(LatencyFigures).refresh()
        for chart in self.query(LatencyChart):
            chart.show(snapshot)

    def render(self) -> RenderableType:
        """Nothing of its own: the children draw."""
        return ""
