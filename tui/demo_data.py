"""A deterministic demo: a simulated fleet advanced in virtual time, for screenshots and tests.

Same seed, same screens: the clock is virtual, so a screenshot taken twice is identical.
"""

from __future__ import annotations

from tui.hub import Hub
from tui.sim.config import SimConfig
from tui.sim.fleet import SimFleet
from tui.sources.simulated import VirtualClock, VirtualFleetSource

FROZEN_EPOCH = 1_795_000_000.0
"""2026-11-18 09:46:40 UTC: the virtual clock's start for screenshots and snapshot tests."""


def warmed_hub(
    *,
    seed: int = 7,
    seconds: int = 120,
    sim: SimConfig | None = None,
    slo_tier: str = "standard",
    environment: str = "demo",
) -> tuple[Hub, VirtualFleetSource]:
    """A hub whose history holds ``seconds`` of a simulated fleet, polled once a second."""
    clock = VirtualClock(FROZEN_EPOCH)
    source = VirtualFleetSource(SimFleet(sim or SimConfig(seed=seed)), clock)
    hub = Hub([source], environment=environment, slo_tier=slo_tier, clock=clock)
    for _ in range(seconds):
        hub.record(source, source.poll())
    return hub, source
