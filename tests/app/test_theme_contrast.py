"""What the app really draws: every character of text readable, levels marked without colour.

The screens are rendered in an incident (a backend down, another slow) so that ok, warn,
breach and down figures are all on screen; each character's colour and background are
read from the compositor, as the terminal would get them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from rich.style import Style
from textual.color import Color
from textual.filter import monochrome_style

from tests.app.conftest import AppFactory
from tests.unit.test_themes import AA_TEXT, contrast
from themes import THEMES
from tui.app import InferdeckApp
from tui.screenshots import SCENES, build_app
from widgets.header import FleetHeader
from widgets.panel import Panel
from widgets.table import SnapshotTable

INCIDENT = next(s for s in SCENES if s.name == "overview-incident-120x40")
SCREEN_KEYS = ("1", "2", "3", "4", "c", "5", "6", "7", "8", "9")
"""Overview, GPUs, Backends, Alerts, Containers, Traffic, Runbooks, SLOs, Capacity, Models."""


@dataclass(frozen=True)
class Unreadable:
    """Text drawn below AA: where, what, in which colours."""

    screen: str
    widget: str
    text: str
    color: str
    background: str
    ratio: float


def _is_text(char: str) -> bool:
    """Letters, digits, punctuation: not blanks, box drawing, blocks, bars or braille."""
    code = ord(char)
    return not char.isspace() and not 0x2500 <= code <= 0x259F and not 0x2800 <= code <= 0x28FF


def _colors(style: Style) -> tuple[Color, Color] | None:
    """The (text, background) colours a style puts on screen, reverse applied."""
    if style.color is None or style.bgcolor is None:
        return None
    fg = Color.from_rich_color(style.color)
    bg = Color.from_rich_color(style.bgcolor)
    return (bg, fg) if style.reverse else (fg, bg)


def unreadable_text(app: InferdeckApp, screen: str) -> list[Unreadable]:
    """Every run of text on the current screen whose contrast is below AA."""
    found: list[Unreadable] = []
    update = app.screen._compositor.render_full_update(simplify=True)
    for y, line in enumerate(update.strips):
        for strip in line:
            x = 0
            for text, style, control in strip:
                width = len(text)
                if control or style is None or not any(_is_text(c) for c in text):
                    x += width
                    continue
                colors = _colors(style)
                assert colors is not None, f"{screen}: {text!r} drawn without a colour"
                ratio = contrast(*colors)
                if ratio < AA_TEXT:
                    offset = next(i for i, c in enumerate(text) if _is_text(c))
                    widget, _ = app.screen.get_widget_at(x + offset, y)
                    name = f"{type(widget).__name__}#{widget.id}"
                    fg, bg = colors[0].hex, colors[1].hex
                    found.append(Unreadable(screen, name, text.strip(), fg, bg, round(ratio, 2)))
                x += width
    return found


@pytest.mark.parametrize("theme", [t.name for t in THEMES])
async def test_every_drawn_character_meets_wcag_aa(theme: str) -> None:
    app = build_app(replace(INCIDENT, theme=theme))
    async with app.run_test(size=(160, 40)) as pilot:
        found: list[Unreadable] = []
        for key in SCREEN_KEYS:
            await pilot.press(key)
            await pilot.pause()
            found += unreadable_text(app, type(app.screen).__name__)
    assert found == [], "\n".join(map(str, found))


def _level_styles(app: InferdeckApp) -> dict[str, Style]:
    """The Rich styles every kind of widget gives ok, warn and breach figures."""
    panel = app.screen.query(Panel).first()
    table = app.screen.query(SnapshotTable).first()
    header = app.screen.query_one(FleetHeader)
    styles = {f"panel {lvl}": panel.style(lvl) for lvl in ("ok", "warn", "breach")}
    styles |= {f"table {lvl}": table.style(lvl) for lvl in ("ok", "warn", "breach", "down")}
    styles["header reasons"] = header.kept_style("reasons")
    return styles


@pytest.mark.parametrize("theme", [t.name for t in THEMES])
async def test_levels_are_marked_without_colour(
    theme: str, make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under NO_COLOR a breach is reversed, a warning underlined, neither dimmer than text."""
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app(theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.no_color
        variables = app.theme_variables
        background = Color.parse(variables["background"]).monochrome
        normal = contrast(Color.parse(variables["foreground"]).monochrome, background)
        for name, style in _level_styles(app).items():
            assert not style.dim, name
            if name.endswith(("breach", "down")):
                assert style.bold and style.reverse, name
            if name.endswith(("warn", "reasons")):
                assert style.underline, name
            grey = monochrome_style(style).color
            shown = Color.from_rich_color(grey) if grey is not None else None
            ratio = contrast(shown, background) if shown is not None else normal
            assert ratio >= normal - 0.01, f"{name} is dimmer than a normal figure"


@pytest.mark.parametrize("theme", [t.name for t in THEMES])
async def test_levels_are_never_dim_in_colour(theme: str, make_app: AppFactory) -> None:
    """With colour, warnings and breaches are bold as well as coloured, never dim."""
    app, _ = make_app(theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for name, style in _level_styles(app).items():
            assert not style.dim, name
            if name.endswith(("warn", "breach", "down")):
                assert style.bold, name
