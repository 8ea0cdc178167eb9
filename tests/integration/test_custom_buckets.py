"""Both collectors read a backend's bucket bounds from its data, not vLLM's defaults.

vLLM 0.33's ``--custom-histogram-buckets`` replaces a family's bounds; the simulator takes
the same flag. With TTFT bounds ``[5, 10]`` and request-latency bounds ``[60, 120]``, every
observation of a healthy backend falls in the first bucket, so Prometheus's
``histogram_quantile`` (interpolating from 0) answers exactly ``q * 5`` and ``q * 60``:
0.1 s-ish figures would mean a collector had used the default layout.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.integration.real_servers import (
    host_port,
    running_sim,
    sim_jobs,
    start_prometheus,
    wait_for,
    wait_for_targets,
)
from tui.model import Collected, Quantiles
from tui.sources.prometheus import PrometheusSource
from tui.sources.scrape import ScrapeSource, ScrapeTarget

pytestmark = pytest.mark.integration

CUSTOM = {"time_to_first_token": [5.0, 10.0], "request_latency": [60.0, 120.0]}


def _first_bucket_quantiles(q: Quantiles, top: float) -> None:
    assert q.p50 == pytest.approx(0.5 * top)
    assert q.p95 == pytest.approx(0.95 * top)
    assert q.p99 == pytest.approx(0.99 * top)


def _ready(c: Collected) -> bool:
    return bool(c.backends) and all(
        b.ttft.p50 is not None and b.e2e.p50 is not None for b in c.backends or ()
    )


def test_both_collectors_use_the_served_bounds(tmp_path: Path) -> None:
    with running_sim(pools={"blue": 1}, seed=4, rps=6.0, histogram_buckets=CUSTOM) as sim:
        description = sim.description
        (backend,) = description["backends"]
        page = httpx.get(backend["url"] + "/metrics", timeout=5).text
        assert 'vllm:time_to_first_token_seconds_bucket{engine="0",le="5.0"' in page
        prometheus = start_prometheus(tmp_path / "prom", sim_jobs(description))
        try:
            wait_for_targets(prometheus, 2)
            stored = httpx.get(
                f"{prometheus.url}/api/v1/label/le/values",
                params={"match[]": "vllm:time_to_first_token_seconds_bucket"},
                timeout=5,
            ).json()["data"]
            assert sorted(stored, key=float) == ["5.0", "10.0", "+Inf"]

            source = PrometheusSource(prometheus.url, interval=1)
            last: list[Collected] = []

            def attempt() -> bool:
                last[:] = [asyncio.run(source.collect())]
                return _ready(last[0])

            assert wait_for(attempt, 30.0, 1.0), "Prometheus never had latency figures"
            (via_prometheus,) = last[0].backends or ()
            _first_bucket_quantiles(via_prometheus.ttft, 5.0)
            _first_bucket_quantiles(via_prometheus.e2e, 60.0)

            target = ScrapeTarget("blue-0", "blue", backend["url"])
            scrape = ScrapeSource([target], interval=1.0, window_s=30)

            async def scrape_until_ready() -> Collected:
                result = await scrape.collect()
                for _ in range(30):
                    if _ready(result):
                        break
                    await asyncio.sleep(1.0)
                    result = await scrape.collect()
                await scrape.aclose()
                return result

            (direct,) = asyncio.run(scrape_until_ready()).backends or ()
            assert host_port(direct.url) == host_port(backend["url"])
            _first_bucket_quantiles(direct.ttft, 5.0)
            _first_bucket_quantiles(direct.e2e, 60.0)
        finally:
            prometheus.stop()
