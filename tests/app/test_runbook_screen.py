"""The Runbooks screen as people read it: whole output lines, the last step's output in
view while the next step asks, a readable summary, descriptions as lines (issue 8)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from textual.containers import Vertical
from textual.widgets import DataTable, RichLog, Static

from tests.app.conftest import AppFactory
from tui.config import BackendConfig, Config
from tui.ops.build import operations_for
from tui.screens.confirm import ConfirmScreen

LONG = "curl: (7) Failed to connect to 10.0.0.7 port 8000 after 0 ms: Couldn't connect to server"


def plan_title(screen: ConfirmScreen) -> str:
    """The confirmation's title, or "" while the dialog is still being composed."""
    found = screen.query("#plan-title")
    return str(found.first().render()) if found else ""


def visible_text(log: RichLog) -> list[str]:
    """What the log shows on screen now, line by line (cropped to its width)."""
    return [log.render_line(y).text.rstrip() for y in range(log.size.height)]


def write_book(tmp_path: Path) -> Config:
    books = tmp_path / "runbooks"
    books.mkdir()
    talk = (
        "import sys, time\n"
        f"for part in {LONG[:62]!r}, {LONG[62:]!r} + '\\n':\n"
        "    sys.stdout.write(part); sys.stdout.flush(); time.sleep(0.2)\n"
        "print('last line of step one')\n"
    )
    book = {
        "name": "aaa-talk",
        "title": "Talk",
        "description": "First line of the description.\nSecond line.\n",
        "steps": [
            {"name": "Say it", "run": [sys.executable, "-c", talk]},
            {"name": "Then this", "run": ["echo", "two"]},
            {"name": "Fail", "run": ["false"]},
        ],
    }
    (books / "talk.yaml").write_text(yaml.safe_dump(book, sort_keys=False))
    return Config(path=None, environment="demo", state_dir=str(tmp_path), runbooks_dir=str(books))


async def test_output_stays_whole_and_visible_while_the_next_step_asks(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, _ = make_app(seconds=5)
    app.ops = operations_for(write_book(tmp_path))
    async with app.run_test(size=(110, 36)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        runbooks = app.screen
        about = str(runbooks.query_one("#runbook-about", Static).render())
        assert "First line of the description.\nSecond line." in about and "␊" not in about
        log = runbooks.query_one("#runbook-log", RichLog)

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")  # Apply step 1
        for _ in range(60):
            await pilot.pause(0.1)
            if isinstance(app.screen, ConfirmScreen) and "Then this" in str(plan_title(app.screen)):
                break
        shown = visible_text(log)
        joined = " ".join(" ".join(shown).split())
        assert LONG in joined, shown  # no words lost to a line wider than the log
        assert any("last line of step one" in line for line in shown), shown
        dialog = app.screen.query_one(Vertical)
        assert not dialog.region.overlaps(log.region)  # the dialog leaves the output in view

        await pilot.press("tab", "enter")  # step 2
        for _ in range(60):
            await pilot.pause(0.1)
            if isinstance(app.screen, ConfirmScreen) and "Fail" in str(plan_title(app.screen)):
                break
        await pilot.press("tab", "enter")  # step 3 fails
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = [strip.text.rstrip() for strip in log.lines]
        assert not any("['" in line for line in text), text
        assert "1. Say it: ok" in text and "2. Then this: ok" in text
        assert "3. Fail: failed (exit status 1)" in text
        assert "aaa-talk stopped at step 3 'Fail': exit status 1" in text


async def test_a_runbook_that_targets_a_backend_asks_which(
    make_app: AppFactory, tmp_path: Path
) -> None:
    from tui.screens.runbooks import BackendPicker

    configured = (
        BackendConfig("blue-0", "blue", "http://10.9.0.1:8000"),
        BackendConfig("blue-1", "blue", "http://10.9.0.2:8000/"),
    )
    config = Config(path=None, environment="demo", state_dir=str(tmp_path), backends=configured)
    app, _ = make_app(seconds=5)
    app.ops = operations_for(config)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.hub.poll_once()
        await pilot.pause()
        assert app.latest is not None and len(app.latest.backends) > 1
        await pilot.press("6")
        await pilot.pause()
        runbooks = app.screen
        table = runbooks.query_one("#runbook-list", DataTable)
        table.move_cursor(row=table.get_row_index("high-latency"))
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, BackendPicker)
        await pilot.press("down", "enter")
        await pilot.pause()
        log = runbooks.query_one("#runbook-log", RichLog)
        text = "\n".join(strip.text for strip in log.lines)
        assert "$1=http://10.9.0.2:8000" in text, text  # the configured URL, no trailing /

        table.move_cursor(row=table.get_row_index("llm-down"))
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("enter")  # the first backend: the demo has no containers
        await pilot.pause()
        text = "\n".join(strip.text for strip in log.lines)
        assert "not run: runbook 'llm-down' needs {backend.container}" in text, text
