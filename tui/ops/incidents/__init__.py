"""Incidents' hand-made changes as executor actions, and the tracker's wiring.

`AddNote`, `SetSev` and `ResolveIncident` write to the incidents database
(`tui.incidents.store`) through the executor, so they are audited and refused in
read-only mode like every other change. The audit records of these kinds
(``incident.*``) are not copied into timelines again: the change itself is there.

`db_path_for` says where the database lives; `start_tracker` runs the tracker beside a
hub (the dashboard), following the config's audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui.config import Config
from tui.hub import Hub
from tui.incidents.config import DB_FILE, IncidentsConfig, incidents_config
from tui.incidents.model import Event, Sev
from tui.incidents.store import IncidentError, Store
from tui.incidents.tracker import IncidentTracker, TrackerThread
from tui.ops.audit import audit_log_for, state_dir_of
from tui.ops.executor import ActionResult, Plan, Progress
from tui.subscriber import Backlog

__all__ = [
    "AddNote",
    "ResolveIncident",
    "SetSev",
    "db_path_for",
    "open_store",
    "start_tracker",
    "tracker_for",
]


def db_path_for(config: Config | None, section: IncidentsConfig | None = None) -> Path:
    """``incidents.db`` from the config (``~`` expanded; relative to the config's folder),
    else ``STATE_DIR/incidents.sqlite3``."""
    section = section or incidents_config(config)
    if section.db:
        path = Path(section.db).expanduser()
        if not path.is_absolute() and config is not None and config.path:
            path = Path(config.path).parent / path
        return path
    return state_dir_of(config) / DB_FILE


def open_store(config: Config | None) -> Store:
    """The incidents database the config names (created and migrated when needed)."""
    return Store(db_path_for(config))


def tracker_for(config: Config | None, store: Store | None = None) -> IncidentTracker:
    """A tracker on the config's database, following the config's audit log."""
    section = incidents_config(config)
    store = store or Store(db_path_for(config, section))
    return IncidentTracker(store, section, audit_log_for(config).path)


def start_tracker(config: Config, hub: Hub | Backlog, on_events: Any = None) -> TrackerThread:
    """Track incidents from every snapshot ``hub`` publishes (or a `Backlog` of it held),
    in a thread of its own.

    Raises `tui.config.ConfigError` for a bad ``incidents:`` section (before anything
    starts). Stop it with ``.stop()`` (then close ``.tracker.store``).
    """
    thread = TrackerThread(tracker_for(config), on_events)
    hub.subscribe(thread.submit)
    return thread.start()


class _IncidentAction:
    """What the three changes share: the store, the incident, the actor."""

    kind = "incident"

    def __init__(self, store: Store, incident_id: int, actor: str) -> None:
        self.store, self.incident_id, self.actor = store, incident_id, actor
        self.target = f"incident #{incident_id}"

    def _title(self) -> str:
        try:
            incident = self.store.get(self.incident_id)
        except IncidentError:
            return f"#{self.incident_id} (unknown)"
        return f"#{incident.id} {incident.sev} {incident.title!r}"


class AddNote(_IncidentAction):
    """Add a note (what the operator typed) to an incident's timeline."""

    kind = "incident.note"

    def __init__(self, store: Store, incident_id: int, text: str, actor: str) -> None:
        """``text``: the note, as typed."""
        super().__init__(store, incident_id, actor)
        self.text = text

    def params(self) -> dict[str, Any]:
        """The incident and the note."""
        return {"incident": self.incident_id, "text": self.text}

    def plan(self) -> Plan:
        """The incident and the note."""
        return Plan(f"Add a note to incident {self._title()}", (f"note: {self.text!r}",))

    def run(self, progress: Progress) -> ActionResult:
        """Write the note."""
        del progress
        try:
            event = self.store.add_note(self.incident_id, self.text, self.actor)
        except IncidentError as exc:
            return ActionResult(False, str(exc))
        return ActionResult(
            True, f"note added to incident #{self.incident_id}", {"event": event.id}
        )


class SetSev(_IncidentAction):
    """Set an incident's SEV by hand (the tracker then leaves it alone)."""

    kind = "incident.sev"

    def __init__(
        self,
        store: Store,
        incident_id: int,
        sev: Sev,
        actor: str,
        section: IncidentsConfig | None = None,
    ) -> None:
        """``section``: the response times (for the new acknowledgement deadline)."""
        super().__init__(store, incident_id, actor)
        self.sev = sev
        self.section = section or IncidentsConfig()

    def params(self) -> dict[str, Any]:
        """The incident and the SEV."""
        return {"incident": self.incident_id, "sev": self.sev.value}

    def plan(self) -> Plan:
        """The SEV and its response time."""
        response = self.section.response_for(self.sev)
        return Plan(
            f"Set incident {self._title()} to {self.sev}",
            (
                f"respond within {response} of opening",
                "the tracker will no longer change this incident's SEV",
            ),
        )

    def run(self, progress: Progress) -> ActionResult:
        """Write the SEV."""
        del progress
        try:
            incident = self.store.get(self.incident_id)
            due = self.section.response_for(self.sev).due(incident.opened_at)
            event = self.store.set_sev(self.incident_id, self.sev, self.actor, due)
        except IncidentError as exc:
            return ActionResult(False, str(exc))
        if event is None:
            return ActionResult(True, f"incident #{self.incident_id} is already {self.sev}")
        return ActionResult(
            True, f"incident #{self.incident_id} is now {self.sev}", {"event": event.id}
        )


class ResolveIncident(_IncidentAction):
    """Resolve an incident by hand, with an optional note."""

    kind = "incident.resolve"

    def __init__(self, store: Store, incident_id: int, actor: str, note: str | None = None) -> None:
        """``note``: why (added to the timeline first)."""
        super().__init__(store, incident_id, actor)
        self.note = note

    def params(self) -> dict[str, Any]:
        """The incident and the note."""
        return {"incident": self.incident_id, "note": self.note}

    def plan(self) -> Plan:
        """What resolving means."""
        lines = [f"note: {self.note!r}"] if self.note else []
        lines.append("its alerts that still fire stay with it; a new firing opens a new one")
        return Plan(f"Resolve incident {self._title()}", tuple(lines))

    def run(self, progress: Progress) -> ActionResult:
        """Resolve it."""
        del progress
        try:
            events: list[Event] = self.store.resolve(self.incident_id, self.actor, self.note)
        except IncidentError as exc:
            return ActionResult(False, str(exc))
        return ActionResult(
            True, f"incident #{self.incident_id} resolved", {"events": [e.id for e in events]}
        )
