"""The simulator's vLLM ``/metrics`` is exactly what a default ``vllm serve`` serves.

The expected catalogues below are facts read from vLLM's own released code, not from
``tui.sim``, so any drift in the simulator fails here:

* ``current``: vLLM 0.33.0 (wheel ``vllm-0.33.0``, commit ``4ba787ec9``):
  ``vllm/v1/metrics/loggers.py`` (``PrometheusStatLogger``), ``vllm/v1/metrics/buckets.py``,
  ``vllm/v1/metrics/perf.py`` (``PerfMetricsProm``, always registered),
  ``vllm/v1/metrics/stats.py`` (``PromptTokenStats.ALL_SOURCES``),
  ``vllm/v1/metrics/cache_hit_source.py``, ``vllm/v1/engine/__init__.py`` (``FinishReason``),
  ``vllm/config/cache.py`` (``CacheConfig.metrics_info``: every attribute is a label),
  ``vllm/entrypoints/serve/instrumentator/metrics.py``.
* ``legacy``: vLLM 0.10.2 (wheel ``vllm-0.10.2``, commit ``26b999c71``): the same files of
  that release, and ``vllm/entrypoints/openai/api_server.py`` for the instrumentation.

"Default" means what ``vllm serve MODEL`` registers with one API server (so the global
registry, with prometheus_client's process/platform/GC collectors) and without LoRA,
speculative decoding, a KV or EC connector, ``--kv-cache-metrics``, a tool-call parser,
watermarking or ``VLLM_COMPUTE_NANS_IN_LOGITS`` (each of those adds families of its own).
Both releases call ``Instrumentator(...).add()`` with no instrumentation, i.e.
prometheus-fastapi-instrumentator's ``metrics.default()`` (identical in 7.1.0 and 8.1.0).
"""

from __future__ import annotations

import functools
import json
import math

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tui.analysis.quantiles import histogram_quantile
from tui.sim.config import SimConfig
from tui.sim.fleet import SimFleet
from tui.sources._scrape_core import ScrapeState, ScrapeTarget

ENGINE = frozenset({"model_name", "engine"})
MODEL = "llama-3.1-8b-instruct"

# ---------------------------------------------------------------- bucket facts
REQUEST_LATENCY = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0,
                   50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0)  # fmt: skip
TTFT = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
        10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0)  # fmt: skip
ITL = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
       20.0, 40.0, 80.0)  # fmt: skip
ITERATION = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
PARAMS_N = (1, 2, 5, 10, 20)
NUM_PREEMPTIONS = (1, 2, 3, 4, 5, 10, 20)
# build_1_2_5_buckets(max_model_len) for the simulated model's max_model_len of 8192
TOKENS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
# prometheus-fastapi-instrumentator metrics.default()
HTTP_HIGHR = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5,
              7.5, 10, 30, 60)  # fmt: skip
HTTP_LOWR = (0.1, 0.5, 1)

# name -> (type, HELP, label names (le/quantile aside), bucket bounds or None)
Family = tuple[str, str, frozenset[str], tuple[float, ...] | None]


def _g(help_: str, labels: frozenset[str] = ENGINE) -> Family:
    return ("gauge", help_, labels, None)


def _c(help_: str, labels: frozenset[str] = ENGINE) -> Family:
    return ("counter", help_, labels, None)


def _h(help_: str, buckets: tuple[float, ...], labels: frozenset[str] = ENGINE) -> Family:
    return ("histogram", help_, labels, buckets)


CACHE_INFO_HELP = "Information of the LLMEngine CacheConfig"

