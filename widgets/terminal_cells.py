"""Send the terminal only the cells that changed: the bytes an idle dashboard costs over SSH.

Textual rewrites every cell of a dirty region, each segment with a full colour escape and a
reset, although a refresh of a live panel changes a few figures in it (measured: 38 of 40
rows rewritten, ~22 KB, for about 1% of the cells changing; 68% of the bytes colour
escapes). `TerminalCells` remembers what the app last wrote to each cell and turns a
compositor update into the escape sequences for the cells whose character or style differ,
with a colour escape only where the style changes.

A full-screen update (a new layout, another screen, a resize, a resume) is written whole
and replaces what is remembered, so the terminal and this record never drift apart for
longer than the next layout. The compositor's update classes live in Textual's private
``textual._compositor``; Textual is pinned exactly (pyproject.toml), review this module when
bumping it.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import get_character_cell_size
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from textual._compositor import ChopsUpdate, CompositorUpdate, LayoutUpdate
from textual.strip import Strip

UNKNOWN = "\0"
"""A cell whose content is not known (never written, or the screen was cleared)."""

MERGE_GAP = 4
"""Unchanged cells between two changed runs rewritten rather than jumped (a jump costs ~8 bytes)."""

Row = tuple[list[str], list[Style | None]]
"""One line of the screen: a character per cell ("" right of a wide one) and its style."""


def cells_of(strips: Iterable[Strip]) -> Row:
    """The cells that ``strips`` (side by side) draw."""
    chars: list[str] = []
    styles: list[Style | None] = []
    for strip in strips:
        for text, style, control in strip:
            if control or not text:
                continue
            if text.isascii():
                chars.extend(text)
                styles.extend([style] * len(text))
                continue
            for char in text:
                width = get_character_cell_size(char)
                if width == 0:
                    if chars:
                        chars[-1] += char  # a combining mark joins the cell before it
                    continue
                chars.append(char)
                styles.append(style)
                if width == 2:
                    chars.append("")
                    styles.append(style)
    return chars, styles


class TerminalCells:
    """What the terminal shows, cell by cell, as far as this app wrote it."""

    def __init__(self) -> None:
        self._width = 0
        self._height = 0
        self._chars: list[list[str]] = []
        self._styles: list[list[Style | None]] = []
        self._sgr: dict[Style | None, str] = {}

    def forget(self) -> None:
        """Something else drew on the terminal (or cleared it): rewrite every cell next time."""
        self._width = self._height = 0
        self._chars, self._styles = [], []

    def _fit(self, width: int, height: int) -> None:
        if (width, height) != (self._width, self._height):
            self._width, self._height = width, height
            self._chars = [[UNKNOWN] * width for _ in range(height)]
            self._styles = [[None] * width for _ in range(height)]
            self._sgr.clear()  # the colour system may have changed with the terminal

    def diffed(self, update: CompositorUpdate, width: int, height: int) -> CompositorUpdate:
        """``update`` as one that writes only changed cells (chosen when it is written).

        The diff is made when Textual renders the update, not now: Textual drops updates
        made during a batch, and what is remembered must be what was actually written.
        """
        if isinstance(update, ChopsUpdate | LayoutUpdate):
            return _Diffed(self, update, width, height)
        self.forget()
        return update

    # --- building the escape sequences --------------------------------------------------

    def write(self, update: ChopsUpdate | LayoutUpdate, width: int, height: int,
              console: Console) -> str:  # fmt: skip
        """The escape sequences that bring the terminal from what it shows to ``update``."""
        self._fit(width, height)
        color_system = console._color_system or ColorSystem.TRUECOLOR
        if isinstance(update, LayoutUpdate):
            whole = update.region.size == (width, height) and not update.region.offset
            lines: list[tuple[int, int, Row]] = [
                (y, update.region.x, cells_of(strips))
                for y, strips in enumerate(update.strips, update.region.y)
            ]
            if whole:  # a full repaint: write it all, remember it all
                out = update.render_segments(console)
                for y, x, row in lines:
                    self._remember(y, x, row)
                return out
        else:
            lines = list(self._chop_lines(update))
        parts: list[str] = []
        current: list[Style | None] = [None]
        for y, x, row in lines:
            self._line(y, x, row, parts, current, color_system)
        if current[0] is not None:
            parts.append("\x1b[0m")
        return "".join(parts)

    @staticmethod
    def _chop_lines(update: ChopsUpdate) -> Iterable[tuple[int, int, Row]]:
        """(y, x, cells) of what a chops update draws: the chops its spans touch, from each
        chop's start to the span's end (what Textual itself would write)."""
        for y, x1, x2 in update.spans:
            for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items(), strict=False):
                if strip is None or x > x2 or end <= x1:
                    continue
                chars, styles = cells_of((strip,))
                if end > x2:  # cut where the span ends (a Strip.crop would make a new Strip)
                    cut = x2 - x
                    if cut < len(chars) and chars[cut] == "" and cut:
                        chars[cut - 1] = " "  # half a wide character: a space, as crop does
                    del chars[cut:], styles[cut:]
                yield y, x, (chars, styles)

    def _remember(self, y: int, x: int, row: Row) -> None:
        if not 0 <= y < self._height:
            return
        chars, styles = row
        n = max(min(len(chars), self._width - x), 0)
        self._chars[y][x : x + n] = chars[:n]
        self._styles[y][x : x + n] = styles[:n]

    def _line(self, y: int, x: int, row: Row, out: list[str], current: list[Style | None],
              color_system: ColorSystem) -> None:  # fmt: skip
        """Append the sequences for the changed cells of one drawn line."""
        if not 0 <= y < self._height or x >= self._width:
            return
        chars, styles = row
        n = min(len(chars), self._width - x)
        old_chars, old_styles = self._chars[y], self._styles[y]
        if old_chars[x : x + n] == chars[:n] and old_styles[x : x + n] == styles[:n]:
            return
        runs: list[list[int]] = []
        for i in range(n):
            old_style, style = old_styles[x + i], styles[i]
            # most styles are the very same objects (Textual caches them): `is` first, the
            # Python-level Style.__ne__ only when they differ
            if old_chars[x + i] != chars[i] or (old_style is not style and old_style != style):
                if runs and i - runs[-1][1] <= MERGE_GAP:
                    runs[-1][1] = i + 1
                else:
                    runs.append([i, i + 1])
        for start, stop in runs:
            while start > 0 and chars[start] == "":  # the right half of a wide character
                start -= 1
            while stop < n and chars[stop] == "":
                stop += 1
            out.append(f"\x1b[{y + 1};{x + start + 1}H")
            for i in range(start, stop):
                style = styles[i]
                if style is not current[0]:
                    out.append(self._style(style, color_system))
                    current[0] = style
                out.append(chars[i])
        old_chars[x : x + n] = chars[:n]
        old_styles[x : x + n] = styles[:n]

    def _style(self, style: Style | None, color_system: ColorSystem) -> str:
        """The SGR sequence that sets exactly ``style`` (a reset first)."""
        sgr = self._sgr.get(style)
        if sgr is None:
            ansi = Strip.render_ansi(style, color_system) if style is not None else ""
            sgr = self._sgr[style] = f"\x1b[0;{ansi}m" if ansi else "\x1b[0m"
        return sgr


class _Diffed(CompositorUpdate):
    """A compositor update that renders as the difference from what the terminal shows."""

    def __init__(self, cells: TerminalCells, update: ChopsUpdate | LayoutUpdate, width: int,
                 height: int) -> None:  # fmt: skip
        self.cells = cells
        self.update = update
        self.size = (width, height)

    def __rich_console__(self, console, options):
        """As a Rich renderable (Textual does not use it for the terminal): the update's own."""
        yield from self.update.__rich_console__(console, options)

    def render_segments(self, console: Console) -> str:
        """The escape sequences for the changed cells only."""
        return self.cells.write(self.update, *self.size, console)
