"""The simulator's queueing model, GPUs and faults behave like the real thing, deterministically."""

from __future__ import annotations

import random

import pytest

from tui.sim.config import SimConfig, parse_pools
from tui.sim.engine import Engine, EngineParams
from tui.sim.fleet import FaultError, SimFleet
from tui.sim.gpu import GpuLoad, SimGpu


def _drive(engine: Engine, rps: float, seconds: float, seed: int = 1) -> list[int]:
    """Poisson arrivals into ``engine``; returns the queue length after every second."""
    rng = random.Random(seed)
    queue: list[int] = []
    t = rng.expovariate(rps)
    for second in range(1, int(seconds) + 1):
        while t < second:
            engine.step(t - engine.now)
            engine.submit(int(rng.uniform(100, 500)), 512)
            t += rng.expovariate(rps)
        engine.step(second - engine.now)
        queue.append(engine.num_waiting)
    return queue


def _without_created(text: bytes) -> list[str]:
    """The simulation's own lines: no creation stamps, no real-process collectors."""
    return [
        ln
        for ln in text.decode().splitlines()
        if "_created" not in ln and "process_" not in ln and "python_" not in ln
    ]


# ------------------------------------------------------------------ engine model
def test_queue_stays_empty_under_capacity_and_grows_beyond_it() -> None:
    light = _drive(Engine(seed=1), rps=6, seconds=60)
    assert max(light[10:]) <= 2
    heavy = _drive(Engine(seed=1), rps=25, seconds=60)
    assert heavy[29] > 20
    assert heavy[59] > heavy[29] + 20  # keeps growing: arrivals exceed throughput


def test_ttft_is_queue_time_plus_prefill() -> None:
    engine = Engine(seed=3)
    _drive(engine, rps=25, seconds=40)
    engine.step(5.0)
    started = [r for r in engine.running if r.first_token_at is not None]
    assert started
    for req in started:
        assert req.ttft is not None and req.queue_time is not None
        assert req.first_token_at is not None and req.scheduled_at is not None
        prefill = req.first_token_at - req.scheduled_at
        assert req.ttft == pytest.approx(req.queue_time + prefill)
        assert 0 < prefill < 0.5
    assert max(r.queue_time or 0.0 for r in started) > 1.0  # overloaded: they queued
    light = Engine(seed=3)
    _drive(light, rps=4, seconds=40)
    heavy_p95, light_p95 = engine.stats.ttft.quantile(0.95), light.stats.ttft.quantile(0.95)
    assert heavy_p95 is not None and light_p95 is not None and heavy_p95 > 10 * light_p95


def test_inter_token_latency_grows_with_batch_size() -> None:
    def mean_itl(batch: int) -> float:
        engine = Engine(seed=1)
        for _ in range(batch):
            engine.submit(200, 1000, output_tokens=300)
        engine.step(2.0)
        assert engine.num_running == batch
        return engine.stats.inter_token.sum / engine.stats.inter_token.count

    small, large = mean_itl(4), mean_itl(48)
    p = EngineParams()
    assert small == pytest.approx(p.step_base_s + 4 * p.step_per_seq_s)
    assert large == pytest.approx(p.step_base_s + 48 * p.step_per_seq_s)
    assert large > 1.5 * small


