"""vLLM's ``/metrics`` for one simulated backend: what a default ``vllm serve`` registers.

Two releases, each read from its released code (the PyPI wheels):

* ``current`` = vLLM 0.33.0 (commit ``4ba787ec9``): ``vllm/v1/metrics/loggers.py``
  (``PrometheusStatLogger``), ``vllm/v1/metrics/buckets.py``, ``vllm/v1/metrics/perf.py``
  (``PerfMetricsProm``: its three counters are registered even without
  ``--enable-mfu-metrics``), ``vllm/v1/metrics/stats.py`` (prompt-token sources),
  ``vllm/v1/metrics/cache_hit_source.py``, ``vllm/v1/engine/__init__.py`` (finish reasons);
* ``legacy`` = vLLM 0.10.2 (commit ``26b999c71``): the same loggers of that release, which
  still served the names deprecated in 0.9 (``vllm:gpu_cache_usage_perc``,
  ``vllm:gpu_prefix_cache_*``) and 0.11 (``vllm:time_per_output_token_seconds``), and
  nothing newer.

Names, types, HELP texts (vLLM's own missing spaces included), label names and bucket
bounds are those of the release; families that only exist with options a default server
lacks (LoRA, speculative decoding, KV/EC connectors, ``--kv-cache-metrics``, a tool-call
parser, watermarking, ``VLLM_COMPUTE_NANS_IN_LOGITS``) are not served. ``vllm:cache_config_info``
carries one label per ``CacheConfig`` attribute (``CacheConfig.metrics_info``). The API
server's HTTP instrumentation (`tui.sim.metrics.http_metrics`) and prometheus_client's
default collectors (`tui.sim.metrics.build_registry`) come beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tui.sim.config import VLLM_RELEASES, MetricsGeneration
from tui.sim.engine import Engine, EngineParams, EngineStats
from tui.sim.metrics import _counter, _gauge, _histogram, http_metrics
from tui.sim.stats import Hist, HttpStats

__all__ = ["VLLM_RELEASES", "VllmCollector", "cache_config_labels"]

FINISH_REASONS_0_33 = ("stop", "length", "abort", "error", "repetition")
FINISH_REASONS_0_10 = ("stop", "length", "abort")
PROMPT_TOKEN_SOURCES = ("local_compute", "local_cache_hit", "external_kv_transfer")
CACHE_HIT_SOURCES = ("device", "host", "p2p", "disk", "external_unspecified")
ADMISSION_REASONS = ("max_num_queued_reqs", "max_num_queued_tokens")
SLEEP_STATES = ("awake", "weights_offloaded", "discard_all")
WAITING_REASONS = ("capacity", "deferred")

Rows = list[tuple[dict[str, str], float]]


class _Families:
    """Builds one engine's families: every series carries ``model_name`` and ``engine``."""

    def __init__(self, model: str, created: float) -> None:
        self.base = {"model_name": model, "engine": "0"}
        self.created = created

    def one(self, value: float) -> Rows:
        return [(dict(self.base), float(value))]

    def by(self, label: str, values: dict[str, float]) -> Rows:
        return [({**self.base, label: key}, float(v)) for key, v in values.items()]

    def gauge(self, name: str, doc: str, rows: Rows) -> Metric:
        return _gauge(name, doc, rows)

    def counter(self, name: str, doc: str, rows: Rows) -> Metric:
        return _counter(name, doc, self.created, rows)

    def histogram(self, name: str, doc: str, hist: Hist) -> Metric:
        return _histogram(name, doc, self.created, [(dict(self.base), hist)])


