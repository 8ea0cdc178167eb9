"""A latency history chart drawn with braille dots: p95 as a line, p50 as dots, the SLO dashed.

Cheap by construction (measured by ``benchmarks/chart_cost.py`` against plotext and
Textual's `Sparkline`): the chart is a line-API widget whose rows are rebuilt only when a
new point arrives, and only the rows that changed are repainted. Points are grouped into
fixed buckets (a braille dot column each) counted from the start of the history, so a new
point moves the newest column only; the whole chart shifts once per bucket.

Readable without colour: p95 is a continuous braille line (⣀), p50 a row of dots (·), the
SLO limit a dashed rule (╌); the legend says which is which. The y axis is scaled to the
data (rounded up to 1-2-5 steps); the SLO line is drawn when it lies within
`SLO_RANGE` times the data's top, else the time axis notes ``SLO 2.00s above range``. The
bottom row is the time axis (``-5m … now``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from widgets.format import duration_short, seconds
from widgets.panel import refresh_changed_rows

SLO_RANGE = 3.0
"""The SLO line is drawn when it is at most this many times the data's top."""
LABEL_WIDTH = 6
"""Cells left of the plot for the y axis labels."""
P95_LEGEND, P50_MARK, SLO_MARK = "⣀", "·", "╌"

_DOT_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
"""Braille dot bits by (column in the cell, row in the cell), top to bottom."""


def nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above ``value``."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value * (1 - 1e-9):
            return step * power
    return 10 * power


