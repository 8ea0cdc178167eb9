"""The Runbooks screen (`6`, `r`): pick a runbook, dry-run it, run it step by step."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, RichLog

from tui.model import FleetSnapshot
from tui.screens.live import LiveScreen
from widgets.header import FleetHeader


class RunbooksScreen(LiveScreen):
    """Runbooks on the left, the chosen one's steps and live output on the right."""

    def compose(self) -> ComposeResult:
        """Header, the log, footer (the runbook list is added once runbooks load)."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        yield RichLog(id="runbook-log", markup=False, highlight=False, wrap=True)
        yield Footer()

    def show(self, snapshot: FleetSnapshot) -> None:
        """Keep the header current."""
        self.query_one(FleetHeader).snapshot = snapshot
