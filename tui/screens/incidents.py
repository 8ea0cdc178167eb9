"""The Incidents screen (`i`): incidents with their response clocks, the selected one's
timeline below.

The database is read in a thread worker (group ``incidents``, exclusive) whenever a
snapshot arrives — the tracker writes each one's events — and every few seconds, never
on the UI thread. `n` adds a note, `v` sets the SEV, `z` resolves by hand: all through
the executor (confirmed, audited, refused in read-only mode). `enter` offers the runbook
of the incident's alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui.incidents.model import Event, Incident, IncidentAlert, Sev
from tui.model import FleetSnapshot
from tui.ops.runbooks.links import runbook_for
from tui.screens.filtering import FilteredScreen
from tui.screens.incident_dialogs import SevPicker, TextPrompt
from tui.screens.live import show_line
from tui.screens.runbook_offer import offer_runbook
from widgets.footer import KeysFooter
from widgets.header import FleetHeader
from widgets.incidents import IncidentTable, TimelineTable
from widgets.text import safe

RELOAD_S = 5.0
"""How often the database is read again between snapshots (a paused hub, a quiet fleet)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """What one read of the database found: every incident, and one timeline."""

    incidents: list[Incident]
    incident_id: int | None
    timeline: list[Event]


def main_alert(incident: Incident) -> IncidentAlert | None:
    """The alert an incident is about: its first still firing, else its first."""
    return next((a for a in incident.alerts if a.firing), None) or next(iter(incident.alerts), None)


def runbook_of(incident: Incident) -> str | None:
    """The runbook for the incident's alert (`runbook_for`), or None."""
    alert = main_alert(incident)
    if alert is None:
        return None
    return runbook_for({"labels": {**alert.labels, "alertname": alert.name}})


