"""PrometheusSource against a real Prometheus scraping the simulator (both metric generations)."""

from __future__ import annotations

import asyncio
import math
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.real_servers import (
    ScrapeJob,
    ServerProcess,
    host_port,
    running_sim,
    sim_jobs,
    start_prometheus,
    wait_for,
    wait_for_targets,
)
from tui.analysis.fingerprint import fingerprint
from tui.model import Collected, Health, Severity
from tui.sources._dcgm import gpus_from_samples, host_of_url
from tui.sources.prometheus import PrometheusError, PrometheusSource
from tui.sources.promtext import parse_exposition

pytestmark = pytest.mark.integration

HOSTILE = {"evil": "$(touch /tmp/inferdeck-pwned)", "markup": "[bold red]x[/]", "esc": "\x1b[31m"}
RULES = {
    "groups": [
        {
            "name": "inferdeck-test",
            "rules": [
                {
                    "alert": "InferdeckAlways",
                    "expr": "vector(1)",
                    "labels": {"severity": "critical", **HOSTILE},
                    "annotations": {"summary": "always firing [b]test[/b]"},
                }
            ],
        }
    ]
}


class Stack:
    """The simulator (current metrics), a legacy one (old names, `vllm_` spelling), Prometheus."""

    def __init__(self, sim: Any, legacy: Any, prometheus: ServerProcess) -> None:
        self.sim, self.legacy, self.prometheus = sim, legacy, prometheus

    @property
    def backends(self) -> list[dict[str, str]]:
        return [*self.sim.description["backends"], *self.legacy.description["backends"]]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with (
        running_sim(seed=11, rps=30.0) as sim,
        running_sim(
            seed=5,
            rps=10.0,
            pools={"old": 1},
            gpus=0,
            vllm_metrics="legacy",
            openmetrics_escaped=True,
        ) as legacy,
    ):
        old = legacy.description["backends"][0]
        jobs = [
            *sim_jobs(sim.description),
            ScrapeJob("vllm-old", [([host_port(old["url"])], {"pool": "old"})]),
        ]
        prometheus = start_prometheus(tmp_path_factory.mktemp("prom"), jobs, rules=RULES)
        try:
            wait_for_targets(prometheus, 5)
            yield Stack(sim, legacy, prometheus)
        finally:
            prometheus.stop()


def collect(source: PrometheusSource) -> Collected:
    return asyncio.run(source.collect())


def collect_until(source: PrometheusSource, ready: Any, timeout_s: float = 15.0) -> Collected:
    """Collect until ``ready(collected)`` holds (rates need two scrapes); the last result."""
    last: list[Collected] = []

    def attempt() -> bool:
        last[:] = [collect(source)]
        return bool(ready(last[0]))

    wait_for(attempt, timeout_s, 0.5)
    return last[0]


def _all_have_latency(c: Collected) -> bool:
    return bool(c.backends) and all(
        all(q.p50 is not None for q in (b.ttft, b.e2e, b.queue_time, b.inter_token))
        and b.traffic.generation_tokens_per_s
        for b in c.backends or ()
    )


