"""Figures computed from direct scrapes agree with a real Prometheus over the same window.

The scrape source and Prometheus's `histogram_quantile` read the same simulator; their
TTFT and E2E p95 must differ by no more than one bucket's interpolation error: the width
of the bucket that holds Prometheus's answer.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.real_servers import (
    host_port,
    running_sim,
    sim_jobs,
    start_prometheus,
    wait_for_targets,
)
from tui.model import Collected
from tui.sources.scrape import ScrapeSource, ScrapeTarget

pytestmark = pytest.mark.integration

TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]  # fmt: skip
E2E_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
               60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]  # fmt: skip
WINDOW_S = 30


def bucket_width(value: float, bounds: list[float]) -> float:
    """The width of the bucket holding ``value`` (lower bound of the first is 0)."""
    i = bisect.bisect_left(bounds, value)
    lower = bounds[i - 1] if i > 0 else 0.0
    return bounds[min(i, len(bounds) - 1)] - lower


def promql(url: str, query: str) -> dict[str, float]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=5).json()
    return {r["metric"].get("instance", "fleet"): float(r["value"][1])
            for r in answer["data"]["result"]}  # fmt: skip


def test_p95_agrees_with_histogram_quantile(tmp_path: Path) -> None:
    with running_sim(pools={"blue": 2, "green": 1}, seed=11, rps=20) as sim:
        description = sim.description
        prometheus = start_prometheus(tmp_path / "prom", sim_jobs(description))
        try:
            wait_for_targets(prometheus, 4)
            targets = [
                ScrapeTarget(b["name"], b["pool"], b["url"]) for b in description["backends"]
            ]
            source = ScrapeSource(targets, interval=1.0, window_s=WINDOW_S)

            async def scrape_for(seconds: float) -> Collected:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    result = await source.collect()
                    await asyncio.sleep(1.0)
                result = await source.collect()
                await source.aclose()
                return result

            collected = asyncio.run(scrape_for(WINDOW_S + 5))
            window = f"{WINDOW_S}s"
            checks = (
                ("vllm:time_to_first_token_seconds_bucket", "ttft", TTFT_BUCKETS),
                ("vllm:e2e_request_latency_seconds_bucket", "e2e", E2E_BUCKETS),
            )
            assert collected.backends and collected.fleet
            for metric, field, bounds in checks:
                by_instance = promql(
                    prometheus.url,
                    f"histogram_quantile(0.95, sum by (le, instance) (rate({metric}[{window}])))",
                )
                fleet = promql(
                    prometheus.url,
                    f"histogram_quantile(0.95, sum by (le) (rate({metric}[{window}])))",
                )["fleet"]
                ours = getattr(collected.fleet, field).p95
                assert ours is not None
                assert abs(ours - fleet) <= bucket_width(fleet, bounds), (field, ours, fleet)
                for backend in collected.backends:
                    theirs = by_instance[host_port(backend.url)]
                    mine = getattr(backend, field).p95
                    assert mine is not None, (backend.name, field)
                    tolerance = bucket_width(theirs, bounds)
                    assert abs(mine - theirs) <= tolerance, (backend.name, field, mine, theirs)
        finally:
            prometheus.stop()
