"""The SLO (`7`), Capacity (`8`) and Models (`9`) screens on the demo virtual fleet, the
overview's SLO line, and the Traffic screen's versions."""

from __future__ import annotations

import pytest

from tests.app.conftest import AppFactory
from tests.app.outside import screen_text
from tui.app import InferdeckApp, SnapshotReady
from tui.judging import demo_judging
from tui.screens.capacity import CapacityScreen
from tui.screens.models import ModelsScreen
from tui.screens.slo import SloScreen
from tui.screens.traffic import TrafficScreen
from tui.screenshots import demo_host
from tui.sources.simulated import VirtualFleetSource
from widgets.slo import ObjectivesPanel


def judged(make_app: AppFactory, **kwargs: object) -> tuple[InferdeckApp, VirtualFleetSource]:
    """A demo app with the demo's judging config and a fixed host reading."""
    app, source = make_app(**kwargs)
    assert app.hub.latest is not None
    app.judging = demo_judging(app.hub.latest, read_local=demo_host)
    return app, source


async def test_seven_opens_the_slo_screen_with_objectives_and_budget(make_app: AppFactory) -> None:
    app, _ = judged(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        assert isinstance(app.screen, SloScreen)
        text = screen_text(app)
        for label in (
            "TTFT p95",
            "Total latency p95",
            "Error rate",
            "Timeout rate",
            "Availability",
        ):
            assert label in text
        assert "✓ met" in text
        assert "allowed 216.0 min" in text  # the standard tier's monthly budget
        assert "source history (no Prometheus)" in text and "period 30d" in text
        for window in ("5m", "1h", "6h", "3d"):
            assert f" {window} " in text
        assert "fast burn (page)" in text and "quiet" in text


async def test_a_latency_fault_shows_a_breached_objective(make_app: AppFactory) -> None:
    app, source = judged(make_app)
    for backend in ("blue-0", "blue-1", "green-0"):
        source.fleet.set_fault(backend, "latency", 20.0)
    for _ in range(40):
        app.hub.record(source, source.poll())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        assert app.hub.latest is not None
        app.post_message(SnapshotReady(app.hub.latest))
        await pilot.pause()
        found = app.screen.query_one(ObjectivesPanel).report
        assert isinstance(found, tuple)
        breached = [o.label for o in found if o.state == "breached"]
        assert "TTFT p95" in breached
        assert "✗ breached" in screen_text(app)


async def test_eight_shows_hosts_decision_and_cost(make_app: AppFactory) -> None:
    app, _ = judged(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("8")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, CapacityScreen)
        text = screen_text(app)
        assert "demo-host" in text and "disk /mnt/models 93% ✗" in text
        assert "decided by" in text
        assert any(a in text for a in ("Monitor", "Plan expansion", "Execute expansion",
                                       "Emergency expansion"))  # fmt: skip
        assert "/64" in text  # in flight against the demo's max_num_seqs
        assert "until 80%" in text and "headroom" in text
        assert "$6,200" in text and "GPT-4o per request" in text


async def test_capacity_without_a_cost_table_says_so(make_app: AppFactory) -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.judging = type(app.judging)(read_local=demo_host)
        await pilot.press("8")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no cost table" in screen_text(app)


async def test_nine_maps_pools_to_versions(make_app: AppFactory) -> None:
    app, _ = judged(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("9")
        await pilot.pause()
        assert isinstance(app.screen, ModelsScreen)
        text = screen_text(app)
        assert "llama-3.1-8b" in text and "v1.0" in text and "active" in text
        assert "/mnt/models/" in text
        assert "Retention" in text


async def test_traffic_names_the_version_behind_each_pool(make_app: AppFactory) -> None:
    app, _ = judged(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.screen, TrafficScreen)
        assert "llama-3.1-8b v1.0" in screen_text(app)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_overview_has_an_slo_line(make_app: AppFactory, size: tuple[int, int]) -> None:
    app, _ = judged(make_app)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "budget" in text and "% left" in text and "burn 1h" in text


async def test_the_palette_opens_the_new_screens(make_app: AppFactory) -> None:
    app, _ = judged(make_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Go to Capacity")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CapacityScreen)
