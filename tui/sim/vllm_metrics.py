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

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tui.sim.config import VLLM_RELEASES, MetricsGeneration
from tui.sim.engine import Engine, EngineParams
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


def _release_0_33_0(engine: Engine, f: _Families) -> Iterator[Metric]:
    """vLLM 0.33.0's ``PrometheusStatLogger`` and ``PerfMetricsProm``, in registration order."""
    s = engine.stats
    yield f.gauge(
        "vllm:num_requests_running",
        "Number of requests in model execution batches.",
        f.one(engine.num_running),
    )
    yield f.gauge(
        "vllm:num_requests_waiting",
        "Number of requests waiting to be processed.",
        f.one(engine.num_waiting),
    )
    yield f.gauge(
        "vllm:num_requests_waiting_by_reason",
        "Number of waiting requests by reason. Reason labels: 'capacity' = waiting for"
        " scheduling capacity; 'deferred' = deferred by transient constraints (LoRA budget,"
        " KV transfer, blocked status). Sum of all reasons equals vllm:num_requests_waiting.",
        f.by("reason", {"capacity": engine.num_waiting, "deferred": 0}),
    )
    yield f.gauge(
        "vllm:engine_sleep_state",
        "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is"
        " awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep"
        " level 2.",
        f.by("sleep_state", {"awake": 1, "weights_offloaded": 0, "discard_all": 0}),
    )
    yield f.gauge(
        "vllm:kv_cache_usage_perc",
        "KV-cache usage. 1 means 100 percent usage.",
        f.one(engine.kv_usage),
    )
    yield f.counter(
        "vllm:prefix_cache_queries",
        "Prefix cache queries, in terms of number of queried tokens.",
        f.one(s.prefix_queries),
    )
    yield f.counter(
        "vllm:prefix_cache_hits",
        "Prefix cache hits, in terms of number of cached tokens.",
        f.one(s.prefix_hits),
    )
    # no KV connector: the external (cross-instance) prefix cache is never queried
    yield f.counter(
        "vllm:external_prefix_cache_queries",
        "External prefix cache queries from KV connector cross-instance cache sharing, in"
        " terms of number of queried tokens.",
        f.one(0),
    )
    yield f.counter(
        "vllm:external_prefix_cache_hits",
        "External prefix cache hits from KV connector cross-instance cache sharing, in terms"
        " of number of cached tokens.",
        f.one(0),
    )
    # a text-only model: the multi-modal cache is never queried
    yield f.counter(
        "vllm:mm_cache_queries",
        "Multi-modal cache queries, in terms of number of queried items.",
        f.one(0),
    )
    yield f.counter(
        "vllm:mm_cache_hits",
        "Multi-modal cache hits, in terms of number of cached items.",
        f.one(0),
    )
    yield f.counter(
        "vllm:num_preemptions",
        "Cumulative number of preemption from the engine.",
        f.one(s.preemptions),
    )
    yield f.counter(
        "vllm:prompt_tokens", "Number of prefill tokens processed.", f.one(s.prompt_tokens)
    )
    cached = s.prompt_tokens_cached
    yield f.counter(
        "vllm:prompt_tokens_by_source",
        "Number of prompt tokens by source.",
        f.by(
            "source",
            {
                "local_compute": s.prompt_tokens - cached,
                "local_cache_hit": cached,
                "external_kv_transfer": 0,
            },
        ),
    )
    yield f.counter(
        "vllm:prompt_tokens_cached",
        "Number of cached prompt tokens (local + external).",
        f.one(cached),
    )
    tiers = dict.fromkeys(CACHE_HIT_SOURCES, 0.0)
    tiers["device"] = float(s.prefix_hits)
    yield f.counter(
        "vllm:prompt_tokens_cached_by_source",
        "Prefix-cache hit tokens by the cache tier that supplied them: device (local HBM),"
        " host (offloaded to DRAM), disk, p2p (transferred from another vLLM instance) or"
        " external_unspecified. Counted at admission; sums to vllm:prefix_cache_hits +"
        " vllm:external_prefix_cache_hits.",
        f.by("source", tiers),
    )
    yield f.counter(
        "vllm:generation_tokens",
        "Number of generation tokens processed.",
        f.one(s.generation_tokens),
    )
    yield f.counter(
        "vllm:request_success",
        "Count of successfully processed requests.",
        f.by("finished_reason", {r: s.success.get(r, 0) for r in FINISH_REASONS_0_33}),
    )
    # no --max-num-queued-reqs/-tokens limit: nothing is refused at admission
    yield f.counter(
        "vllm:admission_rejections",
        "Number of admission attempts rejected by a queue limit, by reason.",
        [({"model_name": f.base["model_name"], "reason": r}, 0.0) for r in ADMISSION_REASONS],
    )
    for name, doc, hist in (
        ("vllm:request_prompt_tokens", "Number of prefill tokens processed.",
         s.request_prompt_tokens),
        ("vllm:request_generation_tokens", "Number of generation tokens processed.",
         s.request_generation_tokens),
        ("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
         s.iteration_tokens),
        ("vllm:request_max_num_generation_tokens",
         "Histogram of maximum number of requested generation tokens.",
         s.request_max_num_generation_tokens),
        ("vllm:request_params_n", "Histogram of the n request parameter.", s.params_n),
        ("vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.",
         s.request_params_max_tokens),
        ("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
         s.ttft),
        ("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
         s.inter_token),
        ("vllm:request_time_per_output_token_seconds",
         "Histogram of time_per_output_token_seconds per request.",
         s.time_per_output_token_request),
        ("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
         s.e2e),
        ("vllm:request_queue_time_seconds",
         "Histogram of time spent in WAITING phase for request.", s.queue),
        ("vllm:request_inference_time_seconds",
         "Histogram of time spent in RUNNING phase for request.", s.inference),
        ("vllm:request_prefill_time_seconds",
         "Histogram of time spent in PREFILL phase for request.", s.prefill),
        ("vllm:request_decode_time_seconds",
         "Histogram of time spent in DECODE phase for request.", s.decode),
        ("vllm:request_num_preemptions",
         "Histogram of the number of times a request was preempted.",
         s.request_num_preemptions),
        ("vllm:request_prefill_kv_computed_tokens",
         "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
         s.request_prefill_kv_computed),
    ):  # fmt: skip
        yield f.histogram(name, doc, hist)
    # PerfMetricsProm: registered always, counted only with --enable-mfu-metrics (off)
    for name, what in (
        ("vllm:estimated_flops_per_gpu", "floating point operations"),
        ("vllm:estimated_read_bytes_per_gpu", "bytes read from memory"),
        ("vllm:estimated_write_bytes_per_gpu", "bytes written to memory"),
    ):
        yield f.counter(
            name,
            f"Estimated number of {what} per GPU (for Model Flops Utilization calculations).",
            f.one(0),
        )


