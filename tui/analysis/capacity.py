"""Capacity: host thresholds, GPU use, in-flight load, the scaling decision, growth, headroom.

The handbook's capacity tables as data and pure functions over a `FleetSnapshot` and
`HostMetrics` (read by `tui.sources.host`):

* `host_checks` — CPU > 90 %, RAM > 85 %, disk I/O > 80 %, disk space (> 90 % by
  default: the handbook says to check it without a figure);
* `gpu_uses` — idle below 20 %, the 60-80 % target band, saturated above 95 %;
* `in_flight` — requests running against each backend's ``max_num_seqs`` (> 80 % flags);
* `scaling_decision` — the Scaling Decision Matrix (Monitor … Emergency expansion) on
  live utilisation, queue depth and latency, with the figures that decided it;
* `months_until` / `fit_monthly_growth` / `headroom` — the growth projection and the
  20-30 % buffer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tui.analysis.budget import MONTH_S, worst_queue
from tui.analysis.slo import DEFAULT_TIER, SloTier, classify, get_tier
from tui.model import Backend, FleetSnapshot, Gpu, Health

CheckState = Literal["ok", "warn", "breach", "unknown"]

# --- hosts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostMetrics:
    """One machine's load: percentages 0..100, None where not known.

    ``disk_used_pct`` maps each mount point to how full it is; ``source`` says where the
    figures come from (``psutil`` for this machine, ``node exporter`` through Prometheus).
    """

    host: str
    source: str
    cpu_pct: float | None = None
    mem_pct: float | None = None
    disk_io_pct: float | None = None
    disk_used_pct: Mapping[str, float] = field(default_factory=dict)
    error: str = ""  # why figures are missing, in one line


@dataclass(frozen=True, slots=True)
class HostThresholds:
    """Where a host figure breaches (percent); warnings start 10 points below."""

    cpu_pct: float = 90.0
    mem_pct: float = 85.0
    disk_io_pct: float = 80.0
    disk_used_pct: float = 90.0


HANDBOOK_HOST_THRESHOLDS = HostThresholds()

WARN_MARGIN_PCT = 10.0
"""A host figure this many points below its limit is a warning."""


@dataclass(frozen=True, slots=True)
class Check:
    """One figure against one limit: ``state`` is ok, warn, breach or unknown."""

    name: str
    value: float | None
    limit: float
    state: CheckState
    note: str = ""


def check_pct(name: str, value: float | None, limit: float, note: str = "") -> Check:
    """A percentage against a maximum: over it breaches, within 10 points warns."""
    if value is None or math.isnan(value):
        return Check(name, None, limit, "unknown", note)
    if value > limit:
        state: CheckState = "breach"
    elif value > limit - WARN_MARGIN_PCT:
        state = "warn"
    else:
        state = "ok"
    return Check(name, value, limit, state, note)


def host_checks(
    host: HostMetrics, limits: HostThresholds = HANDBOOK_HOST_THRESHOLDS
) -> tuple[Check, ...]:
    """The handbook's host checks: CPU, RAM, disk I/O, then one per mount for disk space."""
    checks = [
        check_pct("CPU", host.cpu_pct, limits.cpu_pct),
        check_pct("RAM", host.mem_pct, limits.mem_pct),
        check_pct("disk I/O", host.disk_io_pct, limits.disk_io_pct),
    ]
    checks += [
        check_pct(f"disk {mount}", used, limits.disk_used_pct)
        for mount, used in sorted(host.disk_used_pct.items())
    ]
    return tuple(checks)


# --- GPUs and in-flight requests ---------------------------------------------------------

GpuBand = Literal["idle", "below target", "in target", "above target", "saturated", "unknown"]

GPU_IDLE_PCT = 20.0
GPU_TARGET_PCT = (60.0, 80.0)
GPU_SATURATED_PCT = 95.0


@dataclass(frozen=True, slots=True)
class GpuUse:
    """One GPU's utilisation against the handbook: idle < 20 %, target 60-80 %, > 95 %."""

    key: str
    util_pct: float | None
    band: GpuBand


def gpu_band(util_pct: float | None) -> GpuBand:
    """Where a GPU's utilisation sits in the handbook's bands."""
    if util_pct is None or math.isnan(util_pct):
        return "unknown"
    if util_pct < GPU_IDLE_PCT:
        return "idle"
    if util_pct < GPU_TARGET_PCT[0]:
        return "below target"
    if util_pct <= GPU_TARGET_PCT[1]:
        return "in target"
    return "saturated" if util_pct > GPU_SATURATED_PCT else "above target"


def gpu_uses(gpus: Iterable[Gpu]) -> tuple[GpuUse, ...]:
    """Every GPU with its band."""
    return tuple(GpuUse(g.key, g.util_pct, gpu_band(g.util_pct)) for g in gpus)


IN_FLIGHT_LIMIT = 0.8
"""In-flight requests above this share of ``max_num_seqs`` are flagged (handbook: > 80 %)."""


