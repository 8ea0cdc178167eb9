"""Incidents: records and timelines of what went wrong and what was done (SQLite).

Textual-free; below `tui.ops` (whose ``tui.ops.incidents`` holds the hand-made changes as
executor actions) and above `tui.hub` (it consumes the hub's snapshots).

Modules:

* `model` — `Incident` (SEV, response clock: `ack_time_left`, `overdue`,
  `time_to_acknowledge`, `time_to_resolve`), `IncidentAlert`, `Event`, `EventKind`, `Sev`.
* `config` — the config's ``incidents:`` section (`incidents_config`): grouping, the SEV
  table, response times, where the database lives.
* `rules` — pure: which alerts fire, their group, their SEV.
* `store` — the database (`Store`): reads for the CLI and the screen, hand-made changes.
* `tracker` — `IncidentTracker.observe(snapshot)` and `TrackerThread` (beside the hub).
* `export` — JSON data and the Markdown post-incident document.

What a screen needs (all on `Store`, each write committed before it returns)::

    store.incidents(open_only=False)   # open first, newest first; Incident objects
    store.get(incident_id)             # one Incident (UnknownIncident if none)
    store.timeline(incident_id)        # its Events in time order
    incident.ack_time_left(now), incident.overdue(now)   # the response clock
    # changes go through the executor (audited, refused when read-only):
    tui.ops.incidents.AddNote / SetSev / ResolveIncident(store, incident_id, ..., actor)
"""

from tui.incidents.model import Event, EventKind, Impact, Incident, IncidentAlert, Sev
from tui.incidents.store import IncidentError, Store, UnknownIncident

__all__ = [
    "Event",
    "EventKind",
    "Impact",
    "Incident",
    "IncidentAlert",
    "IncidentError",
    "Sev",
    "Store",
    "UnknownIncident",
]
