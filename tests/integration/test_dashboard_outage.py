"""Kill Prometheus under a running dashboard: its panels say so within one refresh, the rest
keeps updating, and it recovers by itself when Prometheus is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.real_servers import (
    running_sim,
    sim_jobs,
    start_prometheus,
    wait_for_targets,
)
from tui.app import InferdeckApp
from tui.hub import Hub
from tui.model import SourceState
from tui.sources.prometheus import PrometheusSource
from tui.sources.scrape import ScrapeSource, ScrapeTarget
from widgets.backends import BackendsTable
from widgets.gpus import GpuPanel

pytestmark = pytest.mark.integration

REFRESH_S = 1.0


async def until(check: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not seen within {timeout}s")


async def test_prometheus_outage_is_shown_and_recovers(tmp_path: Path) -> None:
    with running_sim(pools={"blue": 2, "green": 1}) as sim:
        description = sim.description
        prometheus = start_prometheus(tmp_path / "prom", sim_jobs(description))
        try:
            wait_for_targets(prometheus, 4)
            time.sleep(8)  # some past for the charts' start-up range query to find
            targets = [
                ScrapeTarget(b["name"], b["pool"], b["url"]) for b in description["backends"]
            ]
            hub = Hub(
                [
                    ScrapeSource(targets, (description["gpu_exporter"],), interval=REFRESH_S),
                    PrometheusSource(prometheus.url, interval=REFRESH_S, timeout_s=1.0),
                ],
                refresh_s=REFRESH_S,
            )
            app = InferdeckApp(hub)
            async with app.run_test(size=(120, 40)) as pilot:

                def state() -> SourceState | None:
                    status = app.latest.source("prometheus") if app.latest else None
                    return status.state if status else None

                await until(lambda: state() is SourceState.OK, 15, "prometheus ok")
                gpus = app.screen.query_one(GpuPanel)
                # Charts start with Prometheus's past, not empty (a range query at start-up).
                await until(
                    lambda: app.latest is not None
                    and sum(v == v for v in app.latest.history.get("fleet.e2e_p95", ())) >= 5
                    and len(app.latest.history["fleet.e2e_p95"]) >= 100,
                    10, "history filled from Prometheus",
                )  # fmt: skip

                prometheus.kill()
                took = await until(
                    lambda: "prometheus ERROR" in str(gpus.border_subtitle), 2 * REFRESH_S + 1.5,
                    "the prometheus error on the GPUs panel",
                )  # fmt: skip
                print(f"prometheus outage shown after {took:.2f}s")
                assert gpus.has_class("-error")

                # The scrape source keeps the rest of the screen live meanwhile.
                table = app.screen.query_one(BackendsTable)
                seen_at = app.latest.taken_at if app.latest else 0.0
                await until(lambda: app.latest is not None and app.latest.taken_at > seen_at + 2,
                            5, "newer snapshots")  # fmt: skip
                assert app.latest is not None
                assert app.latest.source("scrape").state is SourceState.OK  # type: ignore[union-attr]
                assert app.latest.freshest_data_at is not None
                assert time.time() - app.latest.freshest_data_at < 2 * REFRESH_S + 0.5
                assert table.row_count == 3
                await pilot.press("p")  # the keyboard still answers
                await pilot.press("p")

                restarted = start_prometheus(
                    tmp_path / "prom", sim_jobs(description), port=prometheus.port
                )
                try:
                    await until(lambda: state() is SourceState.OK, 15, "prometheus back")
                    await until(lambda: "ERROR" not in str(gpus.border_subtitle), 3, "panel ok")
                finally:
                    restarted.stop()
        finally:
            prometheus.stop()
