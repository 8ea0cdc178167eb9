"""The SLO screen (`7`): every objective of the tier, the error budget and its burn rates.

Without Prometheus everything is computed from each snapshot and the hub's history (the
budget then covers only what this run recorded, and says so). With Prometheus the
timeout rate and the budget come from range queries, run in a worker every
``Judging.poll_s`` seconds; until the first answer the history stands in.
"""

from __future__ import annotations

from textual.app import ComposeResult

from tui.analysis.budget import ErrorBudget, TimeoutRate
from tui.judging import slo_inputs, slo_verdict, window_of
from tui.model import FleetSnapshot
from tui.screens.judged import JudgedScreen
from widgets.footer import KeysFooter
from widgets.header import FleetHeader
from widgets.slo import BudgetPanel, ObjectivesPanel

SloInputs = tuple[TimeoutRate | None, ErrorBudget]


def history_inputs(screen: JudgedScreen, snapshot: FleetSnapshot) -> SloInputs:
    """The timeout rate and budget from the snapshot and the hub's history (no I/O)."""
    seen = screen.observation(snapshot, with_prometheus=False)
    return slo_inputs(seen, window_of(screen.judging.config))


class SloScreen(JudgedScreen):
    """Objectives with value, target and state; the error budget, burn rates and alerts."""

    WORKER_GROUP = "slo-budget"
    DEFAULT_CSS = """
    SloScreen ObjectivesPanel { height: auto; }
    SloScreen BudgetPanel { height: auto; }
    """

    def __init__(self, clock: object, **kwargs: object) -> None:
        super().__init__(clock, **kwargs)
        self._from_prometheus: SloInputs | None = None
        self._error = ""

    def compose(self) -> ComposeResult:
        """Header, objectives, budget, footer."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        yield ObjectivesPanel(id="slo-objectives")
        yield BudgetPanel(id="slo-budget")
        yield KeysFooter()

    def needs_worker(self) -> bool:
        """Range queries only with Prometheus."""
        return self.prometheus() is not None

    def read(self, snapshot: FleetSnapshot) -> object:
        """The timeout rate and the budget from Prometheus (blocking)."""
        seen = self.observation(snapshot, with_prometheus=True)
        return slo_inputs(seen, window_of(self.judging.config))

    def polled(self, result: object, error: str) -> None:
        """Keep Prometheus's figures; on failure fall back to the history, saying why."""
        self._error = error
        if isinstance(result, tuple):
            self._from_prometheus = result

    def show(self, snapshot: FleetSnapshot) -> None:
        """Objectives from this snapshot; budget from Prometheus's last answer or history."""
        self.query_one(FleetHeader).snapshot = snapshot
        timeout, budget = self._from_prometheus or history_inputs(self, snapshot)
        report = slo_verdict(self.judging.config, snapshot, timeout, budget)
        self.query_one(ObjectivesPanel).report = report["objectives"]
        self.query_one(BudgetPanel).report = report["budget"]
        panel = self.query_one(BudgetPanel)
        panel.border_subtitle = f"Prometheus: {self._error}" if self._error else ""
