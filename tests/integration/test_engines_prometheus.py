"""A mixed fleet (vLLM, SGLang, TGI, llama.cpp pools) through a real Prometheus and the
direct scrape: both collectors detect each engine and agree on what it does not expose."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.integration.real_servers import (
    host_port,
    running_sim,
    sim_jobs,
    start_prometheus,
    wait_for,
    wait_for_targets,
)
from tui.model import Collected, Health
from tui.sources.prometheus import PrometheusSource
from tui.sources.scrape import ScrapeSource, ScrapeTarget

ENGINES = {"blue": "vllm", "green": "sglang", "red": "tgi", "grey": "llamacpp"}


def test_mixed_fleet_through_prometheus_and_direct_scrape(tmp_path: Path) -> None:
    pools = dict.fromkeys(ENGINES, 1)
    weights = dict.fromkeys(ENGINES, 25.0)
    with running_sim(pools=pools, engines=ENGINES, weights=weights, gpus=0, rps=12, seed=5) as sim:
        description = sim.description
        prometheus = start_prometheus(tmp_path / "prom", sim_jobs(description))
        try:
            wait_for_targets(prometheus, len(pools) + 1)
            models = {host_port(b["url"]): f"model-{b['pool']}" for b in description["backends"]}
            source = PrometheusSource(prometheus.url, window="20s", timeout_s=5.0, models=models)

            def collected_all() -> Collected | None:
                got = asyncio.run(source.collect())
                ready = got.backends and all(
                    b.engine and b.running is not None and b.traffic.generation_tokens_per_s
                    for b in got.backends
                )
                return got if ready else None

            via_prom = wait_for(collected_all, 40.0, 1.0)
            assert via_prom is not None, "Prometheus never had every engine's figures"
            targets = [
                ScrapeTarget(b["name"], b["pool"], b["url"], model="m")
                for b in description["backends"]
            ]
            scrape = ScrapeSource(targets, window_s=20.0)

            async def twice() -> Collected:
                await scrape.collect()
                await asyncio.sleep(2.0)
                out = await scrape.collect()
                await scrape.aclose()
                return out

            direct = asyncio.run(twice())
            assert direct.backends and len(direct.backends) == len(pools)
            by_pool = {b.pool: b for b in via_prom.backends}
            for b in direct.backends:
                theirs = by_pool[b.pool]
                assert b.engine == theirs.engine == ENGINES[b.pool]
                assert b.health is Health.UP and theirs.health is Health.UP
                assert b.unexposed == theirs.unexposed, b.pool
            # TGI and llama.cpp name no model: it comes from the config; the others' own label
            assert by_pool["red"].model == "model-red" and by_pool["grey"].model == "model-grey"
            assert by_pool["green"].model == "llama-3.1-8b-instruct-v2"
            assert by_pool["green"].ttft.p95 is not None  # SGLang's own histogram
            assert by_pool["red"].ttft.p95 is None and "ttft" in by_pool["red"].unexposed
            assert by_pool["grey"].inter_token.mean is not None  # llama.cpp: a mean only
            assert by_pool["grey"].inter_token.p95 is None
            assert via_prom.fleet is not None and "ttft" in via_prom.fleet.unexposed
        finally:
            prometheus.stop()
