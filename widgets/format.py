"""Turning figures into short, honest text: units and unknowns.

Outside strings are made safe in `widgets.text` (`safe` is re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

from widgets.text import safe as safe  # re-exported: the figure formatters' callers use it

DASH = "—"
"""Shown where a figure is unknown: never a zero that was not measured."""

SPARK_BARS = "▁▂▃▄▅▆▇█"
"""The eighths `spark` draws a history line with, lowest first."""
_BARS = SPARK_BARS

NOT_EXPOSED = "n/a"
"""Shown (with the engine) where an engine does not expose a figure at all."""


def not_exposed(
    text: str, figure: str, unexposed: Collection[str] | Mapping[str, str], engine: str = ""
) -> str:
    """``text``, or ``n/a (ENGINE)`` when it is unknown because the engine lacks ``figure``.

    ``unexposed`` is a backend's set of figure names (``engine`` then names its engine) or
    a pool's mapping figure → the engines lacking it. A figure that is merely not
    measured yet keeps its dash: only a figure the engine never serves reads "n/a".
    """
    if text != DASH or figure not in unexposed:
        return text
    who = unexposed[figure] if isinstance(unexposed, Mapping) else engine
    return f"{NOT_EXPOSED} ({who})" if who else NOT_EXPOSED


def known(value: float | None) -> bool:
    """True when the figure was measured (not None, not NaN)."""
    return value is not None and not math.isnan(value)


def seconds(value: float | None) -> str:
    """A latency: ``85ms``, ``1.24s``, ``12.5s``, ``3m05s``."""
    if not known(value):
        return DASH
    assert value is not None
    if value < 1:
        return f"{value * 1000:.0f}ms"
    if value < 10:
        return f"{value:.2f}s"
    if value < 120:
        return f"{value:.1f}s"
    minutes, secs = divmod(int(value), 60)
    return f"{minutes}m{secs:02d}s"


def percent(ratio: float | None, digits: int = 0) -> str:
    """A 0..1 ratio as a percentage."""
    if not known(ratio):
        return DASH
    assert ratio is not None
    return f"{ratio * 100:.{digits}f}%"


def number(value: float | None, digits: int = 0) -> str:
    """A count or rate, compact above a thousand: ``950``, ``12.3k``, ``4.1M``."""
    if not known(value):
        return DASH
    assert value is not None
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.{digits}f}"


def age(seconds_old: float | None) -> str:
    """How old data is: ``0.8s``, ``12s``, ``4m``."""
    if not known(seconds_old):
        return DASH
    assert seconds_old is not None
    if seconds_old < 10:
        return f"{max(seconds_old, 0):.1f}s"
    if seconds_old < 120:
        return f"{seconds_old:.0f}s"
    if seconds_old < 2 * 3600:
        return f"{seconds_old / 60:.0f}m"
    if seconds_old < 2 * 86400:
        return f"{seconds_old / 3600:.0f}h"
    return f"{seconds_old / 86400:.0f}d"


def duration_short(seconds_long: float) -> str:
    """A span for an axis: ``45s``, ``5m``, ``2m30s``, ``1h``, ``1h30m``."""
    total = max(round(seconds_long), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def spark(values: Sequence[float], width: int, low: float, high: float) -> str:
    """A one-line history on a fixed scale (``low``..``high``); gaps (NaN) are blanks.

    Textual's Sparkline rescales to the data's own min and max, which makes a flat 40%
    look like a cliff; a utilisation history must keep its scale.
    """
    tail = list(values)[-width:] if width > 0 else []
    span = (high - low) or 1.0
    out = []
    for v in tail:
        if not known(v):
            out.append(" ")
            continue
        level = (min(max(v, low), high) - low) / span
        out.append(_BARS[min(int(level * len(_BARS)), len(_BARS) - 1)])
    return "".join(out).rjust(width)
