"""Every engine, read from the simulator serving its real metrics: detected, figures
filled or n/a as the engine allows, per-rank series combined, buckets read from the data."""

from __future__ import annotations

import pytest

from tui.analysis.slo import overall_state, slo_exclusions
from tui.model import Backend, Collected, Health, OverallState
from tui.sim.config import SimConfig, parse_pool_engines
from tui.sim.engine_metrics import SGLANG_TP_RANKS
from tui.sim.fleet import SimFleet
from tui.sources._scrape_core import ScrapeState, ScrapeTarget
from tui.sources.engines import NO_ENGINE, UNKNOWN, detect, wanted_families
from widgets.format import DASH, not_exposed

# engine -> the figures it does not expose (read from its source; see tui/sources/engines)
UNEXPOSED = {
    "vllm": set(),
    "sglang": {"errors"},
    "tgi": {"kv_cache", "ttft", "preemptions"},
    "llamacpp": {"kv_cache", "ttft", "e2e", "queue_time", "requests", "errors", "preemptions"},
}


def _scraped(engine: str, seconds: int = 40, escaped: bool = False) -> tuple[SimFleet, Collected]:
    fleet = SimFleet(
        SimConfig(pools={"blue": 1}, engine=engine, gpus=0, rps=8, openmetrics_escaped=escaped)
    )
    target = ScrapeTarget("blue-0", "blue", "http://sim", model="from-config")
    state = ScrapeState([target])
    for k in range(seconds):
        fleet.advance(1.0)
        text = fleet.metrics_text("blue-0", openmetrics=escaped).decode()
        state.ingest_backend(target, text, True, None, 1000.0 + k)
    return fleet, state.result(1000.0 + seconds - 1)


def first(result: Collected) -> Backend:
    """The one backend of a one-backend fleet."""
    assert result.backends
    return result.backends[0]


@pytest.mark.parametrize("engine", sorted(UNEXPOSED))
def test_each_engine_is_detected_and_every_figure_is_filled_or_not_exposed(engine: str) -> None:
    fleet, result = _scraped(engine)
    assert result.backends is not None
    b = first(result)
    assert (b.engine, b.health, b.reason) == (engine, Health.UP, "")
    assert set(b.unexposed) == UNEXPOSED[engine]
    sim = fleet.backend("blue-0").engine
    assert b.running == sim.num_running and b.waiting == sim.num_waiting
    figures = {
        "kv_cache": b.kv_cache_usage,
        "ttft": b.ttft.p95,
        "e2e": b.e2e.p95,
        "queue_time": b.queue_time.p95,
        "inter_token": b.inter_token.mean,
        "prompt_tokens": b.traffic.prompt_tokens_per_s,
        "generation_tokens": b.traffic.generation_tokens_per_s,
        "requests": b.traffic.requests_per_min,
        "errors": b.traffic.error_rate,
    }
    for figure, value in figures.items():
        if figure in UNEXPOSED[engine]:
            assert value is None, figure
            assert not_exposed(DASH, figure, b.unexposed, b.engine) == f"n/a ({engine})"
        else:
            assert value is not None, figure
    assert result.fleet is not None
    assert set(result.fleet.unexposed) == UNEXPOSED[engine]


def test_models_come_from_the_config_where_the_engine_has_no_model_label() -> None:
    for engine in ("tgi", "llamacpp"):
        assert first(_scraped(engine, 3)[1]).model == "from-config"


def test_sglang_ranks_reporting_the_same_batch_are_not_added_up() -> None:
    fleet, result = _scraped("sglang")
    text = fleet.metrics_text("blue-0").decode()
    assert text.count("sglang:num_running_reqs{") == SGLANG_TP_RANKS  # one series per TP rank
    sim = fleet.backend("blue-0").engine
    assert sim.num_running > 0
    assert first(result).running == sim.num_running  # not SGLANG_TP_RANKS times it


def test_sglang_under_the_escaped_spelling_is_detected() -> None:
    fleet, result = _scraped("sglang", 10, escaped=True)
    assert "sglang_num_running_reqs{" in fleet.metrics_text("blue-0", openmetrics=True).decode()
    assert first(result).engine == "sglang"
    assert first(result).metric_names["vllm:num_requests_running"].startswith("sglang_")


def test_quantiles_come_from_the_engines_own_buckets() -> None:
    # SGLang's TTFT buckets start at 0.1 s: a p50 below 0.1 s can only come from them
    # (vLLM's would put it near the observations themselves).
    _, result = _scraped("sglang")
    ttft = first(result).ttft
    assert ttft.p50 is not None and 0.0 < ttft.p50 <= 0.1
    _, vllm = _scraped("vllm")
    assert first(vllm).ttft.p50 != ttft.p50


def test_a_target_matching_no_engine_is_shown_as_such_and_is_not_ok() -> None:
    target = ScrapeTarget("odd-0", "blue", "http://odd")
    state = ScrapeState([target])
    page = "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 3.0\n"
    state.ingest_backend(target, page, True, None, 1000.0)
    result = state.result(1000.0)
    assert result.backends is not None
    b = first(result)
    assert (b.engine, b.health, b.reason) == (UNKNOWN, Health.UNKNOWN, NO_ENGINE)
    verdict, reasons = overall_state(result.backends, result.fleet)
    assert verdict is not OverallState.OK
    assert any("no known engine" in r for r in reasons)


