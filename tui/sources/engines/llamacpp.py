"""llama.cpp server's names (``llama-server --metrics``), read from its source:
tools/server/server-context.cpp, the metrics handler (ggml-org/llama.cpp, builds of 2025-2026).

Plain counters and gauges without labels (no model name: the model comes from the
config) and no histograms, so no quantiles at all: the inter-token latency is a *mean*,
generation seconds over generated tokens. Running is ``requests_processing`` (busy
slots), waiting ``requests_deferred``. Older builds also had
``llamacpp:kv_cache_usage_ratio`` (removed with the KV-cache refactor of 2025); it is read
where it is served. Not exposed: TTFT, end-to-end and queue latency, request and error
counts, preemptions.
"""

from __future__ import annotations

from types import MappingProxyType

from tui.sources.engines import _base as e

MAP = e.EngineMap(
    name="llamacpp",
    title="llama.cpp",
    prefixes=("llamacpp:", "llamacpp_"),
    gauges=MappingProxyType(
        {
            e.RUNNING: ("llamacpp:requests_processing",),
            e.WAITING: ("llamacpp:requests_deferred",),
            e.KV_CACHE: ("llamacpp:kv_cache_usage_ratio",),
        }
    ),
    histograms=MappingProxyType({}),
    counters=MappingProxyType(
        {
            e.PROMPT_TOKENS: ("llamacpp:prompt_tokens_total",),
            e.GENERATION_TOKENS: ("llamacpp:tokens_predicted_total",),
        }
    ),
    means=MappingProxyType(
        {e.ITL: ("llamacpp:tokens_predicted_seconds_total", "llamacpp:tokens_predicted_total")}
    ),
    model_label="",
    source="ggml-org/llama.cpp tools/server/server-context.cpp (b6000+)",
)