def test_every_backend_has_sane_figures(stack: Stack) -> None:
    source = PrometheusSource(stack.prometheus.url, interval=1)
    got = collect_until(source, _all_have_latency)
    assert got.backends is not None and got.pools is not None and got.fleet is not None
    by_instance = {b.name: b for b in got.backends}
    assert set(by_instance) == {host_port(b["url"]) for b in stack.backends}
    for expected in stack.backends:
        b = by_instance[host_port(expected["url"])]
        assert (b.pool, b.model, b.health, b.reason) == (
            expected["pool"],
            expected["model"],
            Health.UP,
            "",
        )
        assert b.url == expected["url"]
        assert b.running is not None and b.running >= 0 and b.waiting is not None and b.waiting >= 0
        assert b.kv_cache_usage is not None and 0 <= b.kv_cache_usage <= 1
        for q in (b.ttft, b.e2e, b.queue_time, b.inter_token):
            assert q.p50 is not None and q.p95 is not None and q.p99 is not None
            assert 0 <= q.p50 <= q.p95 <= q.p99
        assert b.traffic.generation_tokens_per_s and b.traffic.generation_tokens_per_s > 0
        assert b.traffic.prompt_tokens_per_s and b.traffic.prompt_tokens_per_s > 0
        assert b.traffic.requests_per_min is not None and b.traffic.requests_per_min >= 0
        assert b.traffic.error_rate is not None and 0 <= b.traffic.error_rate <= 1
        assert b.last_scrape is not None and time.time() - b.last_scrape < 10
    pools = {p.name: p for p in got.pools}
    assert {n: (p.backends, p.healthy) for n, p in pools.items()} == {
        "blue": (2, 2),
        "green": (1, 1),
        "old": (1, 1),
    }
    assert pools["blue"].running == sum(
        by_instance[host_port(b["url"])].running or 0 for b in stack.backends if b["pool"] == "blue"
    )
    fleet = got.fleet
    assert (fleet.backends, fleet.healthy) == (4, 4)
    assert fleet.ttft.p95 is not None and fleet.e2e.p95 is not None
    assert fleet.traffic.generation_tokens_per_s == pytest.approx(
        sum(b.traffic.generation_tokens_per_s or 0 for b in got.backends)
    )
    current = by_instance[host_port(stack.sim.description["backends"][0]["url"])]
    assert current.metric_names["vllm:kv_cache_usage_perc"] == "vllm:kv_cache_usage_perc"
    assert current.metric_names["vllm:inter_token_latency_seconds"] == (
        "vllm:inter_token_latency_seconds"
    )
    asyncio.run(source.aclose())


def test_legacy_names_and_escaped_spelling_are_found_and_reported(stack: Stack) -> None:
    source = PrometheusSource(stack.prometheus.url)
    got = collect_until(source, _all_have_latency)
    old = host_port(stack.legacy.description["backends"][0]["url"])
    (b,) = [b for b in got.backends or () if b.name == old]
    names = dict(b.metric_names)
    # the legacy generation exposes deprecated and current names side by side (as vLLM
    # 0.9 did): the current one wins, in the `vllm_` spelling Prometheus stored
    assert names["vllm:num_requests_running"] == "vllm_num_requests_running"
    assert names["vllm:kv_cache_usage_perc"] == "vllm_kv_cache_usage_perc"
    assert names["vllm:inter_token_latency_seconds"] == "vllm_inter_token_latency_seconds"
    assert all(not wire.startswith("vllm:") for wire in names.values())
    stored = httpx.get(
        stack.prometheus.url + "/api/v1/query",
        params={"query": f'vllm_gpu_cache_usage_perc{{instance="{old}"}}'},
    ).json()["data"]["result"]
    assert stored, "Prometheus should hold the deprecated name too"
    assert b.kv_cache_usage is not None and b.inter_token.p95 is not None
    assert b.traffic.generation_tokens_per_s and b.ttft.p95 is not None


def test_gpu_figures_match_the_exporter(stack: Stack) -> None:
    source = PrometheusSource(stack.prometheus.url)
    got = collect(source)
    url = stack.sim.description["gpu_exporter"]
    exported = gpus_from_samples(parse_exposition(httpx.get(url).text), host_of_url(url))
    assert got.gpus is not None and len(got.gpus) == len(exported) == 4
    for mine, theirs in zip(got.gpus, exported, strict=True):
        assert (mine.key, mine.name, mine.uuid) == (theirs.key, theirs.name, theirs.uuid)
        assert mine.mem_total_mib == theirs.mem_total_mib
        assert mine.power_limit_w == theirs.power_limit_w
        # live figures move between Prometheus's scrape and ours: a second apart at most
        assert mine.util_pct is not None and theirs.util_pct is not None
        assert abs(mine.util_pct - theirs.util_pct) <= 25
        assert mine.temp_c is not None and theirs.temp_c is not None
        assert abs(mine.temp_c - theirs.temp_c) <= 5
        assert mine.sm_clock_mhz is not None and mine.power_w is not None