def test_kv_usage_follows_the_tokens_of_running_requests() -> None:
    engine = Engine(seed=2)
    assert engine.kv_usage == 0.0
    for _ in range(20):
        engine.submit(480, 400, output_tokens=200)
    engine.step(0.5)
    blocks = sum(-(-(r.prompt_tokens + r.generated) // 16) for r in engine.running)
    assert engine.kv_usage == pytest.approx(blocks / 2048)
    first = engine.kv_usage
    engine.step(1.0)
    assert engine.kv_usage > first  # generated tokens take blocks too
    engine.step(30.0)
    assert engine.num_running == 0 and engine.kv_usage == 0.0  # finished requests free theirs


def test_requests_finish_on_stop_or_length_with_exact_token_counts() -> None:
    engine = Engine(seed=4)
    short = engine.submit(100, 10, output_tokens=50)
    natural = engine.submit(100, 500, output_tokens=40)
    engine.step(10.0)
    assert (short.finish_reason, short.generated) == ("length", 10)
    assert (natural.finish_reason, natural.generated) == ("stop", 40)
    assert engine.stats.generation_tokens == 50
    assert engine.stats.success["length"] == 1 and engine.stats.success["stop"] == 1


def test_kv_pressure_preempts_and_the_preempted_request_still_completes() -> None:
    engine = Engine(seed=5)
    engine.kv_fraction = 0.1
    reqs = [engine.submit(600, 1000, output_tokens=300) for _ in range(12)]
    engine.step(120.0)
    assert engine.stats.preemptions > 0
    assert all(r.finish_reason == "stop" and r.generated == 300 for r in reqs)
    assert any(r.preemptions > 0 for r in reqs)


# ----------------------------------------------------------------------- fleet
def _p95_e2e(fleet: SimFleet, backend: str) -> float:
    q = fleet.backend(backend).engine.stats.e2e.quantile(0.95)
    assert q is not None
    return q


def test_default_operating_point_is_comfortable() -> None:
    fleet = SimFleet(SimConfig())
    queues: list[int] = []
    for _ in range(120):
        fleet.advance(1.0)
        queues.append(fleet.backend("blue-0").engine.num_waiting)
    stats = fleet.backend("blue-0").engine.stats
    p95 = stats.ttft.quantile(0.95)
    assert p95 is not None and p95 < 1.0
    assert 3.0 < _p95_e2e(fleet, "blue-0") < 9.0
    assert sum(queues) / len(queues) < 1.0
    assert 0.15 < fleet.backend("blue-0").engine.kv_usage < 0.7
    green = fleet.backend("green-0").engine.stats
    assert sum(green.success.values()) < sum(stats.success.values()) / 2  # 10 % vs 45 %


def test_doubling_the_rate_makes_the_queue_grow() -> None:
    fleet = SimFleet(SimConfig(rps=40.0))
    fleet.advance(60.0)
    first = fleet.backend("blue-0").engine.num_waiting
    fleet.advance(30.0)
    assert first > 30
    assert fleet.backend("blue-0").engine.num_waiting > first


def test_clients_give_up_after_a_minute_which_bounds_the_queue() -> None:
    fleet = SimFleet(SimConfig())
    fleet.set_fault("blue-0", "latency", 10.0)
    fleet.advance(100.0)
    engine = fleet.backend("blue-0").engine
    assert engine.stats.success["abort"] > 100
    assert engine.num_waiting < 9 * 1.2 * 61  # at most a minute of arrivals
    assert all(fleet.now - r.arrival <= 61 for r in engine.waiting)


def test_latency_fault_pushes_e2e_p95_above_15s() -> None:
    fleet = SimFleet(SimConfig())
    fleet.set_fault("blue-0", "latency")  # default x3
    fleet.advance(90.0)
    assert _p95_e2e(fleet, "blue-0") > 15.0
    assert _p95_e2e(fleet, "blue-1") < 9.0


def test_errors_fault_shows_its_fraction_in_5xx_counts() -> None:
    fleet = SimFleet(SimConfig())
    fleet.advance(10.0)
    fleet.set_fault("blue-1", "errors", 0.3)
    fleet.advance(60.0)
    http = fleet.backend("blue-1").http
    errors, ok = http.count("5xx"), http.count("2xx")
    assert 0.2 < errors / (errors + ok) < 0.4
    assert fleet.backend("blue-0").http.count("5xx") == 0
    assert fleet.backend("blue-1").engine.stats.success["error"] == errors


def test_kv_pressure_fault_fills_the_cache_preempts_and_queues() -> None:
    fleet = SimFleet(SimConfig())
    fleet.advance(30.0)
    before = fleet.backend("blue-0").engine.kv_usage
    fleet.set_fault("blue-0", "kv-pressure")
    fleet.advance(60.0)
    engine = fleet.backend("blue-0").engine
    assert engine.kv_usage > 0.8 > before
    assert engine.stats.preemptions > 0
    assert engine.num_waiting > 20


def test_overheat_raises_temperature_and_throttles() -> None:
    fleet = SimFleet(SimConfig())
    fleet.advance(30.0)
    gpu = fleet.gpus[0]
    cool = gpu.temp_c
    fleet.set_fault("blue-0", "overheat")
    fleet.advance(20.0)
    assert cool < gpu.temp_c < 85  # lags: not there yet
    fleet.advance(150.0)
    assert gpu.temp_c > 87
    assert gpu.sm_clock_mhz < 1980
    assert fleet.backend("blue-0").engine.slowdown > 1.0
    assert fleet.gpus[1].temp_c < 75 and fleet.gpus[1].sm_clock_mhz == 1980
    fleet.set_fault("blue-0", "clear")
    fleet.advance(200.0)
    assert gpu.temp_c < 75


def test_temperature_lags_load() -> None:
    gpu = SimGpu(0, seed=1)
    busy = GpuLoad(busy=1.0, batch_ratio=1.0, kv_usage=0.5, weights_mib=17000, kv_pool_mib=40000)
    start = gpu.temp_c
    gpu.update(1.0, busy)
    assert gpu.util_pct > 50  # utilisation reacts within a second
    for _ in range(9):
        gpu.update(1.0, busy)
    after_10s = gpu.temp_c
    for _ in range(290):
        gpu.update(1.0, busy)
    steady = gpu.temp_c
    assert start < after_10s < start + 0.35 * (steady - start)
    for _ in range(10):
        gpu.update(1.0, None)
    assert gpu.util_pct < 1 and gpu.temp_c > start + 0.6 * (steady - start)  # cools slowly
    assert gpu.power_w < 80


def test_gpu_follows_its_backend_and_the_spare_idles() -> None:
    fleet = SimFleet(SimConfig())
    fleet.advance(60.0)
    blue, green, spare = fleet.gpus[0], fleet.gpus[2], fleet.gpus[3]
    assert blue.util_pct > green.util_pct > spare.util_pct == 0
    assert blue.fb_used_mib > green.fb_used_mib > spare.fb_used_mib == 0
    assert blue.power_w > green.power_w > spare.power_w


def test_crash_drops_traffic_to_the_pool_and_clear_restarts_with_fresh_counters() -> None:
    fleet = SimFleet(SimConfig())
    fleet.advance(20.0)
    fleet.set_fault("blue-0", "crash")
    assert fleet.backend("blue-0").engine.num_running == 0
    done_blue1 = sum(fleet.backend("blue-1").engine.stats.success.values())
    fleet.advance(20.0)
    assert (
        fleet.backend("blue-0").engine.stats.prompt_tokens
        == fleet.backend("blue-0").engine.stats.prompt_tokens
    )  # nothing new reaches the crashed backend
    assert sum(fleet.backend("blue-1").engine.stats.success.values()) - done_blue1 > 250
    fleet.set_fault("blue-0", "clear")
    assert fleet.backend("blue-0").engine.stats.prompt_tokens == 0  # the process restarted
    fleet.advance(5.0)
    assert fleet.backend("blue-0").engine.stats.prompt_tokens > 0


def test_unknown_backend_kind_or_value_is_a_clear_error() -> None:
    fleet = SimFleet(SimConfig())
    with pytest.raises(FaultError, match=r"unknown backend 'red-0'.*blue-0"):
        fleet.set_fault("red-0", "crash")
    with pytest.raises(FaultError, match="unknown fault kind 'melt'"):
        fleet.set_fault("blue-0", "melt")
    with pytest.raises(FaultError, match="errors must be between 0 and 1"):
        fleet.set_fault("blue-0", "errors", 2.0)
    with pytest.raises(ValueError, match="unknown pool 'red'"):
        fleet.set_weights({"red": 10})


def test_weights_split_the_traffic() -> None:
    fleet = SimFleet(SimConfig())
    fleet.set_weights({"blue": 50, "green": 50})
    fleet.advance(30.0)
    blue = sum(fleet.backend(n).engine.stats.prompt_tokens for n in ("blue-0", "blue-1"))
    green = fleet.backend("green-0").engine.stats.prompt_tokens
    assert 0.7 < blue / green < 1.4


# ------------------------------------------------------------------ determinism
def test_same_seed_same_run_different_seed_different_run() -> None:
    def run(seed: int) -> tuple[list[str], bytes]:
        fleet = SimFleet(SimConfig(seed=seed))
        for _ in range(20):
            fleet.advance(1.5)
        fleet.set_fault("blue-0", "latency", 2.0)
        fleet.advance(10.0)
        text = [ln for b in fleet.backends for ln in _without_created(fleet.metrics_text(b.name))]
        return text, fleet.gpu_metrics_text()

    first, second, other = run(7), run(7), run(8)
    assert first == second
    assert first != other


# ----------------------------------------------------------------------- config
def test_parse_pools() -> None:
    assert parse_pools("blue=2,green=1") == {"blue": 2, "green": 1}
    assert parse_pools(" a=1 , b=3 ") == {"a": 1, "b": 3}
    for bad, message in [
        ("", "no pools"),
        ("blue", "expected NAME=COUNT"),
        ("blue=x", "bad backend count"),
        ("blue=0", "at least one backend"),
        ("blue=1,blue=2", "given twice"),
        ("Blue=1", "bad pool name"),
    ]:
        with pytest.raises(ValueError, match=message) as info:
            parse_pools(bad)
        assert "\n" not in str(info.value)


def test_default_weights_and_more_backends_than_gpus() -> None:
    config = SimConfig(pools={"a": 2, "b": 1, "c": 2}, gpus=2)
    assert config.initial_weights() == {"a": 90.0, "b": 10.0, "c": 0.0}
    fleet = SimFleet(config)
    assert [b.name for b in fleet.backends] == ["a-0", "a-1", "b-0", "c-0", "c-1"]
    assert all(len(b.gpus) == 1 for b in fleet.backends)
    fleet.advance(10.0)
    assert fleet.backend("c-0").engine.stats.prompt_tokens == 0  # weight 0
