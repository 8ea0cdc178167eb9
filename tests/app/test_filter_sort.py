"""`/` filters the current table as you type (esc clears); `o`/`O` and a header click sort."""

from __future__ import annotations

import pytest
from rich.text import Text

from tests.app.conftest import AppFactory
from tui.screens.filtering import FilteredScreen
from tui.screens.tables import TableScreen
from tui.screenshots import SCENES, build_app, settle
from widgets.backends import BackendsTable
from widgets.incidents import IncidentTable, TimelineTable
from widgets.table import SnapshotTable, sort_value


def first_column(table: SnapshotTable) -> list[str]:
    return [row.key.value or "" for row in table.ordered_rows]


@pytest.mark.parametrize(("key", "query", "kept"), [
    ("3", "green", {"green-0"}),
    ("3", "BLUE -1", {"blue-1"}),
    ("2", "sim/3", {"inferdeck-sim/3"}),
])  # fmt: skip
async def test_slash_filters_as_you_type_and_escape_clears(
    make_app: AppFactory, key: str, query: str, kept: set[str]
) -> None:
    app, _ = make_app(seconds=10)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TableScreen)
        table = screen.table
        everything = set(first_column(table))
        assert kept < everything
        await pilot.press("slash", *query)
        await pilot.pause()
        assert set(first_column(table)) == kept
        assert "filter" in str(table.border_subtitle)
        await pilot.press("enter")  # keeps the filter, back in the table
        await pilot.pause()
        assert set(first_column(table)) == kept and table.has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert set(first_column(table)) == everything
        # esc straight from the filter line clears it too
        await pilot.press("slash", *query, "escape")
        await pilot.pause()
        assert set(first_column(table)) == everything and table.has_focus


async def test_o_sorts_by_each_column_in_turn_and_capital_o_flips(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=10)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, FilteredScreen)
        table = app.screen.table
        await pilot.press("o")  # by Backend
        await pilot.pause()
        assert table.sort_by == "backend"
        assert first_column(table) == sorted(first_column(table))
        await pilot.press("O")
        await pilot.pause()
        assert first_column(table) == sorted(first_column(table), reverse=True)
        assert "▼" in str(table.border_subtitle)
        # sorted by a figure, the order follows each new snapshot
        while table.sort_by != "running":
            await pilot.press("o")
        index = [k.value for k in table.columns].index("running")
        for _ in range(5):
            await app.hub.poll_once()
            await pilot.pause()
            values = [sort_value(table.get_row(k)[index]) for k in first_column(table)]
            assert values == sorted(values, reverse=True), values


async def test_clicking_a_header_sorts_by_it(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=10)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, FilteredScreen)
        table = app.screen.table
        await pilot.click(table, offset=(30, 1))  # the Util header
        await pilot.pause()
        column = table.sort_by
        assert column is not None
        index = [k.value for k in table.columns].index(column)
        values = [sort_value(table.get_row(k)[index]) for k in first_column(table)]
        assert values == sorted(values)
        await pilot.click(table, offset=(30, 1))
        await pilot.pause()
        values = [sort_value(table.get_row(k)[index]) for k in first_column(table)]
        assert values == sorted(values, reverse=True) and table.sort_reverse


def test_figures_sort_by_value_with_units() -> None:
    cells = ["1.2 s", "850 ms", "—", "3.1k", "45ms", "idle"]
    ordered = sorted(cells, key=lambda c: sort_value(Text(c)))
    assert ordered == ["45ms", "850 ms", "1.2 s", "3.1k", "idle", "—"]


async def test_the_overviews_backends_filter_and_sort_like_the_backends_screen(
    make_app: AppFactory,
) -> None:
    app, _ = make_app(seconds=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(BackendsTable)
        everything = set(first_column(table))
        assert {"blue-0", "green-0"} <= everything
        await pilot.press("slash", *"green")
        await pilot.pause()
        assert set(first_column(table)) == {"green-0"}
        assert "filter 'green'" in str(table.border_subtitle)
        await pilot.press("enter", "escape")
        await pilot.pause()
        assert set(first_column(table)) == everything and table.has_focus
        await pilot.press("o", "O")  # by Backend, reversed
        await pilot.pause()
        assert first_column(table) == sorted(everything, reverse=True)


@pytest.mark.parametrize("key", ["1", "2", "3", "4", "c", "i"])
async def test_every_screen_with_a_backends_gpus_alerts_containers_or_incidents_table_filters(
    make_app: AppFactory, key: str
) -> None:
    """`/` and `o` work wherever one of the issue's tables is the one in focus."""
    app, _ = make_app(seconds=10)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FilteredScreen), type(screen).__name__
        assert isinstance(app.focused, SnapshotTable) and app.focused is screen.table
        await pilot.press("slash", *"no-such-row")
        await pilot.pause()
        assert screen.table.row_count == 0 and screen.table.filter_text == "no-such-row"
        await pilot.press("escape", "o")
        await pilot.pause()
        assert screen.table.filter_text == "" and screen.table.sort_by is not None


async def test_clearing_a_filter_lists_the_rows_in_their_order_again(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=10)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, FilteredScreen)
        table = app.screen.table
        order = first_column(table)
        await pilot.press("slash", *"green", "enter", "escape")
        await pilot.pause()
        assert first_column(table) == order


async def test_on_incidents_slash_filters_the_table_in_focus_the_timeline_too() -> None:
    scene = next(s for s in SCENES if s.name == "incidents-120x40")
    app = build_app(scene)
    async with app.run_test(size=scene.size) as pilot:
        await settle(pilot, scene.keys)
        screen = app.screen
        incidents, timeline = screen.query_one(IncidentTable), screen.query_one(TimelineTable)
        listed = incidents.row_count
        events = [" ".join(c.plain for c in timeline.get_row_at(r))
                  for r in range(timeline.row_count)]  # fmt: skip
        opened = [e for e in events if "opened" in e]
        assert listed and opened and len(opened) < len(events)
        timeline.focus()
        await pilot.press("slash", *"opened")
        await settle(pilot, ())
        assert timeline.row_count == len(opened) and incidents.row_count == listed
        await pilot.press("escape")
        await settle(pilot, ())
        assert timeline.row_count == len(events) and timeline.has_focus
