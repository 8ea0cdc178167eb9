"""What the judging commands (``slo``, ``capacity``, ``cost``, ``models``) share: a look at
the fleet.

`observed` loads the config (or starts the simulator with ``--demo``), polls the
configured sources a few times ``--interval`` apart — rates need two polls, and the
budget without Prometheus needs inferdeck's own history — and reads the engine's
finished-request counters before and after, for the timeout rate. The Prometheus source,
when configured, stays open for the command's range queries until the block ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Iterator

from tui.analysis.budget import TimeoutRate
from tui.commands.common import load_dashboard_config
from tui.commands.dashboard import demo_config_from, demo_extras, sim_config_from
from tui.config import Config
from tui.hub import Hub
from tui.judging import DEMO_MAX_NUM_SEQS, Observation
from tui.model import FleetSnapshot
from tui.sources.aborts import abort_share, finished_by_reason
from tui.sources.prometheus import PrometheusSource
from tui.wiring import simulated_fleet, sources_for

__all__ = ["DEMO_MAX_NUM_SEQS", "Observation", "add_observe_arguments", "demo_extras", "observed"]


def add_observe_arguments(parser: argparse.ArgumentParser) -> None:
    """``--demo``, ``--seed``, ``--samples``, ``--interval``."""
    parser.add_argument("--demo", action="store_true", help="judge a simulated fleet")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed with --demo")
    parser.add_argument(
        "--samples", type=int, default=3, help="polls of the fleet, --interval apart (default 3)"
    )
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between polls (default 1)"
    )


def _poll(config: Config, control: str | None, samples: int, interval_s: float) -> tuple[
    list[FleetSnapshot], TimeoutRate | None, PrometheusSource | None
]:  # fmt: skip
    sources = sources_for(config, control)
    hub = Hub(sources, environment=config.environment, slo_tier=config.slo_tier)
    urls = [(b.url, b.credentials) for b in config.backends]
    before = finished_by_reason(urls) if urls else None
    history: list[FleetSnapshot] = []
    prometheus = next((s for s in sources if isinstance(s, PrometheusSource)), None)

    async def polls() -> None:
        try:
            for i in range(max(samples, 2)):
                if i:
                    await asyncio.sleep(max(interval_s, 0.1))
                history.append(await hub.poll_once())
        finally:  # async clients belong to this loop; Prometheus's client is blocking
            for source in sources:
                if source is not prometheus:
                    await source.aclose()

    asyncio.run(polls())
    timeout = abort_share(before, finished_by_reason(urls)) if before is not None else None
    return history, timeout, prometheus


@contextlib.contextmanager
def observed(args: argparse.Namespace) -> Iterator[Observation]:
    """Look at the fleet the arguments name; sources are closed when the block ends."""
    samples = getattr(args, "samples", 3)
    interval = getattr(args, "interval", 1.0)
    with contextlib.ExitStack() as stack:
        if getattr(args, "demo", False):
            description = stack.enter_context(simulated_fleet(sim_config_from(args)))
            time.sleep(2.0)  # let the load generator finish some requests
            config = demo_extras(demo_config_from(description, args), description)
            control: str | None = description["control"]
        else:
            config, control = load_dashboard_config(args), None
        history, timeout, prometheus = _poll(config, control, samples, interval)
        if prometheus is not None:
            stack.callback(lambda: asyncio.run(prometheus.aclose()))
        yield Observation(
            config, history[-1], history, interval, timeout, prometheus, control is not None
        )
