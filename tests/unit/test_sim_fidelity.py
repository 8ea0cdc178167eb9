"""The simulator's exposition matches vLLM's metrics exactly (names, types, labels, buckets).

Expected values are copied from shared/reference/vllm-metrics.md, not from tui.sim, so that
a drift in the simulator fails here. The exact catalogues of the two releases the simulator
serves (vLLM 0.33.0 as ``current``, 0.10.2 as ``legacy``) are pinned in
test_sim_vllm_exact.py.
"""

from __future__ import annotations

import functools
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tui.sim.config import SimConfig
from tui.sim.fleet import SimFleet
from tui.sim.gpu import DRIVER_VERSION

ENGINE = {"model_name", "engine"}

GAUGES = {
    "vllm:num_requests_running": ENGINE,
    "vllm:num_requests_waiting": ENGINE,
    "vllm:num_requests_waiting_by_reason": ENGINE | {"reason"},
    "vllm:kv_cache_usage_perc": ENGINE,
    "vllm:engine_sleep_state": ENGINE | {"sleep_state"},
}
COUNTERS = {
    "vllm:num_preemptions": ENGINE,
    "vllm:prompt_tokens": ENGINE,
    "vllm:generation_tokens": ENGINE,
    "vllm:request_success": ENGINE | {"finished_reason"},
    "vllm:prefix_cache_queries": ENGINE,
    "vllm:prefix_cache_hits": ENGINE,
}
TTFT = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
        10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]  # fmt: skip
ITL = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
       20.0, 40.0, 80.0]  # fmt: skip
REQUEST = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
           120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]  # fmt: skip
ITERATION: list[float] = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
PARAMS_N: list[float] = [1, 2, 5, 10, 20]
# max_model_len of the simulated model is 8192: the 1-2-5 series stops at 5000
LENGTHS: list[float] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
HISTOGRAMS: dict[str, list[float]] = {
    "vllm:time_to_first_token_seconds": TTFT,
    "vllm:inter_token_latency_seconds": ITL,
    "vllm:request_time_per_output_token_seconds": ITL,
    "vllm:e2e_request_latency_seconds": REQUEST,
    "vllm:request_queue_time_seconds": REQUEST,
    "vllm:request_inference_time_seconds": REQUEST,
    "vllm:request_prefill_time_seconds": REQUEST,
    "vllm:request_decode_time_seconds": REQUEST,
    "vllm:iteration_tokens_total": ITERATION,
    "vllm:request_params_n": PARAMS_N,
    "vllm:request_prompt_tokens": LENGTHS,
    "vllm:request_generation_tokens": LENGTHS,
    "vllm:request_max_num_generation_tokens": LENGTHS,
    "vllm:request_params_max_tokens": LENGTHS,
}
# newer than vLLM 0.10.2: served by the current generation only
CURRENT_ONLY = {
    "vllm:num_requests_waiting_by_reason",
    "vllm:engine_sleep_state",
    "vllm:request_time_per_output_token_seconds",
}
LEGACY_GAUGES = {"vllm:gpu_cache_usage_perc": ENGINE}
LEGACY_COUNTERS = {"vllm:gpu_prefix_cache_queries": ENGINE, "vllm:gpu_prefix_cache_hits": ENGINE}
LEGACY_HISTOGRAMS: dict[str, list[float]] = {
    "vllm:time_per_output_token_seconds": ITL,
}
V0_ONLY = {
    "vllm:num_requests_swapped",
    "vllm:cpu_cache_usage_perc",
    "vllm:gpu_prefix_cache_hit_rate",
}
MODEL = "llama-3.1-8b-instruct"


@functools.cache  # read-only below: build each fleet once
def _fleet(generation: str, escaped: bool = False) -> SimFleet:
    fleet = SimFleet(SimConfig(vllm_metrics=generation, openmetrics_escaped=escaped))  # type: ignore[arg-type]
    fleet.advance(30.0)
    fleet.set_fault("blue-0", "errors", 0.5)
    fleet.advance(5.0)
    return fleet


