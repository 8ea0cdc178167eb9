"""The Alerts screen's table: every alert, most severe first, with who acknowledged it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from tui.model import Alert, FleetSnapshot
from widgets.alerts import SEVERITY_STYLE, ordered, where
from widgets.format import DASH, age, safe
from widgets.table import SnapshotTable


class AlertTable(SnapshotTable):
    """A row per alert (keyed by fingerprint); the cursor picks the one `a`/`A` act on."""

    TITLE = "Alerts"
    SOURCES = ("alertmanager", "prometheus", "local")
    COLUMNS = (
        ("severity", "Severity"),
        ("name", "Alert"),
        ("where", "Where"),
        ("summary", "Summary"),
        ("for", "For"),
        ("ack", "Acknowledged"),
        ("source", "From"),
    )
    KEYS_HINT = "a: ack  A: un-ack"
    """The acting keys, on the border; emptied when no action may run."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.keys_hint = self.KEYS_HINT

    def rows_of(self, snapshot: FleetSnapshot) -> Sequence[tuple[str, list[Text]]]:
        """One row per alert: critical first, newest first."""
        return [(a.fingerprint, self.cells(a, snapshot.taken_at)) for a in ordered(snapshot.alerts)]

    def subtitle(self, snapshot: FleetSnapshot) -> str:
        """How many fire, how many are acknowledged."""
        acked = sum(a.acknowledged_by is not None for a in snapshot.alerts)
        counts = f"{len(snapshot.alerts)} firing, {acked} acknowledged"
        return f"{counts} · {self.keys_hint}" if self.keys_hint else counts

    def cells(self, alert: Alert, now: float) -> list[Text]:
        """The row of one alert; label values shown literally."""
        style = self.style(SEVERITY_STYLE.get(alert.severity, "dim"))
        ack = DASH
        if alert.acknowledged_by:
            ack = safe(alert.acknowledged_by)
            if alert.acknowledged_until:
                ack += f", {age(alert.acknowledged_until - now)} left"
        return [
            Text(alert.severity.value, style),
            Text(safe(alert.name), style),
            Text(safe(where(alert)) or DASH, self.style("dim")),
            Text(safe(alert.summary) or DASH),
            Text(age(now - alert.starts_at)),
            Text(ack, self.style("ok" if alert.acknowledged_by else "dim")),
            Text(safe(alert.source), self.style("dim")),
        ]

    def selected(self) -> str | None:
        """The fingerprint under the cursor."""
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
