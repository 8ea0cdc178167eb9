"""Helpers for benchmarks that run inferdeck as a person would: in a tmux pane."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INFERDECK = str(Path(sys.executable).with_name("inferdeck"))


def tmux(*args: str) -> str:
    """Run a tmux command and return its output."""
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


class Pane:
    """A detached tmux session running one command at a fixed size."""

    def __init__(self, command: str, width: int = 120, height: int = 40) -> None:
        if shutil.which("tmux") is None:
            raise SystemExit("tmux is not installed (apt-get install tmux)")
        self.name = f"bench-{uuid.uuid4().hex[:8]}"
        env = f"env TERM=xterm-256color COLORTERM=truecolor PYTHONPATH={ROOT}"
        start = ("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height))
        for attempt in range(3):
            try:
                tmux(*start, f"{env} {command}")
                break
            except subprocess.CalledProcessError as exc:
                if attempt == 2:
                    raise SystemExit(f"tmux new-session failed: {exc.stderr.strip()}") from None
                time.sleep(0.5)  # the server of the last pane closed may still be exiting
        self.pid = int(tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip())

    def screen(self) -> str:
        """The pane's text now."""
        return tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, ready: Callable[[str], bool], timeout: float = 20.0) -> float:
        """Seconds until ``ready(screen)`` holds."""
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if ready(self.screen()):
                return time.perf_counter() - start
            time.sleep(0.01)
        raise TimeoutError(f"screen never became ready:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        """Type keys into the pane."""
        tmux("send-keys", "-t", self.name, *keys)

    def pipe_to(self, path: Path) -> None:
        """Copy everything the program writes to the terminal into ``path``."""
        tmux("pipe-pane", "-o", "-t", self.name, f"cat >> {path}")

    def close(self) -> None:
        """Quit the program and the session."""
        try:
            self.keys("q")
            time.sleep(1.0)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (every thread's children, from /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        tasks = Path(f"/proc/{current}/task")
        for task in tasks.iterdir() if tasks.exists() else ():
            children = task / "children"
            if children.exists():
                todo += [int(p) for p in children.read_text().split()]
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MB (VmRSS from /proc)."""
    total = 0
    for p in process_tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def thread_cpu_seconds(pid: int, name: str) -> float:
    """CPU seconds so far of the threads called ``name`` (their OS name, as ``top -H``
    shows it) in a process and its descendants: the scheduler's own count in nanoseconds
    (``/proc/.../schedstat``) where the kernel keeps it, else user + system clock ticks
    (10 ms each: a thread using 0.2% of a core moves 6 ticks in 30 s, too coarse to tell
    0.17% from 0.20%)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in process_tree(pid):
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                if (task / "comm").read_text().strip() != name:
                    continue
                try:
                    total += int((task / "schedstat").read_text().split()[0]) / 1e9
                    continue
                except (FileNotFoundError, IndexError, ValueError):
                    pass
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def main_thread_cpu_seconds(pid: int, name: str | None = None) -> float:
    """User + system CPU seconds so far of the main thread of each process in ``pid``'s
    tree (a shell that ``exec``s the program adds nothing); ``name``: only of the
    processes called that — for a Textual app, its event loop, where all UI work runs."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in process_tree(pid):
        try:
            if name is not None and Path(f"/proc/{p}/comm").read_text().strip() != name:
                continue
            fields = Path(f"/proc/{p}/task/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants so far (from /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = process_tree(pid)
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total