VLLM_0_33_0: dict[str, Family] = {
    "vllm:num_requests_running": _g("Number of requests in model execution batches."),
    "vllm:num_requests_waiting": _g("Number of requests waiting to be processed."),
    "vllm:num_requests_waiting_by_reason": _g(
        "Number of waiting requests by reason. Reason labels: 'capacity' = waiting for"
        " scheduling capacity; 'deferred' = deferred by transient constraints (LoRA budget,"
        " KV transfer, blocked status). Sum of all reasons equals vllm:num_requests_waiting.",
        ENGINE | {"reason"},
    ),
    "vllm:engine_sleep_state": _g(
        "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is"
        " awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep"
        " level 2.",
        ENGINE | {"sleep_state"},
    ),
    "vllm:kv_cache_usage_perc": _g("KV-cache usage. 1 means 100 percent usage."),
    "vllm:prefix_cache_queries": _c("Prefix cache queries, in terms of number of queried tokens."),
    "vllm:prefix_cache_hits": _c("Prefix cache hits, in terms of number of cached tokens."),
    "vllm:external_prefix_cache_queries": _c(
        "External prefix cache queries from KV connector cross-instance cache sharing, in"
        " terms of number of queried tokens."
    ),
    "vllm:external_prefix_cache_hits": _c(
        "External prefix cache hits from KV connector cross-instance cache sharing, in terms"
        " of number of cached tokens."
    ),
    "vllm:mm_cache_queries": _c("Multi-modal cache queries, in terms of number of queried items."),
    "vllm:mm_cache_hits": _c("Multi-modal cache hits, in terms of number of cached items."),
    "vllm:num_preemptions": _c("Cumulative number of preemption from the engine."),
    "vllm:prompt_tokens": _c("Number of prefill tokens processed."),
    "vllm:prompt_tokens_by_source": _c("Number of prompt tokens by source.", ENGINE | {"source"}),
    "vllm:prompt_tokens_cached": _c("Number of cached prompt tokens (local + external)."),
    "vllm:prompt_tokens_cached_by_source": _c(
        "Prefix-cache hit tokens by the cache tier that supplied them: device (local HBM),"
        " host (offloaded to DRAM), disk, p2p (transferred from another vLLM instance) or"
        " external_unspecified. Counted at admission; sums to vllm:prefix_cache_hits +"
        " vllm:external_prefix_cache_hits.",
        ENGINE | {"source"},
    ),
    "vllm:generation_tokens": _c("Number of generation tokens processed."),
    "vllm:request_success": _c(
        "Count of successfully processed requests.", ENGINE | {"finished_reason"}
    ),
    "vllm:admission_rejections": _c(
        "Number of admission attempts rejected by a queue limit, by reason.",
        frozenset({"model_name", "reason"}),
    ),
    "vllm:request_prompt_tokens": _h("Number of prefill tokens processed.", TOKENS),
    "vllm:request_generation_tokens": _h("Number of generation tokens processed.", TOKENS),
    "vllm:iteration_tokens_total": _h("Histogram of number of tokens per engine_step.", ITERATION),
    "vllm:request_max_num_generation_tokens": _h(
        "Histogram of maximum number of requested generation tokens.", TOKENS
    ),
    "vllm:request_params_n": _h("Histogram of the n request parameter.", PARAMS_N),
    "vllm:request_params_max_tokens": _h("Histogram of the max_tokens request parameter.", TOKENS),
    "vllm:time_to_first_token_seconds": _h("Histogram of time to first token in seconds.", TTFT),
    "vllm:inter_token_latency_seconds": _h("Histogram of inter-token latency in seconds.", ITL),
    "vllm:request_time_per_output_token_seconds": _h(
        "Histogram of time_per_output_token_seconds per request.", ITL
    ),
    "vllm:e2e_request_latency_seconds": _h(
        "Histogram of e2e request latency in seconds.", REQUEST_LATENCY
    ),
    "vllm:request_queue_time_seconds": _h(
        "Histogram of time spent in WAITING phase for request.", REQUEST_LATENCY
    ),
    "vllm:request_inference_time_seconds": _h(
        "Histogram of time spent in RUNNING phase for request.", REQUEST_LATENCY
    ),
    "vllm:request_prefill_time_seconds": _h(
        "Histogram of time spent in PREFILL phase for request.", REQUEST_LATENCY
    ),
    "vllm:request_decode_time_seconds": _h(
        "Histogram of time spent in DECODE phase for request.", REQUEST_LATENCY
    ),
    "vllm:request_num_preemptions": _h(
        "Histogram of the number of times a request was preempted.", NUM_PREEMPTIONS
    ),
    "vllm:request_prefill_kv_computed_tokens": _h(
        "Histogram of new KV tokens computed during prefill (excluding cached tokens).", TOKENS
    ),
    # PerfMetricsProm registers these whatever --enable-mfu-metrics says
    "vllm:estimated_flops_per_gpu": _c(
        "Estimated number of floating point operations per GPU (for Model Flops Utilization"
        " calculations)."
    ),
    "vllm:estimated_read_bytes_per_gpu": _c(
        "Estimated number of bytes read from memory per GPU (for Model Flops Utilization"
        " calculations)."
    ),
    "vllm:estimated_write_bytes_per_gpu": _c(
        "Estimated number of bytes written to memory per GPU (for Model Flops Utilization"
        " calculations)."
    ),
}

