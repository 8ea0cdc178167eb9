"""Rollout: move traffic to the new pool in steps, with an SLO gate after each step.

After every step (the last one too) the gate watches the new pool for the hold time: its
error rate, TTFT p95 and end-to-end p95 must stay within the SLO tier
(`tui.analysis.slo`). A breach, a hold without any figures, a router failure or a cancel
stops the rollout and rolls back by itself (the stable pool to 100 % at once); the
result's details say which step and which figure. Figures come from a callable, so the
TUI can pass the hub's latest snapshot and the CLI a scrape source.

A rollout is *interruptible* (`tui.ops.executor.Interruptible`): the executor calls
`Rollout.interrupt`, which wakes the gate at once (it waits on the cancel event, so the
poll interval does not matter). A rollback that preempts it (``Stop.PREEMPTED``) owns
the split from then on: the rollout changes nothing more and ends. A hangup, a
terminate or the app quitting (``Stop.RESTORE``) makes it put back the split it started
from, then end; either way the result says why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.analysis.slo import DEFAULT_TIER, SloTier, classify, format_ratio, format_seconds, get_tier
from tui.model import Pool
from tui.ops.executor import ActionResult, Plan, Progress, Stop
from tui.ops.traffic.weights import (
    Router,
    RouterError,
    WeightsError,
    change_plan,
    format_split,
    read_current,
    roll_back,
)

Figures = Callable[[], Pool | None]
"""The new pool's latest figures (None when there are none yet)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One look at the new pool: a line for people, the breach if any, the raw figures."""

    line: str
    breach: str | None = None
    figures: dict[str, float | None] = field(default_factory=dict)
    has_data: bool = False


@dataclass(frozen=True, slots=True)
class GateOutcome:
    """How a hold ended: passed, or why not (with the last reading)."""

    passed: bool
    reason: str = ""
    last: Reading | None = None
    cancelled: bool = False


def _show(value: float | None, fmt: Callable[[float], str]) -> str:
    return "n/a" if value is None else fmt(value)


@dataclass
class SloGate:
    """The new pool's error rate, TTFT p95 and E2E p95 against an SLO tier."""

    figures: Figures
    tier: SloTier | str = DEFAULT_TIER
    poll_s: float = 2.0
    require_data: bool = True  # a hold with no error-rate figure at all fails

    def __post_init__(self) -> None:
        if isinstance(self.tier, str):
            self.tier = get_tier(self.tier)

    @property
    def slo(self) -> SloTier:
        """The tier as an object."""
        assert isinstance(self.tier, SloTier)
        return self.tier

    def describe(self) -> str:
        """``error rate ≤ 2%, TTFT p95 ≤ 2s, E2E p95 ≤ 15s (standard SLO)``."""
        t = self.slo
        return (
            f"error rate ≤ {format_ratio(t.error_rate_max)}, TTFT p95 ≤ "
            f"{format_seconds(t.ttft_p95_s)}, E2E p95 ≤ {format_seconds(t.e2e_p95_s)} "
            f"({t.name} SLO)"
        )

    def read(self) -> Reading:
        """One look; a figures() that raises counts as "no figures"."""
        try:
            pool = self.figures()
        except Exception as exc:
            return Reading(f"figures unavailable: {type(exc).__name__}: {exc}")
        if pool is None:
            return Reading("no figures yet")
        t = self.slo
        checks = (
            ("error rate", "errors", pool.traffic.error_rate, t.error_rate_max, format_ratio),
            ("TTFT p95", "ttft", pool.ttft.p95, t.ttft_p95_s, format_seconds),
            ("E2E p95", "e2e", pool.e2e.p95, t.e2e_p95_s, format_seconds),
        )
        parts: list[str] = []
        breach = None
        if pool.healthy == 0:  # nothing up: no figure can breach, yet nothing is serving
            breach = f"{pool.name} has no backend up (0/{pool.backends})"
        for label, figure, value, limit, fmt in checks:
            engines = pool.unexposed.get(figure)
            if value is None and engines:  # the engine does not expose it: not judged
                parts.append(f"{label} n/a ({engines})")
                continue
            parts.append(f"{label} {_show(value, fmt)} (≤{fmt(limit)})")
            if breach is None and classify(value, limit) == "breach":
                assert value is not None
                breach = f"{pool.name} {label} {fmt(value)} > {fmt(limit)}"
        rpm = pool.traffic.requests_per_min
        parts.append(f"{_show(rpm, lambda v: f'{v:.0f}')} req/min")
        figures = {
            "error_rate": pool.traffic.error_rate,
            "ttft_p95_s": pool.ttft.p95,
            "e2e_p95_s": pool.e2e.p95,
            "requests_per_min": rpm,
        }
        # Data to judge on: the error rate, or — on engines without an error counter —
        # a latency they do expose.
        judged = pool.traffic.error_rate is not None or (
            "errors" in pool.unexposed and (pool.ttft.p95 is not None or pool.e2e.p95 is not None)
        )
        return Reading(f"{pool.name}: " + ", ".join(parts), breach, figures, judged)

    def hold(
        self, hold_s: float, cancel: threading.Event, report: Progress, label: str, pool: str
    ) -> GateOutcome:
        """Watch for ``hold_s``: fail at the first breach, pass when the time is up."""
        started = time.monotonic()
        seen_data = False
        last: Reading | None = None
        while True:
            last = self.read()
            elapsed = time.monotonic() - started
            shown = f"{min(elapsed, hold_s):.{0 if hold_s >= 10 else 1}f}"
            report(f"{label} gate {shown}/{hold_s:g}s: {last.line}")
            if last.breach:
                return GateOutcome(False, last.breach, last)
            seen_data = seen_data or last.has_data
            remaining = hold_s - elapsed
            if remaining <= 0:
                break
            if cancel.wait(min(self.poll_s, remaining)):
                return GateOutcome(False, "cancelled by the operator", last, cancelled=True)
        if self.require_data and not seen_data:
            return GateOutcome(False, f"no figures for {pool} during the hold: cannot judge", last)
        return GateOutcome(True, "", last)


