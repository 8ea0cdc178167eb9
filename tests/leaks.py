"""Processes a test started and left running, found through /proc (Linux).

A process is *ours* when it descends from the pytest process, or when its environment
carries `MARK` with this run's token: the tests set it before they start anything, and
every child inherits it, a daemon that left our process tree (a tmux server, and the
app in its pane) included. A process is told apart from one that had its PID before by
its start time. Zombies are dead already and do not count.

`tests/conftest.py` takes a census before each test and after its teardown; whatever of
ours runs after and did not before is that test's leftover.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

MARK = "INFERDECK_TEST_STARTED_BY"
"""Environment variable: ``TOKEN TEST`` (``TOKEN fixtures`` outside a test's own code)."""

PROC = Path("/proc")


@dataclass(frozen=True)
class Process:
    """A process of ours that still runs."""

    pid: int
    started: int  # clock ticks after boot: tells it from a later process with its PID
    started_by: str  # the test whose environment it carries, "" if none
    command: str

    def describe(self) -> str:
        """``PID COMMAND (started by TEST)``, for a failure message."""
        by = f" (started by {self.started_by})" if self.started_by else ""
        return f"pid {self.pid}: {self.command[:200]}{by}"


def _stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent PID and start time of ``pid``; None if it is gone."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as file:
            text = file.read()
    except OSError:
        return None
    fields = text[text.rindex(b")") + 2 :].split()  # the name may hold spaces and ")"
    return fields[0].decode(), int(fields[1]), int(fields[19])


def _mark(pid: int, token: str) -> str | None:
    """The test named in ``pid``'s `MARK` if it carries ``token``; None otherwise."""
    try:
        environ = (PROC / str(pid) / "environ").read_bytes()
    except OSError:  # another user's process, or gone
        return None
    prefix = f"{MARK}={token} ".encode()
    for entry in environ.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace")
    return None


def _command(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _live() -> dict[int, tuple[int, int]]:
    """Every running process: PID -> (parent PID, start time)."""
    live: dict[int, tuple[int, int]] = {}
    for name in os.listdir(PROC):
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None and stat[0] not in ("Z", "X"):
                live[int(name)] = (stat[1], stat[2])
    return live


_adopted: set[tuple[int, int]] = set()


def adopt(pid: int) -> None:
    """``pid`` (and what it starts) belongs to a fixture that outlives the test that
    started it: an engine the test restarted, which the module's fixture stops. Not
    that test's leftover; the run's end still checks it."""
    stat = _stat(pid)
    if stat is not None:
        _adopted.add((pid, stat[2]))


def not_adopted(processes: Iterable[Process]) -> list[Process]:
    r"""Those of ``processes`` that are not `adopt`\ ed, nor started by one that is."""
    live = _live()
    roots = [pid for pid, started in _adopted if live.get(pid, (0, -1))[1] == started]
    return [
        p
        for p in processes
        if (p.pid, p.started) not in _adopted
        and not any(_descends(p.pid, root, live) for root in roots)
    ]


def running_now() -> set[tuple[int, int]]:
    """(PID, start time) of every running process: cheap, for a census
    before a test; `census` after it looks closer at only what is new."""
    return {(pid, started) for pid, (_, started) in _live().items()}


def census(
    token: str, root: int | None = None, besides: set[tuple[int, int]] | None = None
) -> dict[tuple[int, int], Process]:
    """Every running process of ours, by (PID, start time): descendants of ``root`` (this
    process) and processes carrying ``token`` in `MARK`; ``root`` itself and those in
    ``besides`` (from `running_now`) excluded."""
    root = os.getpid() if root is None else root
    live = _live()
    found: dict[tuple[int, int], Process] = {}
    for pid, (_, started) in live.items():
        if pid == root or (besides is not None and (pid, started) in besides):
            continue
        mark = _mark(pid, token)
        if mark is None and not _descends(pid, root, live):
            continue
        found[(pid, started)] = Process(pid, started, mark or "", _command(pid))
    return found


def _descends(pid: int, root: int, live: dict[int, tuple[int, int]]) -> bool:
    seen = 0
    while pid in live and seen < 4096:
        pid = live[pid][0]
        if pid == root:
            return True
        seen += 1
    return False


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def group_running(pgid: int) -> bool:
    """Whether any process of process group ``pgid`` runs (a zombie does not)."""
    for name in os.listdir(PROC):
        if name.isdigit():
            try:
                with open(f"{PROC}/{name}/stat", "rb") as file:
                    text = file.read()
            except OSError:
                continue
            fields = text[text.rindex(b")") + 2 :].split()
            if fields[0] not in (b"Z", b"X") and int(fields[2]) == pgid:
                return True
    return False


def still_running(processes: Iterable[Process]) -> list[Process]:
    """Those of ``processes`` that run still (same PID and start time, not a zombie),
    with the command each runs now (one seen between its fork and its exec, as
    ``setsid -f sleep 301`` was, is named by what it became)."""
    running = []
    for process in processes:
        stat = _stat(process.pid)
        if stat is not None and stat[0] not in ("Z", "X") and stat[2] == process.started:
            running.append(replace(process, command=_command(process.pid) or process.command))
    return running


def settle(processes: Iterable[Process], grace_s: float) -> list[Process]:
    """Wait up to ``grace_s`` for ``processes`` to exit (a server just told to stop);
    those still running then."""
    left = still_running(processes)
    deadline = time.monotonic() + grace_s
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = still_running(left)
    return left


def kill(processes: Iterable[Process]) -> None:
    """SIGKILL each of ``processes`` by its PID, if it is still the same process."""
    for process in still_running(processes):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(process.pid, signal.SIGKILL)
