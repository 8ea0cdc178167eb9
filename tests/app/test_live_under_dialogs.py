"""Panels keep updating while a dialog, the help or the palette is open over them."""

from __future__ import annotations

import dataclasses

import pytest

from tests.app.conftest import AppFactory
from tui.app import SnapshotReady
from tui.model import Health
from tui.screens.overview import OverviewScreen
from widgets.backends import BackendsTable


@pytest.mark.parametrize("opener", ["question_mark", "ctrl+p"])
async def test_overview_updates_under_the_help_and_the_palette(
    make_app: AppFactory, opener: str
) -> None:
    app, _ = make_app(seconds=10)
    snapshot = app.hub.latest
    assert snapshot is not None
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        overview = app.screen
        assert isinstance(overview, OverviewScreen)
        await pilot.press(opener)
        await pilot.pause()
        assert app.screen is not overview
        first = snapshot.backends[0]
        down = dataclasses.replace(first, health=Health.DOWN, reason="connection refused")
        changed = dataclasses.replace(snapshot, backends=(down, *snapshot.backends[1:]),
                                      taken_at=snapshot.taken_at + 1)  # fmt: skip
        app.post_message(SnapshotReady(changed))
        await pilot.pause()
        row = [c.plain for c in overview.query_one(BackendsTable).get_row(first.name)]
        assert any("down" in c.lower() for c in row), row
