"""Every shipped theme is readable: WCAG AA contrast, and levels that survive 16 colours.

The pairs below are the ones the widgets draw (read from their DEFAULT_CSS): figures,
labels and pool names on the screen's background (panels are transparent), the same on a
table's rows (plain, zebra, focused), the header's text on ``$panel`` and its badges.
Colours are resolved the way the running app resolves them, through
`App.get_css_variables`. `tests/app/test_theme_contrast.py` checks what is really drawn.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.color import Color as RichColor
from rich.color import ColorSystem
from textual.color import Color, ColorParseError

from themes import HUELESS_THEMES, THEMES
from tui.app import InferdeckApp

AA_TEXT = 4.5
"""WCAG 2.x level AA for normal-size text."""

FIGURES = ("foreground", "muted", "slo-ok", "slo-warn", "slo-breach")
"""What a panel or table writes values and labels in."""
POOLS = ("pool-blue", "pool-green", "pool-other")
"""Pool names, written in their pool's colour."""
HEADER_TEXT = ("foreground", "muted", "primary", "slo-warn")
"""The header's line: plain text, labels, the brand, the reasons."""
BADGES = ("slo-ok", "slo-warn", "slo-breach", "accent")
"""Backgrounds of the header's badges (state and PAUSED), written in ``$background``."""

ANSI_NAMES = (
    *("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"),
    *("bright_black", "bright_red", "bright_green", "bright_yellow", "bright_blue"),
    *("bright_magenta", "bright_cyan", "bright_white"),
)
"""Names of the 16 standard colours, by number."""


def relative_luminance(color: Color) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (alpha ignored)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(a: Color, b: Color) -> float:
    """WCAG contrast ratio of two colours, 1.0 to 21.0."""
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def resolved(theme_name: str) -> dict[str, Color]:
    """The theme's variables as the app resolves them, parsed where they are colours."""
    app = InferdeckApp(hub=None)  # type: ignore[arg-type]  # never run: only its CSS variables
    app.theme = theme_name
    colors: dict[str, Color] = {}
    for name, value in app.get_css_variables().items():
        try:
            colors[name] = Color.parse(value)
        except ColorParseError:  # "auto 87%", "bold", sizes: not a plain colour
            continue
    return colors


def table_rows(v: dict[str, Color], dark: bool) -> dict[str, Color]:
    """A DataTable's row backgrounds: plain, zebra, and both when focused (Textual's CSS)."""
    surface = v["surface"]
    zebra = surface + (
        v["surface-darken-1"].with_alpha(0.4) if dark else v["surface-lighten-1"].with_alpha(0.5)
    )
    tint = v["foreground"].with_alpha(0.05)
    return {
        "row": surface,
        "zebra row": zebra,
        "focused row": surface.tint(tint),
        "focused zebra row": zebra.tint(tint),
    }


def pairs(theme_name: str) -> list[tuple[str, str, float]]:
    """(text, background, ratio) for every pair the widgets draw in this theme."""
    theme = next(t for t in THEMES if t.name == theme_name)
    v = resolved(theme_name)
    out: list[tuple[str, str, float]] = []
    for fg in (*FIGURES, *POOLS):
        out.append((fg, "background", contrast(v[fg], v["background"])))
        for row, bg in table_rows(v, theme.dark).items():
            out.append((fg, row, contrast(v[fg], bg)))
    for fg in HEADER_TEXT:
        out.append((fg, "panel", contrast(v[fg], v["panel"])))
    for badge in BADGES:
        out.append(("background", badge, contrast(v["background"], v[badge])))
    return out


@pytest.mark.parametrize("theme", [t.name for t in THEMES])
def test_every_text_pair_meets_wcag_aa(theme: str) -> None:
    failing = [(fg, bg, round(r, 2)) for fg, bg, r in pairs(theme) if r < AA_TEXT]
    assert failing == [], f"{theme}: pairs below {AA_TEXT}:1"


