"""The overview as an operator uses it: the numbers are the simulator's, keys do what they say."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

from rich.console import Console
from textual.app import App
from textual.widget import Widget
from textual.widgets.data_table import ColumnKey

from tests.app.conftest import AppFactory
from themes import THEMES
from tui.analysis.alert_rules import immediate
from tui.app import SnapshotReady
from tui.model import Backend, Gpu, Health, OverallState
from tui.ops.alerts.local_acks import AckStore, LocalAlerting
from tui.screens.help import HelpScreen
from widgets.backends import BackendsTable
from widgets.format import number, percent, seconds
from widgets.gpus import GpuPanel
from widgets.header import FleetHeader
from widgets.latency import LatencyPanel
from widgets.queue import QueuePanel
from widgets.throughput import ThroughputPanel


def text_of(widget: Widget, width: int = 100) -> str:
    """What a render-based widget draws, as plain text."""
    console = Console(width=width, record=True, color_system=None)
    console.print(widget.render())
    return console.export_text()


def row_text(table: BackendsTable, name: str) -> list[str]:
    return [cell.plain for cell in table.get_row(name)]


async def test_panels_show_the_simulators_numbers(make_app: AppFactory) -> None:
    app, _ = make_app()
    snapshot = app.hub.latest
    assert snapshot is not None and snapshot.fleet is not None
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(BackendsTable)
        assert [k.value for k in table.rows] == ["blue-0", "blue-1", "green-0"]
        for backend in snapshot.backends:
            cells = row_text(table, backend.name)
            assert cells[2] == "up"
            assert cells[5] == percent(backend.kv_cache_usage)
            assert cells[6] == seconds(backend.ttft.p95)
            assert cells[7] == seconds(backend.e2e.p95)
        gpus = text_of(app.screen.query_one(GpuPanel))
        for gpu in snapshot.gpus:
            assert f"{gpu.util_pct:.0f}%" in gpus and f"{gpu.temp_c:.0f}°C" in gpus
        queue = text_of(app.screen.query_one(QueuePanel))
        assert f"{snapshot.fleet.running:.0f}" in queue
        latency = app.screen.query_one(LatencyPanel)
        figures = text_of(latency.children[0])
        assert seconds(snapshot.fleet.ttft.p95) in figures
        assert seconds(snapshot.fleet.e2e.p50) in figures
        assert "SLO <500ms / <2.00s" in figures  # the Standard tier's TTFT limits
        flow = text_of(app.screen.query_one(ThroughputPanel))
        assert number(snapshot.fleet.traffic.requests_per_min) in flow
        header = text_of(app.screen.query_one(FleetHeader), width=120)
        assert " OK " in header and "env demo" in header and "SLO Standard" in header


async def test_crash_shows_down_on_the_next_refresh(make_app: AppFactory) -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        source.fleet.set_fault("blue-0", "crash")
        await app.hub.poll_once()
        await pilot.pause()
        table = app.screen.query_one(BackendsTable)
        cells = row_text(table, "blue-0")
        assert "DOWN" in cells[2] and "connection refused" in cells[2]
        assert set(cells[3:]) == {"—"}  # figures of a dead backend are not shown as live
        header = text_of(app.screen.query_one(FleetHeader), width=120)
        assert "DEGRADED" in header and "blue-0 down: connection refused" in header
        source.fleet.set_fault("blue-0", "clear")
        await app.hub.poll_once()
        await app.hub.poll_once()
        await pilot.pause()
        assert row_text(table, "blue-0")[2] == "up"


async def test_latency_fault_breaches_the_slo(make_app: AppFactory) -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        source.fleet.set_fault("blue-1", "latency", 4)
        for _ in range(60):
            await app.hub.poll_once()
        await pilot.pause()
        snapshot = app.hub.latest
        assert snapshot is not None and snapshot.overall is OverallState.DEGRADED
        assert any("p95" in reason for reason in snapshot.overall_reasons)
        table = app.screen.query_one(BackendsTable)
        e2e = table.get_row("blue-1")[7]
        assert e2e.style == table.style("breach")


async def test_pause_freezes_the_view_and_resume_catches_up(make_app: AppFactory) -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        assert "PAUSED" in text_of(app.screen.query_one(FleetHeader), width=120)
        source.fleet.set_fault("green-0", "crash")
        await app.hub.poll_once()
        await pilot.pause()
        table = app.screen.query_one(BackendsTable)
        assert row_text(table, "green-0")[2] == "up"  # frozen
        await pilot.press("p")
        await pilot.pause()
        assert "DOWN" in row_text(table, "green-0")[2]
        assert "PAUSED" not in text_of(app.screen.query_one(FleetHeader), width=120)


async def test_t_cycles_themes(make_app: AppFactory) -> None:
    """``t`` goes through inferdeck's own themes, in order, and back to the first."""
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        seen = [app.theme]
        for _ in range(len(THEMES)):
            await pilot.press("t")
            seen.append(app.theme)
        assert seen == [*(t.name for t in THEMES), "inferdeck-dark"]


