"""The Incidents screen's tables: incidents with their response clocks, and a timeline.

Both render model objects (`tui.incidents.model`) handed to them; they never read the
database. Text from outside (titles, who, what happened) goes through `widgets.text`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from rich.text import Text

from tui.incidents.model import Event, EventKind, Incident, Sev, format_span
from widgets.format import DASH, percent, seconds
from widgets.table import DetailField, SnapshotTable
from widgets.text import clip, literal_markup, outside

SEV_STYLE = {Sev.SEV1: "down", Sev.SEV2: "breach", Sev.SEV3: "warn", Sev.SEV4: "dim"}
"""The component class (of `SnapshotTable`) each SEV is shown in."""

KIND_STYLE = {
    EventKind.OPENED: "breach",
    EventKind.FIRING: "warn",
    EventKind.ALERT_RESOLVED: "ok",
    EventKind.ACK: "ok",
    EventKind.RESOLVED: "ok",
    EventKind.SEV: "warn",
}
"""The component class of a timeline line's kind (the others: plain)."""


def clock_time(moment: float, now: float) -> str:
    """``14:02:07`` today, ``03-14 14:02`` before (local time)."""
    local = time.localtime(moment)
    if now - moment < 86400 and local.tm_mday == time.localtime(now).tm_mday:
        return time.strftime("%H:%M:%S", local)
    return time.strftime("%m-%d %H:%M", local)


def impact_text(incident: Incident) -> str:
    """The worst figures seen while open: ``TTFT 2.10s E2E 9.3s err 12%``; ``—`` if none."""
    impact = incident.impact
    parts = [
        f"{label} {value}"
        for label, value, seen in (
            ("TTFT", seconds(impact.ttft_p95_s), impact.ttft_p95_s),
            ("E2E", seconds(impact.e2e_p95_s), impact.e2e_p95_s),
            ("err", percent(impact.error_rate), impact.error_rate),
        )
        if seen is not None
    ]
    return " ".join(parts) or DASH