def test_contrast_formula_matches_wcag_examples() -> None:
    assert contrast(Color(0, 0, 0), Color(255, 255, 255)) == pytest.approx(21.0)
    assert contrast(Color(119, 119, 119), Color(255, 255, 255)) == pytest.approx(4.48, abs=0.01)


def ansi16(value: Color) -> str:
    """The standard colour a 16-colour terminal shows for this one (as Rich downgrades)."""
    rich = RichColor.parse(value.hex).downgrade(ColorSystem.STANDARD)
    assert rich.number is not None
    return ANSI_NAMES[rich.number]


HUED = [t.name for t in THEMES if t.name not in HUELESS_THEMES]
"""Themes whose levels differ by hue (the monochrome one differs by symbol and weight)."""

OK_IN_16 = {"inferdeck-colorblind": ("green", "cyan")}
"""Okabe-Ito's bluish green lands on cyan: still far from red for every eye."""


@pytest.mark.parametrize("theme", HUED)
def test_levels_stay_distinct_in_16_colours(theme: str) -> None:
    v = resolved(theme)
    ok, warn, breach = (ansi16(v[name]) for name in ("slo-ok", "slo-warn", "slo-breach"))
    assert len({ok, warn, breach}) == 3, (ok, warn, breach)
    assert ok.removeprefix("bright_") in OK_IN_16.get(theme, ("green",)), ok
    assert warn.removeprefix("bright_") == "yellow", warn
    assert breach.removeprefix("bright_") == "red", breach


@pytest.mark.parametrize("theme", [t.name for t in THEMES])
def test_semantic_variables_are_literal_colours(theme: str) -> None:
    """A Python-supplied ``$success`` or ``auto`` is not resolved by Textual: draw literals."""
    defined = next(t for t in THEMES if t.name == theme).variables
    for name, value in defined.items():
        Color.parse(value)  # raises on anything but a colour
        assert not value.startswith(("$", "auto")), name


OKABE_ITO = {"slo-ok": "#009E73", "slo-warn": "#F0E442", "slo-breach": "#D55E00"}
"""Okabe & Ito's bluish green, yellow and vermillion: the colour-blind theme's levels."""


@pytest.mark.parametrize("name", OKABE_ITO)
def test_colour_blind_theme_uses_okabe_ito_status_colours(name: str) -> None:
    """Lightened for contrast on black, but the hue is Okabe-Ito's (within 10 degrees)."""
    shown = resolved("inferdeck-colorblind")[name].hsl.h * 360
    wanted = Color.parse(OKABE_ITO[name]).hsl.h * 360
    assert abs((shown - wanted + 180) % 360 - 180) <= 10, (name, shown, wanted)


def test_monochrome_theme_has_no_hue() -> None:
    for name, value in resolved("inferdeck-mono").items():
        if name.startswith(("slo-", "pool-", "muted", "foreground", "background", "stale")):
            assert value.r == value.g == value.b, (name, value.hex)


HEX_COLOUR = re.compile(r"(?<![\w&])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
"""A colour literal: #rgb, #rrggbb, #rrggbbaa (not ``#1177`` nor ``&#123``)."""
COLOUR_FUNCTION = re.compile(r"\b(?:rgba?|hsla?)\(\s*\d")
"""rgb(1, 2, 3), hsl(...): colours by number."""


def test_no_colour_literal_outside_themes() -> None:
    """Widgets and screens colour by meaning ($slo-breach); only themes/ says what it looks like."""
    root = Path(__file__).resolve().parents[2]
    found = []
    for package in ("tui", "widgets"):
        for path in sorted((root / package).rglob("*")):
            if path.suffix not in (".py", ".tcss", ".css"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if HEX_COLOUR.search(line) or COLOUR_FUNCTION.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert found == []


def test_the_colour_literal_check_finds_colours() -> None:
    assert HEX_COLOUR.search("color: #FF6B81;") and HEX_COLOUR.search('Style(color="#abc")')
    assert COLOUR_FUNCTION.search("background: rgb(10, 20, 30);")
    assert not HEX_COLOUR.search("prometheus_client issue #1177") and not HEX_COLOUR.search(
        "&#123;"
    )
