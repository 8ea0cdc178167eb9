"""``python -m tests.e2e.sighup_blocked ARGS``: ``inferdeck ARGS`` with SIGHUP blocked, so
that a hang-up never reaches it and it learns of its terminal's end only from its writes
failing (the signal mask is kept across exec; Python does not unblock it)."""

import os
import signal
import sys

if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    os.execv(sys.executable, [sys.executable, "-m", "tui.commands", *sys.argv[1:]])
