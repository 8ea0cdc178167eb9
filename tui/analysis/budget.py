"""SLO objectives, the error budget and its burn rates: the handbook's SLO framework as figures.

Three questions, each a pure function a screen or a command can call with a
`FleetSnapshot` (and a series of samples):

* `objectives` — every objective of the tier (latency, throughput, queue, error and
  timeout rates, availability) with its value, target and state: met / at risk /
  breached (or unknown when there is no figure).
* `error_budget` — over the SLO window (30 days by default) how much of the tier's
  budget (216 / 43 / 22 minutes a month) is allowed, used and left, and how fast it
  burns over 5m … 3d, with the SRE workbook's multi-window burn-rate alerts.
* `handbook_state` — the header's verdict with the objectives the instant state leaves
  out (throughput, timeouts, availability) taken into account.

The budget counts *bad minutes*: each sample is the share of requests that failed (5xx,
or every request while no backend is up) over its step, so one minute at 100 % errors
costs one minute of budget and a hundred minutes at 1 % cost one too. A burn rate is the
bad share over a window divided by the share the tier allows (1 - target): 1x spends the
budget exactly over the SLO window, 14.4x spends 2 % of a 30-day budget in an hour.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from tui.analysis.slo import DEFAULT_TIER, SloTier, classify, format_ratio, format_seconds, get_tier
from tui.model import FleetSnapshot, Health, OverallState

ObjectiveState = Literal["met", "at risk", "breached", "unknown"]
"""How an objective stands: the operator's words for ok / warn / breach."""

_STATES: Mapping[str, ObjectiveState] = {"ok": "met", "warn": "at risk", "breach": "breached"}

MONTH_S = 30 * 86400.0
"""The handbook's month: its error budgets (216 / 43 / 22 minutes) are per 30 days."""

DEFAULT_WINDOW_S = MONTH_S
"""The SLO window the budget is counted over unless the config says otherwise."""

BURN_WINDOWS_S: tuple[float, ...] = (300, 1800, 3600, 7200, 21600, 86400, 259200)
"""Windows burn rates are reported over: 5m, 30m, 1h, 2h, 6h, 1d, 3d (the alert pairs')."""


# --- objectives ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Objective:
    """One objective of the tier: its figure now, the target, and how it stands.

    ``unit`` says how to read ``value`` and ``target``: ``s`` (seconds), ``ratio`` (0..1),
    ``tokens/s``, ``requests/min`` or ``requests``. ``minimum`` objectives must stay at or
    above the target, the others at or below. ``note`` says where the figure comes from
    when that matters (the timeout rate's source, the availability's window).
    """

    key: str
    label: str
    value: float | None
    target: float
    unit: str
    minimum: bool
    state: ObjectiveState
    note: str = ""

    @property
    def shown(self) -> str:
        """The value as the operator reads it (``420ms``, ``1.2%``, ``57 tokens/s``, ``-``)."""
        return show(self.value, self.unit)

    @property
    def shown_target(self) -> str:
        """The target with its direction: ``< 2s``, ``> 50 tokens/s``, ``≥ 99.5%``."""
        if self.key == "availability":
            return f"≥ {show(self.target, self.unit)}"
        return f"{'>' if self.minimum else '<'} {show(self.target, self.unit)}"


def show(value: float | None, unit: str) -> str:
    """A figure in its unit for a table cell; ``-`` when unknown."""
    if value is None or value != value:
        return "-"
    if unit == "s":
        return format_seconds(value)
    if unit == "ratio":
        return format_ratio(value)
    return f"{value:.3g} {unit}"


@dataclass(frozen=True, slots=True)
class TimeoutRate:
    """The share of requests that timed out, and where that figure comes from.

    ``source`` names it in the operator's words: the gateway's 504 answers, or the
    engine's aborted requests (``vllm:request_success_total{finished_reason="abort"}``).
    """

    value: float | None
    source: str


def _state(value: float | None, target: float, *, minimum: bool = False) -> ObjectiveState:
    level = classify(value, target, minimum=minimum)
    return "unknown" if level is None else _STATES[level]


def decode_speed(snapshot: FleetSnapshot) -> float | None:
    """Tokens/s of one request while it generates (1 / inter-token latency p50).

    The median over up backends that report one: the handbook's "Tokens/sec (P50)" is
    what a user sees streaming, which a quiet fleet does not lower.
    """
    speeds = sorted(
        1.0 / b.inter_token.p50
        for b in snapshot.backends
        if b.health is Health.UP and b.inter_token.p50
    )
    if not speeds:
        return None
    middle = len(speeds) // 2
    return speeds[middle] if len(speeds) % 2 else (speeds[middle - 1] + speeds[middle]) / 2


