"""The recorder: every snapshot the hub publishes, written in a thread of its own.

`start_recorder(config, hub)` subscribes a `RecorderThread` to the hub (the dashboard,
``incident watch``, ``inferdeck record``). `RecorderThread.submit` never blocks the hub:
it queues the snapshot and wakes the thread, which writes it with the events that
happened since the previous one — new audit records (the config's audit log, read
incrementally), new incident timeline events (the incidents database, read-only) and
alerts that started or stopped firing. A failing write is kept in `last_error` (the
dashboard shows it: a notice and REC STOPPED in the header) and the next snapshot is
tried again, in a new segment; recording never stops the dashboard.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.config import Config
from tui.hub import Hub
from tui.incidents.audit_feed import Position, read_new
from tui.incidents.export import event_data
from tui.incidents.store import event_of
from tui.model import FleetSnapshot
from tui.ops.audit import audit_log_for
from tui.ops.incidents import db_path_for
from tui.recording.config import recording_config, recordings_dir
from tui.recording.writer import RecordingWriter
from tui.subscriber import Backlog, SubscriberThread

QUEUE_LIMIT = 120
"""Snapshots waiting to be written at most (older ones go first if the disk stalls)."""

INCIDENTS_EVERY_S = 2.0
"""How often the incidents database is looked at (only read when it changed)."""


class AuditFollower:
    """New audit records since the last call (starting at the log's end now)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.position = Position()
        with contextlib.suppress(OSError):
            st = os.stat(path)
            self.position = Position(st.st_dev, st.st_ino, st.st_size)

    def new(self) -> list[dict[str, Any]]:
        """Records appended since the last call."""
        records, self.position = read_new(self.path, self.position)
        return records


class IncidentFollower:
    """New incident timeline events since the last call, read-only, only when the
    database's files changed."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.clock = clock
        self._conn: sqlite3.Connection | None = None
        self._seen: tuple[int, ...] = ()
        self._checked = 0.0
        self.last_id = 0
        with contextlib.suppress(sqlite3.Error, OSError):
            row = self._connection().execute("SELECT max(id) FROM events").fetchone()
            self.last_id = int(row[0] or 0) if row else 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            if not self.path.exists():
                raise FileNotFoundError(self.path)
            self._conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=1.0, check_same_thread=False
            )
            self._conn.row_factory = sqlite3.Row
        return self._conn

    def _files(self) -> tuple[int, ...]:
        out: list[int] = []
        for suffix in ("", "-wal"):
            try:
                st = os.stat(f"{self.path}{suffix}")
                out += [st.st_mtime_ns, st.st_size]
            except OSError:
                out += [0, 0]
        return tuple(out)

    def new(self) -> list[dict[str, Any]]:
        """Events added since the last call (at most every `INCIDENTS_EVERY_S`)."""
        now = self.clock()
        if now - self._checked < INCIDENTS_EVERY_S:
            return []
        self._checked = now
        files = self._files()
        if files == self._seen:
            return []
        self._seen = files
        try:
            rows = (
                self._connection()
                .execute(
                    "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT 1000", (self.last_id,)
                )
                .fetchall()
            )
        except (sqlite3.Error, OSError):
            self.close()
            return []
        out = []
        for row in rows:
            event = event_of(row)
            self.last_id = max(self.last_id, event.id)
            out.append(event_data(event))
        return out

    def close(self) -> None:
        """Close the connection (opened again when needed)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def alert_changes(before: FleetSnapshot | None, after: FleetSnapshot) -> list[dict[str, Any]]:
    """Alerts that started or stopped firing between two snapshots, as event records."""
    old = {a.fingerprint: a for a in before.alerts} if before is not None else {}
    new = {a.fingerprint: a for a in after.alerts}
    out = []
    for fingerprint, alert in new.items():
        if fingerprint not in old:
            out.append({"state": "firing", "name": alert.name, "severity": alert.severity.value,
                        "fingerprint": fingerprint, "summary": alert.summary})  # fmt: skip
    for fingerprint, alert in old.items():
        if fingerprint not in new:
            out.append({"state": "resolved", "name": alert.name,
                        "severity": alert.severity.value, "fingerprint": fingerprint})  # fmt: skip
    return out


OS_THREAD_NAME = "inferdeck-rec"
"""The recorder thread's name as the OS (``top -H``, /proc) shows it: the idle benchmark
measures the recorder's own share of a core by it."""


class RecorderThread(SubscriberThread):
    """Writes each submitted snapshot, with the events since the previous one."""

    name = "inferdeck-recorder"
    os_name = OS_THREAD_NAME
    keep_all = True  # every frame is written, in order; stop() writes what waits
    limit = QUEUE_LIMIT

    def __init__(
        self,
        writer: RecordingWriter,
        audit: AuditFollower | None = None,
        incidents: IncidentFollower | None = None,
    ) -> None:
        super().__init__()
        self.writer = writer
        self.audit = audit
        self.incidents = incidents
        self.last_error: str | None = None
        self.frames = 0  # snapshots handled (written or failed)
        self.cpu_s = 0.0  # CPU time spent on them, in the thread that handled them
        self._previous: FleetSnapshot | None = None

    def start(self) -> RecorderThread:
        """Start the thread; returns self."""
        super().start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued, close the segment, stop."""
        super().stop(timeout)
        with contextlib.suppress(Exception):
            self.writer.close()
        if self.incidents is not None:
            self.incidents.close()

    def follow(self, hub: Hub, held: Backlog | None = None) -> None:
        """Record every snapshot ``hub`` publishes (``held``: those a `Backlog` of it
        kept first), taking its word on how its chart series moved
        (`tui.hub.History.advanced`)."""
        self.writer.history_moved_on = hub.history.advanced
        (held or hub).subscribe(self.submit)

    def handle(self, snapshot: FleetSnapshot) -> None:
        """The thread's work: `record`."""
        self.record(snapshot)

    def record(self, snapshot: FleetSnapshot) -> None:
        """Write one snapshot; a failure goes to `last_error` (cleared by the next frame
        that is written), never further: recording never stops the dashboard."""
        started = time.thread_time()
        try:
            self.write(snapshot)
        except Exception as exc:  # a full disk, a folder removed: say so, keep going
            self.last_error = f"recording: {why_not(exc)}"
        else:
            self.last_error = None
        self.cpu_s += time.thread_time() - started
        self.frames += 1

    def write(self, snapshot: FleetSnapshot) -> None:
        """Write one snapshot and the events before it (the thread's work, callable
        directly for a synchronous recorder)."""
        writer = self.writer
        for change in alert_changes(self._previous, snapshot):
            writer.event("alert", snapshot.taken_at, change)
        self._previous = snapshot
        if self.audit is not None:
            for record in self.audit.new():
                writer.event("audit", _time_of(record, snapshot.taken_at), record)
        if self.incidents is not None:
            for event in self.incidents.new():
                writer.event("incident", float(event.get("at") or snapshot.taken_at), event)
        writer.frame(snapshot)


def why_not(exc: BaseException) -> str:
    """One line saying why a frame could not be written (``No space left on device:
    /path``), from the error the writer met."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _time_of(record: dict[str, Any], default: float) -> float:
    try:
        return float(record.get("time", default))
    except (TypeError, ValueError):
        return default


def recorder_for(config: Config, *, out: Path | str | None = None) -> RecorderThread | None:
    """A recorder for ``config`` (None when its ``recording:`` section turns it off and no
    ``out`` file is asked for); ``out``: one file instead of the rotated folder."""
    section = recording_config(config)
    if not section.enabled and out is None:
        return None
    writer = RecordingWriter(
        recordings_dir(config, section),
        section.limits,
        environment=config.environment,
        slo_tier=config.slo_tier,
        refresh_s=config.refresh_s,
        name=str(out) if out is not None else None,
    )
    return RecorderThread(
        writer, AuditFollower(audit_log_for(config).path), IncidentFollower(db_path_for(config))
    )


def start_recorder(
    config: Config, hub: Hub, *, out: Path | str | None = None, held: Backlog | None = None
) -> RecorderThread | None:
    """Record every snapshot ``hub`` publishes, in a thread; None when recording is off.
    ``held``: a `Backlog` of the hub, whose snapshots are recorded first.

    Raises `tui.config.ConfigError` for a bad ``recording:`` section (before anything
    starts). Stop it with ``.stop()``.
    """
    recorder = recorder_for(config, out=out)
    if recorder is None:
        return None
    recorder.follow(hub, held)
    return recorder.start()
