"""The latency chart reads without colour, scales to the data, and repaints only what moved."""

from __future__ import annotations

import math

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from tests.app.conftest import AppFactory
from themes import SEMANTIC_DEFAULTS
from tui.app import SnapshotReady
from widgets.chart import LatencyChart, bucketed, nice_top
from widgets.gpus import GpuPanel
from widgets.header import FleetHeader
from widgets.queue import QueuePanel
from widgets.slo import SloSummary


class OneChart(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.chart = LatencyChart("TTFT")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(SEMANTIC_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield self.chart


def rows(chart: LatencyChart) -> list[str]:
    return [strip.text for strip in chart._rows or []]


async def show(p50: list[float], p95: list[float], limit: float) -> list[str]:
    app = OneChart()
    async with app.run_test(size=(40, 14)) as pilot:
        app.chart.show(tuple(p50), tuple(p95), limit)
        await pilot.pause()
        app.chart.render_line(0)
        return rows(app.chart)


async def test_fast_latency_is_not_drawn_flat_against_a_far_slo() -> None:
    text = await show([0.03] * 60, [0.05] * 60, 2.0)
    assert text[1].lstrip().startswith("50ms") or "100ms" in text[1]  # the top is the data's
    assert "SLO 2.00s" in text[-1] and "╌" not in "".join(text[1:-1])
    plot = text[1:-1]
    p95_row = next(i for i, r in enumerate(plot) if any("⠀" < c <= "⣿" for c in r[6:]))
    assert p95_row <= len(plot) // 2  # 50 ms sits mid-way up a 100 ms axis, not flat at 0


async def test_an_slo_near_the_data_is_drawn_and_labelled() -> None:
    text = await show([0.9] * 60, [1.5] * 60, 2.0)
    assert any("╌" in r and "SLO" in r for r in text[1:-1])
    assert "╌ SLO 2.00s" in text[0]


async def test_p50_and_p95_differ_without_colour_and_there_is_a_time_axis() -> None:
    text = await show([0.02] * 100, [0.08] * 100, 2.0)
    assert "⣀ p95" in text[0] and "· p50" in text[0]
    plot = "".join(r[6:] for r in text[1:-1])
    assert "·" in plot and any("⠀" < c <= "⣿" for c in plot)
    assert text[-1].split()[0].startswith("-") and text[-1].rstrip().endswith("now")


def test_a_new_point_moves_only_the_newest_bucket() -> None:
    values = [float(i % 7) for i in range(100)]
    before = bucketed(values, 100, 4, 30)  # the newest bucket holds points 100..103
    after = bucketed([*values[1:], 50.0], 101, 4, 30)
    assert str(after[:-1]) == str(before[:-1]) and after[-1] == 50.0
    assert math.isnan(bucketed([math.nan], 0, 1, 3)[-1])
    assert nice_top(0.051) == 0.1 and nice_top(1.6) == 2.0


async def test_an_unchanged_snapshot_repaints_nothing(make_app: AppFactory, monkeypatch) -> None:
    app, _ = make_app()
    refreshed: list[tuple[str, tuple[Region, ...], bool]] = []
    original = Widget.refresh

    def spy(self: Widget, *regions: Region, **kwargs: bool) -> Widget:
        refreshed.append((type(self).__name__, regions, kwargs.get("layout", False)))
        return original(self, *regions, **kwargs)

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        snapshot = app.hub.latest
        assert snapshot is not None
        monkeypatch.setattr(Widget, "refresh", spy)
        app.post_message(SnapshotReady(snapshot))
        await pilot.pause()
        panels = {"GpuPanel", "QueuePanel", "ThroughputPanel", "LatencyPanel", "LatencyChart",
                  "LatencyFigures", "AlertsPanel", "BackendsTable", "SloSummary",
                  "FleetHeader"}  # fmt: skip
        assert not [r for r in refreshed if r[0] in panels]  # no repaint, no layout
        for widget in (app.screen.query_one(GpuPanel), app.screen.query_one(QueuePanel),
                       app.screen.query_one(FleetHeader)):  # fmt: skip
            assert widget._strips is not None


async def test_a_badge_shows_on_screen_though_lines_are_cached(make_app: AppFactory) -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(FleetHeader)
        assert "PAUSED" not in header.render_line(0).text
        await pilot.press("p")
        await pilot.pause()
        assert "PAUSED" in header.render_line(0).text


async def test_a_new_snapshot_repaints_changed_lines_only(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each second the line-drawn widgets repaint the lines that changed, not themselves
    whole (which draws every line and looks every style up again), and a panel not shown
    at this size (the backends' history below 200x60) asks for no repaint at all."""
    app, source = make_app()
    refreshed: list[tuple[str, tuple[Region, ...], dict[str, bool]]] = []
    original = Widget.refresh

    def spy(self: Widget, *regions: Region, **kwargs: bool) -> Widget:
        refreshed.append((type(self).__name__, regions, kwargs))
        return original(self, *regions, **kwargs)

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        slo = app.screen.query_one(SloSummary)
        before = slo.render_line(0).text
        monkeypatch.setattr(Widget, "refresh", spy)
        for _ in range(3):
            source.clock.advance(1.0)
            app.hub.record(source, source.poll())
            await pilot.pause()
        whole = {name for name, regions, kwargs in refreshed if not regions and
                 name in ("SloSummary", "BackendHistoryPanel", "GpuPanel", "QueuePanel",
                          "ThroughputPanel", "AlertsPanel", "FleetHeader")}  # fmt: skip
        assert whole == set()
        assert [r for r in refreshed if r[0] == "BackendHistoryPanel"] == []
        assert slo.render_line(0).text != before  # the line moved on, and shows so
