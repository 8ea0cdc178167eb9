"""The Alerts screen (`4`): every firing alert; `a` acknowledges, `A` un-acknowledges,
`b` offers the alert's runbook, `enter` opens its detail."""

from __future__ import annotations

from textual.binding import Binding

from tui.model import Alert
from tui.ops.runbooks.links import runbook_for
from tui.screens.runbook_offer import offer_runbook
from tui.screens.tables import TableScreen
from widgets.alert_table import AlertTable


class AlertsScreen(TableScreen):
    """Alerts with their acknowledgement; acks go through the executor (audited)."""

    TABLE = AlertTable
    DETAIL = "alert"
    BINDINGS = [
        Binding("a", "ack", "Acknowledge", id="ack", tooltip="Silence the selected alert (asks)"),
        Binding("A", "unack", "Un-acknowledge", id="unack", tooltip="Expire its silence (asks)"),
        Binding(
            "b",
            "run_runbook",
            "Runbook",
            id="alert-runbook",
            tooltip="Run the alert's runbook, its inputs from the alert's labels (asks)",
        ),
    ]

    def on_mount(self) -> None:
        """Show each alert's runbook; offer `a`/`A` on the table's border only when they
        may act."""
        table = self.query_one(AlertTable)
        table.runbook_of = runbook_for
        if not self.app.check_action("ack", ()):
            table.keys_hint = ""

    def _selected(self) -> Alert | None:
        fingerprint = self.query_one(AlertTable).selected()
        latest = getattr(self.app, "latest", None)
        alerts = latest.alerts if latest is not None else ()
        alert = next((a for a in alerts if a.fingerprint == fingerprint), None)
        if alert is None:
            self.notify("No alert selected", severity="warning")
        return alert

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Acks follow the app's read-only rule."""
        return self.app.check_action(action, parameters) and super().check_action(
            action, parameters
        )

    def action_ack(self) -> None:
        """Acknowledge the selected alert."""
        ops = getattr(self.app, "ops", None)
        alert = self._selected()
        if alert is None or ops is None or ops.ack is None:
            return
        ack = ops.ack
        self.app.offer(lambda: ack(alert, "", None))  # type: ignore[attr-defined]

    def action_unack(self) -> None:
        """Un-acknowledge the selected alert."""
        ops = getattr(self.app, "ops", None)
        alert = self._selected()
        if alert is None or ops is None or ops.unack is None:
            return
        unack = ops.unack
        self.app.offer(lambda: unack(alert))  # type: ignore[attr-defined]

    def action_run_runbook(self) -> None:
        """Offer the selected alert's runbook (asks, then runs it on the Runbooks screen)."""
        alert = self._selected()
        if alert is not None:
            offer_runbook(self.app, runbook_for(alert), alert.name, alert.labels)
