"""A replica a scale-out started is a row of its pool on the dashboard, from the
dashboard's own sources (`tui.wiring.sources_for`): scraped at its own address, its own
figures, counted in its pool — and gone once scaled in. The replica here is a second
simulated backend recorded beside the nginx upstream file the way the containers scaler
records one (the lab test scales a real podman container out and in)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tui.config import load_config
from tui.hub import Hub
from tui.model import FleetSnapshot, Health
from tui.ops.containers.replicas import write_replicas
from tui.sim import SimConfig, SimRuntime
from tui.wiring import sources_for


@pytest.fixture(scope="module")
def sim() -> Iterator[SimRuntime]:
    runtime = SimRuntime(SimConfig(port_base=0, load=False, gpus=0, pools={"blue": 2}))
    runtime.start()
    yield runtime
    runtime.stop()


def _server(url: str) -> str:
    return url.split("//", 1)[1].rstrip("/")


def test_a_scaled_out_replica_is_a_row_of_its_pool_until_scaled_in(
    sim: SimRuntime, tmp_path: Path
) -> None:
    configured, replica = sim.description["backends"]
    upstream = tmp_path / "upstream.conf"
    config_path = tmp_path / "c.yaml"
    config_path.write_text(
        f"backends:\n  - {{name: blue-0, pool: blue, url: '{configured['url']}'}}\n"
        f"traffic:\n  router: nginx\n  stable_pool: blue\n  canary_pool: blue\n"
        f"  nginx:\n    upstream_file: {upstream}\n"
        f"    servers: {{blue: ['{_server(configured['url'])}']}}\n"
    )
    config = load_config(config_path)
    hub = Hub(sources_for(config), environment="test", slo_tier=config.slo_tier)
    loop = asyncio.new_event_loop()

    def poll() -> FleetSnapshot:
        return loop.run_until_complete(hub.poll_once())

    try:
        assert [b.name for b in poll().backends] == ["blue-0"]
        write_replicas(upstream, {"blue": [{"name": "vllm-blue-0-r1", "backend": "blue-r1",
                                            "server": _server(replica["url"])}]})  # fmt: skip
        poll()  # the first read of the replica (rates need two)
        for _ in range(6):
            answer = httpx.post(f"{replica['url']}/v1/completions", timeout=10,
                                json={"model": "", "prompt": "hi", "max_tokens": 2})  # fmt: skip
            assert answer.status_code == 200
        snapshot = poll()
        rows = {b.name: b for b in snapshot.backends}
        assert list(rows) == ["blue-0", "blue-r1"]
        row = rows["blue-r1"]
        assert (row.pool, row.url.rstrip("/"), row.health) == (
            "blue", replica["url"].rstrip("/"), Health.UP)  # fmt: skip
        assert row.traffic.requests_per_min and row.traffic.requests_per_min > 0
        assert rows["blue-0"].traffic.requests_per_min == 0  # its own counters, not blue-0's
        (pool,) = snapshot.pools
        assert (pool.name, pool.backends, pool.healthy) == ("blue", 2, 2)
        write_replicas(upstream, {})  # scaled in
        snapshot = poll()
        assert [b.name for b in snapshot.backends] == ["blue-0"]
        assert [(p.name, p.backends) for p in snapshot.pools] == [("blue", 1)]
    finally:
        for source in hub.sources:
            loop.run_until_complete(source.aclose())
        loop.close()
