"""Stopping what a test started, by PID: a process group is told to terminate, and killed
if it has not gone after a grace period. Fixtures call these in their teardown, so a test
that fails or times out stops its processes all the same."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tests import leaks

ROOT = Path(__file__).resolve().parents[1]
STOP_GRACE_S = 10.0


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` runs (zombies, dead already, do not count)."""
    if leaks.PROC.is_dir():
        return leaks.group_running(pgid)
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_group(pgid: int, grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the process group ``pgid``, SIGKILL it if any of it runs after ``grace_s``.

    For processes that are not our children (a tmux pane's): nothing to reap, so this
    waits until the group is empty. No SIGCONT first: the panes' apps are never
    stopped, and Textual's own driver took a SIGCONT for a resume from Ctrl-Z (ours,
    `tui.terminal`, no longer does; SIGKILL ends a stopped process all the same)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + grace_s
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def stop(proc: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """Stop ``proc`` (started with ``start_new_session=True``) and everything in its
    process group: SIGTERM, SIGKILL after ``grace_s``; reaps ``proc``. Idempotent."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGCONT)
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace_s)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # its children, even once it has gone
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace_s)


@contextlib.contextmanager
def running_sim(
    *args: str, env: Mapping[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """``inferdeck sim ARGS`` in a process group of its own, with the fleet it describes
    on its first line; stopped by PID on exit."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "tui.commands", "sim", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        line = sim.stdout.readline()
        if not line:
            raise RuntimeError(f"inferdeck sim {' '.join(args)} exited at start")
        yield sim, json.loads(line)
    finally:
        stop(sim)
        if sim.stdout is not None:
            sim.stdout.close()
