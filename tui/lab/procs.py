"""Detached child processes, identified by PID and start time, and loopback ports.

The lab's parts outlive the ``lab up`` command, so they are started in their own session
with their output in a log file, and later stopped by PID from another process. A PID is
only signalled while ``/proc/PID/stat`` still shows the start time recorded when it was
started, so a recycled PID belonging to someone else is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
_CHILDREN: list[subprocess.Popen[bytes]] = []


@dataclass(frozen=True)
class Proc:
    """A process the lab started: its PID, its start time (clock ticks since boot), its log."""

    pid: int
    start: int | None
    log: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form for lab.json."""
        return {"pid": self.pid, "start": self.start, "log": self.log}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Proc:
        """The inverse of `as_dict`."""
        start = data.get("start")
        return cls(
            int(data["pid"]), None if start is None else int(start), str(data.get("log", ""))
        )


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) of ``pid`` from /proc, or None when there is no such PID."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError, OSError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` (clock ticks since boot), or None when unknown."""
    stat = _stat(pid)
    return None if stat is None else stat[1]


def alive(proc: Proc) -> bool:
    """Whether ``proc`` still runs (a zombie or a recycled PID counts as gone)."""
    _reap(proc.pid)
    stat = _stat(proc.pid)
    if stat is None:
        return False
    state, started = stat
    if state in ("Z", "X"):
        return False
    return proc.start is None or started == proc.start


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status when it is our own child (so it leaves no zombie)."""
    for child in _CHILDREN:
        if child.pid == pid:
            child.poll()
            return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def spawn(
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Proc:
    """Start ``argv`` in its own session, stdout and stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=None if env is None else dict(env),
            cwd=cwd,
        )
    _CHILDREN.append(child)  # kept so that it is not reported as "still running" when freed
    return Proc(child.pid, start_time(child.pid), str(log_path))


def stop(proc: Proc, timeout_s: float = 5.0, group: bool = True) -> bool:
    """SIGTERM ``proc`` (and its process group), wait, then SIGKILL; True if it ran."""
    if not alive(proc):
        return False
    kill = os.killpg if group and _is_group_leader(proc.pid) else os.kill
    with contextlib.suppress(ProcessLookupError, PermissionError):
        kill(proc.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        kill(proc.pid, signal.SIGTERM)
    if wait_until(lambda: not alive(proc), timeout_s):
        _kill_group_leftovers(proc.pid, group)
        return True
    if alive(proc):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(proc.pid, signal.SIGKILL)
    wait_until(lambda: not alive(proc), timeout_s)
    _kill_group_leftovers(proc.pid, group)
    return True


def _is_group_leader(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except (ProcessLookupError, OSError):
        return False


def _kill_group_leftovers(pgid: int, group: bool) -> None:
    """SIGKILL whatever is left in the process group ``pgid`` (e.g. nginx's workers)."""
    if not group:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(pgid, 0)
        os.killpg(pgid, signal.SIGKILL)


def wait_until(predicate: Callable[[], Any], timeout_s: float, interval_s: float = 0.05) -> Any:
    """Call ``predicate`` until it returns something truthy (returned) or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_s)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    """Whether ``port`` on 127.0.0.1 can be bound right now."""
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def port_open(port: int, timeout_s: float = 0.5) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout_s: float = 1.0) -> bool:
    """Whether ``GET url`` answers 2xx."""
    try:
        return httpx.get(url, timeout=timeout_s).is_success
    except httpx.HTTPError:
        return False


def log_tail(path: str | os.PathLike[str], lines: int = 3) -> str:
    """The last non-empty lines of a log, joined with `` | `` (for one-line errors)."""
    try:
        text = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:] if line.strip())
