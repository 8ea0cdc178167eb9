"""A signal stops a long-running command however it lands (`tui.commands.common.stopped_by`).

``inferdeck record``, ``incident watch``, ``sim`` and ``loadtest`` wait on a
`threading.Event`. Their SIGTERM handler used to set it from the main thread, which
deadlocks when the signal lands while the main thread holds the Event's lock (inside
``stop.wait()``): ``record`` hung on SIGTERM about one time in ten (CI: a test timed out).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HELD_LOCK = textwrap.dedent(
    """
    import os, signal, threading
    from tui.commands.common import stopped_by

    stop = threading.Event()
    with stopped_by(stop, signal.SIGTERM):
        with stop._cond:  # the lock stop.wait() holds while it checks and sleeps
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000):  # Python runs the signal's handler in here
                pass
        print("stopped" if stop.wait(10) else "not stopped", flush=True)
    """
)


def run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30
    )


def test_a_signal_landing_while_the_main_thread_holds_the_events_lock_still_stops() -> None:
    done = run(HELD_LOCK)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"


def test_the_signals_handlers_are_given_back_afterwards() -> None:
    script = textwrap.dedent(
        """
        import signal, threading
        from tui.commands.common import stopped_by

        before = signal.getsignal(signal.SIGINT), signal.set_wakeup_fd(-1)
        signal.set_wakeup_fd(before[1])
        with stopped_by(threading.Event(), signal.SIGINT, signal.SIGTERM):
            pass
        after = signal.getsignal(signal.SIGINT), signal.set_wakeup_fd(-1)
        print(before == after, signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
        """
    )
    done = run(script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
