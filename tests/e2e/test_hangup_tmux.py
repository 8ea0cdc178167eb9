"""The terminal goes away under the dashboard (an on-call engineer's SSH connection drops,
tmux is killed): inferdeck must exit by itself, and with it its polling of the fleet, and
leave the flight recording it made readable.

The terminal is closed while the dashboard draws (screens switching): a frame or two
more or less decided whether Textual's shutdown hung, so each test closes it a few times.
"""

from __future__ import annotations

import sys
import time

from tests import leaks
from tests.e2e.conftest import Terminals
from tests.e2e.test_demo_tmux import Terminal
from tests.integration.real_servers import free_port_block
from tui.recording.reader import open_recording

ROUNDS = 3
EXIT_BOUND_S = 15.0
"""A correctness bound, not a speed one: an app that hangs never exits."""
SWITCHES = ("2", "1") * 15
"""Screen switches typed just before the terminal closes: the app still draws them then."""


def _demo(terminals: Terminals, runner: str = "tui.commands") -> Terminal:
    """`inferdeck demo` (run by module ``runner``) in a terminal, showing its overview."""
    base = free_port_block()
    command = [sys.executable, "-m", runner, "demo", "--port-base", str(base)]
    term = terminals(Terminal(command))
    term.wait_for(lambda s: "blue-0" in s and " up " in s, timeout=40, what="the overview")
    return term


def _exits(pid: int, within: float) -> bool:
    """Whether process (group) ``pid`` stops running within ``within`` seconds."""
    deadline = time.monotonic() + within
    while leaks.group_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _recorded(term: Terminal) -> tuple[int, float]:
    """Frames in the recording the app made, and the time of its last one."""
    recording = open_recording(term.home / "state" / "inferdeck" / "recordings")
    try:
        last = recording.snapshot(len(recording) - 1)  # decodes: the last frame is whole
        return len(recording), last.taken_at
    finally:
        recording.close()


def test_dashboard_exits_when_its_terminal_closes(
    terminals: Terminals,
) -> None:
    for round_ in range(1, ROUNDS + 1):
        term = _demo(terminals)
        pid = term.pane_pid
        assert pid is not None
        term.press(*SWITCHES)
        closed_at = time.time()
        term.hang_up()
        assert _exits(pid, EXIT_BOUND_S), (
            f"round {round_}: inferdeck (pid {pid}) still runs {EXIT_BOUND_S:.0f}s after its "
            "terminal closed"
        )
        frames, last_at = _recorded(term)
        assert frames >= 2, f"round {round_}: {frames} frame(s) recorded"
        # recorded up to the hang-up (the demo refreshes every second), and closed whole
        assert last_at > closed_at - 5, f"round {round_}: the last frame is from before"


def test_dashboard_exits_when_no_hangup_reaches_it(
    terminals: Terminals,
) -> None:
    """A hang-up the app never receives (SIGHUP blocked): it learns of its terminal's end
    from the writes that fail, and exits all the same."""
    term = _demo(terminals, runner="tests.e2e.sighup_blocked")
    pid = term.pane_pid
    assert pid is not None
    term.hang_up()
    assert _exits(pid, EXIT_BOUND_S), (
        f"inferdeck (pid {pid}) still runs {EXIT_BOUND_S:.0f}s after its terminal closed"
    )
