"""Collection cost of one refresh with 32 backends: direct scrape vs a real Prometheus.

Starts a simulated fleet of 32 backends and 64 GPUs on loopback (its own process) and a
real Prometheus scraping it every second, then times 10 collections of each source:
wall time and the CPU time this process spent (all threads: HTTP, parsing, computing),
median and p90, and the HTTP requests each collection made (the scrape source reads
every backend's /metrics each time, and its /health every 5 s while it is up: the p90
is a round with /health).
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


async def timed(source: ScrapeSource | PrometheusSource) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each of `RUNS` collections, one second apart."""
    await source.collect()  # the first one opens connections and learns the series
    await asyncio.sleep(1.0)
    wall, cpu = [], []
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        await source.collect()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(1.0)
    await source.aclose()
    return wall, cpu


def _line(name: str, times: list[float]) -> str:
    p90 = sorted(times)[int(0.9 * (len(times) - 1))]
    return f"median {statistics.median(times):7.1f}   p90 {p90:7.1f}"


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
            # A generous timeout: a simulator slowed by a busy machine must not turn into
            # timeouts (and reconnections) that the dashboard would not see on a real fleet.
            scrape = asyncio.run(
                timed(ScrapeSource(targets, (description["gpu_exporter"],), timeout_s=10))
            )
            prom = asyncio.run(timed(PrometheusSource(prometheus.url, timeout_s=10)))
        finally:
            prometheus.stop()
            sim.terminate()
            sim.wait(10)
    print("one refresh with 32 backends and 64 GPUs (ms, this machine; target: CPU < 50)")
    for name, (wall, cpu), requests in (
        ("direct scrape", scrape, f"{len(targets) + 1}; {2 * len(targets) + 1} with /health"),
        ("prometheus (PromQL)", prom, str(PrometheusSource.REQUESTS_PER_COLLECT)),
    ):
        print(f"  {name:<20} CPU  {_line(name, cpu)}   (HTTP requests: {requests})")
        print(f"  {'':<20} wall {_line(name, wall)}")


if __name__ == "__main__":
    main()