def worst_queue(snapshot: FleetSnapshot) -> float | None:
    """The longest queue of an up backend (the handbook's queue limit is per server)."""
    queues = [
        b.waiting for b in snapshot.backends if b.health is Health.UP and b.waiting is not None
    ]
    return max(queues) if queues else None


def objectives(
    snapshot: FleetSnapshot,
    tier: SloTier | str | None = None,
    *,
    timeout_rate: TimeoutRate | None = None,
    availability: float | None = None,
    availability_note: str = "",
) -> tuple[Objective, ...]:
    """Every objective of ``tier`` (the snapshot's own by default) against ``snapshot``.

    ``availability`` (0..1) comes from the error budget (`ErrorBudget.availability`);
    ``timeout_rate`` from whichever source has one. Requests/min below the minimum is
    *breached* only while requests wait in a queue (the fleet is not keeping up);
    with nothing queued it is *at risk* and says "low demand", since a quiet night
    is not a failure.
    """
    if tier is None:
        tier = snapshot.slo_tier
    if isinstance(tier, str):
        tier = get_tier(tier)
    fleet = snapshot.fleet
    ttft = fleet.ttft if fleet else None
    e2e = fleet.e2e if fleet else None
    traffic = fleet.traffic if fleet else None
    found: list[Objective] = []

    def add(key: str, label: str, value: float | None, target: float, unit: str,
            minimum: bool = False, note: str = "") -> None:  # fmt: skip
        state = _state(value, target, minimum=minimum)
        found.append(Objective(key, label, value, target, unit, minimum, state, note))

    add("ttft_p50", "TTFT p50", ttft.p50 if ttft else None, tier.ttft_p50_s, "s")
    add("ttft_p95", "TTFT p95", ttft.p95 if ttft else None, tier.ttft_p95_s, "s")
    add("e2e_p50", "Total latency p50", e2e.p50 if e2e else None, tier.e2e_p50_s, "s")
    add("e2e_p95", "Total latency p95", e2e.p95 if e2e else None, tier.e2e_p95_s, "s")
    add("tokens_per_s", "Tokens/s per request (p50)", decode_speed(snapshot),
        tier.tokens_per_s_p50_min, "tokens/s", minimum=True,
        note="1 / inter-token latency p50, median over backends")  # fmt: skip
    rpm = traffic.requests_per_min if traffic else None
    add("requests_per_min", "Requests/min", rpm, tier.requests_per_min_min, "requests/min",
        minimum=True)  # fmt: skip
    queued = fleet.waiting if fleet else 0.0
    if found[-1].state == "breached" and not queued:
        found[-1] = replace(found[-1], state="at risk", note="low demand: nothing queued")
    add("queue_depth", "Queue depth (worst backend)", worst_queue(snapshot),
        tier.queue_depth_max, "requests")  # fmt: skip
    add("error_rate", "Error rate", traffic.error_rate if traffic else None,
        tier.error_rate_max, "ratio", note="5xx answers / all answers")  # fmt: skip
    timeouts = timeout_rate or TimeoutRate(None, "no timeout figure: no gateway or engine count")
    add("timeout_rate", "Timeout rate", timeouts.value, tier.timeout_rate_max, "ratio",
        note=timeouts.source)  # fmt: skip
    unavailable = None if availability is None else 1.0 - availability
    state = _state(unavailable, 1.0 - tier.availability)
    found.append(Objective("availability", "Availability", availability, tier.availability,
                           "ratio", True, state, availability_note))  # fmt: skip
    return tuple(found)


def reason(o: Objective) -> str:
    """A breached objective as a header reason line: ``timeout rate 6% > 5%``."""
    sign = "<" if o.minimum else ">"
    return f"{o.label} {o.shown} {sign} {show(o.target, o.unit)}"


#: Objectives the instant `tui.analysis.slo.overall_state` leaves out; `handbook_state` adds them.
EXTRA_KEYS = ("tokens_per_s", "requests_per_min", "timeout_rate", "availability")


def handbook_state(
    state: OverallState, reasons: Sequence[str], found: Iterable[Objective]
) -> tuple[OverallState, tuple[str, ...]]:
    """The header's verdict with throughput, timeouts and availability taken into account.

    ``state`` and ``reasons`` are the instant verdict (`overall_state`, or a snapshot's
    ``overall``/``overall_reasons``); every breached objective of `EXTRA_KEYS` adds a
    reason and turns OK into DEGRADED. DOWN and UNKNOWN stay as they are.
    """
    extra = [reason(o) for o in found if o.key in EXTRA_KEYS and o.state == "breached"]
    if not extra or state in (OverallState.DOWN, OverallState.UNKNOWN):
        return state, tuple(reasons)
    return OverallState.DEGRADED, (*reasons, *extra)


