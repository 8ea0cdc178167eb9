"""``--no-record`` in a real terminal (tmux): the dashboard shows the fleet and records
nothing; without the flag the same dashboard writes a recording into the state folder."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import Terminals
from tests.e2e.test_demo_tmux import Terminal
from tests.integration.real_servers import free_port_block

ROOT = Path(__file__).resolve().parents[2]


def demo_records(tmp_path: Path, terminals: Terminals, *flags: str) -> list[Path]:
    """Run ``inferdeck demo FLAGS`` until the fleet shows healthy and three refreshes
    more; the recording files it left in its state folder."""
    state = tmp_path / "state"
    term = terminals(Terminal(["env", f"XDG_STATE_HOME={state}",
                               f"INFERDECK_SHARED_DIR={tmp_path / 'no-shared'}",
                               sys.executable, "-m", "tui.commands", "demo",
                               "--port-base", str(free_port_block()), *flags]))  # fmt: skip
    term.wait_for(lambda s: " OK " in s and "blue-0" in s, timeout=30, what="the fleet")
    folder = state / "inferdeck" / "recordings"
    deadline = time.monotonic() + 3  # three refreshes: a recorder would have written
    while time.monotonic() < deadline and not list(folder.glob("*.idrec")):
        time.sleep(0.1)
    term.press("q")
    term.close()  # the app has ended: what it recorded is on disk
    return sorted(state.rglob("*.idrec"))


def test_the_dashboard_records_what_it_shows_unless_told_not_to(
    tmp_path: Path, terminals: Terminals
) -> None:
    assert demo_records(tmp_path / "on", terminals) != []  # the default: recorded
    assert demo_records(tmp_path / "off", terminals, "--no-record") == []


def test_help_lists_no_record() -> None:
    for command in ([], ["demo"]):
        shown = subprocess.run(
            [sys.executable, "-m", "tui.commands", *command, "--help"],
            capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
        ).stdout  # fmt: skip
        assert "--no-record" in shown and "do not record" in shown, command
