"""Charts made of text, for documents (the post-incident export): block characters in rows,
a dotted line at a limit (the SLO), the scale on the left.

Pure: values in, lines out. ``None`` is a gap (nothing was measured then).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

BLOCKS = " ▁▂▃▄▅▆▇█"
LIMIT = "┄"


def buckets(
    samples: Sequence[tuple[float, float | None]], start: float, end: float, width: int
) -> list[float | None]:
    """``width`` columns over [start, end]: the worst (largest) value measured in each.

    A column no sample falls in shows the value before it (what was on screen then); None
    where nothing had been measured yet, or the sample there was a gap."""
    width = max(width, 1)
    span = max(end - start, 1e-9)
    out: list[float | None] = [None] * width
    seen = [False] * width
    for at, value in samples:
        if not start <= at <= end:
            continue
        i = min(width - 1, int((at - start) / span * width))
        seen[i] = True
        if value is None or value != value:
            continue
        current = out[i]
        out[i] = value if current is None else max(current, value)
    for i in range(1, width):
        if not seen[i]:
            out[i] = out[i - 1]
    return out


def text_chart(
    values: Sequence[float | None],
    *,
    rows: int = 5,
    limit: float | None = None,
    fmt: Callable[[float], str] = lambda v: f"{v:.3g}",
) -> list[str]:
    """The chart's lines, top row first: a scale from 0 to the largest value (or the
    limit, if higher), each column a bar, the limit as a dotted line where no bar is."""
    known = [v for v in values if v is not None]
    top = max([*known, limit or 0.0, 0.0])
    top = top if top > 0 else 1.0
    eighths = rows * 8
    labels = [fmt(top), fmt(0.0)]
    pad = max(len(s) for s in labels)
    limit_row = None
    if limit is not None:
        limit_row = min(rows - 1, int(limit / top * eighths) // 8)
    lines = []
    for row in range(rows - 1, -1, -1):
        cells = []
        for value in values:
            if value is None:
                cells.append(LIMIT if row == limit_row else " ")
                continue
            filled = max(0, min(8, round(max(value, 0.0) / top * eighths) - row * 8))
            if filled == 0 and row == 0 and value > 0:
                filled = 1  # a small value is not nothing
            cell = BLOCKS[filled]
            cells.append(LIMIT if cell == " " and row == limit_row else cell)
        label = labels[0] if row == rows - 1 else labels[1] if row == 0 else ""
        lines.append(f"{label:>{pad}} ┤{''.join(cells)}")
    return lines
