"""The incidents as the TUI reads and changes them: a small read API and the actions.

`IncidentDesk` opens the database on first use (the screen reads it in a thread worker,
never on the UI thread) and builds `AddNote`, `SetSev` and `ResolveIncident` for the
executor, so every change from the screen is confirmed, audited and refused in
read-only mode like the CLI's.
"""

from __future__ import annotations

import threading

from tui.config import Config
from tui.incidents.config import IncidentsConfig, incidents_config
from tui.incidents.model import Event, Incident, Sev
from tui.incidents.store import Store
from tui.ops.incidents import AddNote, ResolveIncident, SetSev, db_path_for


class IncidentDesk:
    """Reads incidents and timelines; makes the hand-made changes as executor actions."""

    def __init__(self, config: Config | None, actor: str, store: Store | None = None) -> None:
        """``store``: an open database to share (the tracker's); else the config's, opened
        (created, migrated) on first use."""
        self.config = config
        self.actor = actor
        self._store = store
        self._section: IncidentsConfig | None = None
        self._lock = threading.Lock()

    @property
    def section(self) -> IncidentsConfig:
        """The config's ``incidents:`` section (response times for a new SEV)."""
        if self._section is None:
            self._section = incidents_config(self.config)
        return self._section

    @property
    def store(self) -> Store:
        """The database, opened on first use."""
        with self._lock:
            if self._store is None:
                self._store = Store(db_path_for(self.config, self.section))
            return self._store

    # --- reading (call from a worker thread: this is disk I/O) ---------------------------

    def incidents(self) -> list[Incident]:
        """Every incident, open ones first, then newest first."""
        return self.store.incidents()

    def timeline(self, incident_id: int) -> list[Event]:
        """The incident's events in time order."""
        return self.store.timeline(incident_id)

    # --- changes, as actions for the executor --------------------------------------------

    def note(self, incident_id: int, text: str) -> AddNote:
        """Add ``text`` to the incident's timeline."""
        return AddNote(self.store, incident_id, text, self.actor)

    def set_sev(self, incident_id: int, sev: Sev) -> SetSev:
        """Set the incident's SEV by hand."""
        return SetSev(self.store, incident_id, sev, self.actor, self.section)

    def resolve(self, incident_id: int, note: str | None = None) -> ResolveIncident:
        """Resolve the incident by hand, ``note`` saying why."""
        return ResolveIncident(self.store, incident_id, self.actor, note or None)

    def close(self) -> None:
        """Close the database if this desk opened it."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
