"""Layout at every size: at 80x24 every table fits its width (columns are given up in a
fixed priority, never cut at the edge); at 200x60 the room goes to more columns and more
rows, not to bigger charts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.dom import DOMNode

from tui.screenshots import SCENES, build_app, settle
from widgets.backend_history import BackendHistoryPanel
from widgets.backends import BackendsTable
from widgets.format import SPARK_BARS
from widgets.latency import LatencyChart
from widgets.table import SnapshotTable

INCIDENTS = next(s for s in SCENES if s.name == "incidents-120x40")
"""A fleet in an incident, with incidents tracked: every table has rows."""

SCREEN_KEYS = ("1", "2", "3", "4", "c", "5", "i")
"""The screens with tables: overview, GPUs, Backends, Alerts, Containers, Traffic, Incidents."""


def _columns_width(table: SnapshotTable) -> int:
    return sum(column.get_render_width(table) for column in table.columns.values())


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_every_table_fits_its_width(size: tuple[int, int]) -> None:
    """No table needs sideways scrolling, so no cell is cut at the table's edge."""
    app = build_app(replace(INCIDENTS, size=size))
    async with app.run_test(size=size) as pilot:
        too_wide = []
        for key in SCREEN_KEYS:
            await settle(pilot, (key,))
            for table in app.screen.query(SnapshotTable):
                room = table.scrollable_content_region.width
                if table.row_count and _columns_width(table) > room:
                    name = f"{type(app.screen).__name__} {type(table).__name__}"
                    too_wide.append(f"{name}: {_columns_width(table)} > {room}")
        assert too_wide == []


async def test_tables_keep_their_most_important_columns_at_80x24() -> None:
    app = build_app(replace(INCIDENTS, size=(80, 24)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, ("1",))
        kept = {k.value for k in app.screen.query_one(BackendsTable).columns}
        assert {"backend", "health", "ttft", "errors"} <= kept
        await settle(pilot, ("2",))
        kept = {k.value for k in app.screen.query_one(SnapshotTable).columns}
        assert {"gpu", "util", "memory", "temp"} <= kept
        await settle(pilot, ("4",))
        kept = {k.value for k in app.screen.query_one(SnapshotTable).columns}
        assert {"severity", "name", "for"} <= kept


async def _overview(size: tuple[int, int]) -> tuple[set[str], int, int]:
    """The overview's backends columns, how wide they are, and a latency chart's height."""
    app = build_app(replace(INCIDENTS, size=size, keys=()))
    async with app.run_test(size=size) as pilot:
        await settle(pilot, ())
        table = app.screen.query_one(BackendsTable)
        chart = app.screen.query(LatencyChart).first()
        return {str(k.value) for k in table.columns}, _columns_width(table), chart.size.height


async def test_a_big_terminal_gets_more_columns_not_bigger_charts() -> None:
    columns_120, _, chart_120 = await _overview((120, 40))
    columns_200, width_200, chart_200 = await _overview((200, 60))
    assert columns_200 > columns_120
    assert {"rpm", "queue", "model"} <= columns_200
    assert width_200 >= 0.6 * 196, "the backends table leaves most of a wide screen empty"
    assert chart_200 <= chart_120 + 2, (chart_120, chart_200)


async def test_at_200x60_the_backends_box_fits_its_rows_and_the_room_goes_to_history() -> None:
    """Three backends do not get a box of 20 empty rows: the box takes its rows, and the
    height left goes to each backend's history over the whole window, beside the alerts."""
    app = build_app(replace(INCIDENTS, size=(200, 60), keys=()))
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot, ())
        table = app.screen.query_one(BackendsTable)
        assert table.row_count == 3
        assert table.outer_size.height <= table.row_count + 3  # header row and the border
        history = app.screen.query_one(BackendHistoryPanel)
        assert history.display and history.size.height >= 4 * table.row_count
        lines = [line.plain for line in history.lines(history.content_region.width)]
        for name in ("blue-0", "blue-1", "green-0"):
            line = next(line for line in lines if line.startswith(name))
            assert sum(c in SPARK_BARS for c in line) >= 60, line  # a long stretch of history
        charts_120 = (await _overview((120, 40)))[2]
        assert app.screen.query(LatencyChart).first().size.height <= charts_120 + 2


async def test_below_200x60_the_backend_history_gives_its_room_back() -> None:
    app = build_app(replace(INCIDENTS, size=(120, 40), keys=()))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, ())
        assert not app.screen.query_one(BackendHistoryPanel).display


@pytest.mark.parametrize("size", [(80, 24), (99, 31), (100, 32), (120, 49), (200, 50)])
async def test_the_overview_is_styled_once_as_it_comes_up_at_any_size(
    size: tuple[int, int],
) -> None:
    # The overview is made with the -narrow/-wide and -short/-tall/-roomy classes its
    # size calls for, each edge included: when its first resize set other ones, Textual
    # would style every widget on it a second time before the first frame. (A calm
    # fleet: an alerting one adds -alerting as its first snapshot shows, a restyle of
    # its own.)
    calm = next(s for s in SCENES if s.name == "overview-dark-120x40")
    app = build_app(replace(calm, size=size, keys=()))
    restyled: list[str] = []
    update_styles = app.update_styles

    def counted(node: DOMNode, animate: bool = True) -> None:
        restyled.append(type(node).__name__)
        update_styles(node, animate)

    app.update_styles = counted  # type: ignore[method-assign]
    async with app.run_test(size=size) as pilot:
        await settle(pilot, ())
        assert restyled.count("OverviewScreen") == 1, restyled  # as it came up, only
        assert {"-wide" if size[0] >= 100 else "-narrow"} <= set(app.screen.classes)
