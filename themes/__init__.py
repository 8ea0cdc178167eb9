"""inferdeck's themes: Textual `Theme` objects plus the app's own semantic variables.

Widgets colour by meaning (``$slo-ok``, ``$slo-warn``, ``$slo-breach``, ``$pool-blue``,
``$pool-green``, ``$stale``, ``$muted`` for labels and units), never by hex value; each
theme says what the meanings look like. Values here are literal colours: a ``"$success"``
inside a Python-supplied variable is not resolved by Textual (nor is ``auto``, which a
component style resolves to white).

Every theme must keep two promises, checked by ``tests/unit/test_themes.py``:

- every text colour a widget uses has a WCAG contrast of at least 4.5:1 on every background
  it is drawn on (the screen, a table's plain, striped and focused rows, the header);
- in a 16-colour terminal ``slo-ok``, ``slo-warn`` and ``slo-breach`` still land on green,
  yellow and red (Rich picks the nearest of the 16 standard colours).
"""

from __future__ import annotations

from textual.theme import Theme

SEMANTIC_DEFAULTS: dict[str, str] = {
    "slo-ok": "#4EBF71",
    "slo-warn": "#F5C542",
    "slo-breach": "#FF6B81",
    "pool-blue": "#4C9AFF",
    "pool-green": "#57D9A3",
    "pool-other": "#B48EAD",
    "stale": "#8A8F98",
    "gauge-empty": "#3A3F4B",
    "muted": "#9AA3B0",
}
"""Fallbacks for the semantic variables, for any theme that does not set them."""

INFERDECK_DARK = Theme(
    name="inferdeck-dark",
    primary="#4C9AFF",
    secondary="#57D9A3",
    accent="#B48EAD",
    warning="#F5C542",
    error="#FF6B81",
    success="#4EBF71",
    foreground="#D8DEE9",
    background="#14171C",
    surface="#1B1F26",
    panel="#232833",
    dark=True,
    variables=dict(SEMANTIC_DEFAULTS),
)
"""The default: dark, calm, with saturated state colours."""

INFERDECK_LIGHT = Theme(
    name="inferdeck-light",
    primary="#0B5CAD",
    secondary="#11735A",
    accent="#7A4E8C",
    warning="#8C5000",
    error="#C01C3C",
    success="#0A6E1E",
    foreground="#1C2430",
    background="#F7F8FA",
    surface="#FFFFFF",
    panel="#E6E9EF",
    dark=False,
    variables={
        "slo-ok": "#0A6E1E",
        "slo-warn": "#8C5000",
        "slo-breach": "#C01C3C",
        "pool-blue": "#0B5CAD",
        "pool-green": "#11735A",
        "pool-other": "#7A4E8C",
        "stale": "#6B7280",
        "gauge-empty": "#D5DAE1",
        "muted": "#56606E",
    },
)
"""For bright rooms and printed screenshots."""

INFERDECK_HIGH_CONTRAST = Theme(
    name="inferdeck-high-contrast",
    primary="#00AFFF",
    secondary="#00FF87",
    accent="#FFFF00",
    warning="#FFD700",
    error="#FF3B3B",
    success="#00FF5F",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1C1C1C",
    dark=True,
    variables={
        "slo-ok": "#00FF5F",
        "slo-warn": "#FFD700",
        "slo-breach": "#FF3B3B",
        "pool-blue": "#00AFFF",
        "pool-green": "#00FF87",
        "pool-other": "#FFFF00",
        "stale": "#A8A8A8",
        "gauge-empty": "#303030",
        "muted": "#BDBDBD",
    },
)
"""For NOC walls: readable from across a room."""

INFERDECK_COLORBLIND = Theme(
    name="inferdeck-colorblind",
    primary="#56B4E9",
    secondary="#009E73",
    accent="#CC79A7",
    warning="#E69F00",
    error="#E8601C",
    success="#26B58B",
    foreground="#E8E8E8",
    background="#101216",
    surface="#171A20",
    panel="#20242C",
    dark=True,
    variables={
        # Okabe & Ito's palette, told apart by every common colour-vision deficiency:
        # bluish green, orange and vermillion, lightened just enough for AA on black.
        "slo-ok": "#26B58B",
        "slo-warn": "#F0E442",
        "slo-breach": "#E8601C",
        "pool-blue": "#56B4E9",
        "pool-green": "#26B58B",
        "pool-other": "#CC79A7",
        "stale": "#8A8F98",
        "gauge-empty": "#3A3F4B",
        "muted": "#A3A9B3",
    },
)
"""Colour-blind safe: Okabe-Ito status colours (levels carry a symbol as well)."""

INFERDECK_MONO = Theme(
    name="inferdeck-mono",
    primary="#C8C8C8",
    secondary="#C8C8C8",
    accent="#FFFFFF",
    warning="#E0E0E0",
    error="#FFFFFF",
    success="#BDBDBD",
    foreground="#D0D0D0",
    background="#000000",
    surface="#0A0A0A",
    panel="#1A1A1A",
    dark=True,
    variables={
        # Greys only: levels are told by their symbol and their weight, never by a hue.
        "slo-ok": "#BDBDBD",
        "slo-warn": "#EEEEEE",
        "slo-breach": "#FFFFFF",
        "pool-blue": "#D0D0D0",
        "pool-green": "#D0D0D0",
        "pool-other": "#D0D0D0",
        "stale": "#8C8C8C",
        "gauge-empty": "#3A3A3A",
        "muted": "#A0A0A0",
    },
)
"""Monochrome: for terminals without colour and for ``NO_COLOR`` (which selects it)."""

THEMES: tuple[Theme, ...] = (
    INFERDECK_DARK,
    INFERDECK_LIGHT,
    INFERDECK_HIGH_CONTRAST,
    INFERDECK_COLORBLIND,
    INFERDECK_MONO,
)
"""Every shipped theme, in the order `t` cycles through them."""

DEFAULT_THEME = INFERDECK_DARK.name
"""What the dashboard opens in."""

WALL_THEME = INFERDECK_HIGH_CONTRAST.name
"""What the NOC wall opens in: readable from across a room."""

NO_COLOR_THEME = INFERDECK_MONO.name
"""What ``NO_COLOR`` selects."""

HUELESS_THEMES = frozenset({INFERDECK_MONO.name})
"""Themes whose levels differ by symbol and weight only, not by hue."""
