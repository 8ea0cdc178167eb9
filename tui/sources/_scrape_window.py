"""Window rates of one backend or many, and how they become quantiles, traffic and pools."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tui.analysis.quantiles import histogram_mean, histogram_quantiles
from tui.analysis.rates import sum_buckets
from tui.model import NO_QUANTILES, Backend, Health, Pool, Quantiles, Traffic
from tui.sources._traffic import traffic_from
from tui.sources._vllm_names import COUNTERS, HISTOGRAMS
from tui.sources.engines import unexposed_in

_DASHBOARD_QUANTILES = (0.5, 0.95, 0.99)


@dataclass(slots=True)
class Window:
    """Per-second rates over the window for one backend, or summed over several."""

    buckets: dict[str, dict[float, float]] = field(default_factory=dict)
    sums: dict[str, float | None] = field(default_factory=dict)
    counts: dict[str, float | None] = field(default_factory=dict)
    counters: dict[str, float | None] = field(default_factory=dict)
    http_all: float | None = None
    http_5xx: float | None = None

    @classmethod
    def merge(cls, windows: Iterable[Window]) -> Window:
        """Sum several backends' windows (PromQL ``sum`` over instances)."""
        out = cls()
        listed = list(windows)
        for name in HISTOGRAMS:
            out.buckets[name] = sum_buckets(w.buckets.get(name, {}) for w in listed)
            out.sums[name] = add_known(w.sums.get(name) for w in listed)
            out.counts[name] = add_known(w.counts.get(name) for w in listed)
        for name in COUNTERS:
            out.counters[name] = add_known(w.counters.get(name) for w in listed)
        out.http_all = add_known(w.http_all for w in listed)
        out.http_5xx = add_known(w.http_5xx for w in listed)
        return out

    def quantiles(self, name: str) -> Quantiles:
        """p50/p95/p99 and mean of one histogram over the window."""
        buckets = self.buckets.get(name)
        if not buckets:  # an engine with totals only (llama.cpp) still has a mean
            mean = histogram_mean(self.sums.get(name), self.counts.get(name))
            return NO_QUANTILES if mean is None else Quantiles(mean=mean)
        p50, p95, p99 = histogram_quantiles(_DASHBOARD_QUANTILES, buckets.items())
        mean = histogram_mean(self.sums.get(name), self.counts.get(name))
        return Quantiles(p50=p50, p95=p95, p99=p99, mean=mean)

    def traffic(self) -> Traffic:
        """Token and request flow, and the 5xx share of completion requests."""
        return traffic_from(self.counters, self.http_all, self.http_5xx)


def add_known(values: Iterable[float | None]) -> float | None:
    """Sum of the known values; None when none is known."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def make_pool(name: str, members: list[Backend], windows: Mapping[str, Window]) -> Pool:
    """Aggregate backends into a pool: summed bucket rates and counters, summed gauges.

    Only backends that are up count: the window of one that stopped answering holds its
    past, and its rates would keep changing (extrapolated over a moving range) as if live.
    """
    healthy = [b for b in members if b.health is Health.UP]
    merged = Window.merge(windows[b.name] for b in healthy)
    kv = [b.kv_cache_usage for b in healthy if b.kv_cache_usage is not None]
    return Pool(
        name=name,
        backends=len(members),
        healthy=len(healthy),
        running=float(sum(b.running for b in members if b.running is not None)),
        waiting=float(sum(b.waiting for b in members if b.waiting is not None)),
        kv_cache_usage=sum(kv) / len(kv) if kv else None,
        ttft=merged.quantiles("vllm:time_to_first_token_seconds"),
        e2e=merged.quantiles("vllm:e2e_request_latency_seconds"),
        traffic=merged.traffic(),
        unexposed=unexposed_in(healthy),
    )