def cache_config_labels(params: EngineParams, generation: MetricsGeneration) -> dict[str, str]:
    """``vllm:cache_config_info``'s labels: ``str()`` of every ``CacheConfig`` attribute.

    The attribute set is the release's (its dataclass fields, plus ``swap_space_bytes``
    that 0.10.2's ``__post_init__`` sets); the values are those of a default
    ``vllm serve`` as the API server holds them (engine-resolved ones left ``None``).
    """
    common = {
        "block_size": str(params.block_size),
        "gpu_memory_utilization": str(params.gpu_memory_utilization),
        "cache_dtype": "auto",
        "is_attention_free": "False",
        "num_gpu_blocks_override": "None",
        "sliding_window": "None",
        "enable_prefix_caching": "True",
        "prefix_caching_hash_algo": "sha256",
        "mamba_page_size_padded": "None",
        "mamba_cache_dtype": "auto",
        "mamba_ssm_cache_dtype": "auto",
        "num_gpu_blocks": str(params.num_gpu_blocks),
        "num_cpu_blocks": "None",
        "kv_sharing_fast_prefill": "False",
        "kv_cache_memory_bytes": "None",
    }
    if generation == "legacy":
        return {
            **common,
            "swap_space": "4.0",
            "cpu_offload_gb": "0.0",
            "calculate_kv_scales": "False",
            "cpu_kvcache_space_bytes": "None",
            "swap_space_bytes": "4294967296.0",
            "engine": "0",
        }
    return {
        **common,
        "user_specified_block_size": "False",
        "kv_cache_layout": "None",
        "prefix_match_unit": "None",
        "prefix_cache_retention_interval": "0",
        "kv_cache_dtype_skip_layers": "[]",
        "skip_page_size_padded": "None",
        "mamba_block_size": "None",
        "mamba_cache_mode": "none",
        "enable_mamba_shared_prefix_checkpoint": "False",
        "replayssm_buffer_len": "16",
        "use_replayssm": "False",
        "use_kda_recoverssm": "False",
        "simple_cpu_offload_num_blocks": "None",
        "effective_attention_block_size": "None",
        "kv_cache_size_tokens": "None",
        "kv_cache_max_concurrency": "None",
        "hash_block_size": "None",
        "cache_hit_alignment_tokens": "None",
        "swa_bounded_replay": "True",
        "kv_offloading_size": "None",
        "kv_offloading_backend": "native",
        "_block_size_resolved": "True",
        "engine": "0",
    }


class VllmCollector(Collector):
    """Renders one engine's state and the API server's HTTP counts as vLLM metrics."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        http: Callable[[], HttpStats],
        model: str,
        generation: MetricsGeneration,
        created: Callable[[], float],
    ) -> None:
        self._engine = engine
        self._http = http
        self.model = model
        self.generation = generation
        self._created = created

    def attach(self, engine: Engine) -> None:
        """Nothing to do: the engine records in vLLM's own layouts."""

    def describe(self) -> Iterator[Metric]:
        """The families served, so the registry knows their names: vLLM's own metric
        objects describe themselves to theirs (one API server: prometheus_client's global
        registry), which is what lets ``/metrics?name[]=...`` serve only the samples asked
        for. (SGLang's collector does not: its multiprocess registry answers such a request
        with nothing, and so does the simulator's.)"""
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        """Yield every family of the release, then the HTTP instrumentation's."""
        engine = self._engine()
        created = self._created()
        fams = _Families(self.model, created)
        if self.generation == "legacy":
            yield from _release_0_10_2(engine, fams)
        else:
            yield from _release_0_33_0(engine, fams)
        yield _gauge(
            "vllm:cache_config_info",
            "Information of the LLMEngine CacheConfig",
            [(cache_config_labels(engine.params, self.generation), 1.0)],
        )
        yield from http_metrics(self._http(), created)


@dataclass(frozen=True, slots=True)
class _Family:
    """One metric family as a release registers it: its type, HELP text and series
    (``rows`` for a gauge or counter, ``hist`` for a histogram)."""

    kind: Literal["gauge", "counter", "histogram"]
    help: str
    rows: Callable[[Engine, _Families], Rows] | None = None
    hist: Callable[[EngineStats], Hist] | None = None


def _one(figure: Callable[[Engine], float]) -> Callable[[Engine, _Families], Rows]:
    return lambda engine, f: f.one(figure(engine))


def _gauge_of(help_: str, figure: Callable[[Engine], float]) -> _Family:
    return _Family("gauge", help_, rows=_one(figure))


def _counter_of(help_: str, figure: Callable[[Engine], float]) -> _Family:
    return _Family("counter", help_, rows=_one(figure))


def _histogram_of(help_: str, hist: Callable[[EngineStats], Hist]) -> _Family:
    return _Family("histogram", help_, hist=hist)


def _success(reasons: tuple[str, ...]) -> _Family:
    return _Family(
        "counter",
        "Count of successfully processed requests.",
        rows=lambda e, f: f.by("finished_reason", {r: e.stats.success.get(r, 0) for r in reasons}),
    )


