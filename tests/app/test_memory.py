"""A dashboard left on a wall for weeks keeps its memory flat: what it caches is what it
shows, not every frame it has drawn."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.app.conftest import AppFactory
from tests.app.test_overview import row_text
from tui.app import InferdeckApp, SnapshotReady
from tui.model import FleetSnapshot
from widgets.backends import BackendsTable
from widgets.table import SnapshotTable


@contextlib.asynccontextmanager
async def overview_with(
    make_app: AppFactory, size: tuple[int, int]
) -> AsyncIterator[tuple[InferdeckApp, Pilot[str | None], BackendsTable, FleetSnapshot]]:
    """The overview at ``size`` showing the hub's latest snapshot: the app, its pilot, its
    Backends table and that snapshot."""
    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        snapshot = app.hub.latest
        assert snapshot is not None
        app.post_message(SnapshotReady(snapshot))
        await pilot.pause()
        yield app, pilot, app.screen.query_one(BackendsTable), snapshot


def record_calls(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[tuple[Any, ...]]:
    """Every later call of ``owner.name`` (its arguments after ``self``), which still runs."""
    calls: list[tuple[Any, ...]] = []
    original = getattr(owner, name)

    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, recorded)
    return calls


def renders_held(table: BackendsTable) -> tuple[int, int]:
    """(cells, lines) the table keeps rendered."""
    return len(table._cell_render_cache), len(table._line_cache)


async def test_a_table_updated_every_second_keeps_only_the_renders_it_shows(
    make_app: AppFactory,
) -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(BackendsTable)
        for _ in range(40):  # 40 refreshes: figures change in every one
            source.clock.advance(1)
            await app.hub.poll_once()
            await pilot.pause()
            table.render_lines(table.region.reset_offset)  # as a frame would draw it
        cells, lines = renders_held(table)
        shown_cells = (table.row_count + 1) * len(table.columns)
        assert cells <= 2 * shown_cells  # not 40 refreshes' worth
        assert lines <= 2 * table.region.height


async def test_a_refresh_renders_again_only_the_cells_that_changed(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with overview_with(make_app, (160, 40)) as (app, pilot, table, snapshot):
        table.render_lines(table.region.reset_offset)
        rendered = record_calls(monkeypatch, SnapshotTable, "_render_new_look")
        first = snapshot.backends[0]
        busier = dataclasses.replace(first, running=(first.running or 0) + 7)
        app.post_message(
            SnapshotReady(dataclasses.replace(snapshot, backends=(busier, *snapshot.backends[1:])))
        )
        await pilot.pause()
        table.render_lines(table.region.reset_offset)
        assert row_text(table, first.name)[3] == f"{(first.running or 0) + 7:.0f}"
        # the running count of the first backend, nothing else
        assert [call[:2] for call in rendered] == [(0, 3)]


async def test_what_a_frame_keeps_of_the_tables_look_lasts_only_that_frame(
    make_app: AppFactory,
) -> None:
    # Each frame works out the table's style, cursor and focus state once for all its
    # lines; the next frame must see a change made in between (focus moving to the
    # table, the cursor hidden), or the highlight would stay where it was.
    async with overview_with(make_app, (120, 40)) as (_, pilot, table, _snapshot):
        table.screen.set_focus(None)
        await pilot.pause()

        def drawn() -> list[str]:
            lines = table.render_lines(table.region.reset_offset)
            return [repr(list(line)) for line in lines]

        unfocused = drawn()
        table.focus()
        await pilot.pause()
        focused = drawn()
        assert focused != unfocused  # the cursor row is highlighted as the table has focus
        table.show_cursor = False
        await pilot.pause()
        assert drawn() != focused
        table.show_cursor = True
        table.screen.set_focus(None)
        await pilot.pause()
        assert drawn() == unfocused


async def test_a_refresh_repaints_the_rows_that_changed_where_they_are(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with overview_with(make_app, (160, 40)) as (app, pilot, table, snapshot):
        assert len(snapshot.backends) >= 3
        repainted = record_calls(monkeypatch, BackendsTable, "_refresh_region")
        backends = list(snapshot.backends)
        for at in (0, 2):
            backends[at] = dataclasses.replace(
                backends[at], waiting=(backends[at].waiting or 0) + 5
            )
        app.post_message(SnapshotReady(dataclasses.replace(snapshot, backends=tuple(backends))))
        await pilot.pause()
        # the first and third rows, where DataTable itself places them; no other
        assert repainted == [(table._get_row_region(0),), (table._get_row_region(2),)]
        assert row_text(table, backends[2].name)[4] == f"{backends[2].waiting:.0f}"
