"""The load shape over time: what a scenario asks for at second ``t`` (pure).

Locust's ``LoadTestShape`` asks this every second (`tui.loadtest.locustfile`); the
report and the progress line use it too, so all three agree on what was asked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Step:
    """One stage as plain numbers: hold ``target`` for ``duration_s``, ramped over ``ramp_s``."""

    duration_s: float
    target: float
    ramp_s: float = 0.0


def steps_of(stages: Sequence[Mapping[str, Any]]) -> list[Step]:
    """Steps from a scenario's ``to_dict()["stages"]``."""
    return [Step(float(s["duration_s"]), float(s["target"]), float(s.get("ramp_s", 0.0)))
            for s in stages]  # fmt: skip


def target_at(steps: Sequence[Step], t: float) -> float | None:
    """The asked users or requests/s at ``t`` seconds; None once the last stage is over.

    Within a stage's ramp the target moves linearly from the previous stage's (0 before
    the first) to this one's.
    """
    if t < 0:
        return 0.0
    start, before = 0.0, 0.0
    for step in steps:
        if t < start + step.duration_s:
            into = t - start
            if step.ramp_s > 0 and into < step.ramp_s:
                return before + (step.target - before) * into / step.ramp_s
            return step.target
        start += step.duration_s
        before = step.target
    return None


def users_for(load: str, target: float, per_user_rps: float) -> int:
    """Locust users needed: the target itself for ``users``, else enough users that
    none is asked more than ``per_user_rps`` requests a second (at least one)."""
    if load == "users":
        return max(0, round(target))
    return max(1, math.ceil(target / per_user_rps)) if target > 0 else 0


def asked_requests(steps: Sequence[Step], until_s: float, dt: float = 0.1) -> float:
    """Requests a ``rate`` shape asks for from 0 to ``until_s`` (integral of the rate)."""
    total, t = 0.0, 0.0
    while t < until_s:
        rate = target_at(steps, t)
        if rate is None:
            break
        total += rate * min(dt, until_s - t)
        t += dt
    return total
