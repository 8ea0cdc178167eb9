"""The dashboard's input thread sleeps until something comes: Textual's own woke ten times
a second to see whether it should stop (0.15% of a core at idle, as much as the flight
recorder costs). Keys, a lone Esc and quitting must work as before."""

from __future__ import annotations

import sys
import time
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


def test_the_input_thread_sleeps_while_no_key_comes_and_keys_still_work(
    terminals: Terminals,
) -> None:
    base = free_port_block()
    term = terminals(Terminal([sys.executable, "-m", "tui.commands", "demo",
                               "--port-base", str(base)]))  # fmt: skip
    term.wait_for(lambda s: "blue-0" in s and " up " in s, timeout=40, what="the overview")
    assert term.pane_pid is not None
    task = _input_thread(term.pane_pid)
    before = _wakeups(task)
    time.sleep(IDLE_S)
    woken = _wakeups(task) - before
    assert woken <= 2, f"the input thread woke {woken} times in {IDLE_S}s with no key pressed"

    term.press("?")
    term.wait_for(lambda s: "Keys (esc" in s, timeout=10, what="the Keys screen")
    term.press("Escape")  # a lone Esc: a key only once the parser's wait for more is over
    term.wait_for(lambda s: "Keys (esc" not in s, timeout=10, what="the Keys screen closed")
    pid = term.pane_pid
    term.press("q")  # the input thread is woken to stop: the app exits
    deadline = time.monotonic() + 15  # a correctness bound: an app that hangs never exits
    while leaks.group_running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not leaks.group_running(pid), "q did not stop the dashboard"
