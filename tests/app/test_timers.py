"""A timer due in the past fires at once and never freezes the dashboard (Textual 8.2.8's
one-shot timer looped forever on a negative delay, as a toast gets when it is mounted
just after its notification expired)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

APP = textwrap.dedent(
    """
    import tui.app  # the dashboard's guard comes with it
    from textual.app import App

    class Late(App):
        def on_mount(self):
            self.set_timer(-0.0001, lambda: self.exit("fired"))

    print(Late().run(headless=True))
    """
)


def test_a_timer_due_in_the_past_fires_instead_of_spinning_forever() -> None:
    done = subprocess.run(
        [sys.executable, "-c", APP], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("fired")