def _families(fleet: SimFleet, backend: str = "blue-0") -> dict[str, tuple[str, list[Sample]]]:
    text = fleet.metrics_text(backend).decode()
    return {f.name: (f.type, f.samples) for f in text_string_to_metric_families(text)}


def _check_histogram(name: str, bounds: list[float], samples: list[Sample]) -> None:
    buckets = [s for s in samples if s.name == name + "_bucket"]
    assert buckets, name
    assert {frozenset(s.labels) for s in buckets} == {frozenset(ENGINE | {"le"})}, name
    les = [s.labels["le"] for s in buckets]
    assert les[-1] == "+Inf", name
    assert [float(le) for le in les[:-1]] == [float(b) for b in bounds], name
    counts = [s.value for s in buckets]
    assert counts == sorted(counts), f"{name} buckets must be cumulative"
    (count,) = [s.value for s in samples if s.name == name + "_count"]
    assert counts[-1] == count
    assert [s for s in samples if s.name == name + "_sum"]


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_every_reference_metric_has_its_type_labels_and_buckets(generation: str) -> None:
    fams = _families(_fleet(generation))
    expected_hists = dict(HISTOGRAMS)
    gauges, counters = dict(GAUGES), dict(COUNTERS)
    if generation == "legacy":
        gauges = {k: v for k, v in gauges.items() if k not in CURRENT_ONLY} | LEGACY_GAUGES
        counters |= LEGACY_COUNTERS
        expected_hists = {k: v for k, v in expected_hists.items() if k not in CURRENT_ONLY}
        expected_hists |= LEGACY_HISTOGRAMS
        assert not CURRENT_ONLY & set(fams)
    for name, labels in gauges.items():
        kind, samples = fams[name]
        assert kind == "gauge", name
        assert samples and all(set(s.labels) == labels for s in samples), name
        assert all(s.labels["model_name"] == MODEL and s.labels["engine"] == "0" for s in samples)
    for name, labels in counters.items():
        kind, samples = fams[name]
        assert kind == "counter", name
        totals = [s for s in samples if s.name == name + "_total"]
        assert totals and all(set(s.labels) == labels for s in totals), name
        # the classic text format moves _created into a gauge family of its own
        assert fams[name + "_created"][0] == "gauge", name
    for name, bounds in expected_hists.items():
        kind, samples = fams[name]
        assert kind == "histogram", name
        _check_histogram(name, bounds, samples)
        assert fams[name + "_created"][0] == "gauge", name
    kind, samples = fams["vllm:cache_config_info"]
    assert kind == "gauge" and samples[0].value == 1.0
    assert {"block_size", "num_gpu_blocks", "gpu_memory_utilization"} <= set(samples[0].labels)
    assert samples[0].labels["block_size"] == "16"
    assert not V0_ONLY & set(fams)


def test_current_generation_has_none_of_the_old_names() -> None:
    fams = _families(_fleet("current"))
    old = set(LEGACY_GAUGES) | set(LEGACY_COUNTERS) | set(LEGACY_HISTOGRAMS)
    assert not old & set(fams)


def test_legacy_names_carry_the_same_values_as_the_current_ones() -> None:
    fams = _families(_fleet("legacy"))
    assert (
        fams["vllm:gpu_cache_usage_perc"][1][0].value
        == fams["vllm:kv_cache_usage_perc"][1][0].value
    )
    new = {s.labels.get("le"): s.value for s in fams["vllm:inter_token_latency_seconds"][1]}
    old = {s.labels.get("le"): s.value for s in fams["vllm:time_per_output_token_seconds"][1]
           if not s.name.endswith("_created")}  # fmt: skip
    assert {k: v for k, v in new.items() if k} == {k: v for k, v in old.items() if k}


