"""Old data never looks live: what the hub does with a source that stops answering."""

from __future__ import annotations

import math

from tui.hub import Hub, merge
from tui.model import (
    Alert,
    Backend,
    Collected,
    Gpu,
    Health,
    OverallState,
    Pool,
    Quantiles,
    Severity,
    SourceState,
    Traffic,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Fake:
    """A source whose next answer the test sets: a result, or an exception."""

    def __init__(self, name: str, result: Collected | Exception, interval: float = 1.0) -> None:
        self.name, self.interval = name, interval
        self.answer: Collected | Exception = result

    async def collect(self) -> Collected:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def aclose(self) -> None:
        pass


GPU = Gpu(host="h", index=0, util_pct=40.0, temp_c=60.0, mem_used_mib=1.0, mem_total_mib=2.0)
ALERT = Alert(
    "LLMHighLatency", Severity.WARNING, "slow", {"alertname": "LLMHighLatency"}, 900.0, "f1"
)


def prometheus_like() -> Fake:
    return Fake("prometheus", Collected(gpus=(GPU,), alerts=(ALERT,)))


def backends_source(*healths: Health) -> Fake:
    backends = tuple(
        Backend(name=f"b{i}", pool="blue", url=f"http://h:{i}", health=h, running=3.0)
        for i, h in enumerate(healths)
    )
    return Fake("scrape", Collected(backends=backends, fleet=Pool("fleet", len(healths), 1)))


async def test_a_recent_failure_is_shown_as_error_with_last_figures_but_not_charted() -> None:
    clock, prom, scrape = Clock(), prometheus_like(), backends_source(Health.UP)
    hub = Hub([scrape, prom], clock=clock, refresh_s=1.0)
    first = await hub.poll_once()
    assert first.gpus[0].util_pct == 40.0
    prom.answer = RuntimeError("connection refused")
    clock.now += 1.0
    snapshot = await hub.poll_once()
    status = snapshot.source("prometheus")
    assert status is not None and status.state is SourceState.ERROR
    assert snapshot.gpus[0].util_pct == 40.0  # within 3 intervals: last figures, border says ERROR
    history = snapshot.history["gpu.h/0.util"]
    assert history[0] == 40.0 and math.isnan(history[-1])  # no invented point


async def test_after_three_intervals_figures_go_and_alerts_are_last_known() -> None:
    clock, prom, scrape = Clock(), prometheus_like(), backends_source(Health.UP)
    hub = Hub([scrape, prom], clock=clock, refresh_s=1.0)
    await hub.poll_once()
    prom.answer = RuntimeError("connection refused")
    for _ in range(4):
        clock.now += 1.0
        snapshot = await hub.poll_once()
    gpu = snapshot.gpus[0]
    assert gpu.key == "h/0" and gpu.util_pct is None and gpu.temp_c is None
    (alert,) = snapshot.alerts
    assert alert.name == "LLMHighLatency" and alert.last_known_at == 1000.0
    assert snapshot.overall is OverallState.WARNING
    assert "prometheus ERROR: connection refused" in snapshot.overall_reasons
    assert all(math.isnan(v) for v in snapshot.history["gpu.h/0.util"][1:])


async def test_a_hung_source_goes_stale_and_its_figures_go() -> None:
    clock, prom, scrape = Clock(), prometheus_like(), backends_source(Health.UP)
    hub = Hub([scrape, prom], clock=clock, refresh_s=1.0)
    await hub.poll_once()
    clock.now += 3.5  # prometheus has not answered since (it hangs): only scrape polls
    assert isinstance(scrape.answer, Collected)  # scrape answers; only prometheus hangs
    hub.record(scrape, scrape.answer)
    snapshot = hub.latest
    assert snapshot is not None
    status = snapshot.source("prometheus")
    assert status is not None and status.state is SourceState.STALE
    assert snapshot.gpus[0].util_pct is None
    assert "prometheus STALE 4s" in snapshot.overall_reasons


async def test_no_source_answering_says_no_data() -> None:
    clock, prom, scrape = Clock(), prometheus_like(), backends_source(Health.UP)
    hub = Hub([scrape, prom], clock=clock, refresh_s=1.0)
    await hub.poll_once()
    prom.answer = scrape.answer = RuntimeError("connection refused")
    clock.now += 1.0
    snapshot = await hub.poll_once()
    assert snapshot.overall is OverallState.NO_DATA
    assert snapshot.overall_reasons[0] == "no source answers"


async def test_a_live_alert_beats_a_last_known_one() -> None:
    old = Collected(alerts=(Alert("A", Severity.CRITICAL, "", {}, 1.0, "f", last_known_at=5.0),))
    live = Collected(alerts=(Alert("A", Severity.CRITICAL, "", {}, 1.0, "f"),))
    for order in ([old, live], [live, old]):
        snapshot = merge(order, taken_at=9.0, environment="e", slo_tier="standard")
        assert [a.last_known_at for a in snapshot.alerts] == [None]


def test_a_pool_with_nothing_up_has_no_figures() -> None:
    dead = Pool(
        "green", 1, 0, running=2.0, waiting=1.0, ttft=Quantiles(p95=0.04),
        traffic=Traffic(requests_per_min=54.0, error_rate=0.0),
    )  # fmt: skip
    snapshot = merge([Collected(pools=(dead,), weights={"green": 10.0})], taken_at=1.0,
                     environment="e", slo_tier="standard")  # fmt: skip
    (pool,) = snapshot.pools
    assert (pool.name, pool.backends, pool.healthy, pool.weight) == ("green", 1, 0, 10.0)
    assert pool.running is None and pool.ttft.p95 is None
    assert pool.traffic.requests_per_min is None and pool.traffic.error_rate is None


async def test_a_pool_with_traffic_and_nothing_up_is_a_critical_alert() -> None:
    backends = (
        Backend(name="blue-0", pool="blue", url="http://h:0", health=Health.UP),
        Backend(name="green-0", pool="green", url="http://h:1", health=Health.DOWN,
                reason="connection refused"),
    )  # fmt: skip
    source = Fake("scrape", Collected(backends=backends, weights={"blue": 90.0, "green": 10.0}))
    clock = Clock()
    hub = Hub([source], clock=clock)
    first = await hub.poll_once()
    (alert,) = [a for a in first.alerts if a.name == "PoolWithoutHealthyBackend"]
    assert alert.severity is Severity.CRITICAL and alert.labels["pool"] == "green"
    assert "green gets 10% of the traffic" in alert.summary
    assert first.overall is OverallState.DOWN or first.overall is OverallState.DEGRADED
    assert any(r.startswith("PoolWithoutHealthyBackend pool=green") for r in first.overall_reasons)
    clock.now += 5
    again = await hub.poll_once()
    assert [a.starts_at for a in again.alerts if a.name == alert.name] == [1000.0]
    source.answer = Collected(backends=backends, weights={"blue": 100.0, "green": 0.0})
    assert not [a for a in (await hub.poll_once()).alerts if a.name == alert.name]


async def test_for_never_goes_backwards_when_sources_disagree_on_the_start() -> None:
    labels = {"alertname": "LLMServiceDown", "backend": "blue-0"}

    def view(start: float, source: str) -> Collected:
        return Collected(alerts=(Alert("LLMServiceDown", Severity.CRITICAL, "", labels, start,
                                       "fp", source=source),))  # fmt: skip

    clock = Clock()
    prom = Fake("prometheus", view(990.0, "prometheus"))  # activeAt: pending since 990
    am = Fake("alertmanager", RuntimeError("not yet"))  # fired at 992 (for: 2s), late
    hub = Hub([prom, am], clock=clock)
    first = await hub.poll_once()
    assert first.alerts[0].starts_at == 990.0
    am.answer = view(992.0, "alertmanager")
    clock.now += 1
    second = await hub.poll_once()
    assert second.alerts[0].source == "alertmanager"  # its view wins (it knows silences)
    assert second.alerts[0].starts_at == 990.0  # but "For" does not jump back by 2s
