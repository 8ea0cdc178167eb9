"""The Models screen (`9`): the inventory, which pool serves which version, retention.

All of it is a pure function of the config's inventory and the snapshot's backends
(their reported model names): nothing to read in a worker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.app import ComposeResult

from tui.judging import models_report
from tui.model import FleetSnapshot
from tui.screens.judged import JudgedScreen
from widgets.footer import KeysFooter
from widgets.header import FleetHeader
from widgets.models import InventoryPanel, RetentionPanel, ServingPanel, Warnings


class ModelsScreen(JudgedScreen):
    """Inventory, each pool's version, retention warnings."""

    DEFAULT_CSS = """
    ModelsScreen InventoryPanel { height: auto; }
    ModelsScreen ServingPanel { height: auto; }
    ModelsScreen RetentionPanel { height: auto; }
    """

    def compose(self) -> ComposeResult:
        """Header, inventory, pools, retention, footer."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        yield InventoryPanel(id="models-inventory")
        yield ServingPanel(id="models-pools")
        yield RetentionPanel(id="models-retention")
        yield KeysFooter()

    def show(self, snapshot: FleetSnapshot) -> None:
        """The report for this snapshot's backends, dated by the app's clock."""
        self.query_one(FleetHeader).snapshot = snapshot
        clock: Callable[[], float] = self.clock  # type: ignore[assignment]
        today = dt.datetime.fromtimestamp(clock(), dt.UTC).date()
        report = models_report(self.judging.config, snapshot.backends, today)
        self.query_one(InventoryPanel).report = report["inventory"]
        self.query_one(ServingPanel).report = report["pools"]
        self.query_one(RetentionPanel).report = Warnings(report["warnings"])
