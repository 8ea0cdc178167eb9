"""What the servers counted over a load test: each backend's own counters, read from
its ``/metrics`` before and after the run, and the difference.

These are the figures the dashboard shows (the same metric names, the same quantile
maths as Prometheus's ``histogram_quantile``), taken over exactly the run's interval,
so the report can set them beside the client's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from tui.analysis.quantiles import histogram_quantile
from tui.sources.promtext import ExpositionError, parse_exposition

COMPLETED_REASONS = frozenset({"stop", "length"})
HISTOGRAMS = {
    "ttft": "vllm:time_to_first_token_seconds",
    "e2e": "vllm:e2e_request_latency_seconds",
    "itl": "vllm:inter_token_latency_seconds",
}
_WANTED = ("vllm:request_success_total", "vllm:generation_tokens_total",
           "vllm:prompt_tokens_total", *(f"{h}_bucket" for h in HISTOGRAMS.values()))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Counters:
    """One backend's counters at one moment (None when it did not answer)."""

    completed: float
    failed: float
    generation_tokens: float
    prompt_tokens: float
    buckets: Mapping[str, Mapping[float, float]]  # histogram -> le -> cumulative count


def read_counters(url: str, timeout_s: float = 3.0) -> Counters | None:
    """A backend's counters now, or None when its ``/metrics`` cannot be read."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/metrics", timeout=timeout_s)
        response.raise_for_status()
        samples = parse_exposition(response.text, lambda name: name in _WANTED)
    except (httpx.HTTPError, ExpositionError):
        return None
    completed = failed = generated = prompted = 0.0
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for s in samples:
        if s.name == "vllm:request_success_total":
            if s.labels.get("finished_reason", "stop") in COMPLETED_REASONS:
                completed += s.value
            else:
                failed += s.value
        elif s.name == "vllm:generation_tokens_total":
            generated += s.value
        elif s.name == "vllm:prompt_tokens_total":
            prompted += s.value
        else:
            for key, name in HISTOGRAMS.items():
                if s.name == f"{name}_bucket":
                    buckets[key][float(s.labels.get("le", "+Inf"))] += s.value
    return Counters(completed, failed, generated, prompted,
                    {k: dict(v) for k, v in buckets.items()})  # fmt: skip


def read_all(backends: Mapping[str, str]) -> dict[str, Counters | None]:
    """Every backend's counters (name -> URL in, name -> counters out)."""
    return {name: read_counters(url) for name, url in backends.items()}


def _delta(
    after: Mapping[float, float], before: Mapping[float, float]
) -> list[tuple[float, float]]:
    return [(le, count - before.get(le, 0.0)) for le, count in after.items()]


def difference(
    before: Mapping[str, Counters | None], after: Mapping[str, Counters | None], run_s: float
) -> dict[str, Any]:
    """The servers' side of the report: per backend and in all, over the run."""
    per_backend: dict[str, Any] = {}
    merged: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    totals = {"completed": 0.0, "failed": 0.0, "generation_tokens": 0.0}
    unread: list[str] = []
    for name, end in after.items():
        start = before.get(name)
        if start is None or end is None:
            unread.append(name)
            continue
        row = {
            "completed": end.completed - start.completed,
            "failed": end.failed - start.failed,
            "generation_tokens": end.generation_tokens - start.generation_tokens,
        }
        per_backend[name] = row
        for key in totals:
            totals[key] += row[key]
        for key, buckets in end.buckets.items():
            for le, count in _delta(buckets, start.buckets.get(key, {})):
                merged[key][le] += count
    span = max(run_s, 1e-9)
    quantiles: dict[str, dict[str, float | None]] = {}
    for key in HISTOGRAMS:
        pairs = sorted(merged.get(key, {}).items())
        quantiles[key] = {f"p{round(q * 100)}": histogram_quantile(q, pairs)
                          for q in (0.5, 0.95, 0.99)}  # fmt: skip
    return {
        "backends": per_backend,
        "completed": totals["completed"],
        "failed": totals["failed"],
        "generation_tokens": totals["generation_tokens"],
        "requests_per_s": totals["completed"] / span,
        "output_tokens_per_s": totals["generation_tokens"] / span,
        "ttft_s": quantiles["ttft"],
        "e2e_s": quantiles["e2e"],
        "itl_s": quantiles["itl"],
        "unread": sorted(unread),
    }


def backends_to_watch(configured: Sequence[tuple[str, str]], target: str) -> dict[str, str]:
    """The backends whose counters to read: the config's; else the target itself."""
    if configured:
        return dict(configured)
    return {"target": target}