# --- error budget and burn rates ----------------------------------------------------------


def allowed_minutes(tier: SloTier, window_s: float = DEFAULT_WINDOW_S) -> float:
    """The tier's error budget over ``window_s``: the handbook's monthly minutes, pro rata."""
    return tier.error_budget_min_per_month * window_s / MONTH_S


def bad_fraction(snapshot: FleetSnapshot) -> float | None:
    """The share of requests failing at this instant: 1 with no backend up, else the error
    rate; None when nothing is known (no backends, or no traffic to judge)."""
    if not snapshot.backends:
        return None
    if not any(b.health is Health.UP for b in snapshot.backends):
        judged = any(b.health is Health.DOWN for b in snapshot.backends)
        return 1.0 if judged else None
    return snapshot.fleet.traffic.error_rate if snapshot.fleet else None


@dataclass(frozen=True, slots=True)
class Series:
    """Bad-request shares on a time grid: ``(end of step, share 0..1 or None)``, oldest first.

    Each sample stands for the ``step_s`` seconds ending at its time. None (or NaN)
    means nothing is known for that step; it neither spends nor saves budget.
    """

    step_s: float
    samples: tuple[tuple[float, float | None], ...]

    @property
    def span_s(self) -> float:
        """How far back the grid reaches (known or not)."""
        if not self.samples:
            return 0.0
        return self.samples[-1][0] - self.samples[0][0] + self.step_s

    def within(self, now: float, window_s: float) -> list[float]:
        """The known shares whose step ends in ``(now - window_s, now]``."""
        return [
            v
            for t, v in self.samples
            if now - window_s < t <= now and v is not None and not math.isnan(v)
        ]


def series_from_history(values: Sequence[float], step_s: float, now: float) -> Series:
    """A `Series` from a hub history series (``fleet.error_rate``, NaN for gaps).

    The hub keeps one sample per refresh, the newest at ``now``.
    """
    n = len(values)
    return Series(step_s, tuple((now - (n - 1 - i) * step_s, v) for i, v in enumerate(values)))


@dataclass(frozen=True, slots=True)
class BurnRate:
    """How fast the budget burns over one window: ``rate`` x the sustainable pace."""

    window_s: float
    rate: float | None  # None: no known sample in the window
    covered_s: float  # seconds of the window with data

    @property
    def partial(self) -> bool:
        """True when data covers less than the whole window."""
        return self.covered_s + 1e-9 < self.window_s


@dataclass(frozen=True, slots=True)
class BurnAlertRule:
    """A multi-window burn-rate alert: both windows must burn faster than ``factor``."""

    name: str
    severity: str  # page or ticket
    factor: float
    long_s: float
    short_s: float
    budget_spent: float  # share of a 30-day budget spent over ``long_s`` at ``factor``


BURN_ALERT_RULES: tuple[BurnAlertRule, ...] = (
    BurnAlertRule("fast burn", "page", 14.4, 3600, 300, 0.02),
    BurnAlertRule("slow burn", "page", 6.0, 21600, 1800, 0.05),
    BurnAlertRule("steady burn", "ticket", 3.0, 86400, 7200, 0.10),
    BurnAlertRule("slow leak", "ticket", 1.0, 259200, 21600, 0.10),
)
"""The SRE workbook's recommended pairs (chapter "Alerting on SLOs", 30-day window)."""


@dataclass(frozen=True, slots=True)
class BurnAlert:
    """One rule evaluated: the two burn rates and whether it fires."""

    rule: BurnAlertRule
    long_rate: float | None
    short_rate: float | None
    firing: bool

    @property
    def summary(self) -> str:
        """``fast burn (page): 1h 20.1x & 5m 16.0x > 14.4x → firing``."""

        def x(v: float | None) -> str:
            return "-" if v is None else f"{v:.3g}x"

        r = self.rule
        verdict = "firing" if self.firing else "quiet"
        return (
            f"{r.name} ({r.severity}): {duration(r.long_s)} {x(self.long_rate)} & "
            f"{duration(r.short_s)} {x(self.short_rate)} > {r.factor:g}x → {verdict}"
        )


