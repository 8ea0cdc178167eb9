"""CPU cost of one refresh as the fleet grows: 4/16/64 GPUs x 3/12/32 backends.

For each size, after a warm-up, it measures the CPU time (all threads) of 20 refreshes:
- collect: parsing every backend's /metrics text and the GPU exporter's, and computing
  rates and quantiles over the window (the scrape source's core, no network);
- hub: merging into a snapshot, overall state, history;
- render: handing the snapshot to the overview and painting it at 120x40 (headless).
Prints a table in milliseconds (median), "data" = collect + hub (a refresh end to end
excluding rendering; target < 50 ms at 64 GPUs / 32 backends), and the ratio of each
fleet's data and total cost to the smallest fleet's. HTTP is not in here: see
collect_32.py for a whole round over the network.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from tui.app import InferdeckApp
from tui.hub import Hub
from tui.model import Collected
from tui.sim.config import SimConfig
from tui.sim.fleet import SimFleet
from tui.sources.scrape import ScrapeState, ScrapeTarget
from tui.sources.simulated import VirtualClock

SIZES = [(4, 3), (16, 12), (64, 32)]
WARMUP, RUNS = 30, 20


class TimedSource:
    """Feeds pre-generated exposition texts through the scrape core, timing it."""

    name, interval = "scrape", 1.0

    def __init__(self, fleet: SimFleet, clock: VirtualClock) -> None:
        self.fleet, self.clock = fleet, clock
        self.targets = [ScrapeTarget(b.name, b.pool, f"sim://{b.name}") for b in fleet.backends]
        self.state = ScrapeState(self.targets, window_s=60)
        self.collect_ms: list[float] = []

    async def collect(self) -> Collected:
        self.fleet.advance(1.0)
        self.clock.advance(1.0)
        texts = [self.fleet.metrics_text(t.name).decode() for t in self.targets]
        gpu_text = self.fleet.gpu_metrics_text().decode()
        start = time.process_time()
        at = self.clock()
        for target, text in zip(self.targets, texts, strict=True):
            self.state.ingest_backend(target, text, True, None, at)
        self.state.ingest_gpus("sim://gpus", gpu_text, None, at)
        result = self.state.result(at)
        self.collect_ms.append((time.process_time() - start) * 1000)
        return result

    async def aclose(self) -> None:
        pass


async def measure(gpus: int, backends: int) -> tuple[float, float, float]:
    blue = max(1, backends * 2 // 3)
    config = SimConfig(pools={"blue": blue, "green": backends - blue}, gpus=gpus,
                       rps=6.0 * backends, port_base=0)  # fmt: skip
    clock = VirtualClock(1_795_000_000.0)
    source = TimedSource(SimFleet(config), clock)
    hub = Hub([source], clock=clock, environment="bench")
    for _ in range(WARMUP):
        await hub.poll_once()
    source.collect_ms.clear()
    hub_ms: list[float] = []
    render_ms: list[float] = []
    app = InferdeckApp(hub, clock=clock, start_hub=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(RUNS):
            result = await source.collect()  # data for this refresh (timed as collect)
            start = time.process_time()
            snapshot = hub.record(source, result)
            hub_ms.append((time.process_time() - start) * 1000)
            start = time.process_time()
            await pilot.pause()  # the app shows it, as live: the hub posted it to the app
            app.screen._compositor  # noqa: B018 - the frame is composed by now
            render_ms.append((time.process_time() - start) * 1000)
        assert app.latest is snapshot, "the app did not show the last snapshot"
        # what is measured is a live dashboard: a dimmed (stale) panel is drawn another way
        stale = [str(widget) for widget in app.screen.query(".-stale")]
        assert not stale, f"panels shown stale, so not what an operator sees: {stale}"
    return (statistics.median(source.collect_ms), statistics.median(hub_ms),
            statistics.median(render_ms))  # fmt: skip


def main() -> None:
    print("CPU cost of one refresh (median of 20, ms) - this machine")
    heads = (("GPUs", 5), ("backends", 8), ("collect", 9), ("hub", 7), ("data", 7),
             ("render", 8), ("total", 8), ("data x", 7), ("total x", 8))  # fmt: skip
    print(" ".join(f"{h:>{w}}" for h, w in heads))
    base: tuple[float, float] | None = None
    for gpus, backends in SIZES:
        collect, hub, render = asyncio.run(measure(gpus, backends))
        data = collect + hub
        total = data + render
        base = base or (data, total)
        print(f"{gpus:>5} {backends:>8} {collect:>9.1f} {hub:>7.2f} {data:>7.1f} {render:>8.1f} "
              f"{total:>8.1f} {data / base[0]:>7.1f} {total / base[1]:>8.1f}")  # fmt: skip
    print("fleet grows 10.7x (backends) / 16x (GPUs) from the first row to the last;"
          " target: data < 50 ms at 64/32")  # fmt: skip


if __name__ == "__main__":
    main()
