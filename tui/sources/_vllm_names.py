"""vLLM metric names: canonical names, their renames, and the ``vllm_`` spelling.

Each canonical metric (the current name) lists the names it has been exposed under,
current first, then deprecated ones. Every ``vllm:`` name is also accepted with the colon
escaped (``vllm_``), as a recent prometheus_client writes it in OpenMetrics. `resolve`
picks, per canonical metric, the first of these found in a scrape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

GAUGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "vllm:num_requests_running": ("vllm:num_requests_running",),
        "vllm:num_requests_waiting": ("vllm:num_requests_waiting",),
        "vllm:kv_cache_usage_perc": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    }
)
"""Gauges read as they are: canonical → known names."""

HISTOGRAMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "vllm:time_to_first_token_seconds": ("vllm:time_to_first_token_seconds",),
        "vllm:e2e_request_latency_seconds": ("vllm:e2e_request_latency_seconds",),
        "vllm:request_queue_time_seconds": ("vllm:request_queue_time_seconds",),
        "vllm:inter_token_latency_seconds": (
            "vllm:inter_token_latency_seconds",
            "vllm:time_per_output_token_seconds",
        ),
    }
)
"""Histograms (base names, without ``_bucket``): canonical → known names."""

COUNTERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "vllm:prompt_tokens_total": ("vllm:prompt_tokens_total",),
        "vllm:generation_tokens_total": ("vllm:generation_tokens_total",),
        "vllm:request_success_total": ("vllm:request_success_total",),
        "vllm:num_preemptions_total": ("vllm:num_preemptions_total",),
        "vllm:prefix_cache_queries_total": (
            "vllm:prefix_cache_queries_total",
            "vllm:gpu_prefix_cache_queries_total",
        ),
        "vllm:prefix_cache_hits_total": (
            "vllm:prefix_cache_hits_total",
            "vllm:gpu_prefix_cache_hits_total",
        ),
    }
)
"""vLLM counters (sample names, with ``_total``): canonical → known names."""

HTTP_REQUESTS = "http_requests_total"
"""The API server's request counter, labelled ``handler``, ``method``, ``status`` class."""


def spellings(name: str) -> tuple[str, ...]:
    """``name`` as written, plus the colon-escaped ``vllm_`` form for a ``vllm:`` name."""
    if name.startswith("vllm:"):
        return (name, "vllm_" + name[len("vllm:") :])
    return (name,)


def _probe(canonical: str) -> list[str]:
    """Wire names to look for, best first (histograms by their ``_bucket`` series)."""
    if canonical in HISTOGRAMS:
        return [s + "_bucket" for n in HISTOGRAMS[canonical] for s in spellings(n)]
    known = GAUGES.get(canonical) or COUNTERS.get(canonical) or (canonical,)
    return [s for n in known for s in spellings(n)]


_ALL = (*GAUGES, *HISTOGRAMS, *COUNTERS, HTTP_REQUESTS)
_PROBES = {canonical: _probe(canonical) for canonical in _ALL}

WANTED: frozenset[str] = frozenset(
    [p for probes in _PROBES.values() for p in probes]
    + [
        s + suffix
        for names in HISTOGRAMS.values()
        for n in names
        for s in spellings(n)
        for suffix in ("_sum", "_count")
    ]
)
"""Every sample name the scrape core reads (to skip parsing the rest of a page)."""


def resolve(present: Iterable[str]) -> dict[str, str]:
    """Canonical name → the sample name found on the wire, for each metric present.

    For a histogram the value is its ``_bucket`` sample name.
    """
    names = set(present)
    found: dict[str, str] = {}
    for canonical, probes in _PROBES.items():
        hit = next((p for p in probes if p in names), None)
        if hit is not None:
            found[canonical] = hit
    return found


def is_completion_handler(labels: Mapping[str, str]) -> bool:
    """True for the OpenAI completion endpoints (``/v1/chat/completions``, ``/v1/completions``)."""
    return labels.get("handler", "").rstrip("/").endswith("completions")


def is_5xx(labels: Iterable[tuple[str, str]]) -> bool:
    """True when the ``status`` label is a 5xx class (``5xx``) or code (``503``)."""
    status = dict(labels).get("status", "")
    return status.startswith("5")
