"""Text Generation Inference's names, read from its router: router/src/server.rs,
backends/v3/src/{backend,queue}.rs (huggingface/text-generation-inference v3.3.7).

TGI's exporter (metrics-exporter-prometheus) writes counters without ``_total`` and
no ``model_name`` label: the model comes from the config. Every ``*_duration``
histogram shares one set of buckets (0.00015 s x 1.5ⁿ, 35 of them) — read from the data
all the same. What it does not expose: KV-cache usage, time to first token,
preemptions. Tokens/s come from the per-request histograms' ``_sum`` (input length and
generated tokens recorded when a request ends); the inter-token latency is TGI's
per-request *mean* time per token. Errors: ``tgi_request_failure`` by ``err``, of all
``tgi_request_count``; a validation or template error is the client's request, not a
server failure.
"""

from __future__ import annotations

from types import MappingProxyType

from tui.sources.engines import _base as e

MAP = e.EngineMap(
    name="tgi",
    title="TGI",
    prefixes=("tgi_",),
    gauges=MappingProxyType(
        {
            e.RUNNING: ("tgi_batch_current_size",),
            e.WAITING: ("tgi_queue_size",),
        }
    ),
    histograms=MappingProxyType(
        {
            e.E2E: ("tgi_request_duration",),
            e.QUEUE: ("tgi_request_queue_duration",),
            e.ITL: ("tgi_request_mean_time_per_token_duration",),
        }
    ),
    counters=MappingProxyType(
        {
            e.PROMPT_TOKENS: ("tgi_request_input_length_sum",),
            e.GENERATION_TOKENS: ("tgi_request_generated_tokens_sum",),
            e.REQUESTS: ("tgi_request_success",),
        }
    ),
    answered=("tgi_request_count",),
    failed=("tgi_request_failure",),
    not_errors=frozenset({"validation", "template"}),
    model_label="",
    source="huggingface/text-generation-inference router/src/server.rs (v3.3.7)",
)
