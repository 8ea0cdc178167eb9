"""The SLO tiers of the operations handbook, threshold classification, and overall state.

The tiers (Standard — the default —, Enhanced, Premium) are the handbook's tables as data.
`classify` colours one figure against one threshold; `overall_state` gives the SLO's
verdict with one line per reason — one of the three inputs `tui.analysis.overall` takes
the worst of for the header (with the sources' health and the firing alerts).

What `overall_state` checks, and why not more:

* backend health (any down → DEGRADED, none up → DOWN);
* the fleet's TTFT p50/p95, end-to-end p50/p95 and error rate against the tier;
* queue depth per backend (the handbook's queue limit is what one server may hold
  queued; summing queues over a large fleet would breach by size alone).

The throughput minima (requests/min, tokens/s) measure demand as much as health: a quiet
night would read as DEGRADED. They are in the tier for `classify` (panels can colour
them) but do not move the overall state. The timeout-rate limit has no live figure in the
model yet, and availability is a monthly target, not an instant one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from tui.model import Backend, Health, OverallState, Pool

Level = Literal["ok", "warn", "breach"]
"""How a figure sits against its SLO threshold."""

#: A max-style figure warns from this share of its limit (a min-style one below limit / it).
WARN_RATIO = 0.8


@dataclass(frozen=True, slots=True)
class SloTier:
    """One SLO tier: latency maxima in seconds, ratios 0..1, throughput minima."""

    name: str
    availability: float  # target ratio, e.g. 0.995
    error_budget_min_per_month: float  # allowed downtime per 30-day month, minutes
    ttft_p50_s: float
    ttft_p95_s: float
    e2e_p50_s: float
    e2e_p95_s: float
    tokens_per_s_p50_min: float
    requests_per_min_min: float
    queue_depth_max: float
    error_rate_max: float
    timeout_rate_max: float


STANDARD = SloTier(
    name="standard",
    availability=0.995,
    error_budget_min_per_month=216.0,
    ttft_p50_s=0.5,
    ttft_p95_s=2.0,
    e2e_p50_s=5.0,
    e2e_p95_s=15.0,
    tokens_per_s_p50_min=50.0,
    requests_per_min_min=10.0,
    queue_depth_max=20.0,
    error_rate_max=0.02,
    timeout_rate_max=0.05,
)
ENHANCED = SloTier(
    name="enhanced",
    availability=0.999,
    error_budget_min_per_month=43.0,
    ttft_p50_s=0.3,
    ttft_p95_s=1.0,
    e2e_p50_s=3.0,
    e2e_p95_s=10.0,
    tokens_per_s_p50_min=100.0,
    requests_per_min_min=30.0,
    queue_depth_max=10.0,
    error_rate_max=0.01,
    timeout_rate_max=0.02,
)
PREMIUM = SloTier(
    name="premium",
    availability=0.9995,
    error_budget_min_per_month=22.0,
    ttft_p50_s=0.2,
    ttft_p95_s=0.5,
    e2e_p50_s=2.0,
    e2e_p95_s=5.0,
    tokens_per_s_p50_min=200.0,
    requests_per_min_min=100.0,
    queue_depth_max=5.0,
    error_rate_max=0.005,
    timeout_rate_max=0.01,
)

TIERS: Mapping[str, SloTier] = MappingProxyType({t.name: t for t in (STANDARD, ENHANCED, PREMIUM)})
"""Every tier by lower-case name."""

DEFAULT_TIER = STANDARD


def get_tier(name: str) -> SloTier:
    """The tier called ``name`` (any case); ValueError naming the known tiers otherwise."""
    try:
        return TIERS[name.strip().lower()]
    except KeyError:
        known = ", ".join(TIERS)
        raise ValueError(f"unknown SLO tier {name!r} (known: {known})") from None


def classify(value: float | None, threshold: float, *, minimum: bool = False) -> Level | None:
    """Where ``value`` sits against ``threshold``: "ok", "warn" or "breach"; None if unknown.

    Max-style (``minimum=False``, e.g. latency ≤ 2 s): above the threshold breaches, from
    80% of it warns. Min-style (``minimum=True``, e.g. ≥ 50 tokens/s): below the threshold
    breaches, below threshold / 0.8 warns. Exactly on the threshold is not a breach.
    """
    if value is None or value != value:  # None or NaN
        return None
    if minimum:
        if value < threshold:
            return "breach"
        return "warn" if value * WARN_RATIO < threshold else "ok"
    if value > threshold:
        return "breach"
    return "warn" if value >= threshold * WARN_RATIO else "ok"


def format_seconds(value: float) -> str:
    """A latency for a reason line: ``620ms`` below a second, ``2.4s`` from one up."""
    if abs(value) < 1:
        return f"{value * 1000:.0f}ms"
    return f"{value:.3g}s"


def format_ratio(value: float) -> str:
    """A 0..1 ratio as a percentage for a reason line: ``3.1%``, ``0.5%``."""
    return f"{value * 100:.3g}%"


def fleet_breaches(fleet: Pool, tier: SloTier) -> list[str]:
    """One reason line per fleet figure that breaches ``tier``, e.g. "TTFT p95 2.4s > 2s"."""
    reasons: list[str] = []
    latency = (
        ("TTFT p50", fleet.ttft.p50, tier.ttft_p50_s),
        ("TTFT p95", fleet.ttft.p95, tier.ttft_p95_s),
        ("E2E p50", fleet.e2e.p50, tier.e2e_p50_s),
        ("E2E p95", fleet.e2e.p95, tier.e2e_p95_s),
    )
    for label, value, limit in latency:
        if value is not None and classify(value, limit) == "breach":
            reasons.append(f"{label} {format_seconds(value)} > {format_seconds(limit)}")
    error_rate = fleet.traffic.error_rate
    if error_rate is not None and classify(error_rate, tier.error_rate_max) == "breach":
        reasons.append(
            f"error rate {format_ratio(error_rate)} > {format_ratio(tier.error_rate_max)}"
        )
    return reasons


_JUDGED = (("ttft", "TTFT"), ("e2e", "E2E latency"), ("errors", "error rate"))
"""The fleet figures the SLO judges, by the figure names engines may not expose."""


def slo_exclusions(fleet: Pool) -> list[str]:
    """Why a fleet figure is left out of (or only partly in) the SLO evaluation.

    An engine that does not expose a figure (TGI has no TTFT, llama.cpp no latency
    histograms) cannot breach it: its backends are left out of that figure, and the
    line says so — never a green verdict over an empty cell.
    """
    out: list[str] = []
    values = {"ttft": fleet.ttft.p95, "e2e": fleet.e2e.p95, "errors": fleet.traffic.error_rate}
    for figure, label in _JUDGED:
        engines = fleet.unexposed.get(figure)
        if not engines:
            continue
        if values[figure] is None:
            out.append(f"{label} not judged: n/a ({engines})")
        else:
            out.append(f"{label} judged without the {engines} backends (n/a there)")
    return out


def _queue_breaches(backends: Iterable[Backend], tier: SloTier) -> list[str]:
    """A reason per up backend whose queue is over the tier's queue-depth limit."""
    return [
        f"{b.name} queue {b.waiting:g} > {tier.queue_depth_max:g}"
        for b in backends
        if b.health is Health.UP
        and b.waiting is not None
        and classify(b.waiting, tier.queue_depth_max) == "breach"
    ]