def evaluate_alerts(
    rates: Mapping[float, float | None], rules: Sequence[BurnAlertRule] = BURN_ALERT_RULES
) -> tuple[BurnAlert, ...]:
    """Each rule against burn rates by window (seconds): firing when both exceed its factor."""
    out = []
    for rule in rules:
        long_rate, short_rate = rates.get(rule.long_s), rates.get(rule.short_s)
        firing = (
            long_rate is not None
            and short_rate is not None
            and long_rate > rule.factor
            and short_rate > rule.factor
        )
        out.append(BurnAlert(rule, long_rate, short_rate, firing))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ErrorBudget:
    """The tier's error budget over the SLO window: allowed, used, left, and burn rates.

    ``source`` says where the samples came from (``prometheus`` or ``history``) and
    ``covered_s`` over how long there was data; ``used`` counts only what was seen.
    """

    tier: str
    target: float
    window_s: float
    allowed_min: float
    used_min: float
    covered_s: float
    source: str
    source_detail: str
    burn_rates: tuple[BurnRate, ...]
    alerts: tuple[BurnAlert, ...]
    bad_share: float | None  # mean bad share over what was covered

    @property
    def remaining_min(self) -> float:
        """Minutes of budget left (negative once overspent)."""
        return self.allowed_min - self.used_min

    @property
    def remaining_pct(self) -> float:
        """Budget left as a percentage of the allowance (negative once overspent)."""
        return 100.0 * self.remaining_min / self.allowed_min if self.allowed_min else 0.0

    @property
    def availability(self) -> float | None:
        """Measured availability over what was covered (1 - mean bad share)."""
        return None if self.bad_share is None else 1.0 - self.bad_share

    def burn(self, window_s: float) -> BurnRate | None:
        """The burn rate over ``window_s``, if it was computed."""
        return next((b for b in self.burn_rates if b.window_s == window_s), None)


class _Known:
    """A series' known shares (None and NaN left out) in time order, with their step end
    times, so each window is found by bisection: `error_budget` reads up to eight
    windows of a series every refresh, and scanning every sample for each was most of
    what the overview's budget line cost."""

    def __init__(self, series: Series) -> None:
        self.series = series
        known = [(t, v) for t, v in series.samples if v is not None and not math.isnan(v)]
        known.sort(key=lambda sample: sample[0])  # in order already: a check, in effect
        self.times = [t for t, _ in known]
        self.shares = [v for _, v in known]

    def within(self, now: float, window_s: float) -> list[float]:
        """`Series.within`: the known shares whose step ends in ``(now - window_s, now]``."""
        return self.shares[bisect_right(self.times, now - window_s) : bisect_right(self.times, now)]

    def covered(self, now: float, window_s: float) -> float:
        """Seconds of ``window_s`` (ending at ``now``) for which the series has data."""
        count = bisect_right(self.times, now) - bisect_right(self.times, now - window_s)
        return min(count * self.series.step_s, window_s)


def _pick(series: Sequence[_Known], now: float, window_s: float) -> _Known | None:
    """The series with the most data in the window; the finest of those that tie."""
    listed = [s for s in series if s.series.samples]
    if not listed:
        return None
    return max(listed, key=lambda s: (s.covered(now, window_s), -s.series.step_s))


def error_budget(
    series: Series | Sequence[Series],
    *,
    now: float,
    tier: SloTier | str = DEFAULT_TIER,
    window_s: float = DEFAULT_WINDOW_S,
    source: str = "history",
    source_detail: str = "",
    burn_windows_s: Sequence[float] = BURN_WINDOWS_S,
) -> ErrorBudget:
    """The error budget at ``now`` from bad-request shares (one series or several).

    Several series are the same figure at different resolutions (a fine one for the
    last hours, a coarse one for the month): each window is read from the series with
    the most data in it, the finest where they tie.
    """
    if isinstance(tier, str):
        tier = get_tier(tier)
    listed = [_Known(s) for s in ([series] if isinstance(series, Series) else series)]
    allowed_share = 1.0 - tier.availability

    def mean_and_cover(window: float) -> tuple[float | None, float]:
        chosen = _pick(listed, now, window)
        if chosen is None:
            return None, 0.0
        known = chosen.within(now, window)
        return (sum(known) / len(known) if known else None), chosen.covered(now, window)

    bad, covered = mean_and_cover(window_s)
    used = 0.0 if bad is None else bad * covered / 60.0
    burns = []
    for w in burn_windows_s:
        share, cover = mean_and_cover(w)
        burns.append(BurnRate(w, None if share is None else share / allowed_share, cover))
    rates = {b.window_s: b.rate for b in burns}
    return ErrorBudget(
        tier=tier.name,
        target=tier.availability,
        window_s=window_s,
        allowed_min=allowed_minutes(tier, window_s),
        used_min=used,
        covered_s=covered,
        source=source,
        source_detail=source_detail,
        burn_rates=tuple(burns),
        alerts=evaluate_alerts(rates),
        bad_share=bad,
    )


def duration(seconds: float) -> str:
    """``5m``, ``6h``, ``3d``, ``90s``, ``2h30m``: a window as the operator writes it."""
    s = round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s // size}{unit}"
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60}m"
    if s >= 60:
        return f"{s // 60}m{s % 60}s"
    return f"{s}s"
