"""The Alerts screen (`4`): every firing alert; `a` acknowledges, `A` un-acknowledges."""

from __future__ import annotations

from textual.binding import Binding

from tui.model import Alert
from tui.screens.tables import TableScreen
from widgets.alert_table import AlertTable


class AlertsScreen(TableScreen):
    """Alerts with their acknowledgement; acks go through the executor (audited)."""

    TABLE = AlertTable
    BINDINGS = [
        Binding("a", "ack", "Acknowledge", id="ack", tooltip="Silence the selected alert (asks)"),
        Binding("A", "unack", "Un-acknowledge", id="unack", tooltip="Expire its silence (asks)"),
    ]

    def on_mount(self) -> None:
        """Offer `a`/`A` on the table's border only when they may act."""
        if not self.app.check_action("ack", ()):
            self.query_one(AlertTable).keys_hint = ""

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
        return self.app.check_action(action, parameters)

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