def overall_state(
    backends: Iterable[Backend] | None,
    fleet: Pool | None,
    tier: SloTier | str = DEFAULT_TIER,
) -> tuple[OverallState, tuple[str, ...]]:
    """The header's verdict and why: UNKNOWN, DOWN, DEGRADED or OK.

    * UNKNOWN: no data yet (``backends`` is None, or no backend has been judged);
    * DOWN: no backend is known, or none is up;
    * DEGRADED: some backend is down (or unreadable), or a fleet figure breaches the tier;
    * OK otherwise. Reasons read like "blue-1 down: connection refused".
    """
    if isinstance(tier, str):
        tier = get_tier(tier)
    if backends is None:
        return OverallState.UNKNOWN, ("no data yet",)
    listed = list(backends)
    if not listed:
        return OverallState.DOWN, ("no backends known",)
    up = [b for b in listed if b.health is Health.UP]
    down = [b for b in listed if b.health is Health.DOWN]
    # UNKNOWN with a reason means "answered but unreadable"; without one, "not seen yet".
    unreadable = [b for b in listed if b.health is Health.UNKNOWN and b.reason]
    reasons = [f"{b.name} down: {b.reason}" if b.reason else f"{b.name} down" for b in down]
    reasons += [f"{b.name} unknown: {b.reason}" for b in unreadable]
    if not up:
        if not down and not unreadable:
            return OverallState.UNKNOWN, ("no data yet",)
        if not down:
            return OverallState.UNKNOWN, tuple(reasons)
        return OverallState.DOWN, tuple(reasons)
    if fleet is not None:
        reasons += fleet_breaches(fleet, tier)
    reasons += _queue_breaches(up, tier)
    notes = slo_exclusions(fleet) if fleet is not None else []
    if reasons:
        return OverallState.DEGRADED, (*reasons, *notes)
    return OverallState.OK, tuple(notes)
