"""The header is the one truth, and old data never looks live (issue 8), read off the screen."""

from __future__ import annotations

import dataclasses

from textual.widget import Widget

from tests.app.conftest import AppFactory
from tui.analysis.fingerprint import fingerprint
from tui.app import SnapshotReady
from tui.model import Alert, OverallState, Severity
from widgets.header import FleetHeader, fit_reasons


def screen_text(widget: Widget) -> str:
    """What the widget shows on screen now, within its real size, as plain text."""
    region = widget.region
    strips = widget.app.screen._compositor.render_strips()  # what the terminal gets
    rows = ["".join(seg.text for seg in strips[y]) for y in range(region.y, region.bottom)]
    return "\n".join(row[region.x : region.x + region.width] for row in rows)


def hot_gpu_alert(at: float, **extra: object) -> Alert:
    labels = {"alertname": "GPUHighTemperature", "severity": "warning", "gpu": "0", "host": "h"}
    return Alert(
        "GPUHighTemperature",
        Severity.WARNING,
        "GPU temperature high: GPU h/0 at 85 °C > 80 °C",
        labels,
        at,
        fingerprint(labels),
        **extra,  # type: ignore[arg-type]
    )


async def test_reason_line_shows_on_the_overview_without_a_resize(make_app: AppFactory) -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(FleetHeader)
        assert header.region.height == 1  # healthy: one line
        source.fleet.set_fault("blue-0", "crash")
        await app.hub.poll_once()
        await pilot.pause()
        assert header.region.height == 2
        assert "blue-0 down: connection refused" in screen_text(header)


async def test_a_warning_alert_is_never_ok(make_app: AppFactory) -> None:
    app, _ = make_app()
    snapshot = app.hub.latest
    assert snapshot is not None and snapshot.overall is OverallState.OK
    async with app.run_test(size=(120, 40)) as pilot:
        app.hub.alerts_hook = lambda s: (hot_gpu_alert(s.taken_at),)
        await app.hub.poll_once()
        await pilot.pause()
        text = screen_text(app.screen.query_one(FleetHeader))
        assert " WARNING " in text and " OK " not in text
        assert "GPUHighTemperature" in text and "85 °C > 80 °C" in text


async def test_acknowledged_alert_is_named_but_does_not_raise(make_app: AppFactory) -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.hub.alerts_hook = lambda s: (hot_gpu_alert(s.taken_at, acknowledged_by="bob"),)
        await app.hub.poll_once()
        await pilot.pause()
        text = screen_text(app.screen.query_one(FleetHeader))
        assert " OK " in text and "GPUHighTemperature" in text and "acknowledged by bob" in text


async def test_pause_freezes_panels_not_the_header(make_app: AppFactory) -> None:
    app, source = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        source.fleet.set_fault("blue-0", "crash")
        await app.hub.poll_once()
        await pilot.pause()
        text = screen_text(app.screen.query_one(FleetHeader))
        assert "DEGRADED" in text and "PAUSED" in text and " OK " not in text
        assert "blue-0 down: connection refused" in text


async def test_reason_line_on_every_screen_and_at_80x24(make_app: AppFactory) -> None:
    app, source = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        source.fleet.set_fault("blue-0", "crash")
        source.fleet.set_fault("green-0", "crash")
        await app.hub.poll_once()
        for key in ("1", "2", "3", "4", "5", "6", "c", "1"):
            await pilot.press(key)
            await pilot.pause()
            header = app.screen.query_one(FleetHeader)
            text = screen_text(header)
            assert header.region.height == 2, key
            assert "blue-0 down: connection refused" in text, (key, text)
            assert "more" in text or "green-0 down" in text, (key, text)


def test_fit_reasons_cuts_with_a_count() -> None:
    reasons = ["blue-0 down: connection refused", "green-0 down: connection refused", "x" * 30]
    assert fit_reasons(reasons, 200) == "; ".join(reasons)
    assert fit_reasons(reasons, 40) == "blue-0 down: connection refused; +2 more"
    cut = fit_reasons(["y" * 100, "z"], 30)
    assert cut.endswith("…; +1 more") and len(cut) == 30
    assert fit_reasons([], 10) == ""


async def test_hostile_snapshot_does_not_hide_state(make_app: AppFactory) -> None:
    app, _ = make_app()
    snapshot = app.hub.latest
    assert snapshot is not None
    async with app.run_test(size=(120, 40)) as pilot:
        app.post_message(
            SnapshotReady(
                dataclasses.replace(
                    snapshot, overall=OverallState.NO_DATA, overall_reasons=("no source answers",)
                )
            )
        )
        await pilot.pause()
        text = screen_text(app.screen.query_one(FleetHeader))
        assert "NO DATA" in text and "no source answers" in text


async def test_a_dead_pool_shows_dashes_and_is_flagged_on_traffic(make_app: AppFactory) -> None:
    from widgets.traffic import PoolTable

    app, source = make_app()
    source.fleet.weights.update({"blue": 90.0, "green": 10.0})
    async with app.run_test(size=(120, 40)) as pilot:
        source.fleet.set_fault("green-0", "crash")
        await app.hub.poll_once()
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one(PoolTable)
        keys = [key for key, _ in table.COLUMNS]
        cells = dict(zip(keys, (c.plain for c in table.get_row("green")), strict=True))
        assert cells["pool"] == "green" and cells["share"] == "10%"
        assert "NONE UP" in cells["up"]
        figures = [cells[k] for k in ("rpm", "errors", "ttft", "e2e")]
        assert figures == ["—"] * 4  # no figures of a pool with nothing up
        assert "traffic to green with no backend up" in str(table.border_subtitle)
        header = screen_text(app.screen.query_one(FleetHeader))
        assert "PoolWithoutHealthyBackend pool=green" in header or "more" in header
        snapshot = app.latest
        assert snapshot is not None
        assert any(
            a.name == "PoolWithoutHealthyBackend" and a.severity is Severity.CRITICAL
            for a in snapshot.alerts
        )


async def test_alerts_of_a_dead_source_are_last_known(make_app: AppFactory) -> None:
    from widgets.alerts import AlertsPanel

    app, _ = make_app()
    snapshot = app.hub.latest
    assert snapshot is not None
    old = hot_gpu_alert(snapshot.taken_at - 100, last_known_at=snapshot.taken_at - 40)
    async with app.run_test(size=(120, 40)) as pilot:
        app.post_message(SnapshotReady(dataclasses.replace(snapshot, alerts=(old,))))
        await pilot.pause()
        text = screen_text(app.screen.query_one(AlertsPanel))
        assert "last known 40s ago" in text and "1m" not in text


async def test_a_dead_gpu_exporter_is_named_on_the_gpus_panel(make_app: AppFactory) -> None:
    from widgets.gpus import GpuPanel

    app, _ = make_app()
    snapshot = app.hub.latest
    assert snapshot is not None
    problem = "GPU exporter h:9400: connection refused"
    async with app.run_test(size=(120, 40)) as pilot:
        for gpus in ((), snapshot.gpus):  # no GPU left, then some from another reader
            app.post_message(
                SnapshotReady(dataclasses.replace(snapshot, gpus=gpus, gpu_problems=(problem,)))
            )
            await pilot.pause()
            shown = screen_text(app.screen.query_one(GpuPanel))
            assert problem in shown and "no GPUs reported" not in shown
