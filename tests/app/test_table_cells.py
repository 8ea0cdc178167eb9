"""A table cell drawn the quick way looks exactly as Rich draws it through DataTable."""

from __future__ import annotations

import pytest
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from themes import SEMANTIC_DEFAULTS
from widgets.table import PLACE_METAS, SnapshotTable


class Cells(App[None]):
    def __init__(self, cells: list[Text]) -> None:
        super().__init__()
        self.cells = cells

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(SEMANTIC_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield SnapshotTable()

    def on_mount(self) -> None:
        table = self.query_one(SnapshotTable)
        for i in range(len(self.cells)):
            table.add_column(f"c{i}", key=f"c{i}", width=14)
        table.add_row(*self.cells, key="first")
        table.add_row(*reversed(self.cells), key="second")


def looks(lines: list[list[Segment]]) -> list[list[tuple[str, Style | None]]]:
    """What a cell shows: the text and style of each run, however Rich split it."""
    return [[(s.text, s.style) for s in Segment.simplify(line)] for line in lines]


CELLS = [
    Text("850ms", Style(color="green")),
    Text("up", "bold red"),
    Text(""),
    Text("plain"),
    Text("1.2s ▲", Style(color="yellow", bold=True)),
    Text("日本語", Style(italic=True)),  # wide characters
    Text("a b c", spans=[Span(0, 1, "red"), Span(2, 5, Style(bgcolor="blue"))]),
    Text("overlap", "dim", spans=[Span(0, 5, "bold"), Span(3, 7, Style(color="magenta"))]),
    Text("cut at the column's edge", "green"),  # too long: Rich's own way
    Text("right", justify="right"),  # justified: Rich's own way
    Text("two\nlines"),
]


@pytest.mark.parametrize(("cursor", "hover"), [(False, False), (True, False), (False, True)])
async def test_quick_cells_look_as_rich_draws_them(cursor: bool, hover: bool) -> None:
    app = Cells(CELLS)
    async with app.run_test(size=(200, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(SnapshotTable)
        base = table.rich_style + Style(bgcolor="#101010")
        quick = 0
        for row in range(2):
            for column in range(len(CELLS)):
                width = table.ordered_columns[column].get_render_width(table)
                args = (row, column, base, width, cursor, hover)
                ours = table._render_cell(*args)
                table._same_looks.clear()
                theirs = DataTable._render_cell(table, *args)
                assert looks(ours) == looks(theirs), (row, column)
                cell = table.get_cell_at((row, column))  # type: ignore[arg-type]
                quick += table._render_one_line_cell(row, column, cell, *args[2:]) is not None
        assert quick == 2 * 8  # the one-line cells that fit took the quick way


@pytest.mark.parametrize(("cursor_row", "hover_row"), [(0, -1), (1, 0), (-1, 1), (1, 1)])
async def test_a_rows_line_looks_as_datatable_draws_it(cursor_row: int, hover_row: int) -> None:
    # the row cursor's state is worked out once a line: each cell, the blank beyond the
    # last column and the mouse's meta (which row and column a click lands on) as DataTable's
    app = Cells(CELLS[:8])
    async with app.run_test(size=(200, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(SnapshotTable)
        for key in ("first", "second"):
            args = (RowKey(key), 0, table.rich_style, Coordinate(cursor_row, 0),
                    Coordinate(hover_row, 0))  # fmt: skip
            fixed, ours = table._render_line_in_row(*args)
            table._same_looks.clear()
            table._row_render_cache.clear()
            their_fixed, theirs = DataTable._render_line_in_row(table, *args)
            assert fixed == their_fixed == []
            assert looks(ours) == looks(theirs), key


async def test_cell_places_keep_their_mouse_meta_within_a_bound() -> None:
    async with Cells(CELLS[:2]).run_test() as pilot:
        table = pilot.app.query_one(SnapshotTable)
        assert table.place_meta(3, 2) == Style.from_meta({"row": 3, "column": 2})
        beyond = Style.from_meta({"row": 3, "column": 0, "out_of_bounds": True})
        assert table.place_meta(3, -1) == beyond
        for row in range(1000):  # a long table scrolled through
            for column in range(10):
                table.place_meta(row, column)
        assert 0 < len(table._place_metas) <= PLACE_METAS
