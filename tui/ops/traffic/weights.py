"""Traffic split between pools: the router protocol, weight checks, and the set/rollback actions.

A router moves the split (percent per pool). Two exist: `tui.ops.traffic.nginx.NginxRouter`
(the real one: an inferdeck-owned upstream include file, checked and reloaded) and
`tui.ops.traffic.sim.SimRouter` (the simulator's router, for the demo). Both answer
`current()` and `apply(weights)`; a failed change raises `RouterError` with one line saying
what went wrong, after putting back what was there.

The actions here (`SetWeights`, `Rollback`) and `tui.ops.traffic.rollout.Rollout` run through the
executor like every other action: a plan first (old → new per pool, and the exact file or
request), then the change, audited.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from tui.ops.executor import ActionResult, Plan, Progress


class RouterError(Exception):
    """A traffic change failed; the message is one line, and what was there is back."""


class WeightsError(ValueError):
    """Weights that cannot be applied (unknown pool, out of 0..100, not adding up to 100)."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What a router did: the weights read back after the change and each step it took."""

    weights: dict[str, float]
    steps: tuple[str, ...] = ()
    duration_s: float = 0.0
    verify_error: str | None = None  # applied, but the check through the router failed

    def details(self) -> dict[str, Any]:
        """For the audit log."""
        out: dict[str, Any] = {
            "after": self.weights,
            "steps": list(self.steps),
            "apply_s": round(self.duration_s, 4),
        }
        if self.verify_error:
            out["verify_error"] = self.verify_error
        return out


class Router(Protocol):
    """Something that splits traffic between pools."""

    kind: str  # "nginx" or "sim"
    where: str  # the upstream file, or the control URL: what the plan names

    def pools(self) -> tuple[str, ...]:
        """The pools it knows, in order (the stable pool usually first)."""
        ...

    def current(self) -> dict[str, float]:
        """The split now (percent per pool); RouterError when it cannot be read."""
        ...

    def apply(self, weights: Mapping[str, float], progress: Progress | None = None) -> Applied:
        """Make ``weights`` the split (validated); RouterError (one line) when it fails."""
        ...

    def describe(self, weights: Mapping[str, float]) -> tuple[str, ...]:
        """The exact file written or request sent for ``weights``, for a plan."""
        ...


# -- weights -----------------------------------------------------------------------------


def check_weights(weights: Mapping[str, float], pools: Sequence[str]) -> dict[str, float]:
    """``weights`` for every pool (unnamed ones 0), in the pools' order; else `WeightsError`.

    Each pool must be known, each weight a number in 0..100, and together they add up to 100.
    """
    if not weights:
        raise WeightsError("no weights given: name each pool as POOL=PERCENT")
    for pool, value in weights.items():
        if pool not in pools:
            raise WeightsError(f"unknown pool {pool!r} (pools: {', '.join(pools) or 'none'})")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise WeightsError(f"weight of {pool} must be a number, got {value!r}")
        if not math.isfinite(value) or not 0 <= value <= 100:
            raise WeightsError(f"weight of {pool} must be 0..100 (percent), got {value:g}")
    total = sum(float(v) for v in weights.values())
    if abs(total - 100.0) > 1e-6:
        parts = " + ".join(f"{p} {float(v):g}" for p, v in weights.items())
        raise WeightsError(f"weights must add up to 100, got {total:g} ({parts})")
    return {pool: float(weights.get(pool, 0.0)) for pool in pools}


def parse_weights(items: Sequence[str]) -> dict[str, float]:
    """``["blue=90", "green=10%"]`` → ``{"blue": 90.0, "green": 10.0}``; WeightsError if bad."""
    out: dict[str, float] = {}
    for item in items:
        pool, sep, value = item.partition("=")
        pool, value = pool.strip(), value.strip().removesuffix("%")
        if not sep or not pool or not value:
            raise WeightsError(f"expected POOL=PERCENT, got {item!r}")
        try:
            number = float(value)
        except ValueError:
            raise WeightsError(f"{item!r}: {value!r} is not a number") from None
        if pool in out:
            raise WeightsError(f"pool {pool} is given twice")
        out[pool] = number
    return out


def only(pool: str, pools: Sequence[str]) -> dict[str, float]:
    """``pool`` at 100 %, every other pool at 0 %."""
    return {p: (100.0 if p == pool else 0.0) for p in pools}


def format_split(weights: Mapping[str, float]) -> str:
    """``blue 90%, green 10%``."""
    return ", ".join(f"{pool} {value:g}%" for pool, value in weights.items())


def change_lines(old: Mapping[str, float] | None, new: Mapping[str, float]) -> list[str]:
    """One line per pool: ``blue   100% → 90%`` (``?`` when the old split is unknown)."""
    width = max((len(p) for p in new), default=0)
    lines = []
    for pool, value in new.items():
        before = "?" if old is None or pool not in old else f"{old[pool]:g}%"
        note = "  (written down: no traffic)" if value == 0 else ""
        same = "  (unchanged)" if old is not None and old.get(pool) == value else ""
        lines.append(f"{pool:<{width}}  {before:>5} → {value:g}%{note}{same}")
    return lines


def read_current(router: Router) -> tuple[dict[str, float] | None, str | None]:
    """The router's split, or (None, the one-line reason it cannot be read)."""
    try:
        return router.current(), None
    except RouterError as exc:
        return None, str(exc)