def check_steps(steps: Sequence[float]) -> tuple[float, ...]:
    """Steps rising within (0, 100]; WeightsError otherwise."""
    values = tuple(float(s) for s in steps)
    if not values:
        raise WeightsError("a rollout needs at least one step")
    if any(not 0 < v <= 100 for v in values) or list(values) != sorted(set(values)):
        shown = ",".join(f"{v:g}" for v in values)
        raise WeightsError(f"rollout steps must rise within 1..100 (percent), got {shown}")
    return values


@dataclass
class Rollout:
    """Shift traffic to ``canary_pool`` step by step, gated; roll back on any failure."""

    router: Router
    canary_pool: str
    gate: SloGate
    steps: Sequence[float] = (10.0, 50.0, 100.0)
    hold_s: float = 60.0
    stable_pool: str | None = None  # default: the other pool, when there are exactly two
    cancel: threading.Event = field(default_factory=threading.Event)
    kind: str = field(default="traffic.rollout", init=False)
    target: str = field(default="", init=False)
    stopped: tuple[Stop, str] | None = field(default=None, init=False)  # set by `interrupt`

    def __post_init__(self) -> None:
        pools = self.router.pools()
        if self.canary_pool not in pools:
            raise WeightsError(f"unknown pool {self.canary_pool!r} (pools: {', '.join(pools)})")
        if self.stable_pool is None:
            others = [p for p in pools if p != self.canary_pool]
            if len(others) != 1:
                raise WeightsError("name the stable pool: there are more than two pools")
            self.stable_pool = others[0]
        if self.stable_pool not in pools or self.stable_pool == self.canary_pool:
            raise WeightsError(
                f"the stable pool must be another known pool, not {self.stable_pool!r}"
            )
        if self.hold_s < 0:
            raise WeightsError("the hold time must be >= 0 seconds")
        self.steps = check_steps(self.steps)
        self.target = self.canary_pool

    @property
    def stable(self) -> str:
        """The stable pool (set by ``__post_init__``)."""
        assert self.stable_pool is not None
        return self.stable_pool

    def weights_at(self, percent: float) -> dict[str, float]:
        """The split at one step: the canary at ``percent``, the stable pool the rest."""
        return {
            p: percent if p == self.canary_pool else (100.0 - percent if p == self.stable else 0.0)
            for p in self.router.pools()
        }

    def params(self) -> dict[str, Any]:
        """Router, pools, steps, hold and gate, for the audit log."""
        return {
            "router": self.router.kind,
            "where": self.router.where,
            "canary_pool": self.canary_pool,
            "stable_pool": self.stable,
            "steps": list(self.steps),
            "hold_s": self.hold_s,
            "gate": self.gate.describe(),
        }

    def plan(self) -> Plan:
        """Every step's split, the gate, and what happens on failure."""
        path = " → ".join(f"{s:g}%" for s in self.steps)
        title, first = change_plan(
            self.router,
            f"Roll out {self.canary_pool}: {path}, hold {self.hold_s:g}s each",
            self.weights_at(self.steps[0]),
        )
        lines = [
            f"step {i}: {format_split(self.weights_at(s))}" for i, s in enumerate(self.steps, 1)
        ]
        lines.append(
            f"gate after each step, for {self.hold_s:g}s (read every "
            f"{self.gate.poll_s:g}s): {self.canary_pool} {self.gate.describe()}"
        )
        lines.append(
            f"on a breach, no figures, a failed step or cancel: {self.stable} 100% "
            "at once (rollback)"
        )
        lines.append("first step:")
        lines += ["  " + line for line in first]
        return Plan(title, tuple(lines))

    def interrupt(self, stop: Stop, reason: str) -> None:
        """Stop soon (any thread): the first reason given wins; the gate wakes at once."""
        if self.stopped is None:
            self.stopped = (stop, reason)
        self.cancel.set()

    def run(self, progress: Progress) -> ActionResult:
        """Step, hold, step...; on any failure roll back and say which step and figure."""
        total = len(self.steps)
        done: list[dict[str, Any]] = []
        start, _ = read_current(self.router)
        details: dict[str, Any] = {
            "steps": list(self.steps),
            "hold_s": self.hold_s,
            "completed": done,
            "started_from": start,
        }
        for i, percent in enumerate(self.steps, 1):
            label = f"step {i}/{total} ({self.canary_pool} {percent:g}%)"
            if self.cancel.is_set():
                return self._cancelled(progress, details, i, percent, start)
            weights = self.weights_at(percent)
            progress(f"{label}: {format_split(weights)}")
            try:
                self.router.apply(weights, progress)
            except RouterError as exc:
                return self._abort(progress, details, i, percent, f"not applied: {exc}")
            outcome = self.gate.hold(self.hold_s, self.cancel, progress, label, self.canary_pool)
            if outcome.cancelled:
                return self._cancelled(progress, details, i, percent, start, outcome.last)
            if not outcome.passed:
                return self._abort(progress, details, i, percent, outcome.reason, outcome.last)
            done.append(
                {
                    "step": i,
                    "percent": percent,
                    "figures": outcome.last.figures if outcome.last else {},
                }
            )
            progress(f"{label}: gate passed")
        message = (
            f"rolled out: {self.canary_pool} {self.steps[-1]:g}% after {total} "
            f"step{'s' if total > 1 else ''}, gate held {self.hold_s:g}s each"
        )
        return ActionResult(True, message, details)

    def _cancelled(
        self,
        progress: Progress,
        details: dict[str, Any],
        step: int,
        percent: float,
        start: dict[str, float] | None,
        reading: Reading | None = None,
    ) -> ActionResult:
        """Stopped from outside: by the operator (roll back), by a preempting rollback
        (touch nothing), or by a hangup/terminate/quit (put back the starting split)."""
        if self.stopped is None:
            return self._abort(progress, details, step, percent, "cancelled by the operator",
                               reading)  # fmt: skip
        stop, reason = self.stopped
        where = f"step {step} ({self.canary_pool} {percent:g}%)"
        details.update(failed_step=step, failed_percent=percent, reason=reason, stop=stop.value)
        if stop is Stop.PREEMPTED:
            progress(f"{where}: {reason}: stopping, the split is the rollback's")
            details["rolled_back"] = False
            return ActionResult(
                False, f"rollout stopped at {where}: {reason}; the split is the rollback's",
                details,
            )  # fmt: skip
        if start is None:
            return self._abort(progress, details, step, percent, reason, reading)
        progress(f"{where}: {reason}: putting back {format_split(start)}")
        try:
            applied = self.router.apply(start, progress)
        except RouterError as exc:
            details["restore_error"] = str(exc)
            return ActionResult(
                False, f"rollout stopped at {where}: {reason}; PUTTING BACK "
                f"{format_split(start)} FAILED: {exc}", details,
            )  # fmt: skip
        details["restored"] = applied.weights
        return ActionResult(
            False,
            f"rollout stopped at {where}: {reason}; put back {format_split(applied.weights)}",
            details,
        )

    def _abort(
        self,
        progress: Progress,
        details: dict[str, Any],
        step: int,
        percent: float,
        reason: str,
        reading: Reading | None = None,
    ) -> ActionResult:
        progress(f"step {step} ({self.canary_pool} {percent:g}%) FAILED: {reason}")
        back = roll_back(self.router, self.stable, progress)
        details.update(
            failed_step=step,
            failed_percent=percent,
            reason=reason,
            figures=reading.figures if reading else {},
            rolled_back=back.ok,
            rollback=back.details,
        )
        message = (
            f"rollout stopped at step {step} ({self.canary_pool} {percent:g}%): "
            f"{reason}; {back.message}"
        )
        return ActionResult(False, message, details)
