"""vLLM's names (the v1 engine's Prometheus stat logger, vLLM 0.10.2 to 0.33.0).

See reference/vllm-metrics.md; the simulator serves both releases exactly (tui/sim/vllm_metrics.py).

Renamed metrics are listed current name first, then the deprecated one, so a backend
mid-upgrade is read under whichever it still exposes.
"""

from __future__ import annotations

from types import MappingProxyType

from tui.sources.engines import _base as e

MAP = e.EngineMap(
    name="vllm",
    title="vLLM",
    prefixes=("vllm:", "vllm_"),
    gauges=MappingProxyType(
        {
            e.RUNNING: ("vllm:num_requests_running",),
            e.WAITING: ("vllm:num_requests_waiting",),
            e.KV_CACHE: ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        }
    ),
    histograms=MappingProxyType(
        {
            e.TTFT: ("vllm:time_to_first_token_seconds",),
            e.E2E: ("vllm:e2e_request_latency_seconds",),
            e.QUEUE: ("vllm:request_queue_time_seconds",),
            e.ITL: ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
        }
    ),
    counters=MappingProxyType(
        {
            e.PROMPT_TOKENS: ("vllm:prompt_tokens_total",),
            e.GENERATION_TOKENS: ("vllm:generation_tokens_total",),
            e.REQUESTS: ("vllm:request_success_total",),
            e.PREEMPTIONS: ("vllm:num_preemptions_total",),
            e.PREFIX_QUERIES: (
                "vllm:prefix_cache_queries_total",
                "vllm:gpu_prefix_cache_queries_total",
            ),
            e.PREFIX_HITS: ("vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"),
        }
    ),
    # The API server's own instrumentation: handler, method, status class; not vllm:-prefixed.
    answered=("http_requests_total",),
    source="vllm/v1/metrics/loggers.py (vLLM 0.10.2 to 0.33.0)",
    # /metrics is prometheus_client's make_asgi_app over its registry; with several API
    # servers that registry is a multiprocess one, which answers a named request with
    # nothing: the scrape source then asks that backend for its whole page
    serves_named_samples=True,
)
