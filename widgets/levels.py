"""Figures to style names: the SLO classification of `tui.analysis.slo`, or "dim" if unknown."""

from __future__ import annotations

from tui.analysis.slo import classify


def level(value: float | None, limit: float, *, minimum: bool = False) -> str:
    """``ok``, ``warn`` or ``breach`` for a measured figure; ``dim`` for an unknown one."""
    return classify(value, limit, minimum=minimum) or "dim"