async def test_question_mark_lists_the_keys(make_app: AppFactory) -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = {line.does for line in app.screen.everywhere}
        assert {"Quit", "Pause", "Theme", "Keys"} <= shown
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits(make_app: AppFactory) -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_stale_source_is_shown_on_the_panels(make_app: AppFactory) -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        source.clock.advance(30)  # no poll for 30 s: the scrape source has gone quiet
        app.hub._publish()
        await pilot.pause()
        gpus = app.screen.query_one(GpuPanel)
        assert gpus.has_class("-stale")
        assert "scrape STALE 30s" in str(gpus.border_subtitle)
        assert "data 30s" in text_of(app.screen.query_one(FleetHeader), width=120)


async def test_hostile_labels_render_literally(make_app: AppFactory) -> None:
    app, _ = make_app()
    snapshot = app.hub.latest
    assert snapshot is not None
    hostile = "$(touch /tmp/x)[bold red]x[/]\x1b[31mred\x07"
    evil = Backend(
        name=hostile, pool="blue", url="http://h", health=Health.DOWN, reason="[link=x]\x1b]0;t"
    )
    async with app.run_test(size=(120, 40)) as pilot:
        app.post_message(
            SnapshotReady(dataclasses.replace(snapshot, backends=(*snapshot.backends, evil)))
        )
        await pilot.pause()
        cells = row_text(app.screen.query_one(BackendsTable), hostile)
        assert cells[0] == "$(touch /tmp/x)[bold red]x[/]\u241b[31mred\u2407"
        assert "[link=x]" in cells[2]
        assert "\x1b" not in "".join(cells)


async def test_many_gpus_are_summarised_hottest_first(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=5)
    snapshot = app.hub.latest
    assert snapshot is not None
    gpus = tuple(
        Gpu(host="h", index=i, util_pct=50.0, temp_c=90.0 if i == 17 else 60.0 + i % 3)
        for i in range(20)
    )
    async with app.run_test(size=(120, 40)) as pilot:
        app.post_message(SnapshotReady(dataclasses.replace(snapshot, gpus=gpus)))
        await pilot.pause()
        text = text_of(app.screen.query_one(GpuPanel), width=60)
        assert "+13 more · avg util 50% · max temp 61°C" in text  # the 62s got rows
        assert "90°C" in text  # the overheating GPU gets a row even though it is number 17


def screen_text(app: App[Any]) -> str:
    """Every character on the terminal now, line by line (what the operator sees)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_80x24_error_incident_keeps_alerts_and_backend_errors(make_app: AppFactory) -> None:
    app, source = make_app(seconds=30)
    app.hub.alerts_hook = LocalAlerting(AckStore(Path(mkdtemp()) / "acks.json"), rules=immediate())
    async with app.run_test(size=(80, 24)) as pilot:
        source.fleet.set_fault("blue-0", "crash")
        source.fleet.set_fault("blue-1", "errors", 0.5)
        for _ in range(30):
            app.hub.record(source, source.poll())
        await app.hub.poll_once()
        await pilot.pause()
        snapshot = app.hub.latest
        assert snapshot is not None and snapshot.alerts
        text = screen_text(app)
        for name in ("blue-0", "blue-1", "green-0"):
            assert name in text, text
        assert "Err%" in text and "TTFT p95" in text and "DOWN" in text, text
        blue1 = next(b for b in snapshot.backends if b.name == "blue-1")
        assert percent(blue1.traffic.error_rate, 1) in text, text
        assert any(alert.name in text for alert in snapshot.alerts), text
        assert snapshot.overall_reasons[0][:20] in text, text  # the header says why

        source.fleet.set_fault("blue-0", "clear")
        for _ in range(3):
            await app.hub.poll_once()
        await pilot.pause()
        table = app.screen.query_one(BackendsTable)
        health = table.columns[ColumnKey("health")]
        assert health.content_width == len("Health")  # not the width of the old DOWN reason


async def test_unchanged_figures_are_kept_cells_and_a_new_theme_restyles_them(
    make_app: AppFactory,
) -> None:
    """Each second the table builds every backend's row again: a figure that has not
    changed since the last snapshot is the very cell the table holds (no new `Text`,
    nothing to compare), and a new theme colours the figures anew."""
    app, source = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(BackendsTable)
        for _ in range(3):
            source.clock.advance(1.0)
            app.hub.record(source, source.poll())
            await pilot.pause()
        snapshot = table.snapshot
        assert snapshot is not None
        figures = [key for key, _ in table.COLUMNS][2:-1]  # health to req/min
        kept = 0
        for key, cells in table.rows_of(snapshot):
            held = {column.value: cell for column, cell in zip(table.columns, table.get_row(key),
                                                               strict=True)}  # fmt: skip
            for column, cell in zip(figures, cells[2:-1], strict=True):
                old = held.get(column)
                if old is not None and (old.plain, old.style) == (cell.plain, cell.style):
                    assert cell is old, (key, column)
                    kept += 1
        assert kept >= 3 * 5  # most of the figures did not move in a second
        up = table.style("ok")
        app.theme = next(theme.name for theme in THEMES if theme.name != app.theme)
        await pilot.pause()
        assert table.style("ok") != up
        health = table.rows_of(snapshot)[0][1][2]
        assert health.plain == "up" and health.style == table.style("ok")
