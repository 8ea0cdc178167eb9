"""The footer at 120 columns shows the keys an operator needs: the screen's own keys (filter,
sort), help, quit and every other screen; narrower, it drops the least needed keys whole,
never cutting one mid-word; a key the footer leaves out is still in the help."""

from __future__ import annotations

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tests.app.conftest import AppFactory
from tests.app.outside import screen_text
from tui.screens.filtering import FilteredScreen
from tui.screens.help import HelpScreen

SCREENS = {"1": "Overview", "2": "GPUs", "3": "Backends", "4": "Alerts", "5": "Traffic",
           "6": "Runbooks", "i": "Incidents", "7": "SLOs", "8": "Capacity",
           "9": "Models"}  # fmt: skip
KEYS = ("1", "2", "3", "4", "c", "5", "6", "i", "7", "8", "9")


def footer_line(text: str) -> str:
    return " ".join(text.splitlines()[-1].split())


EVERY_SCREEN_AT_120 = ("1", "2", "3", "4", "5", "i", "7", "8", "9")
"""Screens whose own keys leave room for every other screen's key at 120 columns (on
Containers and Runbooks their own keys come first, and the last screens' keys go)."""


@pytest.mark.parametrize("key", KEYS)
async def test_at_120_columns_the_footer_shows_this_screens_keys_first_then_the_others(
    make_app: AppFactory, key: str
) -> None:
    app, _ = make_app(seconds=10)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        footer = footer_line(screen_text(app))
        wanted = ["? Keys", "q Quit"]
        if isinstance(app.screen, FilteredScreen):
            wanted += ["/ Filter", "o Sort"]
        assert [w for w in wanted if w not in footer] == [], footer
        others = [f"{k} {name}" for k, name in SCREENS.items() if k != key]
        shown = [o for o in others if o in footer]
        assert shown == others[: len(shown)], footer  # any left out are the last ones
        if key in EVERY_SCREEN_AT_120:
            assert shown == others, footer
        else:
            assert len(shown) >= 6, footer


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
async def test_the_footer_drops_keys_whole_and_the_help_keeps_them(
    make_app: AppFactory, size: tuple[int, int]
) -> None:
    app, _ = make_app(seconds=10)
    async with app.run_test(size=size) as pilot:
        for key in ("1", "4", "i"):
            await pilot.press(key)
            await pilot.pause()
            footer = app.screen.query_one(Footer)
            shown = list(footer.query(FooterKey))
            assert shown, key
            cut = [k.description for k in shown if k.region.right > footer.region.right
                   or k.region.width < len(k.key_display) + len(k.description) + 1]  # fmt: skip
            assert cut == [], (key, cut)
            in_footer = {k.description for k in shown}
            everything = {
                b.binding.description
                for b in app.screen.active_bindings.values()
                if b.binding.show and b.enabled and b.binding.description
            }
            left_out = everything - in_footer
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            helped = {line.does for line in [*app.screen.local, *app.screen.everywhere]}
            assert left_out <= helped, left_out - helped
            await pilot.press("escape")
            await pilot.pause()