def test_crashed_backend_is_down_with_prometheus_reason(stack: Stack) -> None:
    victim = stack.sim.description["backends"][-1]
    source = PrometheusSource(stack.prometheus.url)
    stack.sim.set_fault(victim["name"], "crash")
    try:

        def down(c: Collected) -> bool:
            return any(
                b.name == host_port(victim["url"]) and b.health is Health.DOWN
                for b in c.backends or ()
            )

        got = collect_until(source, down, 10)
        (b,) = [b for b in got.backends or () if b.name == host_port(victim["url"])]
        assert b.health is Health.DOWN and "refused" in b.reason
        assert got.fleet is not None and got.fleet.healthy == 3
    finally:
        stack.sim.set_fault(victim["name"], "clear")
    got = collect_until(
        source,
        lambda c: all(b.health is Health.UP for b in c.backends or ()),
        10,
    )
    assert got.fleet is not None and got.fleet.healthy == 4


def test_firing_rule_alerts_keep_labels_verbatim(stack: Stack) -> None:
    source = PrometheusSource(stack.prometheus.url)
    got = collect_until(source, lambda c: c.alerts, 10)
    (alert,) = got.alerts or ()
    labels = {"alertname": "InferdeckAlways", "severity": "critical", **HOSTILE}
    assert dict(alert.labels) == labels
    assert (alert.name, alert.severity, alert.summary) == (
        "InferdeckAlways",
        Severity.CRITICAL,
        "always firing [b]test[/b]",
    )
    assert alert.fingerprint == fingerprint(labels)
    assert alert.starts_at <= time.time() and alert.state == "firing"
    assert not Path("/tmp/inferdeck-pwned").exists()


def test_history_prefills_chart_series(stack: Stack) -> None:
    source = PrometheusSource(stack.prometheus.url)
    collect_until(source, _all_have_latency)
    history = asyncio.run(source.history(20, 1))
    for key in ("fleet.ttft_p95", "fleet.e2e_p95", "fleet.waiting", "fleet.gen_tps", "fleet.rpm"):
        assert len(history[key]) == 21
        assert any(not math.isnan(v) for v in history[key]), key
    assert {"pool.blue.waiting", "pool.green.rpm", "gpu.inferdeck-sim/0.util"} <= set(history)


def test_killed_or_hung_prometheus_raises_within_timeout_and_recovers(
    stack: Stack, tmp_path: Path
) -> None:
    jobs = sim_jobs(stack.sim.description)
    prometheus = start_prometheus(tmp_path, jobs)
    try:
        wait_for_targets(prometheus, 4)
        source = PrometheusSource(prometheus.url, timeout_s=1.0)
        assert collect(source).backends
        prometheus.signal(signal.SIGSTOP)  # hung: accepts connections, never answers
        started = time.monotonic()
        with pytest.raises(PrometheusError, match="timeout after 1s"):
            collect(source)
        assert time.monotonic() - started < 2.0
        prometheus.signal(signal.SIGCONT)
        prometheus.kill()
        started = time.monotonic()
        with pytest.raises(PrometheusError, match="connection refused") as info:
            collect(source)
        assert time.monotonic() - started < 1.0
        assert prometheus.url in str(info.value) and "\n" not in str(info.value)
        prometheus = start_prometheus(tmp_path, jobs, port=prometheus.port)
        got = collect_until(source, lambda c: len(c.backends or ()) == 3, 15)
        assert {b.health for b in got.backends or ()} == {Health.UP}
    finally:
        prometheus.stop()


def _api_requests(url: str) -> dict[str, float]:
    """Prometheus's own count of the API requests it has answered, by handler."""
    samples = parse_exposition(httpx.get(url + "/metrics").text, {"prometheus_http_requests_total"})
    return {
        s.labels["handler"]: s.value for s in samples if s.labels["handler"].startswith("/api/")
    }


def test_one_refresh_is_one_batched_query_plus_targets_and_alerts(stack: Stack) -> None:
    """A refresh costs Prometheus three requests, not one per figure (slow link, busy server)."""
    source = PrometheusSource(stack.prometheus.url)
    collect_until(source, _all_have_latency)
    before = _api_requests(stack.prometheus.url)
    got = collect(source)
    after = _api_requests(stack.prometheus.url)
    asyncio.run(source.aclose())
    made = {h: after[h] - before.get(h, 0.0) for h in after if after[h] != before.get(h, 0.0)}
    assert made == {"/api/v1/query": 1, "/api/v1/targets": 1, "/api/v1/alerts": 1}
    assert sum(made.values()) == PrometheusSource.REQUESTS_PER_COLLECT
    assert _all_have_latency(got)  # the batch still carries every figure