def test_a_figure_an_engine_lacks_is_left_out_of_the_slo_with_the_reason() -> None:
    _, result = _scraped("tgi")
    assert result.fleet is not None
    verdict, reasons = overall_state(result.backends, result.fleet)
    assert verdict is OverallState.OK
    assert "TTFT not judged: n/a (tgi)" in reasons
    assert slo_exclusions(result.fleet) == ["TTFT not judged: n/a (tgi)"]


def test_detection_by_prefix_and_the_scraper_keeps_every_engines_families() -> None:
    tgi, llamacpp = detect(["tgi_queue_size"]), detect(["llamacpp_requests_processing"])
    assert tgi is not None and tgi.name == "tgi"
    assert llamacpp is not None and llamacpp.name == "llamacpp"
    assert detect(["http_requests_total"]) is None
    wanted = wanted_families()
    for name in (
        "vllm:num_requests_running",
        "vllm_num_requests_running",
        "sglang:token_usage",
        "sglang_token_usage",
        "tgi_request_duration_bucket",
        "tgi_request_failure",
        "llamacpp:tokens_predicted_seconds_total",
    ):
        assert name in wanted


def test_pools_name_their_engine_and_bad_engines_are_one_line_errors() -> None:
    assert parse_pool_engines("blue=2:vllm,green=1:sglang") == (
        {"blue": 2, "green": 1},
        {"blue": "vllm", "green": "sglang"},
    )
    with pytest.raises(ValueError, match="unknown engine 'foo' for pool 'green'"):
        parse_pool_engines("blue=2,green=1:foo")
    fleet = SimFleet(SimConfig(pools={"blue": 1, "green": 1}, engines={"green": "tgi"}, gpus=0))
    assert [b.engine_name for b in fleet.backends] == ["vllm", "tgi"]
    assert fleet.metrics_text("green-0").startswith(b"# HELP tgi_request_count")


def test_rps_is_for_the_fleet_and_a_per_backend_rate_is_available() -> None:
    import argparse

    from tui.commands.sim import add_sim_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_sim_arguments(parser)
    assert "whole fleet" in parser.format_help()
    fleet = config_from_args(parser.parse_args(["--pools", "blue=2,green=1", "--rps", "6"]))
    per = config_from_args(
        parser.parse_args(["--pools", "blue=2,green=1", "--rps-per-backend", "2"])
    )
    assert fleet.rps == per.rps == 6.0
    with pytest.raises(SystemExit):  # one or the other, not both
        parser.parse_args(["--rps", "6", "--rps-per-backend", "2"])


def test_a_health_probe_job_naming_known_backends_is_not_a_backend_of_unknown_engine() -> None:
    from tui.sources._prom_parse import backends_and_pools

    def item(value: float, **labels: str) -> dict[str, object]:
        return {"metric": labels, "value": [0, str(value)]}

    backend = {"job": "vllm", "instance": "h:1", "pool": "blue", "backend": "blue-0"}
    probe = {"job": "vllm-health", "instance": "nginx:80", "pool": "blue", "backend": "blue-0"}
    odd = {"job": "other", "instance": "h:9", "pool": "blue", "backend": "blue-9"}
    results = {
        "up": [item(1, **backend), item(1, **probe), item(1, **odd)],
        "names": [item(1, __name__="vllm:num_requests_running", instance="h:1", job="vllm")],
    }
    backends, _, _ = backends_and_pools(results, pool_label="pool")
    shown = {b.name: (b.engine, b.health) for b in backends}
    # the probe is not a backend; a pool-labelled target serving no engine's metrics is
    # shown, as of unknown engine and not up
    assert shown == {"blue-0": ("vllm", Health.UP), "blue-9": (UNKNOWN, Health.UNKNOWN)}


@pytest.mark.parametrize("engine", sorted(UNEXPOSED))
def test_pages_read_from_the_last_ones_plan_give_the_figures_of_a_full_read(engine: str) -> None:
    """Steady scrapes follow the plan of the page before (where each sample went); a
    second state reads every page in full (an extra line that changes each scrape makes
    every page new): both show exactly the same figures, scrape after scrape, through
    new series appearing, a restart of the server (counters back to zero), and a
    server unreachable for longer than the window (its series forgotten) coming back."""
    fleet = SimFleet(SimConfig(pools={"blue": 2}, engine=engine, gpus=0, rps=8))
    targets = [ScrapeTarget(f"blue-{i}", "blue", f"http://sim{i}") for i in range(2)]
    planned, full = ScrapeState(targets), ScrapeState(targets)
    for k in range(150):
        fleet.advance(1.0)
        if k == 20:
            fleet.set_fault("blue-0", "errors", 0.5)  # failed requests: new series
        if k == 40:
            fleet.backend("blue-1").restart()
        for target in targets:
            if target.name == "blue-1" and 50 <= k < 125:
                for state in (planned, full):
                    state.ingest_backend(target, None, False, "connection refused", 1000.0 + k)
                continue
            text = fleet.metrics_text(target.name).decode()
            planned.ingest_backend(target, text, True, None, 1000.0 + k)
            full.ingest_backend(target, f"{text}changes_{k} 1\n", True, None, 1000.0 + k)
        assert planned.result(1000.0 + k) == full.result(1000.0 + k), k
