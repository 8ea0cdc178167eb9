"""`?`: the current screen's keys first, from the live bindings; fits 80x24; esc and ? close."""

from __future__ import annotations

from pathlib import Path

from tests.app.conftest import AppFactory
from tui.app import InferdeckApp
from tui.config import Config
from tui.ops.build import operations_for
from tui.screens.alerts import AlertsScreen
from tui.screens.help import HelpScreen
from tui.screens.overview import OverviewScreen


def with_ops(app: InferdeckApp, tmp_path: Path) -> InferdeckApp:
    """The demo's operations (local acks, audit under ``tmp_path``)."""
    app.ops = operations_for(Config(path=None, environment="demo", state_dir=str(tmp_path)))
    return app


def help_lines(app: InferdeckApp) -> list[str]:
    """The help as the terminal shows it, one string per row."""
    return ["".join(s.text for s in strip) for strip in app.screen._compositor.render_strips()]


async def test_help_lists_this_screens_keys_first_and_fits_80x24(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app = with_ops(make_app(seconds=10)[0], tmp_path)
    app.control_help = "Demo control URL: http://127.0.0.1:18000"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert isinstance(app.screen_stack[-2], AlertsScreen)
        rows = help_lines(app)
        screen = "\n".join(rows)
        # the alert keys come before the global ones, Textual's cursor keys are not listed
        assert screen.index("Acknowledge") < screen.index("Everywhere") < screen.index("Quit")
        assert "Cursor up" not in screen and "Scroll" not in screen
        # every line of the help is on screen at 80x24: nothing below the fold
        box = app.screen.query_one("VerticalScroll")
        assert box.max_scroll_y == 0, box.virtual_size
        assert "Demo control URL: http://127.0.0.1:18000" in screen
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)


async def test_help_does_not_squeeze_the_panels(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        overview = app.screen
        width = overview.query_one("#backends").size.width
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and isinstance(overview, OverviewScreen)
        assert overview.query_one("#backends").size.width == width


async def test_help_shows_remapped_keys(make_app: AppFactory, tmp_path: Path) -> None:
    app = with_ops(make_app(seconds=10)[0], tmp_path)
    app._keymap = {"pause": "space", "ack": "k"}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await pilot.press("question_mark")
        await pilot.pause()
        shown = " ".join("\n".join(help_lines(app)).split())
        assert "k Acknowledge" in shown and "a Acknowledge" not in shown
        assert "space Pause" in shown and "p Pause" not in shown
        await pilot.press("escape")
        # the remapped key works, the old one does not
        await pilot.press("p")
        await pilot.pause()
        assert app.paused is False
        await pilot.press("space")
        await pilot.pause()
        assert app.paused is True
