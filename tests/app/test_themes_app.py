"""Themes in the running app: only inferdeck's are offered, ``NO_COLOR`` selects the
monochrome one, and no level on any screen is told by colour alone."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.color import Color
from textual.command import CommandList, CommandPalette

from tests.app.conftest import AppFactory
from themes import NO_COLOR_THEME, THEMES
from tui.app import InferdeckApp
from tui.screenshots import SCENES, build_app

INCIDENT = next(s for s in SCENES if s.name == "overview-incident-120x40")
SCREEN_KEYS = ("1", "2", "3", "4", "c", "5", "6", "7", "8", "9")
"""Overview, GPUs, Backends, Alerts, Containers, Traffic, Runbooks, SLOs, Capacity, Models."""

MARKS = ("▲", "✗", "▽", "✓", "◐", "●", "○")
"""Symbols that say a level without colour (`widgets.levels.MARK`, the SLO report's)."""
WORDS = (
    *("DOWN", "DEGRADED", "WARNING", "NO DATA", "CRIT", "WARN", "UNKNOWN", "ERROR", "STALE"),
    *("OVERDUE", "breach", "at risk", "over", "near", "down", "SEV", "unhealthy", "FIRING"),
    *("exited", "restarting", "dead", "NONE UP", "firing", "open", "left", "scale"),
    *("critical", "warning", "breached"),
)
"""Words that say a level without colour."""


async def test_only_inferdecks_themes_are_offered(make_app: AppFactory) -> None:
    """Textual's own themes restyle only part of the app: the palette must not offer them."""
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert set(app.available_themes) == {t.name for t in THEMES}
        app.action_change_theme()  # the palette's "Theme" command
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        for _ in range(20):
            await pilot.pause(0.05)
            options = palette.query_one(CommandList).options
            if len(options) >= len(THEMES):
                break
        offered = {str(option.prompt) for option in options}
        assert offered == {t.name for t in THEMES}


async def test_no_color_selects_the_monochrome_theme(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app(theme="inferdeck-dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == NO_COLOR_THEME


def _level_colours(app: InferdeckApp) -> set[str]:
    """The hex colours warn and breach figures are drawn in, in the current theme."""
    v = app.theme_variables
    return {Color.parse(v[name]).hex for name in ("slo-warn", "slo-breach")}


def untold_levels(app: InferdeckApp, screen: str) -> list[str]:
    """Every line of a widget that draws text in a warn or breach colour with no symbol or
    word saying the level beside it (in the same colour, on the same line of that widget)."""
    colours = _level_colours(app)
    lines: dict[tuple[int, str], list[str]] = {}
    update = app.screen._compositor.render_full_update(simplify=True)
    for y, line in enumerate(update.strips):
        x = 0
        for strip in line:
            for text, style, control in strip:
                width = len(text)
                x += width
                if control or style is None or not any(c.isalnum() for c in text):
                    continue  # bars, blocks, chart dots, borders
                hexes = {Color.from_rich_color(c).hex for c in (style.color, style.bgcolor) if c}
                if hexes & colours:
                    widget, _ = app.screen.get_widget_at(x - width, y)
                    lines.setdefault((y, f"{type(widget).__name__}#{widget.id}"), []).append(text)
    found = []
    for (y, where), runs in lines.items():
        said = " ".join(runs)
        if not any(m in said for m in MARKS) and not any(w in said for w in WORDS):
            found.append(f"{screen} {where} line {y}: {said.strip()!r}")
    return found


async def test_no_level_is_told_by_colour_alone() -> None:
    """A figure past or near its limit carries a symbol (▲ near, ✗ past) or a word."""
    app = build_app(replace(INCIDENT, theme="inferdeck-dark"))
    async with app.run_test(size=(160, 40)) as pilot:
        found: list[str] = []
        for key in SCREEN_KEYS:
            await pilot.press(key)
            await pilot.pause()
            found += untold_levels(app, type(app.screen).__name__)
    assert found == [], "\n".join(found)
