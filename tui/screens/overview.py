"""The overview: the first screen an on-call engineer opens. Is the fleet healthy?"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from tui.analysis.budget import ErrorBudget, Objective
from tui.judging import dashboard_observation, judge, window_of
from tui.model import FleetSnapshot
from tui.screens.filtering import FilteredScreen
from tui.screens.judged import judging_of
from widgets.alerts import AlertsPanel
from widgets.backend_history import BackendHistoryPanel
from widgets.backends import BackendsTable
from widgets.footer import KeysFooter
from widgets.gpus import GpuPanel
from widgets.header import FleetHeader
from widgets.latency import LatencyPanel
from widgets.panel import Panel
from widgets.queue import QueuePanel
from widgets.slo import SloSummary, summary_line
from widgets.throughput import ThroughputPanel


@dataclass(frozen=True)
class _Parts:
    """The overview's widgets that a snapshot goes to."""

    header: FleetHeader
    table: BackendsTable
    slo: SloSummary
    latency: LatencyPanel
    alerts: AlertsPanel
    panels: tuple[Panel, ...]


class OverviewScreen(FilteredScreen):
    """Header, GPUs, queue, latency against the SLO, throughput and errors, the SLO line
    (budget left, burn rate, objectives at risk) and backends.

    `/` filters the backends as you type, `o`/`O` sort them, as on the Backends screen.
    """

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall"), (50, "-roomy")]

    DEFAULT_CSS = """
    OverviewScreen {
        layout: vertical;
        #row-resources { height: auto; }
        #row-latency { height: 1fr; min-height: 5; }
        GpuPanel { width: 1fr; }
        QueuePanel { width: 1fr; }
        #left-column { width: 3fr; }
        LatencyPanel { height: 1fr; }
        BackendHistoryPanel { display: none; }
        #right-column { width: 2fr; }
        ThroughputPanel { height: auto; }
        AlertsPanel { height: 1fr; min-height: 3; }
        BackendsTable { height: auto; max-height: 40%; }
        &.-short {
            /* Priority: header, alerts, backends; GPUs and queue get what is left (their
               history lines, at the bottom, go first); latency keeps its figures only. */
            #row-resources { height: 1fr; min-height: 0; }
            #row-resources > * { height: 1fr; }
            #latency-charts { display: none; }
            LatencyPanel { height: auto; }
            #left-column { height: auto; }
            #row-latency { height: auto; min-height: 0; }
            #right-column { height: auto; }
            AlertsPanel { height: auto; max-height: 7; }
            AlertsPanel.-empty { display: none; }
            &.-alerting ThroughputPanel { display: none; }
            BackendsTable { height: auto; max-height: 60%; }
        }
        &.-narrow {
            #left-column { width: 1fr; }
            #right-column { width: 1fr; }
        }
        &.-roomy {
            /* A big terminal: the charts keep a readable height (they get more history
               from the width); the backends box takes its rows (and columns from the
               width); the height left goes to each backend's history and the alerts. */
            #row-latency { height: 1fr; }
            LatencyPanel { height: 18; }
            BackendHistoryPanel { display: block; height: 1fr; min-height: 6; }
            BackendsTable { height: auto; max-height: 50%; }
        }
    }
    """

    def compose(self) -> ComposeResult:
        """The panels, top to bottom in the order an operator reads them."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        with Horizontal(id="row-resources"):
            yield GpuPanel(id="gpus")
            yield QueuePanel(id="queue")
        with Horizontal(id="row-latency"):
            with Vertical(id="left-column"):
                yield LatencyPanel(id="latency")
                yield BackendHistoryPanel(id="backend-history")
            with Vertical(id="right-column"):
                yield ThroughputPanel(id="throughput")
                yield AlertsPanel(id="alerts")
        yield SloSummary(id="slo-summary")
        yield BackendsTable(id="backends")
        yield self.filter_line()
        yield KeysFooter()

    @property
    def table(self) -> BackendsTable:
        """The backends: what `/` filters and `o` sorts here."""
        return self.query_one(BackendsTable)

    def show(self, snapshot: FleetSnapshot) -> None:
        """Hand the snapshot to every panel on this screen."""
        parts = self._parts()
        self.set_class(bool(snapshot.alerts), "-alerting")
        parts.alerts.set_class(not snapshot.alerts, "-empty")
        parts.header.snapshot = snapshot
        parts.table.snapshot = snapshot
        parts.slo.parts = tuple(summary_line(*self._slo(snapshot)))
        parts.latency.set_step(getattr(getattr(self.app, "hub", None), "refresh_s", 1.0))
        for panel in parts.panels:
            panel.snapshot = snapshot

    _widgets: _Parts | None = None

    def _parts(self) -> _Parts:
        """The screen's widgets, found once: the screen never adds or removes any, and
        looking them up every second was a tenth of a refresh's work here."""
        if self._widgets is None:
            self._widgets = _Parts(
                header=self.query_one(FleetHeader),
                table=self.query_one(BackendsTable),
                slo=self.query_one(SloSummary),
                latency=self.query_one(LatencyPanel),
                alerts=self.query_one(AlertsPanel),
                panels=tuple(self.query(Panel)),
            )
        return self._widgets

    def _slo(self, snapshot: FleetSnapshot) -> tuple[tuple[Objective, ...], ErrorBudget]:
        """Objectives and the budget from the snapshot and the hub's history (no I/O)."""
        config = judging_of(self).config
        step = getattr(getattr(self.app, "hub", None), "refresh_s", 1.0)
        report = judge(dashboard_observation(config, snapshot, step), window_of(config))
        return report["objectives"], report["budget"]

    def on_data_table_row_selected(self, event: BackendsTable.RowSelected) -> None:
        """`enter` on a backend: its detail."""
        open_detail = getattr(self.app, "open_detail", None)
        if event.row_key.value is not None and open_detail is not None:
            open_detail("backend", event.row_key.value)
