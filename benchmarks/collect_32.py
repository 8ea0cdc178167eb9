"""Collection time of one refresh with 32 backends: direct scrape vs a real Prometheus.

Starts a simulated fleet of 32 backends and 64 GPUs on loopback and a real Prometheus
scraping it every second, then times 10 collections of each source (median, p90).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.real_servers import (
    sim_jobs,
    start_prometheus,
    wait_for_targets,
)
from tui.sources.prometheus import PrometheusSource
from tui.sources.scrape import ScrapeSource, ScrapeTarget

RUNS = 10


async def timed(source: ScrapeSource | PrometheusSource) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await source.collect()
        times.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(1.0)
    await source.aclose()
    return times


def main() -> None:
    # The simulator runs in its own process, so its work is not counted as collection.
    sim = subprocess.Popen(
        [sys.executable, "-m", "tui.commands", "sim", "--port-base", "0",
         "--pools", "blue=24,green=8", "--gpus", "64", "--rps", "150"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert sim.stdout is not None
    description = json.loads(sim.stdout.readline())
    with tempfile.TemporaryDirectory() as tmp:
        prometheus = start_prometheus(Path(tmp), sim_jobs(description))
        try:
            wait_for_targets(prometheus, 33, timeout_s=30)
            time.sleep(15)  # let rates and quantiles have a window of data
            targets = [
                ScrapeTarget(b["name"], b["pool"], b["url"]) for b in description["backends"]
            ]
            scrape = asyncio.run(timed(ScrapeSource(targets, (description["gpu_exporter"],))))
            prom = asyncio.run(timed(PrometheusSource(prometheus.url, timeout_s=10)))
        finally:
            prometheus.stop()
            sim.terminate()
            sim.wait(10)
    print("one refresh with 32 backends and 64 GPUs (ms, this machine)")
    for name, times in (("direct scrape", scrape), ("prometheus (PromQL)", prom)):
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        print(f"  {name:<20} median {statistics.median(times):7.1f}   p90 {p90:7.1f}")


if __name__ == "__main__":
    main()