@dataclass(frozen=True, slots=True)
class InFlight:
    """Requests running on one backend against the most it batches (``max_num_seqs``)."""

    backend: str
    running: float | None
    max_num_seqs: int | None

    @property
    def ratio(self) -> float | None:
        """``running / max_num_seqs``, when both are known."""
        if self.running is None or not self.max_num_seqs:
            return None
        return self.running / self.max_num_seqs

    @property
    def over(self) -> bool:
        """True above 80 % of the maximum."""
        return self.ratio is not None and self.ratio > IN_FLIGHT_LIMIT


def in_flight(backends: Iterable[Backend], max_num_seqs: Mapping[str, int]) -> tuple[InFlight, ...]:
    """Each backend's running requests against its configured ``max_num_seqs``."""
    return tuple(InFlight(b.name, b.running, max_num_seqs.get(b.name)) for b in backends)


# --- the scaling decision matrix ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScalingRow:
    """One row of the handbook's matrix: the action and up to which figures it applies.

    A figure belongs to the first row whose bound it is under (or on, for rows marked
    ``inclusive``: the handbook writes "70-80 %" then "> 80 %").
    """

    action: str
    utilisation_upto_pct: float
    queue_upto: float
    latency: str  # as the handbook words it
    inclusive: bool = False


SCALING_MATRIX: tuple[ScalingRow, ...] = (
    ScalingRow("Monitor", 50.0, 5.0, "< SLO"),
    ScalingRow("Plan expansion", 70.0, 10.0, "< SLO"),
    ScalingRow("Execute expansion", 80.0, 15.0, "near SLO", inclusive=True),
    ScalingRow("Emergency expansion", math.inf, math.inf, "> SLO", inclusive=True),
)
"""The handbook's Scaling Decision Matrix, mildest first."""

#: Latency level (`tui.analysis.slo.classify`) → the matrix row it reads as.
_LATENCY_ROW = {"ok": 0, "warn": 2, "breach": 3}


def _row(value: float, bound: str) -> int:
    for i, row in enumerate(SCALING_MATRIX):
        upto = getattr(row, bound)
        if value < upto or (row.inclusive and value == upto):
            return i
    return len(SCALING_MATRIX) - 1


@dataclass(frozen=True, slots=True)
class Figure:
    """One input of the decision: its value, where it comes from, the row it reads as."""

    name: str
    value: float | None
    shown: str
    note: str
    row: int | None  # index into SCALING_MATRIX; None when unknown


@dataclass(frozen=True, slots=True)
class ScalingDecision:
    """The matrix applied: the action, and the figures (those that decided it first)."""

    action: str
    figures: tuple[Figure, ...]
    decided_by: tuple[str, ...]

    @property
    def level(self) -> int:
        """0 Monitor … 3 Emergency expansion; -1 when nothing was known."""
        return next((i for i, r in enumerate(SCALING_MATRIX) if r.action == self.action), -1)


def fleet_utilisation(
    snapshot: FleetSnapshot, max_num_seqs: Mapping[str, int] | None = None
) -> tuple[float | None, str]:
    """The fleet's utilisation in percent and what it is measured from.

    The mean GPU utilisation when GPUs are known; else running requests against the
    configured ``max_num_seqs``; else the mean KV-cache use.
    """
    utils = [g.util_pct for g in snapshot.gpus if g.util_pct is not None]
    if utils:
        return sum(utils) / len(utils), f"mean GPU utilisation of {len(utils)} GPUs"
    limits = max_num_seqs or {}
    up = [b for b in snapshot.backends if b.health is Health.UP]
    pairs = [(b.running, limits[b.name]) for b in up if b.running is not None and b.name in limits]
    if pairs:
        share = sum(r for r, _ in pairs) / sum(m for _, m in pairs)
        return 100.0 * share, "running requests / max_num_seqs"
    fleet = snapshot.fleet
    if fleet is not None and fleet.kv_cache_usage is not None:
        return 100.0 * fleet.kv_cache_usage, "mean KV-cache use (no GPU figures)"
    return None, "no utilisation figure"


def latency_level(snapshot: FleetSnapshot, tier: SloTier) -> tuple[float | None, str, str | None]:
    """The worst fleet latency against its SLO: (share of the limit, label, level)."""
    fleet = snapshot.fleet
    if fleet is None:
        return None, "no latency figure", None
    pairs = [
        ("TTFT p95", fleet.ttft.p95, tier.ttft_p95_s),
        ("total p95", fleet.e2e.p95, tier.e2e_p95_s),
    ]
    known = [(label, v / limit, classify(v, limit)) for label, v, limit in pairs if v is not None]
    if not known:
        return None, "no latency figure", None
    label, share, level = max(known, key=lambda k: k[1])
    return share, label, level


