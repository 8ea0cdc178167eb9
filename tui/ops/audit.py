"""The audit log: one JSON line per event, appended, fsync'd, never rewritten.

Every action writes an ``intent`` record before it runs and a ``result`` record after
(outcome, duration); refusals and cancellations are recorded too. A crash between the
two leaves the intent, which is exactly what a post-mortem needs to see.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.config import Config


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/inferdeck`` (default ``~/.local/state/inferdeck``)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "inferdeck"


def state_dir_of(config: Config | None) -> Path:
    """The config's ``state_dir`` (``~`` expanded), else `default_state_dir`."""
    if config is not None and config.state_dir:
        return Path(config.state_dir).expanduser()
    return default_state_dir()


def audit_log_for(config: Config | None) -> AuditLog:
    """The audit log a config names (``audit_log``), else the machine's shared one, else
    ``STATE_DIR/audit.jsonl`` (see `tui.ops.places`)."""
    from tui.ops.places import places_for

    places = places_for(config)
    return AuditLog(places.audit, mode=0o660 if places.shared else 0o600)


class AuditLog:
    """Append-only JSON lines at ``path``; each append is flushed and fsync'd.

    A new file gets ``mode`` exactly (not narrowed by the umask), so the shared trail
    stays writable by the group that shares it.
    """

    def __init__(self, path: Path | str | None = None, *, mode: int = 0o600) -> None:
        self.path = Path(path) if path is not None else default_state_dir() / "audit.jsonl"
        self.mode = mode

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write one record (a ``time`` field is added when missing); returns it."""
        record = {"time": time.time(), **record}
        line = json.dumps(record, sort_keys=True, ensure_ascii=True, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, self.mode)
        try:
            stat = os.fstat(fd)
            size = stat.st_size
            if not size and stat.st_uid == os.getuid() and stat.st_mode & 0o777 != self.mode:
                os.fchmod(fd, self.mode)
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # a crash tore the last line: never glue a record to it
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def tail(self, count: int = 20) -> list[dict[str, Any]]:
        """The last ``count`` records, oldest first; a torn or foreign line is skipped."""
        if count <= 0 or not self.path.exists():
            return []
        last: deque[dict[str, Any]] = deque(maxlen=count)
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    last.append(record)
        return list(last)
