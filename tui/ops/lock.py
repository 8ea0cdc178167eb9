"""The machine-wide action lock, and how a rollback preempts whoever holds it.

Three small files live side by side (``mutation.lock`` by default):

* ``LOCK`` — an exclusive, non-blocking ``flock`` held while an action *runs* (never
  while a person reads a confirmation). Its content names the holder as one JSON line:
  actor, pid, action kind and target, and the action's audit id.
* ``LOCK.rollback`` — a rollback's own ``flock`` (so two rollbacks never run at once) and
  its *preempt marker*: the JSON line a rollback writes there names the action id it
  preempts. The executor of the holder polls this file every `POLL_S` and interrupts its
  action (a rollout stops at once and leaves the split to the rollback). A marker is
  never removed; it only ever matches the one action id it names.
* ``LOCK.changes`` — an append-only journal, one line per action that ran (id, kind,
  target). Its size is the *change count*: a confirmation remembers it before asking
  and, if it moved while the person was reading, the plan is made again and compared
  (see `tui.ops.executor`).

flock is per open file, so two executors in one process exclude each other as two
processes do, and a lock dies with its process (even ``kill -9``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

POLL_S = 0.1
"""How often a running, interruptible action's executor looks for a preempt marker."""


class Busy(Exception):
    """Another action holds the lock (or another rollback holds the rollback lock)."""

    def __init__(self, message: str, holder: Holder | None = None) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lock: written into the lock file as one JSON line."""

    actor: str
    pid: int
    action: str = ""
    target: str = ""
    id: str = ""
    since: float = 0.0

    def describe(self) -> str:
        """``bob@host, pid 123: traffic.rollout green``."""
        what = f": {self.action} {self.target}".rstrip() if self.action else ""
        return f"{self.actor}, pid {self.pid}{what}"


@dataclass(frozen=True, slots=True)
class Preempt:
    """A rollback's marker: which action it preempts, who asked, when."""

    victim: str  # the preempted action's id
    by: str  # the rollback's id
    actor: str
    time: float

    def reason(self) -> str:
        """For the preempted action's result."""
        return f"preempted by rollback {self.by} ({self.actor})"


def _read_holder(fd: int) -> tuple[Holder | None, str]:
    raw = os.pread(fd, 4096, 0).decode(errors="replace").strip()
    with contextlib.suppress(ValueError, TypeError):
        return Holder(**json.loads(raw)), raw
    return None, raw


@contextlib.contextmanager
def _flocked(path: Path, holder: Holder, *, keep: bool = False) -> Iterator[int]:
    """Hold an exclusive flock on ``path`` (never waiting), naming ``holder``.

    Raises `Busy` naming the current holder when it is taken. The content is cleared on
    release unless ``keep``. (Callers that wait do so between tries, without blocking
    their event loop: see `tui.ops.executor`.)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o660)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            found, raw = _read_holder(fd)
            raise Busy(found.describe() if found else (raw or "unknown"), found) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(asdict(holder)) + "\n").encode(), 0)
        try:
            yield fd
        finally:
            if not keep:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class MachineLock:
    """The action lock at ``path``, its rollback lock and preempt marker, its journal."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.rollback_path = self.path.with_name(self.path.name + ".rollback")
        self.changes_path = self.path.with_name(self.path.name + ".changes")

    def hold(self, holder: Holder) -> contextlib.AbstractContextManager[int]:
        """The action lock, for one action's run; `Busy` when another holds it."""
        return _flocked(self.path, holder)

    def rollback(self, holder: Holder) -> contextlib.AbstractContextManager[int]:
        """The rollback lock (one rollback at a time); its content stays as the marker."""
        return _flocked(self.rollback_path, holder, keep=True)

    @staticmethod
    def mark(fd: int, preempt: Preempt) -> None:
        """Write the preempt marker into the held rollback lock (``fd``)."""
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(asdict(preempt)) + "\n").encode(), 0)

    def preempted(self, action_id: str) -> Preempt | None:
        """The marker when it names ``action_id``; else None. Cheap: one small read."""
        try:
            raw = self.rollback_path.read_bytes()
        except OSError:
            return None
        if action_id.encode() not in raw:
            return None
        with contextlib.suppress(ValueError, TypeError):
            found = Preempt(**json.loads(raw))
            if found.victim == action_id:
                return found
        return None

    def changes(self) -> int:
        """The change count: the journal's size (0 when there is none yet)."""
        try:
            return self.changes_path.stat().st_size
        except OSError:
            return 0

    def changed_since(self, count: int) -> list[str]:
        """The journal's lines written after the change count was ``count``."""
        try:
            with self.changes_path.open("rb") as handle:
                handle.seek(count)
                return handle.read().decode(errors="replace").splitlines()
        except OSError:
            return []

    def record_change(self, action_id: str, kind: str, target: str) -> None:
        """Append one line to the journal (O_APPEND: safe from any number of writers)."""
        line = " ".join(f"{action_id} {kind} {target}".split()) + "\n"
        self.changes_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.changes_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o660)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