VLLM_0_10_2: dict[str, Family] = {
    "vllm:num_requests_running": _g("Number of requests in model execution batches."),
    "vllm:num_requests_waiting": _g("Number of requests waiting to be processed."),
    # the missing spaces are vLLM's own (string concatenation in loggers.py)
    "vllm:gpu_cache_usage_perc": _g(
        "GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use"
        " vllm:kv_cache_usage_perc instead."
    ),
    "vllm:gpu_prefix_cache_queries": _c(
        "GPU prefix cache queries, in terms of number of queriedtokens. DEPRECATED: Use"
        " vllm:prefix_cache_queries instead."
    ),
    "vllm:gpu_prefix_cache_hits": _c(
        "GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: Use"
        " vllm:prefix_cache_hits instead."
    ),
    "vllm:kv_cache_usage_perc": _g("KV-cache usage. 1 means 100 percent usage."),
    "vllm:prefix_cache_queries": _c("Prefix cache queries, in terms of number of queried tokens."),
    "vllm:prefix_cache_hits": _c("Prefix cache hits, in terms of number of cached tokens."),
    "vllm:num_preemptions": _c("Cumulative number of preemption from the engine."),
    "vllm:prompt_tokens": _c("Number of prefill tokens processed."),
    "vllm:generation_tokens": _c("Number of generation tokens processed."),
    "vllm:request_success": _c(
        "Count of successfully processed requests.", ENGINE | {"finished_reason"}
    ),
    "vllm:request_prompt_tokens": _h("Number of prefill tokens processed.", TOKENS),
    "vllm:request_generation_tokens": _h("Number of generation tokens processed.", TOKENS),
    "vllm:iteration_tokens_total": _h("Histogram of number of tokens per engine_step.", ITERATION),
    "vllm:request_max_num_generation_tokens": _h(
        "Histogram of maximum number of requested generation tokens.", TOKENS
    ),
    "vllm:request_params_n": _h("Histogram of the n request parameter.", PARAMS_N),
    "vllm:request_params_max_tokens": _h("Histogram of the max_tokens request parameter.", TOKENS),
    "vllm:time_to_first_token_seconds": _h("Histogram of time to first token in seconds.", TTFT),
    "vllm:time_per_output_token_seconds": _h(
        "Histogram of time per output token in seconds.DEPRECATED: Use"
        " vllm:inter_token_latency_seconds instead.",
        ITL,
    ),
    "vllm:inter_token_latency_seconds": _h("Histogram of inter-token latency in seconds.", ITL),
    "vllm:e2e_request_latency_seconds": _h(
        "Histogram of e2e request latency in seconds.", REQUEST_LATENCY
    ),
    "vllm:request_queue_time_seconds": _h(
        "Histogram of time spent in WAITING phase for request.", REQUEST_LATENCY
    ),
    "vllm:request_inference_time_seconds": _h(
        "Histogram of time spent in RUNNING phase for request.", REQUEST_LATENCY
    ),
    "vllm:request_prefill_time_seconds": _h(
        "Histogram of time spent in PREFILL phase for request.", REQUEST_LATENCY
    ),
    "vllm:request_decode_time_seconds": _h(
        "Histogram of time spent in DECODE phase for request.", REQUEST_LATENCY
    ),
}

