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
        tmux(
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            str(width),
            "-y",
            str(height),
            f"{env} {command}",
        )
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children so far (from /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total
