"""A panel line drawn straight to segments looks exactly as Rich renders the same `Text`,
whether its spans sit side by side or overlap (a styled cell with spans inside it)."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text

from widgets.lines import bar, grid
from widgets.panel import text_segments

BASE = Style(color="#c0c0c0", bgcolor="#101010")


def looks(segments: list[Segment]) -> list[tuple[str, Style | None]]:
    """Text and style of each run, however it was split into segments."""
    return [(s.text, s.style) for s in Segment.simplify(segments)]


def rich_way(text: Text, console: Console) -> list[Segment]:
    """The line as Rich draws it on a console (what ``render()`` would show)."""
    (line,) = console.render_lines(text, console.options.update_width(200), pad=False)
    return list(Segment.apply_style(line, BASE))


LINES = [
    Text("plain"),
    Text("styled", "bold"),
    Text("a b c", spans=[Span(0, 1, "red"), Span(2, 5, Style(bgcolor="blue"))]),
    Text("overlap", "dim", spans=[Span(0, 5, "bold"), Span(3, 7, Style(color="magenta"))]),
    Text("nested", spans=[Span(0, 6, "green"), Span(1, 3, "underline"), Span(2, 4, "red")]),
    Text("beyond", spans=[Span(4, 20, "italic"), Span(3, 3, "red")]),
    # a gauge row as a panel builds it: a bar is a styled cell with spans inside
    *grid(
        [
            [Text("0", "dim"), bar(0.42, 12, Style(color="green"), Style(color="grey0"))],
            [Text("1", "dim"), bar(0.97, 12, Style(color="red"), Style(color="grey0"))],
        ],
        ("left", "left"),
        20,
    ),
]


def test_lines_look_as_rich_renders_them() -> None:
    console = Console(color_system="truecolor", force_terminal=True, width=80)
    for line in LINES:
        assert looks(text_segments(line, BASE, console)) == looks(rich_way(line, console)), line