# CacheConfig.metrics_info(): every attribute of the config, plus "engine"
CACHE_INFO_LABELS_0_33_0 = frozenset({
    "block_size", "user_specified_block_size", "kv_cache_layout", "prefix_match_unit",
    "gpu_memory_utilization", "cache_dtype", "is_attention_free", "num_gpu_blocks_override",
    "sliding_window", "enable_prefix_caching", "prefix_caching_hash_algo",
    "prefix_cache_retention_interval", "kv_cache_dtype_skip_layers", "mamba_page_size_padded",
    "skip_page_size_padded", "mamba_block_size", "mamba_cache_dtype", "mamba_ssm_cache_dtype",
    "mamba_cache_mode", "enable_mamba_shared_prefix_checkpoint", "replayssm_buffer_len",
    "use_replayssm", "use_kda_recoverssm", "num_gpu_blocks", "num_cpu_blocks",
    "simple_cpu_offload_num_blocks", "effective_attention_block_size", "kv_cache_size_tokens",
    "kv_cache_max_concurrency", "hash_block_size", "cache_hit_alignment_tokens",
    "kv_sharing_fast_prefill", "swa_bounded_replay", "kv_cache_memory_bytes",
    "kv_offloading_size", "kv_offloading_backend", "_block_size_resolved", "engine",
})  # fmt: skip
CACHE_INFO_LABELS_0_10_2 = frozenset({
    "block_size", "gpu_memory_utilization", "swap_space", "cache_dtype", "is_attention_free",
    "num_gpu_blocks_override", "sliding_window", "enable_prefix_caching",
    "prefix_caching_hash_algo", "cpu_offload_gb", "calculate_kv_scales",
    "cpu_kvcache_space_bytes", "mamba_page_size_padded", "mamba_cache_dtype",
    "mamba_ssm_cache_dtype", "num_gpu_blocks", "num_cpu_blocks", "kv_sharing_fast_prefill",
    "kv_cache_memory_bytes", "swap_space_bytes", "engine",
})  # fmt: skip

HTTP: dict[str, Family] = {
    "http_requests": _c(
        "Total number of requests by method, status and handler.",
        frozenset({"method", "status", "handler"}),
    ),
    "http_request_size_bytes": (
        "summary",
        "Content length of incoming requests by handler. Only value of header is respected."
        " Otherwise ignored. No percentile calculated. ",
        frozenset({"handler"}),
        None,
    ),
    "http_response_size_bytes": (
        "summary",
        "Content length of outgoing responses by handler. Only value of header is respected."
        " Otherwise ignored. No percentile calculated. ",
        frozenset({"handler"}),
        None,
    ),
    "http_request_duration_highr_seconds": _h(
        "Latency with many buckets but no API specific labels. Made for more accurate"
        " percentile calculations. ",
        HTTP_HIGHR,
        frozenset(),
    ),
    "http_request_duration_seconds": _h(
        "Latency with only few buckets by handler. Made to be only used if aggregation by"
        " handler is important. ",
        HTTP_LOWR,
        frozenset({"method", "handler"}),
    ),
}

# prometheus_client's default collectors on Linux (process, platform, GC): their text is the
# library's own, so only names and types are pinned here.
DEFAULT_COLLECTORS = {
    "process_virtual_memory_bytes": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
    "process_cpu_seconds": "counter",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "python_info": "gauge",
    "python_gc_objects_collected": "counter",
    "python_gc_objects_uncollectable": "counter",
    "python_gc_collections": "counter",
}

EXPECTED = {"current": VLLM_0_33_0, "legacy": VLLM_0_10_2}
CACHE_INFO = {"current": CACHE_INFO_LABELS_0_33_0, "legacy": CACHE_INFO_LABELS_0_10_2}


@functools.cache  # read-only below: build each fleet once
def _fleet(generation: str) -> SimFleet:
    fleet = SimFleet(SimConfig(vllm_metrics=generation, seed=3, rps=30.0))  # type: ignore[arg-type]
    fleet.advance(40.0)
    return fleet


