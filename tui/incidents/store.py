"""The incidents database (SQLite, stdlib): incidents, their alerts and their timelines.

One file under the state folder (``STATE_DIR/incidents.sqlite3`` unless the config's
``incidents.db`` says otherwise), in WAL mode with ``synchronous=FULL``: every write is a
transaction committed (and so on disk) before the method returns, so what a caller has
shown survives a SIGKILL or a power cut. Writers take the write lock up front
(``BEGIN IMMEDIATE``), so two trackers (two dashboards, or a dashboard and
``incident watch``) see each other's work and never open the same incident twice; the
schema's unique indexes hold that even against a bug.

The reads and the hand-made changes (`add_note`, `set_sev`, `resolve`) are what the CLI
and the TUI use; `Store.batch` is the tracker's (`tui.incidents.tracker`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tui.incidents.model import Event, EventKind, Impact, Incident, IncidentAlert, Sev
from tui.incidents.schema import migrate

BUSY_TIMEOUT_S = 10.0


class IncidentError(Exception):
    """A change that cannot be made (no such incident, already resolved)."""


class UnknownIncident(IncidentError):
    """No incident has that id."""


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode, WAL, ``synchronous=FULL``, migrated to the latest."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    migrate(conn)
    with contextlib.suppress(OSError):
        path.chmod(0o600)
    return conn


class Store:
    """The incidents database; safe to share between threads (one lock per store)."""

    def __init__(self, path: Path | str, clock: Any = time.time) -> None:
        """Open (create, migrate) the database at ``path``."""
        self.path = Path(path)
        self.clock = clock
        self._conn = connect(self.path)
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    # --- reading ---------------------------------------------------------------------

    def incidents(self, *, open_only: bool = False, limit: int | None = None) -> list[Incident]:
        """Incidents, open ones first, then newest first."""
        sql = "SELECT * FROM incidents"
        if open_only:
            sql += " WHERE resolved_at IS NULL"
        sql += " ORDER BY resolved_at IS NOT NULL, opened_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._conn.execute(sql).fetchall()
            return [self._incident(row) for row in rows]

    def get(self, incident_id: int) -> Incident:
        """The incident ``incident_id``; `UnknownIncident` when there is none."""
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
            if row is None:
                raise UnknownIncident(f"no incident #{incident_id}")
            return self._incident(row)

    def timeline(self, incident_id: int) -> list[Event]:
        """Every event of the incident, in time order (ties in the order recorded)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM events WHERE incident_id = ? ORDER BY at, id", (incident_id,)
            ).fetchall()
        return [event_of(row) for row in rows]

    def _incident(self, row: sqlite3.Row) -> Incident:
        alerts = self._conn.execute(
            "SELECT * FROM incident_alerts WHERE incident_id = ? ORDER BY starts_at, fingerprint",
            (row["id"],),
        ).fetchall()
        return incident_of(row, tuple(alert_of(a) for a in alerts))

    # --- changes by hand ---------------------------------------------------------------

    def add_note(self, incident_id: int, text: str, who: str, at: float | None = None) -> Event:
        """Add what an operator typed to the timeline; the event, once committed."""
        if not text.strip():
            raise IncidentError("a note needs some text")
        with self.batch() as batch:
            batch.require(incident_id)
            event = batch.event(incident_id, self._now(at), EventKind.NOTE, text, who=who)
        assert event is not None
        return event

    def set_sev(
        self, incident_id: int, sev: Sev, who: str, due: float, at: float | None = None
    ) -> Event | None:
        """Set the SEV by hand (the tracker no longer changes it); ``due`` is the new
        acknowledgement deadline. None when the SEV already was ``sev`` and set by hand."""
        with self.batch() as batch:
            incident = batch.require(incident_id)
            if incident.sev is sev and incident.sev_set_by is not None:
                return None
            return batch.change_sev(
                incident_id,
                sev,
                due,
                self._now(at),
                who=who,
                by_hand=True,
                why=f"{incident.sev} → {sev}, set by hand",
            )

    def resolve(
        self, incident_id: int, who: str, note: str | None = None, at: float | None = None
    ) -> list[Event]:
        """Resolve by hand (with an optional note); `IncidentError` if already resolved."""
        moment = self._now(at)
        with self.batch() as batch:
            incident = batch.require(incident_id)
            if not incident.is_open:
                raise IncidentError(f"incident #{incident_id} is already resolved")
            events = []
            if note and note.strip():
                events.append(batch.event(incident_id, moment, EventKind.NOTE, note, who=who))
            events.append(batch.resolve(incident_id, moment, who, "resolved by hand"))
        return [e for e in events if e is not None]

    def _now(self, at: float | None) -> float:
        return float(self.clock()) if at is None else at

    # --- the tracker's transactions ----------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[Batch]:
        """One write transaction (``BEGIN IMMEDIATE``): committed on leaving, rolled back
        on an exception. `Batch.new_events` lists what it recorded."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            batch = Batch(self._conn)
            try:
                yield batch
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")


class Batch:
    """Writes inside one transaction; every method sees the writes made before it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.new_events: list[Event] = []

    def require(self, incident_id: int) -> Incident:
        """The incident, or `UnknownIncident`."""
        row = self.conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise UnknownIncident(f"no incident #{incident_id}")
        return incident_of(row, ())

    def event(
        self,
        incident_id: int,
        at: float,
        kind: EventKind,
        text: str,
        *,
        who: str = "",
        fingerprint: str | None = None,
        details: Mapping[str, Any] | None = None,
        dedup: str | None = None,
    ) -> Event | None:
        """Record one timeline event; None when ``dedup`` says it is recorded already."""
        body = json.dumps(dict(details or {}), sort_keys=True, default=str)
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO events (incident_id, at, kind, who, text, fingerprint,"
            " details, dedup) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (incident_id, at, kind.value, who, text, fingerprint, body, dedup),
        )
        if cursor.rowcount == 0:
            return None
        event = Event(
            id=int(cursor.lastrowid or 0),
            incident_id=incident_id,
            at=at,
            kind=kind,
            text=text,
            who=who,
            fingerprint=fingerprint,
            details=MappingProxyType(dict(details or {})),
        )
        self.new_events.append(event)
        return event

    def open_incident(
        self,
        group_key: str,
        title: str,
        sev: Sev,
        opened_at: float,
        due: float,
        environment: str,
        slo_tier: str,
    ) -> int | None:
        """A new open incident for ``group_key``; None when one is open for it already."""
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO incidents (group_key, title, sev, opened_at, ack_due_at,"
            " environment, slo_tier) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (group_key, title, sev.value, opened_at, due, environment, slo_tier),
        )
        return int(cursor.lastrowid) if cursor.rowcount and cursor.lastrowid else None

    def open_for_group(self, group_key: str) -> Incident | None:
        """The open incident of ``group_key``, if any."""
        row = self.conn.execute(
            "SELECT * FROM incidents WHERE group_key = ? AND resolved_at IS NULL", (group_key,)
        ).fetchone()
        return incident_of(row, ()) if row else None

    def open_incidents(self) -> list[Incident]:
        """Every open incident (without alerts)."""
        rows = self.conn.execute("SELECT * FROM incidents WHERE resolved_at IS NULL").fetchall()
        return [incident_of(r, ()) for r in rows]

    def open_at(self, moment: float) -> list[int]:
        """The incidents that were open at ``moment``."""
        rows = self.conn.execute(
            "SELECT id FROM incidents WHERE opened_at <= ?"
            " AND (resolved_at IS NULL OR resolved_at >= ?)",
            (moment, moment),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def incidents_with_alert(self, fingerprint: str) -> list[Incident]:
        """The incidents the alert ``fingerprint`` belongs (or belonged) to."""
        rows = self.conn.execute(
            "SELECT i.* FROM incidents i JOIN incident_alerts a ON a.incident_id = i.id"
            " WHERE a.fingerprint = ?",
            (fingerprint,),
        ).fetchall()
        return [incident_of(r, ()) for r in rows]

    def live_alerts(self) -> dict[str, sqlite3.Row]:
        """Every alert still firing as far as the database knows, by fingerprint."""
        rows = self.conn.execute(
            "SELECT * FROM incident_alerts WHERE resolved_at IS NULL"
        ).fetchall()
        return {str(r["fingerprint"]): r for r in rows}

    def alerts_of(self, incident_id: int) -> list[sqlite3.Row]:
        """The incident's alert rows."""
        return self.conn.execute(
            "SELECT * FROM incident_alerts WHERE incident_id = ?", (incident_id,)
        ).fetchall()

    def attach_alert(
        self,
        incident_id: int,
        fingerprint: str,
        name: str,
        labels: Mapping[str, str],
        severity: str,
        summary: str,
        starts_at: float,
    ) -> None:
        """Add the alert to the incident, or mark it firing there again."""
        self.conn.execute(
            "INSERT INTO incident_alerts (incident_id, fingerprint, name, labels, severity,"
            " summary, starts_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (incident_id, fingerprint) DO UPDATE SET resolved_at = NULL,"
            " missing_since = NULL, starts_at = excluded.starts_at, summary = excluded.summary,"
            " acked_by = NULL, acked_until = NULL",
            (
                incident_id,
                fingerprint,
                name,
                json.dumps(dict(labels), sort_keys=True),
                severity,
                summary,
                starts_at,
            ),
        )

    def update_alert(self, incident_id: int, fingerprint: str, **values: Any) -> None:
        """Set columns of one alert row (``missing_since``, ``resolved_at``, ``acked_by``...)."""
        allowed = {"missing_since", "resolved_at", "acked_by", "acked_until"}
        if not values or not set(values) <= allowed:
            raise ValueError(f"cannot set {sorted(values)}")
        assignments = ", ".join(f"{k} = ?" for k in values)
        self.conn.execute(
            f"UPDATE incident_alerts SET {assignments} WHERE incident_id = ? AND fingerprint = ?",
            (*values.values(), incident_id, fingerprint),
        )

    def acked_in_timeline(self, incident_id: int, fingerprint: str) -> bool:
        """Whether the timeline's last word on this alert is an acknowledgement."""
        row = self.conn.execute(
            "SELECT kind FROM events WHERE incident_id = ? AND fingerprint = ?"
            " AND kind IN (?, ?) ORDER BY at DESC, id DESC LIMIT 1",
            (incident_id, fingerprint, EventKind.ACK.value, EventKind.UNACK.value),
        ).fetchone()
        return row is not None and row[0] == EventKind.ACK.value

    def acknowledged(self, incident_id: int, at: float, who: str) -> None:
        """Stop the response clock at ``at`` (only the first acknowledgement counts)."""
        self.conn.execute(
            "UPDATE incidents SET acknowledged_at = ?, acknowledged_by = ?"
            " WHERE id = ? AND (acknowledged_at IS NULL OR acknowledged_at > ?)",
            (at, who, incident_id, at),
        )

    def change_sev(
        self,
        incident_id: int,
        sev: Sev,
        due: float,
        at: float,
        *,
        who: str,
        by_hand: bool,
        why: str,
    ) -> Event | None:
        """Set the SEV (and its acknowledgement deadline) and record it in the timeline."""
        self.conn.execute(
            "UPDATE incidents SET sev = ?, ack_due_at = ?,"
            " sev_set_by = CASE WHEN ? THEN ? ELSE sev_set_by END WHERE id = ?",
            (sev.value, due, by_hand, who, incident_id),
        )
        return self.event(
            incident_id,
            at,
            EventKind.SEV,
            f"{sev}: {why}",
            who=who,
            details={"sev": sev.value, "by_hand": by_hand},
        )

    def set_impact(self, incident_id: int, impact: Impact) -> None:
        """Store the worst SLO figures seen while open."""
        self.conn.execute(
            "UPDATE incidents SET worst_ttft_p95 = ?, worst_e2e_p95 = ?, worst_error_rate = ?"
            " WHERE id = ?",
            (impact.ttft_p95_s, impact.e2e_p95_s, impact.error_rate, incident_id),
        )

    def resolve(self, incident_id: int, at: float, who: str, why: str) -> Event | None:
        """Resolve the incident at ``at`` and record it."""
        self.conn.execute(
            "UPDATE incidents SET resolved_at = ?, resolved_by = ? WHERE id = ?",
            (at, who, incident_id),
        )
        return self.event(incident_id, at, EventKind.RESOLVED, why, who=who, dedup="resolved")

    def cursor(self, name: str) -> str | None:
        """A saved reading position (the audit log's), or None."""
        row = self.conn.execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else None

    def set_cursor(self, name: str, value: str) -> None:
        """Save a reading position, in the same transaction as what was read."""
        self.conn.execute(
            "INSERT INTO cursors (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )


# --- rows → model ----------------------------------------------------------------------


def incident_of(row: sqlite3.Row, alerts: tuple[IncidentAlert, ...]) -> Incident:
    """An `Incident` from its row."""
    keys = row.keys()

    def col(name: str) -> Any:
        return row[name] if name in keys else None

    return Incident(
        id=int(row["id"]),
        group_key=str(row["group_key"]),
        title=str(row["title"]),
        sev=Sev(row["sev"]),
        opened_at=float(row["opened_at"]),
        ack_due_at=float(row["ack_due_at"]),
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
        resolved_at=row["resolved_at"],
        resolved_by=row["resolved_by"],
        sev_set_by=col("sev_set_by"),
        environment=str(col("environment") or ""),
        slo_tier=str(col("slo_tier") or ""),
        impact=Impact(col("worst_ttft_p95"), col("worst_e2e_p95"), col("worst_error_rate")),
        alerts=alerts,
    )


def alert_of(row: sqlite3.Row) -> IncidentAlert:
    """An `IncidentAlert` from its row."""
    return IncidentAlert(
        fingerprint=str(row["fingerprint"]),
        name=str(row["name"]),
        labels=MappingProxyType(json.loads(row["labels"])),
        severity=str(row["severity"]),
        summary=str(row["summary"]),
        starts_at=float(row["starts_at"]),
        resolved_at=row["resolved_at"],
        acknowledged_by=row["acked_by"],
    )


def event_of(row: sqlite3.Row) -> Event:
    """An `Event` from its row."""
    return Event(
        id=int(row["id"]),
        incident_id=int(row["incident_id"]),
        at=float(row["at"]),
        kind=EventKind(row["kind"]),
        text=str(row["text"]),
        who=str(row["who"]),
        fingerprint=row["fingerprint"],
        details=MappingProxyType(json.loads(row["details"] or "{}")),
    )
