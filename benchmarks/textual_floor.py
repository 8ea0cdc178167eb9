"""Textual's floor: the least a Textual app can cost that changes as much as the dashboard.

A line-API app with ``--panels`` bordered panels of eight lines each, laid out in a grid,
that once a second rewrites ``--lines`` of their lines (spread over the panels, each line
a new figure) and repaints only those lines: no data collected, no Rich layout, nothing
else drawn. ``idle_breakdown.py`` runs it with as many panels and lines as the idle
dashboard draws each second, beside the dashboard's own figures, so the part of the
dashboard's CPU that any Textual app showing that much change would spend is measured,
not guessed (``reference/performance.md``: 0.60% for 16 of 48 lines in 6 panels).

Run alone: ``python benchmarks/textual_floor.py --panels 9 --lines 27`` (q quits).
"""

from __future__ import annotations

import argparse

from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.containers import Grid
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

LINES_A_PANEL = 8


class Panel(Widget):
    """Eight lines of text drawn straight to strips; a changed line repaints itself only."""

    DEFAULT_CSS = "Panel { border: round $primary; height: 1fr; }"

    def __init__(self) -> None:
        super().__init__()
        self.texts = [f"line {n}: 0" for n in range(LINES_A_PANEL)]
        self._style = Style(color="white")

    def set_line(self, y: int, text: str) -> None:
        """Show ``text`` on line ``y``; repaint that line if it changed."""
        if self.texts[y] != text:
            self.texts[y] = text
            self.refresh(Region(0, y, self.size.width, 1))

    def render_line(self, y: int) -> Strip:
        """Line ``y``, padded to the width."""
        width = self.size.width
        if y >= LINES_A_PANEL:
            return Strip.blank(width)
        return Strip([Segment(self.texts[y][:width].ljust(width), self._style)], width)


class Floor(App[None]):
    """``panels`` panels; every second, ``lines`` of their lines get a new figure."""

    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, panels: int, lines: int) -> None:
        super().__init__()
        self.panels, self.lines, self.tick = panels, min(lines, panels * LINES_A_PANEL), 0

    def compose(self) -> ComposeResult:
        """The panels, three a row."""
        grid = Grid()
        grid.styles.grid_size_columns = 3
        grid.styles.grid_size_rows = (self.panels + 2) // 3
        with grid:
            for _ in range(self.panels):
                yield Panel()

    def on_mount(self) -> None:
        """Change lines once a second."""
        self.set_interval(1.0, self.change)

    def change(self) -> None:
        """Give ``lines`` lines, spread over the panels, a new figure."""
        self.tick += 1
        shown = list(self.query(Panel))
        for n in range(self.lines):
            y = n // self.panels
            shown[n % self.panels].set_line(y, f"line {y}: {(self.tick * (n + 7)) % 9973}")


def main() -> None:
    """Run the floor app."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panels", type=int, default=6)
    parser.add_argument("--lines", type=int, default=16)
    args = parser.parse_args()
    Floor(args.panels, args.lines).run()


if __name__ == "__main__":
    main()