def change_plan(router: Router, title: str, new: Mapping[str, float]) -> tuple[str, list[str]]:
    """The title (with the router) and the lines of a plan that moves the split to ``new``."""
    old, problem = read_current(router)
    lines = change_lines(old, new)
    if problem:
        lines.append(f"current split unknown: {problem}")
    try:
        lines += list(router.describe(new))
    except RouterError as exc:  # shown here; running it fails with the same reason, audited
        lines.append(f"this change cannot be applied: {exc}")
    return f"{title} ({router.kind}: {router.where})", lines


# -- actions -----------------------------------------------------------------------------


@dataclass
class SetWeights:
    """Set the split to ``weights`` (percent per pool; unnamed pools get 0)."""

    router: Router
    weights: Mapping[str, float]
    kind: str = field(default="traffic.set", init=False)
    target: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.weights = check_weights(self.weights, self.router.pools())
        self.target = " ".join(f"{p}={v:g}" for p, v in self.weights.items())

    def params(self) -> dict[str, Any]:
        """Router and weights, for the audit log."""
        return {
            "router": self.router.kind,
            "where": self.router.where,
            "weights": dict(self.weights),
        }

    def plan(self) -> Plan:
        """Old → new per pool, and the exact file or request."""
        title, lines = change_plan(
            self.router, f"Set traffic: {format_split(self.weights)}", self.weights
        )
        return Plan(title, tuple(lines))

    def run(self, progress: Progress) -> ActionResult:
        """Apply the split; the result says old → new, or nginx's one-line complaint."""
        before, _ = read_current(self.router)
        try:
            applied = self.router.apply(self.weights, progress)
        except RouterError as exc:
            return ActionResult(False, str(exc), {"before": before, "error": str(exc)})
        details = {"before": before, **applied.details()}
        was = f" (was {format_split(before)})" if before is not None else ""
        if applied.verify_error:
            message = f"traffic set to {format_split(applied.weights)}, but {applied.verify_error}"
            return ActionResult(False, message, details)
        return ActionResult(True, f"traffic: {format_split(applied.weights)}{was}", details)


StopContainers = Callable[[], str]
"""Stops the new pool's containers; returns one line saying what it stopped."""


@dataclass
class Rollback:
    """The stable pool to 100 % at once; then optionally stop the new pool's containers.

    It *preempts* (``preempts``): the executor never makes it wait behind another action
    (a running rollout is stopped; see `tui.ops.executor`).
    """

    preempts: ClassVar[bool] = True

    router: Router
    stable_pool: str
    stop_containers: StopContainers | None = None
    stop_label: str = "stop the new pool's containers"
    kind: str = field(default="traffic.rollback", init=False)
    target: str = field(default="", init=False)

    def __post_init__(self) -> None:
        pools = self.router.pools()
        if self.stable_pool not in pools:
            raise WeightsError(
                f"unknown stable pool {self.stable_pool!r} (pools: {', '.join(pools)})"
            )
        self.target = self.stable_pool
        self.weights = only(self.stable_pool, pools)

    def params(self) -> dict[str, Any]:
        """Router, stable pool and weights, for the audit log."""
        return {
            "router": self.router.kind,
            "where": self.router.where,
            "stable_pool": self.stable_pool,
            "weights": self.weights,
            "stop_containers": self.stop_containers is not None,
        }

    def plan(self) -> Plan:
        """Dangerous: the operator types the stable pool's name."""
        title, lines = change_plan(
            self.router, f"ROLL BACK: {self.stable_pool} to 100% now", self.weights
        )
        if self.stop_containers is not None:
            lines.append(f"then: {self.stop_label}")
        return Plan(title, tuple(lines), dangerous=True, confirm_text=self.stable_pool)

    def run(self, progress: Progress) -> ActionResult:
        """Apply stable=100 %; then stop containers when asked (after, never instead)."""
        result = roll_back(self.router, self.stable_pool, progress)
        if not result.ok or self.stop_containers is None:
            return result
        try:
            stopped = self.stop_containers()
        except Exception as exc:
            why = " ".join(f"{type(exc).__name__}: {exc}".split())
            return ActionResult(
                False,
                f"{result.message}; stopping containers FAILED: {why}",
                {**result.details, "stop_error": why},
            )
        progress(f"containers: {stopped}")
        return ActionResult(
            True, f"{result.message}; {stopped}", {**result.details, "stopped": stopped}
        )


def roll_back(router: Router, stable_pool: str, progress: Progress) -> ActionResult:
    """Put ``stable_pool`` at 100 % (used by `Rollback` and by a failed rollout)."""
    before, _ = read_current(router)
    weights = only(stable_pool, router.pools())
    progress(f"rollback: {format_split(weights)}")
    try:
        applied = router.apply(weights, progress)
    except RouterError as exc:
        message = f"ROLLBACK FAILED: {exc}"
        return ActionResult(False, message, {"before": before, "error": str(exc)})
    details = {"before": before, **applied.details()}
    message = f"rolled back: {format_split(applied.weights)}"
    if applied.verify_error:
        return ActionResult(False, f"{message}, but {applied.verify_error}", details)
    return ActionResult(True, message, details)