_SHARED: dict[str, _Family] = {
    "vllm:num_requests_running": _gauge_of(
        "Number of requests in model execution batches.", lambda e: e.num_running
    ),
    "vllm:num_requests_waiting": _gauge_of(
        "Number of requests waiting to be processed.", lambda e: e.num_waiting
    ),
    "vllm:kv_cache_usage_perc": _gauge_of(
        "KV-cache usage. 1 means 100 percent usage.", lambda e: e.kv_usage
    ),
    "vllm:prefix_cache_queries": _counter_of(
        "Prefix cache queries, in terms of number of queried tokens.",
        lambda e: e.stats.prefix_queries,
    ),
    "vllm:prefix_cache_hits": _counter_of(
        "Prefix cache hits, in terms of number of cached tokens.", lambda e: e.stats.prefix_hits
    ),
    "vllm:num_preemptions": _counter_of(
        "Cumulative number of preemption from the engine.", lambda e: e.stats.preemptions
    ),
    "vllm:prompt_tokens": _counter_of(
        "Number of prefill tokens processed.", lambda e: e.stats.prompt_tokens
    ),
    "vllm:generation_tokens": _counter_of(
        "Number of generation tokens processed.", lambda e: e.stats.generation_tokens
    ),
    "vllm:request_prompt_tokens": _histogram_of(
        "Number of prefill tokens processed.", lambda s: s.request_prompt_tokens
    ),
    "vllm:request_generation_tokens": _histogram_of(
        "Number of generation tokens processed.", lambda s: s.request_generation_tokens
    ),
    "vllm:iteration_tokens_total": _histogram_of(
        "Histogram of number of tokens per engine_step.", lambda s: s.iteration_tokens
    ),
    "vllm:request_max_num_generation_tokens": _histogram_of(
        "Histogram of maximum number of requested generation tokens.",
        lambda s: s.request_max_num_generation_tokens,
    ),
    "vllm:request_params_n": _histogram_of(
        "Histogram of the n request parameter.", lambda s: s.params_n
    ),
    "vllm:request_params_max_tokens": _histogram_of(
        "Histogram of the max_tokens request parameter.", lambda s: s.request_params_max_tokens
    ),
    "vllm:time_to_first_token_seconds": _histogram_of(
        "Histogram of time to first token in seconds.", lambda s: s.ttft
    ),
    "vllm:inter_token_latency_seconds": _histogram_of(
        "Histogram of inter-token latency in seconds.", lambda s: s.inter_token
    ),
    "vllm:e2e_request_latency_seconds": _histogram_of(
        "Histogram of e2e request latency in seconds.", lambda s: s.e2e
    ),
    "vllm:request_queue_time_seconds": _histogram_of(
        "Histogram of time spent in WAITING phase for request.", lambda s: s.queue
    ),
    "vllm:request_inference_time_seconds": _histogram_of(
        "Histogram of time spent in RUNNING phase for request.", lambda s: s.inference
    ),
    "vllm:request_prefill_time_seconds": _histogram_of(
        "Histogram of time spent in PREFILL phase for request.", lambda s: s.prefill
    ),
    "vllm:request_decode_time_seconds": _histogram_of(
        "Histogram of time spent in DECODE phase for request.", lambda s: s.decode
    ),
}
"""The families both releases register with the same type, HELP text and series."""

_LATENCY_HISTOGRAMS = (
    "vllm:time_to_first_token_seconds",
    "vllm:inter_token_latency_seconds",
)
_PHASE_HISTOGRAMS = (
    "vllm:e2e_request_latency_seconds",
    "vllm:request_queue_time_seconds",
    "vllm:request_inference_time_seconds",
    "vllm:request_prefill_time_seconds",
    "vllm:request_decode_time_seconds",
)
_TOKEN_HISTOGRAMS = (
    "vllm:request_prompt_tokens",
    "vllm:request_generation_tokens",
    "vllm:iteration_tokens_total",
    "vllm:request_max_num_generation_tokens",
    "vllm:request_params_n",
    "vllm:request_params_max_tokens",
)


def _prompt_tokens_by_source(engine: Engine, f: _Families) -> Rows:
    s = engine.stats
    cached = s.prompt_tokens_cached
    return f.by(
        "source",
        {
            "local_compute": s.prompt_tokens - cached,
            "local_cache_hit": cached,
            "external_kv_transfer": 0,
        },
    )


