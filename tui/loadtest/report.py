"""A load test's report from its records (pure): client-side percentiles, throughput,
errors by kind, and each criterion met or not.

Percentiles are of the requests that succeeded (nearest-rank); the error rate counts
every request that ended. Recovery after a spike: from the end of the last spike stage,
the first moment from which every sliding window (``recovery_window_s`` wide, stepped
by a quarter of it) holds the p95 limits and the error-rate limit until the run ends.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.analysis.slo import SloTier
from tui.loadtest.scenario import Scenario

QUANTILES = (0.5, 0.9, 0.95, 0.99)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class Verdict:
    """One criterion: its name, met or not, and what was seen against what was asked."""

    name: str
    met: bool
    seen: str
    limit: str


@dataclass(frozen=True, slots=True)
class Report:
    """What the client saw over one run, judged against the scenario's criteria."""

    scenario: str
    target: str
    duration_s: float
    requests: int
    ok: int
    errors: Mapping[str, int]
    ttft: Mapping[str, float | None]
    e2e: Mapping[str, float | None]
    itl: Mapping[str, float | None]
    requests_per_s: float
    output_tokens_per_s: float
    output_tokens: int
    verdicts: tuple[Verdict, ...]
    stopped: str = ""  # why the run ended early ("" when it ran its course)
    server: Mapping[str, Any] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        """Failed requests over all that ended (0 with none)."""
        return (self.requests - self.ok) / self.requests if self.requests else 0.0

    @property
    def passed(self) -> bool:
        """Every criterion met, the run ran its course, and it sent something."""
        return not self.stopped and self.requests > 0 and all(v.met for v in self.verdicts)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "scenario": self.scenario, "target": self.target,
            "duration_s": round(self.duration_s, 3), "requests": self.requests, "ok": self.ok,
            "error_rate": round(self.error_rate, 6), "errors": dict(self.errors),
            "ttft_s": dict(self.ttft), "e2e_s": dict(self.e2e), "itl_s": dict(self.itl),
            "requests_per_s": round(self.requests_per_s, 3),
            "output_tokens_per_s": round(self.output_tokens_per_s, 3),
            "output_tokens": self.output_tokens,
            "criteria": [{"name": v.name, "met": v.met, "seen": v.seen, "limit": v.limit}
                         for v in self.verdicts],
            "stopped": self.stopped or None, "passed": self.passed, "server": dict(self.server),
        }  # fmt: skip


def _quantiles(values: Sequence[float]) -> dict[str, float | None]:
    return {f"p{round(q * 100)}": percentile(values, q) for q in QUANTILES}


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}s"


def _window_ok(
    records: Sequence[Mapping[str, Any]], scenario: Scenario, tier: SloTier
) -> bool | None:
    """The limits over these records: True held, False broken, None nothing to judge."""
    if not records:
        return None
    c = scenario.criteria
    good = [r for r in records if r.get("ok")]
    if c.error_rate_below is not None and (len(records) - len(good)) / len(records) >= (
        c.error_rate_below
    ):
        return False
    if c.ttft_p95_within_slo:
        p95 = percentile([r["ttft"] for r in good if r.get("ttft") is not None], 0.95)
        if p95 is not None and p95 > tier.ttft_p95_s:
            return False
    if c.e2e_p95_within_slo:
        p95 = percentile([r["e2e"] for r in good], 0.95)
        if p95 is not None and p95 > tier.e2e_p95_s:
            return False
    return True


def recovery_s(
    records: Sequence[Mapping[str, Any]], scenario: Scenario, tier: SloTier, run_s: float
) -> float | None:
    """Seconds from the spike's end until the limits hold for good; None if never."""
    spike_end = scenario.spike_end_s
    if spike_end is None:
        return None
    width = scenario.criteria.recovery_window_s
    step = max(width / 4, 0.25)
    by_end = sorted(records, key=lambda r: r.get("end", r.get("t", 0.0)))
    recovered: float | None = None
    t = spike_end
    while t + width <= run_s + 1e-9:
        window = [r for r in by_end if t <= r.get("end", 0.0) < t + width]
        held = _window_ok(window, scenario, tier)
        if held is False:
            recovered = None
        elif recovered is None:
            recovered = t
        t += step
    return None if recovered is None else recovered - spike_end


def judge(
    records: Sequence[Mapping[str, Any]],
    scenario: Scenario,
    tier: SloTier,
    *,
    target: str,
    run_s: float,
    stopped: str = "",
    server: Mapping[str, Any] | None = None,
) -> Report:
    """The report of a run: ``records`` are the locustfile's lines, ``run_s`` its length."""
    good = [r for r in records if r.get("ok")]
    errors = Counter(str(r.get("kind") or "unknown") for r in records if not r.get("ok"))
    ttft = [r["ttft"] for r in good if r.get("ttft") is not None]
    e2e = [r["e2e"] for r in good if r.get("e2e") is not None]
    itl = [r["itl"] for r in good if r.get("itl") is not None]
    tokens = sum(int(r.get("out") or 0) for r in good)
    span = max(run_s, 1e-9)
    c = scenario.criteria
    verdicts: list[Verdict] = []
    error_rate = (len(records) - len(good)) / len(records) if records else 0.0
    if c.ttft_p95_within_slo:
        p95 = percentile(ttft, 0.95)
        met = p95 is not None and p95 <= tier.ttft_p95_s
        limit = f"<= {tier.ttft_p95_s:g}s ({tier.name})"
        verdicts.append(Verdict("TTFT p95 within SLO", met, _seconds(p95), limit))
    if c.e2e_p95_within_slo:
        p95 = percentile(e2e, 0.95)
        met = p95 is not None and p95 <= tier.e2e_p95_s
        limit = f"<= {tier.e2e_p95_s:g}s ({tier.name})"
        verdicts.append(Verdict("E2E p95 within SLO", met, _seconds(p95), limit))
    if c.error_rate_below is not None:
        verdicts.append(Verdict("error rate", bool(records) and error_rate < c.error_rate_below,
                                f"{error_rate:.2%}", f"< {c.error_rate_below:.0%}"))  # fmt: skip
    if c.recovery_within_s is not None:
        took = recovery_s(records, scenario, tier, run_s)
        verdicts.append(Verdict(
            "recovery after the spike", took is not None and took <= c.recovery_within_s,
            "never" if took is None else f"{took:.0f}s", f"<= {c.recovery_within_s:g}s",
        ))  # fmt: skip
    return Report(
        scenario=scenario.name, target=target, duration_s=run_s, requests=len(records),
        ok=len(good), errors=dict(errors), ttft=_quantiles(ttft), e2e=_quantiles(e2e),
        itl=_quantiles(itl), requests_per_s=len(records) / span,
        output_tokens_per_s=tokens / span, output_tokens=tokens, verdicts=tuple(verdicts),
        stopped=stopped, server=dict(server or {}),
    )  # fmt: skip
