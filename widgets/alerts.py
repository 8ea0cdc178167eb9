"""The Alerts panel: firing alerts, most severe first, newest first within a severity."""

from __future__ import annotations

from rich.text import Text

from tui.model import Alert, FleetSnapshot, Severity
from widgets.format import age, safe
from widgets.lines import grid
from widgets.panel import Panel

SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
SEVERITY_STYLE = {Severity.CRITICAL: "breach", Severity.WARNING: "warn", Severity.INFO: "dim"}
WHERE_LABELS = ("backend", "instance", "pool", "gpu", "Hostname")
"""Labels that say where an alert is, shown after its name (the first ones found)."""


def ordered(alerts: tuple[Alert, ...]) -> list[Alert]:
    """Critical before warning before info; newest first within a severity."""
    return sorted(alerts, key=lambda a: (SEVERITY_ORDER.get(a.severity, 3), -a.starts_at))


def where(alert: Alert) -> str:
    """The labels that locate an alert, e.g. ``backend=blue-1 pool=blue``."""
    found = [f"{k}={alert.labels[k]}" for k in WHERE_LABELS if alert.labels.get(k)]
    return " ".join(found[:2])


class AlertsPanel(Panel):
    """Every firing alert in one line: severity, name, where, for how long, acknowledged by."""

    TITLE = "Alerts"
    SOURCES = ("alertmanager", "prometheus", "local")

    def shape(self, snapshot: FleetSnapshot) -> object:
        """The panel grows with the number of alerts."""
        return len(snapshot.alerts)

    def lines(self, width: int) -> list[Text]:
        """The alerts, or that there are none."""
        snapshot = self.snapshot
        if snapshot is None:
            return [Text("no alert data yet", self.style("dim"))]
        if not snapshot.alerts:
            return [Text("no alerts firing", self.style("ok"))]
        rows: list[list[Text]] = []
        for alert in ordered(snapshot.alerts):
            style = self.style(SEVERITY_STYLE.get(alert.severity, "dim"))
            label = Text(safe(alert.name), style)
            if place := where(alert):
                label.append(" " + safe(place), self.style("dim"))
            if alert.summary:
                label.append(" — " + safe(alert.summary))
            since = age(snapshot.taken_at - alert.starts_at)
            if alert.last_known_at is not None:
                # its source stopped answering: how old the news is, not an ageing "for"
                seen = age(snapshot.taken_at - alert.last_known_at)
                status = Text(f"last known {seen} ago", self.style("dim"))
                label.stylize(self.style("dim"))
            elif alert.acknowledged_by:
                status = Text(f"ack {safe(alert.acknowledged_by)[:16]}", self.style("dim"))
            else:
                status = Text(since)
            rows.append([Text(alert.severity.value[:4].upper(), style), label, status])
        # the name and where take what is left; a long one is cut with an ellipsis
        others = max(r[0].cell_len for r in rows) + max(r[2].cell_len for r in rows) + 2
        room = max(width - others, 1)
        for row in rows:
            if row[1].cell_len > room:
                row[1].truncate(room, overflow="ellipsis")
        return grid(rows, ("left", "left", "right"), width, stretch=1)
