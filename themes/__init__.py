"""inferdeck's themes: Textual `Theme` objects plus the app's own semantic variables.

Widgets colour by meaning (``$slo-ok``, ``$slo-warn``, ``$slo-breach``, ``$pool-blue``,
``$pool-green``, ``$stale``), never by hex value; each theme says what the meanings look
like. Values here are literal colours: a ``"$success"`` inside a Python-supplied variable
is not resolved by Textual.
"""

from __future__ import annotations

from textual.theme import Theme

SEMANTIC_DEFAULTS: dict[str, str] = {
    "slo-ok": "#4EBF71",
    "slo-warn": "#F5A623",
    "slo-breach": "#F0506E",
    "pool-blue": "#4C9AFF",
    "pool-green": "#57D9A3",
    "pool-other": "#B48EAD",
    "stale": "#8A8F98",
    "gauge-empty": "#3A3F4B",
}
"""Fallbacks for the semantic variables, for any theme that does not set them."""

INFERDECK_DARK = Theme(
    name="inferdeck-dark",
    primary="#4C9AFF",
    secondary="#57D9A3",
    accent="#B48EAD",
    warning="#F5A623",
    error="#F0506E",
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
    warning="#A65F00",
    error="#C01C3C",
    success="#1E7B3A",
    foreground="#1C2430",
    background="#F7F8FA",
    surface="#FFFFFF",
    panel="#E6E9EF",
    dark=False,
    variables={
        "slo-ok": "#1E7B3A",
        "slo-warn": "#A65F00",
        "slo-breach": "#C01C3C",
        "pool-blue": "#0B5CAD",
        "pool-green": "#11735A",
        "pool-other": "#7A4E8C",
        "stale": "#6B7280",
        "gauge-empty": "#D5DAE1",
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
    },
)
"""For NOC walls: readable from across a room."""

THEMES: tuple[Theme, ...] = (INFERDECK_DARK, INFERDECK_LIGHT, INFERDECK_HIGH_CONTRAST)
"""Every shipped theme, in the order `t` cycles through them."""
