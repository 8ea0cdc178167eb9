"""The dashboard's input thread sleeps until something comes: Textual's own woke ten times
a second to see whether it should stop (0.15% of a core at idle, as much as the flight
recorder costs). Keys, a lone Esc and quitting must work as before."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests import leaks
from tests.e2e.conftest import Terminals
from tests.e2e.test_demo_tmux import Terminal
from tests.integration.real_servers import free_port_block

IDLE_S = 3.0
"""How long no key is pressed while the input thread's wake-ups are counted."""


def _input_thread(pid: int) -> Path:
    """The /proc folder of process ``pid``'s thread named ``textual-input``."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        if (task / "comm").read_text().strip() == "textual-input":
            return task
    raise AssertionError(f"no thread called textual-input in process {pid}")


def _wakeups(task: Path) -> int:
    """How many times the thread has been given a CPU (schedstat's third figure)."""
    return int((task / "schedstat").read_text().split()[2])


def _demo(terminals: Terminals) -> Terminal:
    """`inferdeck demo` in a terminal, showing its overview."""
    base = free_port_block()
    term = terminals(Terminal([sys.executable, "-m", "tui.commands", "demo",
                               "--port-base", str(base)]))  # fmt: skip
    term.wait_for(lambda s: "blue-0" in s and " up " in s, timeout=40, what="the overview")
    assert term.pane_pid is not None
    return term


def _sleeps(pid: int) -> None:
    """Process ``pid``'s input thread is woken at most twice while no key comes."""
    task = _input_thread(pid)
    before = _wakeups(task)
    time.sleep(IDLE_S)
    woken = _wakeups(task) - before
    assert woken <= 2, f"the input thread woke {woken} times in {IDLE_S}s with no key pressed"


def _state(pid: int) -> str:
    """The process's state letter (``T``: stopped)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    raise AssertionError(f"no state for process {pid}")


def _until(done: Callable[[], bool], what: str) -> None:
    """Wait for ``done``; fail with ``what`` if it never comes."""
    deadline = time.monotonic() + 15  # a correctness bound, not a speed one
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done(), what


def test_the_input_thread_sleeps_while_no_key_comes_and_keys_still_work(
    terminals: Terminals,
) -> None:
    term = _demo(terminals)
    assert term.pane_pid is not None
    _sleeps(term.pane_pid)

    term.press("?")
    term.wait_for(lambda s: "Keys (esc" in s, timeout=10, what="the Keys screen")
    term.press("Escape")  # a lone Esc: a key only once the parser's wait for more is over
    term.wait_for(lambda s: "Keys (esc" not in s, timeout=10, what="the Keys screen closed")
    pid = term.pane_pid
    term.press("q")  # the input thread is woken to stop: the app exits
    _until(lambda: not leaks.group_running(pid), "q did not stop the dashboard")


def test_after_a_suspend_and_resume_keys_still_work_and_the_thread_sleeps(
    terminals: Terminals,
) -> None:
    """Ctrl-Z (SIGTSTP) gives the terminal back and stops the process; SIGCONT (``fg``)
    takes it again. Textual closes the driver on the suspend and starts its input thread
    again on the resume: that thread must still be woken to stop, and still sleep."""
    # under a shell, as from a prompt: the pane's own process (a session leader) is not
    # stopped by SIGTSTP, the old code's or this
    base = free_port_block()
    command = f"{sys.executable} -m tui.commands demo --port-base {base}; sleep 60"
    term = terminals(Terminal(["sh", "-c", f"'{command}'"]))
    term.wait_for(lambda s: "blue-0" in s and " up " in s, timeout=40, what="the overview")
    shell = term.pane_pid
    assert shell is not None
    pid = int(Path(f"/proc/{shell}/task/{shell}/children").read_text().split()[0])
    os.kill(pid, signal.SIGTSTP)
    _until(lambda: _state(pid) == "T", "SIGTSTP did not stop the dashboard")
    os.kill(pid, signal.SIGCONT)
    _until(lambda: _state(pid) != "T", "SIGCONT did not wake the dashboard")
    term.press("?")
    term.wait_for(lambda s: "Keys (esc" in s, timeout=10, what="the Keys screen after resuming")
    term.press("Escape")
    term.wait_for(lambda s: "Keys (esc" not in s, timeout=10, what="the Keys screen closed")
    _sleeps(pid)
    term.press("q")
    _until(lambda: not Path(f"/proc/{pid}").exists(), "q did not stop the dashboard")
