"""Figures to style names: the SLO classification of `tui.analysis.slo`, or "dim" if unknown.

A level is never told by colour alone: `marked` puts its symbol after the figure
(``33.8s✗`` past the limit, ``81%▲`` near it), so it reads the same in monochrome, to a
colour-blind eye, and on a wall across a room.
"""

from __future__ import annotations

from tui.analysis.slo import classify

MARK = {"warn": "▲", "breach": "✗"}
"""The symbol after a figure near (▲) or past (✗) its limit; none when within it."""


def level(value: float | None, limit: float, *, minimum: bool = False) -> str:
    """``ok``, ``warn`` or ``breach`` for a measured figure; ``dim`` for an unknown one."""
    return classify(value, limit, minimum=minimum) or "dim"


def marked(text: str, lvl: str) -> str:
    """``text`` with its level's symbol after it (`MARK`), unchanged when within its limit."""
    return text + MARK.get(lvl, "")