def _release_0_10_2(engine: Engine, f: _Families) -> Iterator[Metric]:
    """vLLM 0.10.2's ``PrometheusStatLogger``, in registration order, HELP texts verbatim."""
    s = engine.stats
    yield f.gauge(
        "vllm:num_requests_running",
        "Number of requests in model execution batches.",
        f.one(engine.num_running),
    )
    yield f.gauge(
        "vllm:num_requests_waiting",
        "Number of requests waiting to be processed.",
        f.one(engine.num_waiting),
    )
    # the missing spaces below are vLLM 0.10.2's own (adjacent string literals)
    yield f.gauge(
        "vllm:gpu_cache_usage_perc",
        "GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use"
        " vllm:kv_cache_usage_perc instead.",
        f.one(engine.kv_usage),
    )
    yield f.counter(
        "vllm:gpu_prefix_cache_queries",
        "GPU prefix cache queries, in terms of number of queriedtokens. DEPRECATED: Use"
        " vllm:prefix_cache_queries instead.",
        f.one(s.prefix_queries),
    )
    yield f.counter(
        "vllm:gpu_prefix_cache_hits",
        "GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: Use"
        " vllm:prefix_cache_hits instead.",
        f.one(s.prefix_hits),
    )
    yield f.gauge(
        "vllm:kv_cache_usage_perc",
        "KV-cache usage. 1 means 100 percent usage.",
        f.one(engine.kv_usage),
    )
    yield f.counter(
        "vllm:prefix_cache_queries",
        "Prefix cache queries, in terms of number of queried tokens.",
        f.one(s.prefix_queries),
    )
    yield f.counter(
        "vllm:prefix_cache_hits",
        "Prefix cache hits, in terms of number of cached tokens.",
        f.one(s.prefix_hits),
    )
    yield f.counter(
        "vllm:num_preemptions",
        "Cumulative number of preemption from the engine.",
        f.one(s.preemptions),
    )
    yield f.counter(
        "vllm:prompt_tokens", "Number of prefill tokens processed.", f.one(s.prompt_tokens)
    )
    yield f.counter(
        "vllm:generation_tokens",
        "Number of generation tokens processed.",
        f.one(s.generation_tokens),
    )
    yield f.counter(
        "vllm:request_success",
        "Count of successfully processed requests.",
        f.by("finished_reason", {r: s.success.get(r, 0) for r in FINISH_REASONS_0_10}),
    )
    for name, doc, hist in (
        ("vllm:request_prompt_tokens", "Number of prefill tokens processed.",
         s.request_prompt_tokens),
        ("vllm:request_generation_tokens", "Number of generation tokens processed.",
         s.request_generation_tokens),
        ("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
         s.iteration_tokens),
        ("vllm:request_max_num_generation_tokens",
         "Histogram of maximum number of requested generation tokens.",
         s.request_max_num_generation_tokens),
        ("vllm:request_params_n", "Histogram of the n request parameter.", s.params_n),
        ("vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.",
         s.request_params_max_tokens),
        ("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
         s.ttft),
        ("vllm:time_per_output_token_seconds",
         "Histogram of time per output token in seconds.DEPRECATED: Use"
         " vllm:inter_token_latency_seconds instead.", s.inter_token),
        ("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
         s.inter_token),
        ("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
         s.e2e),
        ("vllm:request_queue_time_seconds",
         "Histogram of time spent in WAITING phase for request.", s.queue),
        ("vllm:request_inference_time_seconds",
         "Histogram of time spent in RUNNING phase for request.", s.inference),
        ("vllm:request_prefill_time_seconds",
         "Histogram of time spent in PREFILL phase for request.", s.prefill),
        ("vllm:request_decode_time_seconds",
         "Histogram of time spent in DECODE phase for request.", s.decode),
    ):  # fmt: skip
        yield f.histogram(name, doc, hist)