def test_request_success_reasons_and_waiting_reasons() -> None:
    fams = _families(_fleet("current"))
    success = {s.labels["finished_reason"]: s.value for s in fams["vllm:request_success"][1]
               if s.name.endswith("_total")}  # fmt: skip
    assert set(success) == {"stop", "length", "abort", "error", "repetition"}
    assert success["stop"] > 0 and success["length"] > 0
    legacy = _families(_fleet("legacy"))["vllm:request_success"][1]
    assert {s.labels["finished_reason"] for s in legacy} == {"stop", "length", "abort"}
    by_reason = {
        s.labels["reason"]: s.value for s in fams["vllm:num_requests_waiting_by_reason"][1]
    }
    assert set(by_reason) == {"capacity", "deferred"}
    (waiting,) = fams["vllm:num_requests_waiting"][1]
    assert sum(by_reason.values()) == waiting.value
    states = {s.labels["sleep_state"] for s in fams["vllm:engine_sleep_state"][1]}
    assert states == {"awake", "weights_offloaded", "discard_all"}


def test_http_requests_total_counts_status_classes() -> None:
    fams = _families(_fleet("current"))
    kind, samples = fams["http_requests"]
    assert kind == "counter"
    totals = [s for s in samples if s.name == "http_requests_total"]
    assert all(set(s.labels) == {"handler", "method", "status"} for s in totals)
    statuses = {s.labels["status"] for s in totals}
    assert {"2xx", "5xx"} <= statuses
    assert statuses <= {"2xx", "4xx", "5xx"}
    assert {s.labels["handler"] for s in totals} <= {"/v1/chat/completions", "/v1/completions"}
    kind, samples = fams["http_request_duration_seconds"]
    assert kind == "histogram"
    buckets = [s for s in samples if s.name.endswith("_bucket")]
    assert buckets and all(set(s.labels) == {"handler", "method", "le"} for s in buckets)
    assert not any("model_name" in s.labels for s in totals)


def test_classic_text_keeps_colons_and_openmetrics_escaping_reproduces_issue_1177() -> None:
    fleet = _fleet("current", escaped=True)
    classic = fleet.metrics_text("blue-0").decode()
    assert re.search(r"^vllm:num_requests_running\{", classic, re.M)
    body, content_type = fleet.metrics_response("blue-0", openmetrics=True)
    text = body.decode()
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    assert "# TYPE vllm:num_requests_running gauge" in text
    assert "# HELP vllm:kv_cache_usage_perc " in text
    sample_lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert sample_lines and not any(":" in ln.split("{")[0].split(" ")[0] for ln in sample_lines)
    assert re.search(r"^vllm_num_requests_running\{", text, re.M)
    assert re.search(r"^vllm_e2e_request_latency_seconds_bucket\{", text, re.M)
    assert text.rstrip().endswith("# EOF")
    # label values keep their text (only the metric name is escaped)
    assert f'model_name="{MODEL}"' in text


def test_openmetrics_without_escaping_keeps_colons() -> None:
    fleet = _fleet("current", escaped=False)
    text = fleet.metrics_response("blue-0", openmetrics=True)[0].decode()
    assert re.search(r"^vllm:num_requests_running\{", text, re.M)


