"""A simulated fleet read in virtual time: deterministic data for snapshots and benchmarks.

`VirtualFleetSource` advances an in-process `SimFleet` by one step per poll and feeds
its exposition text through the scrape source's own computing core, so every figure on
screen is computed exactly as it is from a live scrape, without sockets or wall time.
"""

from __future__ import annotations

from dataclasses import replace

from tui.model import Collected
from tui.sim.fleet import SimFleet
from tui.sources.scrape import ScrapeState, ScrapeTarget

GPU_EXPORTER = "sim://gpu-exporter/metrics"
"""The name the virtual GPU exporter's figures are filed under."""


class VirtualClock:
    """A clock that moves only when told: ``clock()`` returns the current epoch seconds."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move forward."""
        self.now += seconds


class VirtualFleetSource:
    """Each poll: advance the fleet ``step_s`` of virtual time, then read it like a scrape."""

    def __init__(
        self,
        fleet: SimFleet,
        clock: VirtualClock,
        *,
        step_s: float = 1.0,
        window_s: float = 60.0,
        name: str = "scrape",
    ) -> None:
        self.name = name
        self.interval = step_s
        self.fleet = fleet
        self.clock = clock
        self.step_s = step_s
        self.targets = [
            ScrapeTarget(b.name, b.pool, f"sim://{b.name}", b.model) for b in fleet.backends
        ]
        self.state = ScrapeState(self.targets, window_s=window_s)

    async def collect(self) -> Collected:
        """Advance and read every backend and the GPU exporter once."""
        return self.poll()

    def poll(self) -> Collected:
        """The synchronous body of `collect`, for callers without an event loop."""
        self.fleet.advance(self.step_s)
        self.clock.advance(self.step_s)
        at = self.clock()
        for target, backend in zip(self.targets, self.fleet.backends, strict=True):
            if backend.crashed:
                self.state.ingest_backend(target, None, False, "connection refused", at)
            elif backend.hung:
                self.state.ingest_backend(target, None, False, "timeout after 2.0s", at)
            else:
                text = self.fleet.metrics_text(backend.name).decode()
                self.state.ingest_backend(target, text, True, None, at)
        self.state.ingest_gpus(GPU_EXPORTER, self.fleet.gpu_metrics_text().decode(), None, at)
        return replace(self.state.result(at), weights=dict(self.fleet.weights))

    async def aclose(self) -> None:
        """Nothing to release."""
