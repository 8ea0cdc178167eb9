"""Writing only the changed cells leaves the terminal showing exactly what Textual would.

Each frame goes two ways into a real terminal emulator (pyte): as Textual writes it (every
cell of the dirty spans) and through `TerminalCells` (changed cells only). After every frame
both screens must hold the same characters with the same colours and attributes, and the
diffed stream must be smaller once the screen is drawn.
"""

from __future__ import annotations

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.geometry import Region
from textual.strip import Strip

from widgets.terminal_cells import TerminalCells

WIDTH, HEIGHT = 24, 6
SPLIT = 10  # two "widgets" side by side: chops at x=0 and x=SPLIT

STYLES = [
    Style(),
    Style(color="#ff0000"),
    Style(color="#00ff00", bgcolor="#202020", bold=True),
    Style(reverse=True),
    Style(color="#0000ff", underline=True),
]
TEXTS = ["a", "b", " ", "7", "█", "⣿", "界", "é"]


def console() -> Console:
    return Console(color_system="truecolor", force_terminal=True, width=WIDTH)


def strip_of(cells: list[tuple[str, int]], width: int) -> Strip:
    """A strip of ``width`` cells from (text, style index) pieces, cut or padded to fit."""
    strip = Strip([Segment(text, STYLES[s]) for text, s in cells])
    return strip.adjust_cell_length(width, STYLES[0])


line_of = st.lists(st.tuples(st.sampled_from(TEXTS), st.integers(0, len(STYLES) - 1)),
                   min_size=1, max_size=WIDTH)  # fmt: skip
frame_of = st.lists(
    st.tuples(
        st.integers(0, HEIGHT - 1),
        st.integers(0, WIDTH - 1),
        st.integers(1, WIDTH),
        line_of,
        line_of,
    ),
    min_size=1,
    max_size=4,
)


def chops_update(changes: list[tuple[int, int, int, list, list]], screen: list) -> ChopsUpdate:
    """A chops update as the compositor makes it: every line's chops, the dirty spans."""
    for y, _, _, left, right in changes:
        screen[y] = (strip_of(left, SPLIT), strip_of(right, WIDTH - SPLIT))
    chops = [{0: screen[y][0], SPLIT: screen[y][1]} for y in range(HEIGHT)]
    ends = [[SPLIT, WIDTH] for _ in range(HEIGHT)]
    spans = sorted({(y, min(x1, x2 - 1), max(x2, x1 + 1)) for y, x1, x2, _, _ in changes})
    return ChopsUpdate(chops, spans, ends)


def snapshot(screen: pyte.Screen) -> list[list[tuple]]:
    return [[tuple(screen.buffer[y][x]) for x in range(WIDTH)] for y in range(HEIGHT)]


@settings(max_examples=150, deadline=None)
@given(st.lists(frame_of, min_size=1, max_size=8))
def test_diffed_frames_show_what_full_frames_show(frames: list) -> None:
    blank = (Strip.blank(SPLIT, STYLES[0]), Strip.blank(WIDTH - SPLIT, STYLES[0]))
    lines = [blank] * HEIGHT
    reference, ours = pyte.Screen(WIDTH, HEIGHT), pyte.Screen(WIDTH, HEIGHT)
    ref_stream, our_stream = pyte.Stream(reference), pyte.Stream(ours)
    cells = TerminalCells()
    full = LayoutUpdate([[Strip.blank(WIDTH, STYLES[0])] for _ in range(HEIGHT)],
                        Region(0, 0, WIDTH, HEIGHT))  # fmt: skip
    ref_stream.feed(full.render_segments(console()))
    our_stream.feed(cells.diffed(full, WIDTH, HEIGHT).render_segments(console()))
    for changes in frames:
        update = chops_update(changes, lines)
        ref_stream.feed(update.render_segments(console()))
        our_stream.feed(cells.diffed(update, WIDTH, HEIGHT).render_segments(console()))
        assert snapshot(ours) == snapshot(reference)


def test_an_unchanged_frame_writes_nothing_and_a_small_change_little() -> None:
    cells = TerminalCells()
    row = [("cpu 42%", 1), ("  ", 0), ("mem 80%", 2)]
    screen = [(strip_of(row, SPLIT), strip_of(row, WIDTH - SPLIT))] * HEIGHT
    first = chops_update([(y, 0, WIDTH, row, row) for y in range(HEIGHT)], screen)
    full = cells.diffed(first, WIDTH, HEIGHT).render_segments(console())
    again = chops_update([(y, 0, WIDTH, row, row) for y in range(HEIGHT)], screen)
    assert cells.diffed(again, WIDTH, HEIGHT).render_segments(console()) == ""
    changed = [("cpu 43%", 1), ("  ", 0), ("mem 80%", 2)]
    one = chops_update([(2, 0, WIDTH, changed, row)], screen)
    textual_writes = one.render_segments(console())
    diff = cells.diffed(one, WIDTH, HEIGHT).render_segments(console())
    assert "3" in diff and len(diff) < len(textual_writes) / 4 < len(full)


def test_a_new_size_rewrites_everything() -> None:
    cells = TerminalCells()
    row = [("x", 1)]
    screen = [(strip_of(row, SPLIT), strip_of(row, WIDTH - SPLIT))] * HEIGHT
    update = chops_update([(0, 0, WIDTH, row, row)], screen)
    first = cells.diffed(update, WIDTH, HEIGHT).render_segments(console())
    assert cells.diffed(update, WIDTH, HEIGHT).render_segments(console()) == ""
    assert cells.diffed(update, WIDTH + 1, HEIGHT).render_segments(console()) == first