def _cached_by_tier(engine: Engine, f: _Families) -> Rows:
    tiers = dict.fromkeys(CACHE_HIT_SOURCES, 0.0)
    tiers["device"] = float(engine.stats.prefix_hits)
    return f.by("source", tiers)


def _per_gpu(what: str) -> _Family:
    return _counter_of(
        f"Estimated number of {what} per GPU (for Model Flops Utilization calculations).",
        lambda e: 0,
    )


_ONLY_0_33_0: dict[str, _Family] = {
    "vllm:num_requests_waiting_by_reason": _Family(
        "gauge",
        "Number of waiting requests by reason. Reason labels: 'capacity' = waiting for"
        " scheduling capacity; 'deferred' = deferred by transient constraints (LoRA budget,"
        " KV transfer, blocked status). Sum of all reasons equals vllm:num_requests_waiting.",
        rows=lambda e, f: f.by("reason", {"capacity": e.num_waiting, "deferred": 0}),
    ),
    "vllm:engine_sleep_state": _Family(
        "gauge",
        "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is"
        " awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep"
        " level 2.",
        rows=lambda e, f: f.by(
            "sleep_state", {"awake": 1, "weights_offloaded": 0, "discard_all": 0}
        ),
    ),
    # no KV connector: the external (cross-instance) prefix cache is never queried
    "vllm:external_prefix_cache_queries": _counter_of(
        "External prefix cache queries from KV connector cross-instance cache sharing, in"
        " terms of number of queried tokens.",
        lambda e: 0,
    ),
    "vllm:external_prefix_cache_hits": _counter_of(
        "External prefix cache hits from KV connector cross-instance cache sharing, in terms"
        " of number of cached tokens.",
        lambda e: 0,
    ),
    # a text-only model: the multi-modal cache is never queried
    "vllm:mm_cache_queries": _counter_of(
        "Multi-modal cache queries, in terms of number of queried items.", lambda e: 0
    ),
    "vllm:mm_cache_hits": _counter_of(
        "Multi-modal cache hits, in terms of number of cached items.", lambda e: 0
    ),
    "vllm:prompt_tokens_by_source": _Family(
        "counter", "Number of prompt tokens by source.", rows=_prompt_tokens_by_source
    ),
    "vllm:prompt_tokens_cached": _counter_of(
        "Number of cached prompt tokens (local + external).",
        lambda e: e.stats.prompt_tokens_cached,
    ),
    "vllm:prompt_tokens_cached_by_source": _Family(
        "counter",
        "Prefix-cache hit tokens by the cache tier that supplied them: device (local HBM),"
        " host (offloaded to DRAM), disk, p2p (transferred from another vLLM instance) or"
        " external_unspecified. Counted at admission; sums to vllm:prefix_cache_hits +"
        " vllm:external_prefix_cache_hits.",
        rows=_cached_by_tier,
    ),
    "vllm:request_success": _success(FINISH_REASONS_0_33),
    # no --max-num-queued-reqs/-tokens limit: nothing is refused at admission
    "vllm:admission_rejections": _Family(
        "counter",
        "Number of admission attempts rejected by a queue limit, by reason.",
        rows=lambda e, f: [
            ({"model_name": f.base["model_name"], "reason": r}, 0.0) for r in ADMISSION_REASONS
        ],
    ),
    "vllm:request_time_per_output_token_seconds": _histogram_of(
        "Histogram of time_per_output_token_seconds per request.",
        lambda s: s.time_per_output_token_request,
    ),
    "vllm:request_num_preemptions": _histogram_of(
        "Histogram of the number of times a request was preempted.",
        lambda s: s.request_num_preemptions,
    ),
    "vllm:request_prefill_kv_computed_tokens": _histogram_of(
        "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
        lambda s: s.request_prefill_kv_computed,
    ),
    # PerfMetricsProm: registered always, counted only with --enable-mfu-metrics (off)
    "vllm:estimated_flops_per_gpu": _per_gpu("floating point operations"),
    "vllm:estimated_read_bytes_per_gpu": _per_gpu("bytes read from memory"),
    "vllm:estimated_write_bytes_per_gpu": _per_gpu("bytes written to memory"),
}
"""vLLM 0.33.0's own families (``PrometheusStatLogger`` and ``PerfMetricsProm``)."""

