"""The Latency panel: TTFT and end-to-end p50/p95 against the SLO tier, with history charts."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal

from tui.analysis.slo import TIERS
from tui.model import FleetSnapshot
from widgets.chart import LatencyChart
from widgets.format import not_exposed, seconds
from widgets.levels import level, marked
from widgets.lines import grid
from widgets.panel import ChangedLines, Panel


class LatencyFigures(ChangedLines):
    """One line per measure: p50 and p95 now, each coloured against its SLO limit."""

    DEFAULT_CSS = """
    LatencyFigures { height: 3; }
    """

    def __init__(self, panel: Panel, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._panel = panel

    def lines(self, width: int) -> list[Text]:
        """TTFT and E2E figures with the tier's limits beside them."""
        snapshot = self._panel.snapshot
        style = self._panel.style
        if snapshot is None or snapshot.fleet is None:
            return [Text("no latency data yet", style("dim"))]
        tier = TIERS[snapshot.slo_tier]
        fleet = snapshot.fleet
        with_limits = width >= 40
        rows = [[Text(""), Text("p50", style("dim")), Text("p95", style("dim"))]]
        for name, figure, q, p50_max, p95_max in (
            ("TTFT", "ttft", fleet.ttft, tier.ttft_p50_s, tier.ttft_p95_s),
            ("E2E", "e2e", fleet.e2e, tier.e2e_p50_s, tier.e2e_p95_s),
        ):
            cells = [
                Text(name, style("dim")),
                *(
                    Text(
                        marked(not_exposed(seconds(value), figure, fleet.unexposed), lvl),
                        style(lvl),
                    )
                    for value, lvl in (
                        (q.p50, level(q.p50, p50_max)),
                        (q.p95, level(q.p95, p95_max)),
                    )
                ),
            ]
            if with_limits:
                cells.append(Text(f"SLO <{seconds(p50_max)} / <{seconds(p95_max)}", style("dim")))
            rows.append(cells)
        justify = ("left", "right", "right", "left")[: 4 if with_limits else 3]
        return grid([r + [Text("")] * (len(justify) - len(r)) for r in rows], justify, width)


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
            yield LatencyChart("TTFT", id="ttft-chart")
            yield LatencyChart("E2E", id="e2e-chart")

    _step_s: float | None = None

    def set_step(self, step_s: float) -> None:
        """Seconds between history points (the refresh interval), for the charts' time axis."""
        if step_s == self._step_s:
            return
        self._step_s = step_s
        for chart in self.query(LatencyChart):
            chart.step_s = step_s

    def watch_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        """Update the border, the figures (changed lines) and the charts (new points)."""
        super().watch_snapshot(snapshot)
        if snapshot is None or not self.is_mounted:
            return
        figures, charts = self._parts()
        figures.repaint_changed_lines()
        tier = TIERS[snapshot.slo_tier]
        for measure in ("ttft", "e2e"):
            charts[measure].show(
                snapshot.history.get(f"fleet.{measure}_p50", ()),
                snapshot.history.get(f"fleet.{measure}_p95", ()),
                getattr(tier, f"{measure}_p95_s"),
            )

    _found: tuple[LatencyFigures, dict[str, LatencyChart]] | None = None

    def _parts(self) -> tuple[LatencyFigures, dict[str, LatencyChart]]:
        """The figures and the charts by measure, found once (they are never replaced)."""
        if self._found is None:
            charts = {m: self.query_one(f"#{m}-chart", LatencyChart) for m in ("ttft", "e2e")}
            self._found = (self.query_one(LatencyFigures), charts)
        return self._found

    def lines(self, width: int) -> list[Text]:
        """Nothing of its own: the children draw."""
        return []

    def render(self) -> RenderableType:
        """Nothing of its own: the children draw."""
        return ""
