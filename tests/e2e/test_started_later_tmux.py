"""In a real terminal (tmux): the incident tracker and the flight recorder start just
after the dashboard's first frame. An incidents database that cannot be opened leaves
the dashboard showing the fleet, with a notice saying why; the recording is made."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Terminals
from tests.e2e.test_demo_tmux import Terminal


def test_an_incidents_database_that_cannot_open_leaves_the_fleet_on_screen(
    tmp_path: Path, terminals: Terminals, fleet: dict[str, Any]
) -> None:
    (tmp_path / "a-file").write_text("not a folder")  # so no database can be made under it
    backends = "".join(
        f"  - {{name: {b['name']}, pool: {b['pool']}, url: '{b['url']}'}}\n"
        for b in fleet["backends"]
    )
    config = tmp_path / "inferdeck.yaml"
    config.write_text(
        f"environment: e2e\nstate_dir: {tmp_path / 'state'}\n"
        f"incidents:\n  db: {tmp_path / 'a-file' / 'incidents.sqlite3'}\n"
        f"backends:\n{backends}"
    )
    term = terminals(Terminal([sys.executable, "-m", "tui.commands", "-c", str(config)]))
    term.wait_for(
        lambda s: "incident tracking not started" in s and "blue-0" in s,
        timeout=30,
        what="the fleet and the notice",
    )
    deadline = time.monotonic() + 5  # the recorder started all the same
    while time.monotonic() < deadline and not list((tmp_path / "state").rglob("*.idrec")):
        time.sleep(0.1)
    assert list((tmp_path / "state").rglob("*.idrec")) != []
    term.wait_for(lambda s: " up " in s, timeout=10, what="backends up")  # still refreshing
