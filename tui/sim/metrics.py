"""vLLM's Prometheus metrics for one simulated backend, on a prometheus_client registry.

Names, types, labels and bucket bounds follow vLLM's v1 Prometheus stat logger (see
``shared/reference/vllm-metrics.md``). A custom collector reads the engine's cumulative
statistics at scrape time, so the exposition is prometheus_client's own. Two generations:

* ``current``: today's names only;
* ``legacy``: additionally the deprecated names (``vllm:gpu_cache_usage_perc``,
  ``vllm:time_per_output_token_seconds``, ``vllm:gpu_prefix_cache_*``) beside the current
  ones, as vLLM 0.10 serves them.

``render`` writes the classic text format (what ``generate_latest`` writes), or OpenMetrics;
with ``escaped=True`` the OpenMetrics sample lines carry ``_`` instead of ``:`` while
``# HELP``/``# TYPE`` keep the colon (prometheus_client issue #1177).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from tui.sim.config import MetricsGeneration
from tui.sim.engine import Engine
from tui.sim.stats import Hist, HttpStats

CONTENT_TYPE_TEXT = "text/plain; version=0.0.4; charset=utf-8"
"""Content type of the classic text exposition."""
CONTENT_TYPE_OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
"""Content type of OpenMetrics 1.0 (escaped mode adds ``; escaping=underscores``)."""

ENGINE_LABELS: tuple[str, ...] = ("model_name", "engine")
"""The labels every vLLM engine metric carries."""

HTTP_HANDLERS: tuple[tuple[str, str], ...] = (
    ("/v1/chat/completions", "POST"),
    ("/v1/completions", "POST"),
    ("/v1/models", "GET"),
)
"""Handlers the API server instruments (``/metrics`` and ``/health`` are excluded)."""


def _counter(
    name: str, doc: str, created: float, rows: Iterable[tuple[dict[str, str], float]]
) -> Metric:
    metric = Metric(name, doc, "counter")
    for labels, value in rows:
        metric.add_sample(name + "_total", labels, value)
        metric.add_sample(name + "_created", labels, created)
    return metric


def _gauge(name: str, doc: str, rows: Iterable[tuple[dict[str, str], float]]) -> Metric:
    metric = Metric(name, doc, "gauge")
    for labels, value in rows:
        metric.add_sample(name, labels, value)
    return metric


def _histogram(
    name: str, doc: str, created: float, rows: Iterable[tuple[dict[str, str], Hist]]
) -> Metric:
    metric = Metric(name, doc, "histogram")
    for labels, hist in rows:
        bounds = [floatToGoString(b) for b in hist.bounds] + ["+Inf"]
        for le, count in zip(bounds, hist.cumulative(), strict=True):
            metric.add_sample(name + "_bucket", {**labels, "le": le}, float(count))
        metric.add_sample(name + "_count", labels, float(hist.count))
        metric.add_sample(name + "_sum", labels, hist.sum)
        metric.add_sample(name + "_created", labels, created)
    return metric


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
        """Yield every metric family, engine metrics first, then the HTTP ones."""
        engine = self._engine()
        stats = engine.stats
        created = self._created()
        legacy = self.generation == "legacy"
        base = {"model_name": self.model, "engine": "0"}

        def one(value: float) -> list[tuple[dict[str, str], float]]:
            return [(dict(base), value)]

        def hist(h: Hist) -> list[tuple[dict[str, str], Hist]]:
            return [(dict(base), h)]

        kv = engine.kv_usage
        yield _gauge(
            "vllm:num_requests_running",
            "Number of requests in model execution batches.",
            one(engine.num_running),
        )
        yield _gauge(
            "vllm:num_requests_waiting",
            "Number of requests waiting to be processed.",
            one(engine.num_waiting),
        )
        yield _gauge(
            "vllm:num_requests_waiting_by_reason",
            "Number of requests waiting to be processed, by reason.",
            [
                ({**base, "reason": "capacity"}, float(engine.num_waiting)),
                ({**base, "reason": "deferred"}, 0.0),
            ],
        )
        yield _gauge(
            "vllm:engine_sleep_state",
            "Engine sleep state; awake = 0 means engine is sleeping.",
            [
                ({**base, "sleep_state": "awake"}, 1.0),
                ({**base, "sleep_state": "weights_offloaded"}, 0.0),
                ({**base, "sleep_state": "discard_all"}, 0.0),
            ],
        )
        yield _gauge(
            "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", one(kv)
        )
        if legacy:
            yield _gauge(
                "vllm:gpu_cache_usage_perc",
                "GPU KV-cache usage. 1 means 100 percent usage."
                " DEPRECATED: Use vllm:kv_cache_usage_perc instead.",
                one(kv),
            )
        p = engine.params
        cache_labels = {
            "block_size": str(p.block_size),
            "cache_dtype": "auto",
            "enable_prefix_caching": "True",
            "gpu_memory_utilization": str(p.gpu_memory_utilization),
            "num_cpu_blocks": "None",
            "num_gpu_blocks": str(p.num_gpu_blocks),
            "swap_space": "4",
            "engine": "0",
        }
        yield _gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig", [
            (cache_labels, 1.0)
        ])  # fmt: skip
        yield _counter(
            "vllm:num_preemptions",
            "Cumulative number of preemption from the engine.",
            created,
            one(stats.preemptions),
        )
        yield _counter(
            "vllm:prompt_tokens", "Number of prefill tokens processed.", created,
            one(stats.prompt_tokens),
        )  # fmt: skip
        yield _counter(
            "vllm:generation_tokens", "Number of generation tokens processed.", created,
            one(stats.generation_tokens),
        )  # fmt: skip
        reasons = ["stop", "length", "abort"] + ([] if legacy else ["error", "repetition"])
        yield _counter(
            "vllm:request_success",
            "Count of successfully processed requests.",
            created,
            [({**base, "finished_reason": r}, float(stats.success.get(r, 0))) for r in reasons],
        )
        yield _counter(
            "vllm:prefix_cache_queries",
            "Prefix cache queries, in terms of number of queried tokens.",
            created,
            one(stats.prefix_queries),
        )
        yield _counter(
            "vllm:prefix_cache_hits",
            "Prefix cache hits, in terms of number of cached tokens.",
            created,
            one(stats.prefix_hits),
        )
        if legacy:
            yield _counter(
                "vllm:gpu_prefix_cache_queries",
                "GPU prefix cache queries, in terms of number of queried tokens."
                " DEPRECATED: Use vllm:prefix_cache_queries instead.",
                created,
                one(stats.prefix_queries),
            )
            yield _counter(
                "vllm:gpu_prefix_cache_hits",
                "GPU prefix cache hits, in terms of number of cached tokens."
                " DEPRECATED: Use vllm:prefix_cache_hits instead.",
                created,
                one(stats.prefix_hits),
            )
        histograms: list[tuple[str, str, Hist]] = [
            ("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
             stats.iteration_tokens),
            ("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
             stats.ttft),
            ("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
             stats.inter_token),
        ]  # fmt: skip
        if legacy:
            histograms.append((
                "vllm:time_per_output_token_seconds",
                "Histogram of time per output token in seconds."
                " DEPRECATED: Use vllm:inter_token_latency_seconds instead.",
                stats.inter_token,
            ))  # fmt: skip
        histograms += [
            ("vllm:request_time_per_output_token_seconds",
             "Histogram of time_per_output_token_seconds per request.",
             stats.time_per_output_token_request),
            ("vllm:e2e_request_latency_seconds",
             "Histogram of e2e request latency in seconds.", stats.e2e),
            ("vllm:request_queue_time_seconds",
             "Histogram of time spent in WAITING phase for request.", stats.queue),
            ("vllm:request_inference_time_seconds",
             "Histogram of time spent in RUNNING phase for request.", stats.inference),
            ("vllm:request_prefill_time_seconds",
             "Histogram of time spent in PREFILL phase for request.", stats.prefill),
            ("vllm:request_decode_time_seconds",
             "Histogram of time spent in DECODE phase for request.", stats.decode),
            ("vllm:request_prompt_tokens",
             "Number of prefill tokens processed.", stats.request_prompt_tokens),
            ("vllm:request_generation_tokens",
             "Number of generation tokens processed.", stats.request_generation_tokens),
            ("vllm:request_max_num_generation_tokens",
             "Histogram of maximum number of requested generation tokens.",
             stats.request_max_num_generation_tokens),
            ("vllm:request_params_n",
             "Histogram of the n request parameter.", stats.params_n),
            ("vllm:request_params_max_tokens",
             "Histogram of the max_tokens request parameter.", stats.request_params_max_tokens),
        ]  # fmt: skip
        if legacy:  # vLLM 0.10's v1 loggers; current vLLM no longer serves it
            histograms.append((
                "vllm:time_per_prefill_token_request_seconds",
                "Time spent per token during prefill  phase in seconds",
                stats.prefill_per_token,
            ))  # fmt: skip
        for name, doc, h in histograms:
            yield _histogram(name, doc, created, hist(h))
        yield from self._http_metrics(created)

    def _http_metrics(self, created: float) -> Iterator[Metric]:
        """prometheus-fastapi-instrumentator 8.x ``metrics.default()``, as vLLM's API server
        registers it: names, label order, HELP texts (trailing space included), buckets."""
        http = self._http()
        rows: list[tuple[dict[str, str], float]] = []
        durations: list[tuple[dict[str, str], Hist]] = []
        handlers = [h for h, _ in HTTP_HANDLERS]
        for handler, method in HTTP_HANDLERS:
            for (h, m, status), n in sorted(http.requests.items()):
                if (h, m) == (handler, method):
                    rows.append(({"method": m, "status": status, "handler": h}, float(n)))
            if (handler, method) in http.durations:
                labels = {"method": method, "handler": handler}
                durations.append((labels, http.durations[(handler, method)]))
        yield _counter("http_requests", "Total number of requests by method, status and"
                       " handler.", created, rows)  # fmt: skip
        for name, sizes, what in (
            ("http_request_size_bytes", http.request_sizes, "incoming requests"),
            ("http_response_size_bytes", http.response_sizes, "outgoing responses"),
        ):
            summary = Metric(
                name,
                f"Content length of {what} by handler. Only value of header is respected."
                " Otherwise ignored. No percentile calculated. ",
                "summary",
            )
            for handler in handlers:
                if handler in sizes:
                    count, total = sizes[handler]
                    summary.add_sample(name + "_count", {"handler": handler}, float(count))
                    summary.add_sample(name + "_sum", {"handler": handler}, total)
                    summary.add_sample(name + "_created", {"handler": handler}, created)
            yield summary
        yield _histogram(
            "http_request_duration_highr_seconds",
            "Latency with many buckets but no API specific labels. Made for more accurate"
            " percentile calculations. ",
            created,
            [({}, http.highr)],
        )
        yield _histogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler. Made to be only used if aggregation by"
            " handler is important. ",
            created,
            durations,
        )


def build_registry(collector: Collector, *, process: bool = True) -> CollectorRegistry:
    """A fresh registry holding ``collector`` (one per backend process).

    With ``process``, also prometheus_client's default collectors (``process_*``,
    ``python_gc_*``, ``python_info``), which vLLM's registry serves beside its own.
    """
    registry = CollectorRegistry(auto_describe=False)
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    registry.register(collector)
    return registry


def wants_openmetrics(accept: str | None) -> bool:
    """Whether an Accept header asks for OpenMetrics (as Prometheus 2.x does first)."""
    if not accept:
        return False
    return any(
        part.split(";")[0].strip() == "application/openmetrics-text" for part in accept.split(",")
    )


def render(
    registry: CollectorRegistry, openmetrics_format: bool, escaped: bool
) -> tuple[bytes, str]:
    """The exposition and its content type.

    Classic text unless ``openmetrics_format``; OpenMetrics sample names keep their colons
    unless ``escaped`` (then ``:`` becomes ``_`` in sample lines only, as in issue #1177).
    """
    if not openmetrics_format:
        return generate_latest(registry), CONTENT_TYPE_TEXT
    body = openmetrics.generate_latest(registry, escaping=openmetrics.ALLOWUTF8)
    if not escaped:
        return body, CONTENT_TYPE_OPENMETRICS
    lines = []
    for line in body.decode("utf-8").splitlines(keepends=True):
        if not line.startswith("#"):
            cut = min((i for i in (line.find("{"), line.find(" ")) if i >= 0), default=len(line))
            line = line[:cut].replace(":", "_") + line[cut:]
        lines.append(line)
    return "".join(lines).encode("utf-8"), CONTENT_TYPE_OPENMETRICS + "; escaping=underscores"