def test_dcgm_exposition_names_labels_and_sentinel() -> None:
    fleet = _fleet("current")
    text = fleet.gpu_metrics_text().decode()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    for field in ("GPU_UTIL", "MEM_COPY_UTIL", "FB_USED", "FB_FREE", "FB_RESERVED", "GPU_TEMP",
                  "MEMORY_TEMP", "POWER_USAGE", "SM_CLOCK", "MEM_CLOCK", "XID_ERRORS"):  # fmt: skip
        assert fams[f"DCGM_FI_DEV_{field}"].type == "gauge", field
    assert fams["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"].type == "counter"
    assert "DCGM_FI_PROF_GR_ENGINE_ACTIVE" in fams and "DCGM_FI_PROF_DRAM_ACTIVE" in fams
    samples = fams["DCGM_FI_DEV_GPU_UTIL"].samples
    assert [s.labels["gpu"] for s in samples] == ["0", "1", "2", "3"]
    # `pod` on an allocated GPU, as DCGM exporter's Kubernetes mapping labels it
    assert [s.labels.get("pod") for s in samples] == ["blue-0", "blue-1", "green-0", None]
    common = {"gpu", "UUID", "pci_bus_id", "device", "modelName", "hostname"}
    for s in samples:
        assert set(s.labels) - {"pod"} == common | {"DCGM_FI_DRIVER_VERSION"}
        assert s.labels["device"] == f"nvidia{s.labels['gpu']}"
        assert s.labels["modelName"] == "NVIDIA H100 80GB HBM3"
        assert s.labels["UUID"].startswith("GPU-")
    # dcgm-exporter 4.x (internal/pkg/collector/gpu_collector.go): the driver version is a
    # label on every sample, XID errors carry err_code/err_msg, and a field the GPU does
    # not support (H100 has no NVENC) is left out rather than served as a sentinel.
    every = [s for f in fams.values() for s in f.samples]
    assert all(s.labels["DCGM_FI_DRIVER_VERSION"] == DRIVER_VERSION for s in every)
    assert all(s.value < 0x7FFFFFFFFFFFFFF0 for s in every)  # no int64 "blank" sentinel
    assert "DCGM_FI_DEV_ENC_UTIL" not in fams and "# HELP DCGM_FI_DEV_ENC_UTIL" not in text
    xid = fams["DCGM_FI_DEV_XID_ERRORS"].samples[0]
    assert (xid.labels["err_code"], xid.labels["err_msg"]) == ("0", "No Error")
    assert "# HELP DCGM_FI_DEV_FB_FREE Framebuffer memory free (in MiB)." in text
    assert "DCGM_FI_DEV_POWER_MGMT_LIMIT" not in fams  # not in the default counters
    used = {s.labels["gpu"]: s.value for s in fams["DCGM_FI_DEV_FB_USED"].samples}
    free = {s.labels["gpu"]: s.value for s in fams["DCGM_FI_DEV_FB_FREE"].samples}
    reserved = {s.labels["gpu"]: s.value for s in fams["DCGM_FI_DEV_FB_RESERVED"].samples}
    assert all(used[g] + free[g] + reserved[g] == 81559 for g in used)
    assert used["0"] > 15000 and used["3"] == 0  # GPU 3 is the idle spare


def test_power_limit_shows_where_exported_and_says_not_exported_otherwise() -> None:
    from tui.sources._dcgm import gpus_from_samples
    from tui.sources.promtext import parse_exposition

    for exported in (False, True):
        fleet = SimFleet(SimConfig(seed=3, rps=5, dcgm_power_limit=exported))
        fleet.advance(5.0)
        gpus = gpus_from_samples(parse_exposition(fleet.gpu_metrics_text().decode()), "h")
        assert gpus
        for gpu in gpus:
            if exported:
                assert gpu.power_limit_w == 700.0 and not gpu.unexported
            else:
                assert gpu.power_limit_w is None and gpu.unexported == {"power_limit"}


# prometheus-fastapi-instrumentator 8.x metrics.default(), which vLLM's API server uses
HIGHR = [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0,
         4.5, 5.0, 7.5, 10.0, 30.0, 60.0]  # fmt: skip


def test_http_instrumentation_and_default_collectors_as_vllms_api_server() -> None:
    fleet = _fleet("current")
    text = fleet.metrics_text("blue-0").decode()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    assert fams["http_request_size_bytes"].type == "summary"
    assert fams["http_response_size_bytes"].type == "summary"
    sizes = [s for s in fams["http_request_size_bytes"].samples if s.name.endswith("_count")]
    assert sizes and all(set(s.labels) == {"handler"} for s in sizes)
    highr = fams["http_request_duration_highr_seconds"]
    bounds = [float(s.labels["le"]) for s in highr.samples if s.name.endswith("_bucket")]
    assert bounds == [*HIGHR, float("inf")]
    assert all(not (set(s.labels) - {"le"}) for s in highr.samples)  # no API labels
    assert (
        "# HELP http_request_duration_seconds Latency with only few buckets by handler. "
        "Made to be only used if aggregation by handler is important. \n" in text
    )
    # prometheus_client writes label names sorted, whatever order they were declared in
    assert re.search(
        r'^http_requests_total\{handler="[^"]+",method="POST",status="2xx"\}', text, re.M
    )
    for family in ("process_start_time_seconds", "python_info", "python_gc_objects_collected"):
        assert family in fams, family
    assert "vllm:time_per_prefill_token_request_seconds" not in fams
