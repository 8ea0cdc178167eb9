"""The Alerts screen's table: every alert, most severe first, with who acknowledged it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text

from tui.model import Alert, FleetSnapshot
from widgets.alerts import SEVERITY_STYLE, ordered, where
from widgets.format import DASH, age
from widgets.table import DetailField, SnapshotTable
from widgets.text import outside, safe


class AlertTable(SnapshotTable):
    """A row per alert (keyed by fingerprint); the cursor picks the one `a`/`A` act on."""

    TITLE = "Alerts"
    SOURCES = ("alertmanager", "prometheus", "local")
    COLUMNS = (
        ("severity", "Severity"),
        ("name", "Alert"),
        ("runbook", "Runbook"),
        ("where", "Where"),
        ("summary", "Summary"),
        ("for", "For"),
        ("ack", "Acknowledged"),
        ("source", "From"),
    )
    DROPPED_FIRST = ("source", "runbook", "ack", "summary", "where")
    """Given up in this order on a narrow terminal: severity, name and for how long stay
    (the selected alert's line below the table has every value)."""
    KEYS_HINT = "a: ack  A: un-ack  b: runbook  enter: detail"
    """The acting keys, on the border; emptied when no action may run."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.keys_hint = self.KEYS_HINT
        self.runbook_of: Callable[[Alert], str | None] = lambda alert: None
        """The runbook that answers an alert (the screen sets it: widgets know no runbooks)."""

    WIDTHS = {"name": 40, "where": 40, "summary": 60, "ack": 40, "runbook": 24, "source": 16}
    """Where each column cuts a long value with ``…``; the detail line has it whole."""

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
        width = self.WIDTHS
        runbook = self.runbook_of(alert)
        return [
            Text(alert.severity.value, style),
            outside(alert.name, style, width=width["name"]),
            outside(runbook or DASH, "" if runbook else self.style("dim"), width=width["runbook"]),
            outside(where(alert) or DASH, self.style("dim"), width=width["where"]),
            outside(alert.summary or DASH, width=width["summary"]),
            Text(age(now - alert.starts_at)),
            outside(ack, self.style("ok" if alert.acknowledged_by else "dim"), width=width["ack"]),
            outside(alert.source, self.style("dim"), width=width["source"]),
        ]

    def detail_fields(self, key: str) -> list[DetailField]:
        """Name, where, summary, who acknowledged it and where it comes from."""
        alerts = self.snapshot.alerts if self.snapshot is not None else ()
        alert = next((a for a in alerts if a.fingerprint == key), None)
        if alert is None:
            return []
        width = self.WIDTHS
        return [
            ("alert", alert.name, width["name"]),
            ("where", where(alert), width["where"]),
            ("summary", alert.summary, width["summary"]),
            ("acknowledged by", alert.acknowledged_by or DASH, width["ack"]),
            ("runbook", self.runbook_of(alert) or DASH, width["runbook"]),
            ("from", alert.source, width["source"]),
        ]

    def selected(self) -> str | None:
        """The fingerprint under the cursor."""
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