def _help_lines(text: str) -> dict[str, str]:
    """``# HELP`` texts as written (the parser strips trailing spaces; vLLM's HTTP ones
    end in one)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, doc = line[len("# HELP ") :].partition(" ")
            out[name] = doc.replace("\\n", "\n").replace("\\\\", "\\")
    return out


def _families(text: str) -> dict[str, tuple[str, str, list[Sample]]]:
    """Family name -> (type, HELP, samples), the ``X_created`` gauges folded away."""
    helps = _help_lines(text)
    raw = {
        f.name: (f.type, helps.get(f.name, helps.get(f.name + "_total", "")), f.samples)
        for f in text_string_to_metric_families(text)
    }
    return {
        name: fam
        for name, fam in raw.items()
        if not (
            name.endswith("_created")
            and raw.get(name[: -len("_created")], ("",))[0] in ("counter", "histogram", "summary")
        )
    }


def _text(generation: str) -> str:
    return _fleet(generation).metrics_text("blue-0").decode()


def _bounds(samples: list[Sample]) -> tuple[float, ...]:
    """The finite bucket bounds, the same in every series of the family."""
    per_series: dict[frozenset[tuple[str, str]], list[str]] = {}
    for s in samples:
        if s.name.endswith("_bucket"):
            key = frozenset((k, v) for k, v in s.labels.items() if k != "le")
            per_series.setdefault(key, []).append(s.labels["le"])
    layouts = {tuple(les) for les in per_series.values()}
    assert len(layouts) == 1, layouts
    (les,) = layouts
    assert les[-1] == "+Inf"
    return tuple(float(le) for le in les[:-1])


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_the_families_are_exactly_the_releases(generation: str) -> None:
    fams = _families(_text(generation))
    expected = {**EXPECTED[generation], **HTTP}
    served = {n for n in fams if n not in DEFAULT_COLLECTORS and n != "vllm:cache_config_info"}
    assert served - set(expected) == set(), "served but not in the release"
    assert set(expected) - served == set(), "in the release but not served"
    for name, kind in DEFAULT_COLLECTORS.items():
        assert fams[name][0] == kind, name
    assert fams["vllm:cache_config_info"][:2] == ("gauge", CACHE_INFO_HELP)


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_types_help_labels_and_buckets_are_the_releases(generation: str) -> None:
    fams = _families(_text(generation))
    for name, (kind, help_, labels, buckets) in {**EXPECTED[generation], **HTTP}.items():
        got_kind, got_help, samples = fams[name]
        assert got_kind == kind, name
        assert got_help == help_, name
        if name.startswith("vllm:"):
            assert samples, f"{name} has no series"
        for s in samples:
            assert set(s.labels) - {"le", "quantile"} == labels, (name, s.labels)
            if "model_name" in s.labels:
                assert s.labels["model_name"] == MODEL
            if "engine" in s.labels:
                assert s.labels["engine"] == "0"
        if buckets is not None and samples:
            assert _bounds(samples) == tuple(float(b) for b in buckets), name


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_cache_config_info_carries_every_cache_config_attribute(generation: str) -> None:
    (sample,) = _families(_text(generation))["vllm:cache_config_info"][2]
    assert set(sample.labels) == CACHE_INFO[generation]
    assert sample.value == 1.0
    assert sample.labels["block_size"] == "16" and sample.labels["engine"] == "0"
    assert sample.labels["enable_prefix_caching"] == "True"
    assert int(sample.labels["num_gpu_blocks"]) > 0


def _values(
    fams: dict[str, tuple[str, str, list[Sample]]], name: str, label: str
) -> dict[str, float]:
    return {s.labels[label]: s.value for s in fams[name][2] if s.name.endswith("_total")}


def _one(fams: dict[str, tuple[str, str, list[Sample]]], sample_name: str) -> float:
    family = sample_name.removesuffix("_total").removesuffix("_count").removesuffix("_sum")
    (value,) = [s.value for s in fams[family][2] if s.name == sample_name]
    return value


def test_label_values_are_the_releases() -> None:
    fams = _families(_text("current"))
    assert set(_values(fams, "vllm:request_success", "finished_reason")) == {
        "stop", "length", "abort", "error", "repetition"
    }  # fmt: skip
    assert set(_values(fams, "vllm:prompt_tokens_by_source", "source")) == {
        "local_compute", "local_cache_hit", "external_kv_transfer"
    }  # fmt: skip
    assert set(_values(fams, "vllm:prompt_tokens_cached_by_source", "source")) == {
        "device", "host", "p2p", "disk", "external_unspecified"
    }  # fmt: skip
    assert set(_values(fams, "vllm:admission_rejections", "reason")) == {
        "max_num_queued_reqs", "max_num_queued_tokens"
    }  # fmt: skip
    legacy = _families(_text("legacy"))
    assert set(_values(legacy, "vllm:request_success", "finished_reason")) == {
        "stop", "length", "abort"
    }  # fmt: skip


def test_prompt_token_accounting_adds_up_as_in_vllm() -> None:
    """local_compute + local_cache_hit + external_kv_transfer == prompt tokens; the cached
    counter is the cache hits; the per-request KV-computed histogram sums prompt - cached."""
    fams = _families(_text("current"))
    by_source = _values(fams, "vllm:prompt_tokens_by_source", "source")
    prompt = _one(fams, "vllm:prompt_tokens_total")
    cached = _one(fams, "vllm:prompt_tokens_cached_total")
    assert prompt > 0 and by_source["local_cache_hit"] > 0
    assert sum(by_source.values()) == prompt
    assert cached == by_source["local_cache_hit"] + by_source["external_kv_transfer"]
    assert by_source["external_kv_transfer"] == 0  # no KV connector
    tiers = _values(fams, "vllm:prompt_tokens_cached_by_source", "source")
    assert tiers["device"] == _one(fams, "vllm:prefix_cache_hits_total")
    assert sum(tiers.values()) == tiers["device"]
    # one observation per finished request, like the request latency histograms
    finished = _one(fams, "vllm:e2e_request_latency_seconds_count")
    assert finished > 0
    assert _one(fams, "vllm:request_prefill_kv_computed_tokens_count") == finished
    assert _one(fams, "vllm:request_num_preemptions_count") == finished
    assert (
        0
        < _one(fams, "vllm:request_prefill_kv_computed_tokens_sum")
        < _one(fams, "vllm:request_prompt_tokens_sum")
    )


def test_per_request_preemptions_add_up_to_the_preemption_counter() -> None:
    """Under KV pressure requests get preempted: the per-request histogram sees them."""
    fleet = SimFleet(SimConfig(seed=5, rps=20.0, pools={"blue": 1}, gpus=1))
    fleet.advance(20.0)
    fleet.set_fault("blue-0", "kv-pressure")
    fleet.advance(60.0)
    fleet.set_fault("blue-0", "clear")
    fleet.advance(120.0)
    fams = _families(fleet.metrics_text("blue-0").decode())
    per_request = _one(fams, "vllm:request_num_preemptions_sum")
    assert per_request > 0
    # every preemption of a request that finished is in the per-request sum
    assert per_request <= _one(fams, "vllm:num_preemptions_total")


def test_current_drops_what_vllm_no_longer_serves() -> None:
    fams = _families(_text("current"))
    for gone in (
        "vllm:time_per_prefill_token_request_seconds",
        "vllm:gpu_cache_usage_perc",
        "vllm:gpu_prefix_cache_queries",
        "vllm:gpu_prefix_cache_hits",
        "vllm:time_per_output_token_seconds",
    ):
        assert gone not in fams, gone


# ------------------------------------------------ bucket overrides reach the collectors
CUSTOM = {
    "time_to_first_token": [0.07, 0.33, 1.7, 9.0],
    "request_latency": [0.9, 4.4, 13.0, 70.0],
    "inter_token_latency": [0.013, 0.031, 0.2],
}


def test_custom_histogram_buckets_are_served_like_vllms_flag() -> None:
    """``--custom-histogram-buckets`` (vLLM 0.33): a family's list replaces its defaults in
    every histogram of that family; other families keep theirs."""
    fleet = SimFleet(SimConfig(seed=3, rps=30.0, histogram_buckets=CUSTOM))
    fleet.advance(20.0)
    fams = _families(fleet.metrics_text("blue-0").decode())
    assert _bounds(fams["vllm:time_to_first_token_seconds"][2]) == (0.07, 0.33, 1.7, 9.0)
    for name in ("vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds",
                 "vllm:request_decode_time_seconds"):  # fmt: skip
        assert _bounds(fams[name][2]) == (0.9, 4.4, 13.0, 70.0), name
    for name in ("vllm:inter_token_latency_seconds", "vllm:request_time_per_output_token_seconds"):
        assert _bounds(fams[name][2]) == (0.013, 0.031, 0.2), name
    assert _bounds(fams["vllm:request_params_n"][2]) == PARAMS_N  # not overridden


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        ({"ttft": [1.0]}, "unknown bucket family 'ttft'"),
        ({"request_latency": []}, "must not be empty"),
        ({"request_latency": [1.0, 1.0]}, "strictly increasing"),
        ({"request_latency": [0.0, 1.0]}, "finite and greater than 0"),
        ({"request_latency": [1.0, math.inf]}, "finite and greater than 0"),
    ],
)
def test_bad_custom_buckets_are_refused_in_one_line(buckets: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        SimConfig(histogram_buckets=buckets)
    assert "\n" not in str(raised.value)


def test_custom_buckets_need_the_current_generation() -> None:
    with pytest.raises(ValueError, match=r"0\.10\.2"):
        SimConfig(vllm_metrics="legacy", histogram_buckets={"request_latency": [1.0]})


def _bucket_increase(before: str, after: str, name: str) -> list[tuple[float, float]]:
    def counts(text: str) -> dict[float, float]:
        fams = _families(text)
        return {float(s.labels["le"]): s.value for s in fams[name][2] if s.name.endswith("_bucket")}

    a, b = counts(before), counts(after)
    return [(le, b[le] - a.get(le, 0.0)) for le in b]


def test_the_scrape_collector_reads_the_served_buckets_not_the_defaults() -> None:
    """Quantiles come from the bounds in the data: with overridden TTFT and E2E buckets the
    collector's p50/p95/p99 equal histogram_quantile over those bounds (and land on them
    where the rank falls in +Inf), never a figure interpolated in vLLM's default bounds."""
    fleet = SimFleet(SimConfig(seed=3, rps=30.0, histogram_buckets=CUSTOM, pools={"blue": 1}))
    fleet.advance(30.0)
    target = ScrapeTarget(name="blue-0", pool="blue", url="http://127.0.0.1:1", model=MODEL)
    state = ScrapeState([target], window_s=60.0)
    t0 = 1_000_000.0
    first = fleet.metrics_text("blue-0").decode()
    state.ingest_backend(target, first, True, None, at=t0)
    fleet.advance(30.0)
    second = fleet.metrics_text("blue-0").decode()
    state.ingest_backend(target, second, True, None, at=t0 + 30.0)
    (backend,) = state.result(at=t0 + 30.0).backends or ()
    for figure, name, bounds in (
        (backend.ttft, "vllm:time_to_first_token_seconds", CUSTOM["time_to_first_token"]),
        (backend.e2e, "vllm:e2e_request_latency_seconds", CUSTOM["request_latency"]),
    ):
        increase = _bucket_increase(first, second, name)
        assert [le for le, _ in increase[:-1]] == bounds
        for q, got in ((0.5, figure.p50), (0.95, figure.p95), (0.99, figure.p99)):
            want = histogram_quantile(q, increase)
            assert want is not None and got is not None, (name, q)
            assert got == pytest.approx(want, rel=1e-9), (name, q)
            assert 0 < got <= bounds[-1]


def test_sim_flag_takes_vllms_json_form() -> None:
    import argparse

    from tui.commands.sim import add_sim_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_sim_arguments(parser)
    args = parser.parse_args(["--custom-histogram-buckets", json.dumps(CUSTOM)])
    assert config_from_args(args).histogram_buckets == {k: tuple(v) for k, v in CUSTOM.items()}
    for bad in ("[1, 2]", "{not json", '{"request_latency": "1"}'):
        with pytest.raises(SystemExit):
            parser.parse_args(["--custom-histogram-buckets", bad])


def test_sim_refuses_custom_buckets_with_legacy_metrics_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import argparse

    from tui.commands.sim import add_sim_arguments, run_sim

    parser = argparse.ArgumentParser()
    add_sim_arguments(parser)
    args = parser.parse_args(
        ["--vllm-metrics", "legacy", "--custom-histogram-buckets", '{"request_latency": [1]}']
    )
    assert run_sim(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "vLLM 0.10.2 has no --custom-histogram-buckets" in err
