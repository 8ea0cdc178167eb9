"""A dashboard left on a wall for weeks keeps its memory flat: what it caches is what it
shows, not every frame it has drawn."""

from __future__ import annotations

from tests.app.conftest import AppFactory
from widgets.backends import BackendsTable


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