_ORDER_0_33_0 = (
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:num_requests_waiting_by_reason",
    "vllm:engine_sleep_state",
    "vllm:kv_cache_usage_perc",
    "vllm:prefix_cache_queries",
    "vllm:prefix_cache_hits",
    "vllm:external_prefix_cache_queries",
    "vllm:external_prefix_cache_hits",
    "vllm:mm_cache_queries",
    "vllm:mm_cache_hits",
    "vllm:num_preemptions",
    "vllm:prompt_tokens",
    "vllm:prompt_tokens_by_source",
    "vllm:prompt_tokens_cached",
    "vllm:prompt_tokens_cached_by_source",
    "vllm:generation_tokens",
    "vllm:request_success",
    "vllm:admission_rejections",
    *_TOKEN_HISTOGRAMS,
    *_LATENCY_HISTOGRAMS,
    "vllm:request_time_per_output_token_seconds",
    *_PHASE_HISTOGRAMS,
    "vllm:request_num_preemptions",
    "vllm:request_prefill_kv_computed_tokens",
    "vllm:estimated_flops_per_gpu",
    "vllm:estimated_read_bytes_per_gpu",
    "vllm:estimated_write_bytes_per_gpu",
)
"""vLLM 0.33.0's families in registration order."""

# the missing spaces in the HELP texts below are vLLM 0.10.2's own (adjacent literals)
_ONLY_0_10_2: dict[str, _Family] = {
    "vllm:gpu_cache_usage_perc": _gauge_of(
        "GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use"
        " vllm:kv_cache_usage_perc instead.",
        lambda e: e.kv_usage,
    ),
    "vllm:gpu_prefix_cache_queries": _counter_of(
        "GPU prefix cache queries, in terms of number of queriedtokens. DEPRECATED: Use"
        " vllm:prefix_cache_queries instead.",
        lambda e: e.stats.prefix_queries,
    ),
    "vllm:gpu_prefix_cache_hits": _counter_of(
        "GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: Use"
        " vllm:prefix_cache_hits instead.",
        lambda e: e.stats.prefix_hits,
    ),
    "vllm:request_success": _success(FINISH_REASONS_0_10),
    "vllm:time_per_output_token_seconds": _histogram_of(
        "Histogram of time per output token in seconds.DEPRECATED: Use"
        " vllm:inter_token_latency_seconds instead.",
        lambda s: s.inter_token,
    ),
}
"""vLLM 0.10.2's own families: the names deprecated since, and fewer finish reasons."""

_ORDER_0_10_2 = (
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:gpu_cache_usage_perc",
    "vllm:gpu_prefix_cache_queries",
    "vllm:gpu_prefix_cache_hits",
    "vllm:kv_cache_usage_perc",
    "vllm:prefix_cache_queries",
    "vllm:prefix_cache_hits",
    "vllm:num_preemptions",
    "vllm:prompt_tokens",
    "vllm:generation_tokens",
    "vllm:request_success",
    *_TOKEN_HISTOGRAMS,
    "vllm:time_to_first_token_seconds",
    "vllm:time_per_output_token_seconds",
    "vllm:inter_token_latency_seconds",
    *_PHASE_HISTOGRAMS,
)
"""vLLM 0.10.2's ``PrometheusStatLogger`` families in registration order."""


def _release(
    order: tuple[str, ...], own: dict[str, _Family], engine: Engine, f: _Families
) -> Iterator[Metric]:
    """A release's families, in its order: its own where it has one, else the shared."""
    for name in order:
        family = own.get(name) or _SHARED[name]
        if family.hist is not None:
            yield f.histogram(name, family.help, family.hist(engine.stats))
        elif family.rows is not None:
            make = f.gauge if family.kind == "gauge" else f.counter
            yield make(name, family.help, family.rows(engine, f))


def _release_0_33_0(engine: Engine, f: _Families) -> Iterator[Metric]:
    """vLLM 0.33.0's ``PrometheusStatLogger`` and ``PerfMetricsProm``, in registration order."""
    return _release(_ORDER_0_33_0, _ONLY_0_33_0, engine, f)


def _release_0_10_2(engine: Engine, f: _Families) -> Iterator[Metric]:
    """vLLM 0.10.2's ``PrometheusStatLogger``, in registration order, HELP texts verbatim."""
    return _release(_ORDER_0_10_2, _ONLY_0_10_2, engine, f)
