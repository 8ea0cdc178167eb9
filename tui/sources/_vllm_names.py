"""Metric names the collectors read: kept for its importers, now every engine's.

The name maps live in `tui.sources.engines` (one module per engine: vLLM, SGLang, TGI,
llama.cpp). This module re-exports the union under the names the collectors have always
used: canonical id (vLLM's current name) → every known name, current first; every name
is also accepted with its colon escaped (``vllm_x``), as a recent prometheus_client
writes it in OpenMetrics.
"""

from __future__ import annotations

from tui.sources.engines import (
    COUNTERS,
    GAUGES,
    HISTOGRAMS,
    HTTP_REQUESTS,
    MEANS,
    detect,
    histogram_parts,
    is_5xx,
    is_answer,
    is_completion_handler,
    request_series,
    resolve,
    spellings,
    wanted_families,
)

WANTED: frozenset[str] = wanted_families()
"""Every sample name the scrape core reads (to skip parsing the rest of a page)."""

__all__ = [
    "COUNTERS",
    "GAUGES",
    "HISTOGRAMS",
    "HTTP_REQUESTS",
    "MEANS",
    "WANTED",
    "detect",
    "histogram_parts",
    "is_5xx",
    "is_answer",
    "is_completion_handler",
    "request_series",
    "resolve",
    "spellings",
    "wanted_families",
]