def bucketed(values: Sequence[float], newest: int, per: int, count: int) -> list[float]:
    """``count`` buckets of ``per`` points, the newest last; a bucket's worst (max) value.

    Buckets are aligned on the absolute index of each point (``newest`` is the index of
    the last value), so a bucket keeps its value until a point falls into it.
    """
    out = [math.nan] * count
    last_bucket = newest // per
    for offset, value in enumerate(reversed(values)):
        slot = count - 1 - (last_bucket - (newest - offset) // per)
        if slot < 0:
            break
        if value == value and not value <= out[slot]:  # value is not NaN, above what is there
            out[slot] = value
    return out


class LatencyChart(Widget):
    """History of one latency measure: p95 (braille line), p50 (dots), the SLO limit.

    | Component class | Used for |
    |---|---|
    | `latency-chart--p95` | the p95 line and its legend |
    | `latency-chart--p50` | the p50 dots and their legend |
    | `latency-chart--slo` | the SLO rule and its note |
    | `latency-chart--dim` | the title, the axes |
    """

    COMPONENT_CLASSES = {
        "latency-chart--p95",
        "latency-chart--p50",
        "latency-chart--slo",
        "latency-chart--dim",
    }
    DEFAULT_CSS = """
    LatencyChart {
        width: 1fr;
        height: 1fr;
        min-height: 6;
        padding-right: 1;
        & > .latency-chart--p95 { color: $pool-blue; }
        & > .latency-chart--p50 { color: $slo-ok; }
        & > .latency-chart--slo { color: $slo-breach; }
        & > .latency-chart--dim { color: $muted; }
    }
    """

    def __init__(self, title: str, *, step_s: float = 1.0, **kwargs: object) -> None:
        """``title``: the measure (``TTFT``); ``step_s``: seconds between history points."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title
        self.step_s = step_s
        self._p50: Sequence[float] = ()
        self._p95: Sequence[float] = ()
        self._limit = math.nan
        self._newest = -1  # absolute index of the newest point
        self._rows: list[Strip] | None = None
        self._drawn_for: tuple[object, ...] = ()

    def show(self, p50: Sequence[float], p95: Sequence[float], limit: float) -> None:
        """New history: redraw if a point arrived (or the limit moved); repaint changed rows."""
        if p95 == self._p95 and p50 == self._p50 and limit == self._limit:
            return
        old = self._p95
        if len(p95) > len(old) and p95[: len(old)] == old:
            self._newest += len(p95) - len(old)
        elif old and len(p95) == len(old) and p95[:-1] == old[1:]:
            self._newest += 1
        else:  # a gap or a new start: count afresh from the data we have
            self._newest = max(self._newest + 1, len(p95) - 1)
        self._p50, self._p95, self._limit = p50, p95, limit
        self._repaint()

    def _repaint(self) -> None:
        old = self._rows
        if old is None or not self.is_mounted or not self.size.width:
            self._rows = None
            self.refresh()
            return
        new = self._rows = self._draw()
        refresh_changed_rows(self, old, new)

    def notify_style_update(self) -> None:
        """A theme change: draw every row afresh."""
        self._rows = None
        self._styles = None
        super().notify_style_update()

    _styles: dict[str, Style] | None = None

    def render_line(self, y: int) -> Strip:
        """One row of the chart (drawn now if the size changed)."""
        if self._rows is None or self._drawn_for != tuple(self.size):
            self._rows = self._draw()
        if y < len(self._rows):
            return self._rows[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"latency-chart--{name}", partial=True)

    def _draw(self) -> list[Strip]:
        """Every row: the legend, the plot with its y labels, the time axis."""
        width, height = self.size
        self._drawn_for = (width, height)
        self._next_memo = {}
        base = self.visual_style.rich_style
        if self._styles is None:  # the component styles over the widget's own, once per theme
            names = ("p95", "p50", "slo", "dim")
            self._styles = {name: base + self._style(name) for name in names}
            self._styles[""] = base
        styles = self._styles
        plot_w, plot_h = max(width - LABEL_WIDTH, 1), max(height - 2, 1)
        dots = 2 * plot_w
        per = max(1, math.ceil(max(len(self._p95), 1) / dots))
        p95 = bucketed(self._p95, self._newest, per, dots)
        p50 = bucketed(self._p50, self._newest, per, dots)
        seen = [v for v in (*p95, *p50) if v == v]
        data_top = max(seen, default=0.0)
        limit = self._limit
        slo_shown = limit == limit and limit > 0 and limit <= SLO_RANGE * max(data_top, 1e-9)
        top = nice_top(max(data_top * 1.1, limit * 1.05 if slo_shown else 0.0, 1e-3))
        rows_px = 4 * plot_h

        def dot_row(value: float) -> int:
            return min(max(round((1 - value / top) * (rows_px - 1)), 0), rows_px - 1)

        bits = [[0] * plot_w for _ in range(plot_h)]
        previous: int | None = None
        for column, value in enumerate(p95):
            if value != value:
                previous = None
                continue
            row = dot_row(value)
            low, high = (row, row) if previous is None else sorted((previous, row))
            for r in range(low, high + 1):
                bits[r // 4][column // 2] |= _DOT_BITS[column % 2][r % 4]
            previous = row
        marks: list[list[tuple[str, str]]] = [[(" ", "")] * plot_w for _ in range(plot_h)]
        if slo_shown:
            slo_row = dot_row(limit) // 4
            marks[slo_row] = [(SLO_MARK, "slo")] * plot_w
        for cell in range(plot_w):
            pair = [v for v in p50[2 * cell : 2 * cell + 2] if v == v]
            if pair:
                marks[dot_row(sum(pair) / len(pair)) // 4][cell] = (P50_MARK, "p50")
        for r in range(plot_h):
            for c in range(plot_w):
                if bits[r][c]:
                    marks[r][c] = (chr(0x2800 + bits[r][c]), "p95")

        rows = [self._legend(width, slo_shown, limit, styles, base)]
        for r in range(plot_h):
            label = ""
            if r == 0:
                label = seconds(top)
            elif r == plot_h - 1:
                label = "0"
            elif slo_shown and r == dot_row(limit) // 4:
                label = "SLO"
            axis = label[: LABEL_WIDTH - 1].rjust(LABEL_WIDTH - 1) + ("┤" if label else "│")
            segments = [Segment(axis, styles["dim"])]
            run, run_style = "", ""
            for char, name in marks[r]:
                if name != run_style and run:
                    segments.append(Segment(run, styles[run_style]))
                    run = ""
                run_style = name
                run += char
            if run:
                segments.append(Segment(run, styles[run_style]))
            rows.append(self._strip(segments, width, base))
        start = f"-{duration_short(per * dots * self.step_s)}"
        note = ""
        if not slo_shown and limit == limit:
            room = plot_w - len(start) - len("now") - 2
            for text in (f"SLO {seconds(limit)} above range", f"SLO {seconds(limit)} ↑"):
                if len(text) <= room:
                    note = text
                    break
        gap = max(plot_w - len(start) - len(note) - len("now"), 0)
        left_gap = gap // 2
        axis_row = [
            Segment(" " * LABEL_WIDTH + start + " " * left_gap, styles["dim"]),
            Segment(note, styles["dim"]),
            Segment(" " * (gap - left_gap) + "now", styles["dim"]),
        ]
        rows.append(self._strip(axis_row, width, base))
        self._memo = self._next_memo
        return rows[:height]

    def _legend(self, width: int, slo_shown: bool, limit: float, styles: dict[str, Style],
                base: Style) -> Strip:  # fmt: skip
        """``TTFT ⣀ p95 · p50 ╌ SLO 2.00s`` (the SLO only when it is drawn)."""
        parts = [
            (self.title + " ", styles["dim"]),
            (P95_LEGEND + " p95 ", styles["p95"]),
            (P50_MARK + " p50 ", styles["p50"]),
        ]
        if slo_shown:
            # the rule's mark in its colour, the words muted: the limit is not a level
            parts.append((SLO_MARK, styles["slo"]))
            parts.append((f" SLO {seconds(limit)}", styles["dim"]))
        return self._strip([Segment(text, style) for text, style in parts], width, base)

    def _strip(self, segments: list[Segment], width: int, base: Style) -> Strip:
        """A row of already styled segments, cut or padded to ``width``; an unchanged row
        keeps its Strip (a Strip is costly to make)."""
        key = (width, base, *segments)
        strip = self._memo.get(key)
        if strip is None:
            strip = Strip(segments).adjust_cell_length(width, base)
        self._next_memo[key] = strip
        return strip

    _memo: dict[tuple[object, ...], Strip] = {}  # replaced, never mutated
    _next_memo: dict[tuple[object, ...], Strip] = {}