class IncidentTable(SnapshotTable):
    """A row per incident (keyed by id), open ones first; the cursor picks the one the
    screen's keys act on and whose timeline is shown.

    The response clock says the time left to acknowledge, or ``OVERDUE`` and by how
    much (in the breach style: the word is there without colour too); then the time it
    took to acknowledge and to resolve, once known (``4m / -``).
    """

    TITLE = "Incidents"
    SOURCES = ()
    COLUMNS = (
        ("id", "ID"),
        ("sev", "SEV"),
        ("title", "Incident"),
        ("state", "State"),
        ("opened", "Opened"),
        ("clock", "Respond"),
        ("took", "Ack / resolve"),
        ("runbook", "Runbook"),
        ("impact", "Impact"),
    )
    DROPPED_FIRST = ("impact", "runbook", "took", "opened")
    """Given up in this order on a narrow terminal: id, SEV, title, state, clock stay."""
    WIDTHS = {"title": 40, "runbook": 24}
    """Where each column cuts a long value with ``…``; the detail line has it whole."""
    KEYS_HINT = "n: note  v: SEV  z: resolve  enter: runbook"
    """The acting keys, on the border; emptied when no action may run."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.keys_hint = self.KEYS_HINT
        self.incidents: tuple[Incident, ...] = ()
        self.runbooks: Mapping[int, str | None] = {}
        self._now: float | None = None

    def show_incidents(
        self, incidents: Sequence[Incident], now: float, runbooks: Mapping[int, str | None]
    ) -> None:
        """List ``incidents`` (in their order) as of ``now``; ``runbooks``: each one's
        runbook by incident id. The cursor stays on the incident it was on."""
        self.incidents, self.runbooks, self._now = tuple(incidents), dict(runbooks), now
        rows = self.arranged([(str(i.id), self.cells(i, now)) for i in incidents])
        if [key for key, _ in rows] != [k.value for k in self.rows]:
            selected = self.selected()
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
            if selected is not None and selected in {key for key, _ in rows}:
                self.move_cursor(row=self.get_row_index(str(selected)))
        else:
            self.sync_rows(rows)
        open_count = sum(i.is_open for i in incidents)
        overdue = sum(i.is_open and i.overdue(now) for i in incidents)
        counts = f"{open_count} open of {len(incidents)}" + (
            f", {overdue} OVERDUE" if overdue else ""
        )
        counts = " · ".join(p for p in (counts, self.arrangement()) if p)
        self.border_subtitle = f"{counts} · {self.keys_hint}" if self.keys_hint else counts

    def rearrange(self) -> None:
        """List the incidents again under the new filter or sort."""
        if self._now is not None:
            self.show_incidents(self.incidents, self._now, self.runbooks)

    def clock(self, incident: Incident, now: float) -> Text:
        """The response clock: time left, ``OVERDUE 4m`` past it, or how it ended."""
        if incident.is_acknowledged:
            return Text("acknowledged", self.style("ok"))
        if not incident.is_open:
            return Text(DASH, self.style("dim"))
        left = incident.ack_time_left(now)
        assert left is not None
        if left < 0:
            return Text(f"OVERDUE {format_span(-left)}", self.style("breach"))
        return Text(f"{format_span(left)} left", self.style("warn" if left < 300 else "ok"))

    def cells(self, incident: Incident, now: float) -> list[Text]:
        """The row of one incident."""
        state = "resolved" if not incident.is_open else (
            "acknowledged" if incident.is_acknowledged else "open")  # fmt: skip
        runbook = self.runbooks.get(incident.id)
        return [
            Text(f"#{incident.id}"),
            Text(incident.sev.value, self.style(SEV_STYLE[incident.sev])),
            outside(incident.title, width=self.WIDTHS["title"]),
            Text(state, self.style("dim" if state == "resolved" else "warn")),
            Text(clock_time(incident.opened_at, now)),
            self.clock(incident, now),
            Text(f"{format_span(incident.time_to_acknowledge)} / "
                 f"{format_span(incident.time_to_resolve)}"),
            outside(runbook or DASH, self.style("dim") if runbook is None else "",
                    width=self.WIDTHS["runbook"]),
            Text(impact_text(incident)),
        ]  # fmt: skip

    def detail_fields(self, key: str) -> list[DetailField]:
        """The title and the runbook, whole."""
        incident = self.incident(key)
        if incident is None:
            return []
        return [
            ("incident", incident.title, self.WIDTHS["title"]),
            ("runbook", self.runbooks.get(incident.id) or DASH, self.WIDTHS["runbook"]),
        ]

    def incident(self, key: str | int | None) -> Incident | None:
        """The listed incident with id ``key``."""
        return next((i for i in self.incidents if str(i.id) == str(key)), None)

    def selected(self) -> int | None:
        """The id of the incident under the cursor."""
        if self.row_count == 0:
            return None
        value = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(value) if value is not None else None


class TimelineTable(SnapshotTable):
    """The selected incident's timeline, oldest first: time, who, what kind, what."""

    TITLE = "Timeline"
    SOURCES = ()
    COLUMNS = (("at", "Time"), ("who", "Who"), ("kind", "Kind"), ("text", "What"))
    WIDTHS = {"who": 24, "text": 200}
    """Where each column cuts a long value with ``…``."""

    _shown: tuple[Incident | None, Sequence[Event], float] | None = None

    def show_timeline(self, incident: Incident | None, events: Sequence[Event], now: float) -> None:
        """Show ``events`` of ``incident`` (None: nothing selected)."""
        self._shown = (incident, events, now)
        rows = self.arranged([(str(e.id), self.cells(e, now)) for e in events])
        room = self.scrollable_content_region.width
        if rows and room > 0:  # What is cut (with …) where the table ends, never past it
            pad = 2 * self.cell_padding
            fixed = sum(
                pad + max([len(label), *(cells[i].cell_len for _, cells in rows)])
                for i, (_, label) in enumerate(self.COLUMNS[:-1])
            )
            width = max(16, min(self.WIDTHS["text"], room - fixed - pad))
            by_id = {str(e.id): e for e in events}
            rows = [(key, [*cells[:-1], outside(by_id[key].text, width=width)])
                    for key, cells in rows]  # fmt: skip
        self.sync_rows(rows)
        self._keep_order(rows)
        if incident is None:
            self.border_title = self.TITLE
            self.border_subtitle = ""
            return
        title = literal_markup(clip(incident.title, self.WIDTHS["who"] * 2))
        self.border_title = f"{self.TITLE} of #{incident.id} {title}"
        self.border_subtitle = " · ".join(p for p in (f"{len(events)} events",
                                                      self.arrangement()) if p)  # fmt: skip
        if events and self.cursor_row < len(events) - 2:
            return
        self.scroll_end(animate=False)  # following the newest, as a log does

    def on_resize(self) -> None:
        """Cut the What column to the new width."""
        if self._shown is not None:
            self.show_timeline(*self._shown)

    def rearrange(self) -> None:
        """List the timeline again under the new filter or sort."""
        if self._shown is not None:
            self.show_timeline(*self._shown)

    def cells(self, event: Event, now: float) -> list[Text]:
        """The line of one event."""
        style = self.style(KIND_STYLE[event.kind]) if event.kind in KIND_STYLE else ""
        return [
            Text(clock_time(event.at, now)),
            outside(event.who or DASH, self.style("dim"), width=self.WIDTHS["who"]),
            Text(event.kind.value, style),
            outside(event.text, width=self.WIDTHS["text"]),
        ]