def scaling_decision(
    utilisation_pct: float | None,
    queue_depth: float | None,
    latency_share: float | None,
    latency_level_: str | None,
    *,
    utilisation_note: str = "",
    latency_note: str = "",
) -> ScalingDecision:
    """The matrix's action for these figures: the row of the worst one.

    ``latency_share`` is the latency as a share of its SLO limit and ``latency_level_``
    its `classify` level (ok reads as "< SLO", warn as "near SLO", breach as "> SLO").
    Unknown figures do not take part; all unknown gives "Unknown".
    """
    figures = [
        Figure("utilisation", utilisation_pct,
               "-" if utilisation_pct is None else f"{utilisation_pct:.0f}%", utilisation_note,
               None if utilisation_pct is None else _row(utilisation_pct, "utilisation_upto_pct")),
        Figure("queue depth", queue_depth, "-" if queue_depth is None else f"{queue_depth:g}",
               "worst backend", None if queue_depth is None else _row(queue_depth, "queue_upto")),
        Figure("latency", latency_share,
               "-" if latency_share is None else f"{latency_share:.0%} of SLO", latency_note,
               None if latency_level_ is None else _LATENCY_ROW[latency_level_]),
    ]  # fmt: skip
    rows = [f.row for f in figures if f.row is not None]
    if not rows:
        return ScalingDecision("Unknown", tuple(figures), ())
    worst = max(rows)
    decided = tuple(f.name for f in figures if f.row == worst)
    return ScalingDecision(SCALING_MATRIX[worst].action, tuple(figures), decided)


def decide(
    snapshot: FleetSnapshot,
    tier: SloTier | str | None = None,
    max_num_seqs: Mapping[str, int] | None = None,
) -> ScalingDecision:
    """`scaling_decision` on a snapshot's live utilisation, worst queue and latency."""
    if tier is None:
        tier = snapshot.slo_tier or DEFAULT_TIER.name
    if isinstance(tier, str):
        tier = get_tier(tier)
    util, util_note = fleet_utilisation(snapshot, max_num_seqs)
    share, label, level = latency_level(snapshot, tier)
    return scaling_decision(
        util, worst_queue(snapshot), share, level, utilisation_note=util_note, latency_note=label
    )


# --- growth and headroom -----------------------------------------------------------------

DEFAULT_CAPACITY_THRESHOLD_PCT = 80.0
"""The handbook's capacity threshold: plan expansion before utilisation reaches it."""

HEADROOM_BAND_PCT = (20.0, 30.0)
"""The handbook's capacity buffer: keep 20-30 % free."""


def months_until(current_pct: float, monthly_growth: float, threshold_pct: float) -> float | None:
    """Months until utilisation reaches the threshold at the handbook's linear growth.

    ``(threshold - current) / (current x growth)``: 60 % now, 10 % a month, 80 % → 3.3.
    0 when already there; None when it never gets there (no growth, or no use).
    """
    if current_pct >= threshold_pct:
        return 0.0
    if monthly_growth <= 0 or current_pct <= 0:
        return None
    return (threshold_pct - current_pct) / (current_pct * monthly_growth)


def fit_monthly_growth(points: Sequence[tuple[float, float]]) -> float | None:
    """Monthly growth (0.1 = 10 %) fitted to ``(epoch seconds, utilisation %)`` points.

    A least-squares line through the known points; its rise over a month relative to
    the fitted value at the latest point. None with fewer than two points, a span under
    an hour, or a fitted value at or below zero.
    """
    known = [(t, v) for t, v in points if v == v]
    if len(known) < 2:
        return None
    ts = [t for t, _ in known]
    if max(ts) - min(ts) < 3600:
        return None
    n = len(known)
    mean_t = sum(ts) / n
    mean_v = sum(v for _, v in known) / n
    var = sum((t - mean_t) ** 2 for t in ts)
    slope = sum((t - mean_t) * (v - mean_v) for t, v in known) / var
    latest = mean_v + slope * (max(ts) - mean_t)
    if latest <= 0:
        return None
    return slope * MONTH_S / latest


HeadroomState = Literal["short", "in band", "ample", "unknown"]


@dataclass(frozen=True, slots=True)
class Headroom:
    """Free capacity against the handbook's 20-30 % buffer."""

    free_pct: float | None
    state: HeadroomState


def headroom(utilisation_pct: float | None) -> Headroom:
    """Free capacity: short under 20 %, in band 20-30 %, ample above 30 %."""
    if utilisation_pct is None or math.isnan(utilisation_pct):
        return Headroom(None, "unknown")
    free = 100.0 - utilisation_pct
    low, high = HEADROOM_BAND_PCT
    state: HeadroomState = "short" if free < low else "in band" if free <= high else "ample"
    return Headroom(free, state)


@dataclass(frozen=True, slots=True)
class Projection:
    """When utilisation reaches the threshold, and from which growth rate."""

    current_pct: float | None
    monthly_growth: float | None
    growth_source: str  # "config", "prometheus (30d fit)", or why none
    threshold_pct: float
    months: float | None


def project(
    current_pct: float | None,
    monthly_growth: float | None,
    growth_source: str,
    threshold_pct: float = DEFAULT_CAPACITY_THRESHOLD_PCT,
) -> Projection:
    """The growth projection for a utilisation and a growth rate (either may be unknown)."""
    months = None
    if current_pct is not None and monthly_growth is not None:
        months = months_until(current_pct, monthly_growth, threshold_pct)
    return Projection(current_pct, monthly_growth, growth_source, threshold_pct, months)
