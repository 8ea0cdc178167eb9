"""Snapshots keep coming from the hub's thread while the dashboard closes: a screen whose
widgets are being removed is shown none, and a table out of the DOM lists nothing (its
component styles are gone; seen: ``KeyError: "No 'snapshot-table--ok' key in
COMPONENT_CLASSES"`` when a test left the app as a snapshot arrived)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from textual.app import App, ComposeResult

from tests.app.conftest import AppFactory
from themes import SEMANTIC_DEFAULTS
from tui.app import SnapshotReady
from tui.demo_data import warmed_hub
from tui.model import FleetSnapshot, Health
from widgets.backends import BackendsTable


def first_backend_down(snapshot: FleetSnapshot) -> FleetSnapshot:
    """``snapshot`` with its first backend DOWN: its row and the table's widths change."""
    first = snapshot.backends[0]
    down = dataclasses.replace(first, health=Health.DOWN, reason="connection refused")
    return dataclasses.replace(snapshot, backends=(down, *snapshot.backends[1:]))


@pytest.mark.parametrize("screen", ["1", "3"])  # the overview, the Backends screen
async def test_closing_the_dashboard_while_snapshots_arrive_raises_nothing(
    make_app: AppFactory, screen: str
) -> None:
    app, _ = make_app(seconds=5)
    snapshot = app.hub.latest
    assert snapshot is not None
    changing = (snapshot, first_backend_down(snapshot))
    closed = False
    posted_while_closing = 0

    async def hub_feed() -> None:  # as the hub's thread does, one snapshot after another
        nonlocal posted_while_closing
        sent = 0
        while not closed:
            taken = app.post_message(SnapshotReady(changing[sent % 2]))
            posted_while_closing += taken and not app.is_running  # the app is shutting down
            sent += 1
            await asyncio.sleep(0)

    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press(screen)
        await pilot.pause()
        feed = asyncio.create_task(hub_feed())
    # leaving run_test closed the screens while the app still handled snapshots
    closed = True
    await feed
    assert posted_while_closing >= 2  # a change repaints the table whole, the next one lists


class OneTable(App[None]):
    """An app holding one backends table."""

    def __init__(self, table: BackendsTable) -> None:
        super().__init__()
        self.table = table

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(SEMANTIC_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield self.table


def a_snapshot() -> FleetSnapshot:
    hub, _ = warmed_hub(seconds=5)
    assert hub.latest is not None
    return hub.latest


async def test_a_table_removed_from_its_screen_ignores_later_snapshots() -> None:
    snapshot = a_snapshot()
    table = BackendsTable()
    async with OneTable(table).run_test(size=(160, 20)) as pilot:
        table.snapshot = snapshot
        await pilot.pause()
        shown = [c.plain for c in table.get_row(snapshot.backends[0].name)]
        await table.remove()
        for later in (first_backend_down(snapshot), snapshot, first_backend_down(snapshot)):
            table.snapshot = later
        assert [c.plain for c in table.get_row(snapshot.backends[0].name)] == shown


async def test_a_table_given_a_snapshot_before_it_is_mounted_lists_it_once_mounted() -> None:
    snapshot = first_backend_down(a_snapshot())
    table = BackendsTable()
    table.snapshot = snapshot
    async with OneTable(table).run_test(size=(160, 20)) as pilot:
        await pilot.pause()
        assert [key.value for key in table.rows] == [b.name for b in snapshot.backends]
        health = table.get_row(snapshot.backends[0].name)[2]
        assert "DOWN" in health.plain
        assert health.style == table.style("down")  # coloured as DOWN, not left plain