class IncidentsScreen(FilteredScreen):
    """Incidents above, the selected incident's timeline below."""

    BINDINGS = [
        Binding("enter", "run_runbook", "Runbook", id="incident-runbook",
                tooltip="Run the runbook for the incident's alert (asks first)"),
        Binding("n", "incident_note", "Note", id="incident-note",
                tooltip="Add a note to the incident's timeline (asks first)"),
        Binding("v", "incident_sev", "Set SEV", id="incident-sev",
                tooltip="Set the incident's SEV by hand (asks first)"),
        Binding("z", "incident_resolve", "Resolve", id="incident-resolve",
                tooltip="Resolve the incident by hand, with a note (asks first)"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    IncidentsScreen IncidentTable { height: 2fr; }
    IncidentsScreen TimelineTable { height: 3fr; }
    IncidentsScreen #incident-detail { height: auto; max-height: 4; padding: 0 1;
                                       display: none; }
    """

    def compose(self) -> ComposeResult:
        """Header, incidents, the selected one in full when a cell cut it, timeline, footer."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        yield IncidentTable()
        yield Static(id="incident-detail")
        yield TimelineTable()
        yield self.filter_line()
        yield KeysFooter()

    @property
    def table(self) -> IncidentTable:
        """The incidents: `/` filters them, `o` sorts them."""
        return self.query_one(IncidentTable)

    def on_mount(self) -> None:
        """Offer the acting keys on the border only when they may act; read every few
        seconds besides the snapshots."""
        if not self.app.check_action("incident_note", ()):
            self.query_one(IncidentTable).keys_hint = ""
        self.set_interval(RELOAD_S, self._tick)

    def _tick(self) -> None:
        """Read again between snapshots, unless paused (the view is frozen) or hidden."""
        if self.is_current and not getattr(self.app, "paused", False):
            self.reload()

    def show(self, snapshot: FleetSnapshot) -> None:
        """Keep the header current and read the database again (the tracker has written
        this snapshot's events, or is about to)."""
        self.query_one(FleetHeader).snapshot = snapshot
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Notes, SEV, resolve and runbooks follow the app's read-only rule."""
        return self.app.check_action(action, parameters) and super().check_action(
            action, parameters
        )

    # --- reading -------------------------------------------------------------------------

    def _desk(self) -> Any:
        return getattr(getattr(self.app, "ops", None), "incidents", None)

    def reload(self) -> None:
        """Read the incidents and the selected one's timeline in a thread worker."""
        desk = self._desk()
        if desk is None:
            self.query_one(IncidentTable).border_subtitle = "no incidents database configured"
            return
        selected = self.query_one(IncidentTable).selected()
        self.run_worker(lambda: self._read(desk, selected), name="incidents-read",
                        group="incidents", exclusive=True, thread=True,
                        exit_on_error=False)  # fmt: skip

    @staticmethod
    def _read(desk: Any, selected: int | None) -> Reading | None:
        """(In the worker thread.) The incidents, and the timeline of ``selected`` (else of
        the first incident)."""
        incidents = desk.incidents()
        ids = [i.id for i in incidents]
        chosen = selected if selected in ids else (ids[0] if ids else None)
        timeline = desk.timeline(chosen) if chosen is not None else []
        if get_current_worker().is_cancelled:
            return None  # a newer read is on its way
        return Reading(incidents, chosen, timeline)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Show a finished read; say on the border why one failed (the last one stays)."""
        worker = event.worker
        if worker.name != "incidents-read":
            return
        table = self.query_one(IncidentTable)
        if event.state is WorkerState.ERROR:
            error = worker.error
            table.border_subtitle = safe(f"incidents not read: {type(error).__name__}: {error}")
            return
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, Reading):
            self._shown(worker.result)

    def _shown(self, reading: Reading) -> None:
        now = float(self.clock())  # type: ignore[operator]
        table = self.query_one(IncidentTable)
        runbooks = {i.id: runbook_of(i) for i in reading.incidents}
        table.show_incidents(reading.incidents, now, runbooks)
        if table.selected() != reading.incident_id:
            self.reload()  # the cursor moved on while this was read
            return
        incident = table.incident(reading.incident_id)
        self.query_one(TimelineTable).show_timeline(incident, reading.timeline, now)
        self._show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Another incident under the cursor: its timeline."""
        if event.data_table is self.query_one(IncidentTable):
            self._show_detail()
            self.reload()

    def _show_detail(self) -> None:
        table = self.query_one(IncidentTable)
        detail = table.detail(str(table.selected())) if table.selected() is not None else None
        line = self.query_one("#incident-detail", Static)
        show_line(line, detail)

    # --- acting --------------------------------------------------------------------------

    def _selected(self) -> Incident | None:
        table = self.query_one(IncidentTable)
        incident = table.incident(table.selected())
        if incident is None:
            self.notify("No incident selected", severity="warning")
        return incident

    def _offer(self, make: Any) -> None:
        """Hand an action to the executor; read again once it is done."""
        self.app.offer(make, then=lambda _: self.call_later(self.reload))  # type: ignore[attr-defined]

    def action_incident_note(self) -> None:
        """Ask for a note, then add it to the selected incident's timeline."""
        desk, incident = self._desk(), self._selected()
        if desk is None or incident is None:
            return

        def typed(text: str | None) -> None:
            if text:
                self._offer(lambda: desk.note(incident.id, text))

        self.app.push_screen(TextPrompt(f"Note for incident #{incident.id} {incident.title}",
                                        placeholder="what you saw or did"), typed)  # fmt: skip

    def action_incident_sev(self) -> None:
        """Pick a SEV, then set it on the selected incident."""
        desk, incident = self._desk(), self._selected()
        if desk is None or incident is None:
            return

        def picked(sev: Sev | None) -> None:
            if sev is not None:
                self._offer(lambda: desk.set_sev(incident.id, sev))

        self.app.push_screen(SevPicker(f"#{incident.id} {incident.title}", incident.sev), picked)

    def action_incident_resolve(self) -> None:
        """Ask why (may be left empty), then resolve the selected incident by hand."""
        desk, incident = self._desk(), self._selected()
        if desk is None or incident is None:
            return
        if not incident.is_open:
            self.notify(f"Incident #{incident.id} is already resolved", severity="warning")
            return

        def typed(text: str | None) -> None:
            if text is not None:
                self._offer(lambda: desk.resolve(incident.id, text or None))

        self.app.push_screen(TextPrompt(f"Resolve incident #{incident.id} {incident.title}: why?",
                                        placeholder="a note for the timeline (may be empty)",
                                        allow_empty=True), typed)  # fmt: skip

    def action_run_runbook(self) -> None:
        """Offer the runbook for the selected incident's alert."""
        incident = self._selected()
        if incident is None:
            return
        alert = main_alert(incident)
        name = alert.name if alert is not None else incident.title
        labels = dict(alert.labels) if alert is not None else {}
        offer_runbook(self.app, runbook_of(incident), name, labels)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """`enter` on an incident (the table has the focus): its runbook."""
        if event.data_table is self.query_one(IncidentTable):
            self.action_run_runbook()
