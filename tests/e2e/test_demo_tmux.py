"""`inferdeck demo` in a real terminal (tmux), driven as an on-call engineer would.

Faults injected with `inferdeck sim fault` must show on screen within two refreshes, and
`q` must stop everything the demo started.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.real_servers import free_port_block
from tests.processes import stop_group

ROOT = Path(__file__).resolve().parents[2]
REFRESH_S = 1.0
TMUX_CONF = Path(__file__).with_name("tmux.conf")


class Terminal:
    """A detached tmux session at 120x40 running one command; `close` stops the command
    by PID (its pane's process group) and then the tmux server."""

    def __init__(self, command: list[str]) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is not installed: apt-get install tmux")
        self.name = f"e2e-{uuid.uuid4().hex[:8]}"
        # a tmux server of its own: no race with another test's server shutting down,
        # and no server-wide option (set-clipboard) leaks between tests
        self.tmux = ["tmux", "-L", self.name, "-f", str(TMUX_CONF)]
        self.pane_pid: int | None = None
        self.server_pid: int | None = None
        # state and shared folders of its own (a command may name others): no recordings,
        # incidents or audit written into the machine's own, removed on close
        self.home = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        shell = " ".join(command)
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-s", self.name, "-x", "120", "-y", "40",
             f"cd {ROOT} && exec env TERM=xterm-256color TZ=UTC"
             f" XDG_STATE_HOME={self.home / 'state'} INFERDECK_SHARED_DIR={self.home / 'shared'}"
             f" {shell}"],
            check=True,
        )  # fmt: skip
        try:
            # the command is the pane's process (exec), which leads a session and a process
            # group of its own: stopped by that PID, with no shell between to hang up on it
            self.pane_pid = int(self._show("#{pane_pid}"))
            self.server_pid = int(self._show("#{pid}"))
            # A tmux server that already had other clients may size windows its own way.
            subprocess.run(
                [*self.tmux, "resize-window", "-t", self.name, "-x", "120", "-y", "40"],
                check=True,
            )  # fmt: skip
        except BaseException:
            self.close()
            raise

    def _show(self, what: str) -> str:
        return subprocess.run(
            [*self.tmux, "display-message", "-p", "-t", self.name, what],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.name],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip

    def press(self, *keys: str) -> None:
        """Type ``keys`` (tmux key names), one after another."""
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, ready: Callable[[str], bool], timeout: float, what: str) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if ready(self.screen()):
                return time.monotonic() - start
            time.sleep(0.05)
        pytest.fail(f"{what} not shown within {timeout}s; screen:\n{self.screen()}")

    def hang_up(self) -> None:
        """Close the terminal under the command, as an SSH drop does: the tmux server goes,
        and with it the pty, which hangs up on the command (SIGHUP and SIGCONT). The command
        is left to exit by itself; `close` still stops it by PID if it did not."""
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        if self.server_pid is not None:
            stop_group(self.server_pid)
            self.server_pid = None

    def close(self) -> None:
        """Stop the command by PID, then the tmux server; idempotent.

        The command is told to terminate while its terminal is still there, and killed if
        it does not: a test's teardown does not rely on what it may be testing (that the
        app exits on a hang-up is tests/e2e/test_hangup_tmux.py's)."""
        if self.pane_pid is not None:
            stop_group(self.pane_pid)
            self.pane_pid = None
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        if self.server_pid is not None:
            stop_group(self.server_pid)  # a daemon: it leads a process group of its own
            self.server_pid = None
        shutil.rmtree(self.home, ignore_errors=True)


def backend_row(screen: str, name: str) -> str:
    return next((line for line in screen.splitlines() if f"│ {name} " in line), "")


def in_flight(screen: str, name: str) -> int:
    """Running plus waiting requests of a backend, as its table row shows them."""
    match = re.search(rf"│ {name}\s+\w+\s+up\s+(\d+)\s+(\d+)", screen)
    return int(match.group(1)) + int(match.group(2)) if match else -1


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def fault(control: str, backend: str, kind: str, *value: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "tui.commands", "sim", "fault", backend, kind, *value,
         "--control", control],
        check=True, capture_output=True, cwd=ROOT, timeout=20,
    )  # fmt: skip


@pytest.fixture
def demo() -> Iterator[tuple[Terminal, str, int]]:
    base = free_port_block()
    term = Terminal([sys.executable, "-m", "tui.commands", "demo", "--port-base", str(base)])
    try:
        yield term, f"http://127.0.0.1:{base}", base
    finally:
        term.close()


def test_demo_tells_the_truth_within_two_refreshes(demo: tuple[Terminal, str, int]) -> None:
    term, control, base = demo
    names = ("blue-0", "blue-1", "green-0")
    term.wait_for(
        lambda s: " OK " in s and all("up" in backend_row(s, b) for b in names),
        timeout=30, what="a healthy fleet",
    )  # fmt: skip

    # Latency first, on a fleet in its steady state: requests pile up on the slow backend.
    readings: list[int] = []

    def running(screen: str) -> bool:
        readings.append(in_flight(screen, "blue-1"))
        return readings[-1] > 0

    term.wait_for(running, timeout=5, what="blue-1's running and waiting counts")
    before = readings[-1]
    fault(control, "blue-1", "latency", "--value", "4")
    term.wait_for(lambda s: in_flight(s, "blue-1") >= before + 8,
                  timeout=2 * REFRESH_S + 1.5, what="blue-1 piling up requests")  # fmt: skip
    fault(control, "blue-1", "clear")

    fault(control, "blue-0", "crash")
    took = term.wait_for(
        lambda s: "DOWN" in backend_row(s, "blue-0") and "DEGRADED" in s,
        timeout=2 * REFRESH_S + 1.5, what="blue-0 down",
    )  # fmt: skip
    assert "blue-0 down: connection refused" in term.screen()
    print(f"crash shown after {took:.2f}s")

    fault(control, "blue-0", "clear")
    term.wait_for(lambda s: "up" in backend_row(s, "blue-0") and "DOWN" not in s,
                  timeout=2 * REFRESH_S + 3, what="blue-0 back up")  # fmt: skip

    term.press("p")
    term.wait_for(lambda s: "PAUSED" in s, timeout=3, what="the PAUSED badge")
    term.press("p")
    term.press("q")
    ports = (base, base + 1, base + 2, base + 3, base + 100)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_free(p) for p in ports):
        time.sleep(0.1)
    assert [p for p in ports if not _free(p)] == [], "ports still listening after q"
