"""The incidents database's schema, versioned, and the migrations between versions.

``schema_version`` holds one row: the version the file is at. `migrate` runs every step
after it, in one transaction, so a file is always at one version or the next. A file
written by a newer inferdeck (a higher version) is refused rather than misread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

LATEST = 2


class SchemaError(Exception):
    """The database is of a version this inferdeck does not know."""


def _v1(conn: sqlite3.Connection) -> None:
    """Incidents, their alerts, timeline events, and reading positions (cursors)."""
    _script(
        conn,
        """
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            group_key TEXT NOT NULL,
            title TEXT NOT NULL,
            sev TEXT NOT NULL,
            opened_at REAL NOT NULL,
            ack_due_at REAL NOT NULL,
            acknowledged_at REAL,
            acknowledged_by TEXT,
            resolved_at REAL,
            resolved_by TEXT
        );
        -- two trackers never open the same incident twice
        CREATE UNIQUE INDEX one_open_incident_per_group
            ON incidents(group_key) WHERE resolved_at IS NULL;
        CREATE TABLE incident_alerts (
            incident_id INTEGER NOT NULL REFERENCES incidents(id),
            fingerprint TEXT NOT NULL,
            name TEXT NOT NULL,
            labels TEXT NOT NULL,
            severity TEXT NOT NULL,
            summary TEXT NOT NULL,
            starts_at REAL NOT NULL,
            missing_since REAL,
            resolved_at REAL,
            acked_by TEXT,
            acked_until REAL,
            PRIMARY KEY (incident_id, fingerprint)
        );
        -- a firing alert belongs to one incident
        CREATE UNIQUE INDEX one_incident_per_firing_alert
            ON incident_alerts(fingerprint) WHERE resolved_at IS NULL;
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incidents(id),
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            who TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            fingerprint TEXT,
            details TEXT NOT NULL DEFAULT '{}',
            dedup TEXT,
            UNIQUE (incident_id, dedup)
        );
        CREATE INDEX events_by_incident ON events(incident_id, at, id);
        CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    )


def _script(conn: sqlite3.Connection, script: str) -> None:
    """Run each statement of ``script`` inside the caller's transaction (``executescript``
    would commit it first)."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            conn.execute(statement)


def _v2(conn: sqlite3.Connection) -> None:
    """Hand-set SEVs, where the incident happened, and its impact (worst SLO figures)."""
    for column in (
        "sev_set_by TEXT",
        "environment TEXT NOT NULL DEFAULT ''",
        "slo_tier TEXT NOT NULL DEFAULT ''",
        "worst_ttft_p95 REAL",
        "worst_e2e_p95 REAL",
        "worst_error_rate REAL",
    ):
        conn.execute(f"ALTER TABLE incidents ADD COLUMN {column}")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1, 2: _v2}
"""Version → the step that brings a file from the version before to it."""


def version_of(conn: sqlite3.Connection) -> int:
    """The file's schema version; 0 for a new, empty file."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> int:
    """Bring the file to ``target`` (the latest by default) in one transaction; the version.

    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = version_of(conn)
        if version > LATEST:
            raise SchemaError(
                f"the incidents database is at schema version {version}, newer than this"
                f" inferdeck knows ({LATEST}): upgrade inferdeck"
            )
        for step in range(version + 1, target + 1):
            MIGRATIONS[step](conn)
        if target > version:
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
        conn.execute("COMMIT")
        return max(version, target)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
