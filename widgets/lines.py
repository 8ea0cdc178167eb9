"""Cheap line layout for live panels: columns of `Text` cells and bars, no Rich table.

A Rich ``Table`` measures and lays out every cell each time it is rendered (about a
millisecond per panel); a live panel redrawn every second needs only fixed columns padded
to their widest cell. `grid` does that, one `Text` per row, which `ChangedLines` turns into
strips directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text

_EIGHTHS = " ▏▎▍▌▋▊▉"
"""Partial block characters, by eighths of a cell."""

GAP = 1
"""Cells between two columns."""


def grid(
    rows: Sequence[Sequence[Text]],
    justify: Sequence[str],
    width: int,
    *,
    stretch: int | None = None,
    expand: bool = False,
    min_widths: Sequence[int] = (),
) -> list[Text]:
    """Lay ``rows`` out in columns, one `Text` per row, at most ``width`` cells wide.

    ``justify``: ``left`` or ``right`` per column. ``stretch``: the column that takes the
    room left over (a bar); with ``expand`` and no such column the room is shared out
    between the columns (as a Rich grid with ``expand=True`` does).
    """
    count = len(justify)
    widths = [
        max([cell.cell_len for cell in column], default=0) for column in zip(*rows, strict=False)
    ]
    widths += [0] * (count - len(widths))
    for i, least in enumerate(min_widths):
        widths[i] = max(widths[i], least)
    room = width - sum(widths) - GAP * (count - 1)
    if room > 0 and stretch is not None:
        widths[stretch] += room
    elif room > 0 and expand and count:
        share, extra = divmod(room, count)
        widths = [w + share + (1 if i < extra else 0) for i, w in enumerate(widths)]
    lines = []
    for row in rows:
        line = Text(no_wrap=True, overflow="ellipsis")
        for i, (cell, size, side) in enumerate(zip(row, widths, justify, strict=False)):
            if i:
                line.append(" " * GAP)
            pad = max(size - cell.cell_len, 0)
            if side == "right":
                line.append(" " * pad)
            line.append_text(cell if cell.cell_len <= size else _cut(cell, size))
            if side != "right":
                line.append(" " * pad)
        if line.cell_len > width:
            line.truncate(width, overflow="ellipsis")
        lines.append(line)
    return lines


def _cut(cell: Text, size: int) -> Text:
    cut = cell.copy()
    cut.truncate(size, overflow="ellipsis")
    return cut


def bar(fraction: float, width: int, fill: Style, empty: Style) -> Text:
    """A bar ``width`` cells wide, filled to ``fraction`` in eighths of a cell.

    ``fill`` colours the filled part (its foreground), ``empty`` the rest (its background).
    """
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    style = Style(color=fill.color, bgcolor=empty.bgcolor)
    text = Text("█" * full, style)
    rest = width - full
    if rest > 0:
        text.append(_EIGHTHS[part] if part else " ", style)
        text.append(" " * (rest - 1), style)
    return text
