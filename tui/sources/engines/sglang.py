"""SGLang's names, read from its source: python/sglang/srt/metrics/collector.py
(SchedulerMetricsCollector, TokenizerMetricsCollector) and the scheduler's metrics mixin,
sgl-project/sglang main of 2026 (v0.5.x).

What matters for reading it:

* Scheduler gauges carry ``model_name``, ``engine_type``, ``tp_rank``, ``pp_rank``,
  ``moe_ep_rank`` and, with data parallelism, ``dp_rank``. By default only the first
  attention-TP rank of each scheduler reports; with ``--enable-metrics-for-all-schedulers``
  every TP rank reports the *same* batch. So requests are added up over ``dp_rank``
  only, and the ranks of one DP group count once.
* KV cache is ``sglang:token_usage`` (0..1), waiting is ``sglang:num_queue_reqs``.
* Latencies come from the tokenizer manager: TTFT, inter-token and end-to-end histograms
  (buckets overridable by server arguments: read from the data), and the scheduler's
  ``sglang:queue_time_seconds``.
* Requests: ``sglang:num_requests_total``. There is no error counter (aborts are client
  cancellations) and no preemption counter under that name (``num_retracted_requests``
  is SGLang's retraction, which is the same thing: a running request sent back).
"""

from __future__ import annotations

from types import MappingProxyType

from tui.sources.engines import _base as e

MAP = e.EngineMap(
    name="sglang",
    title="SGLang",
    prefixes=("sglang:", "sglang_"),
    gauges=MappingProxyType(
        {
            e.RUNNING: ("sglang:num_running_reqs",),
            e.WAITING: ("sglang:num_queue_reqs",),
            e.KV_CACHE: ("sglang:token_usage",),
        }
    ),
    histograms=MappingProxyType(
        {
            e.TTFT: ("sglang:time_to_first_token_seconds",),
            e.E2E: ("sglang:e2e_request_latency_seconds",),
            e.QUEUE: ("sglang:queue_time_seconds",),
            e.ITL: ("sglang:inter_token_latency_seconds",),
        }
    ),
    counters=MappingProxyType(
        {
            e.PROMPT_TOKENS: ("sglang:prompt_tokens_total",),
            e.GENERATION_TOKENS: ("sglang:generation_tokens_total",),
            e.REQUESTS: ("sglang:num_requests_total",),
            e.PREEMPTIONS: ("sglang:num_retracted_requests_total",),
        }
    ),
    replica_labels=("tp_rank", "pp_rank", "moe_ep_rank"),
    group_label="dp_rank",
    source="sgl-project/sglang python/sglang/srt/metrics/collector.py (v0.5.x, 2026)",
)
