"""Which rules match now, and which of those may act: the autopilot's decisions (pure).

`Autopilot.observe` takes each snapshot (and the time) and returns a `Decision`: the
`Proposal` s that may run now, and those *held* with the reason (a cooldown still
running, the rule's hourly cap reached, the pool at its maximum). `Autopilot.applied`
records an action that ran, which starts the rule's cooldown for that target and counts
towards the caps. Conditions that must hold ``for`` a while are timed from the first
snapshot that showed them; a gap in the data (the value unknown) starts them over.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tui.model import FleetSnapshot
from tui.ops.autopilot.rules import Rule

HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class Proposal:
    """One action a rule asks for: what, on which target, and why."""

    rule: Rule
    target: str  # a container (restart), a pool (scale), "fleet" or a pool (notify)
    shown: str  # the target as the operator knows it (the backend's name for a container)
    reason: str

    @property
    def key(self) -> tuple[str, str]:
        """Rule and target: what a cooldown is kept for."""
        return self.rule.name, self.target

    def line(self) -> str:
        """``restart green-0 (rule restart-on-oom)``."""
        verb = {"restart": "restart", "scale-out": "scale out", "scale-in": "scale in",
                "notify": "notify"}[self.rule.action]  # fmt: skip
        return f"{verb} {self.shown} (rule {self.rule.name})"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the autopilot would do now, and what it holds back (with why)."""

    proposals: tuple[Proposal, ...] = ()
    held: tuple[tuple[Proposal, str], ...] = ()


@dataclass
class Autopilot:
    """The rules' state across snapshots: when conditions began, restart counts, and the
    actions taken (for cooldowns and hourly caps)."""

    rules: tuple[Rule, ...]
    servers_in: Callable[[str], int] | None = None  # a pool's servers now (scale-out's max)
    _since: dict[tuple[str, str], float] = field(default_factory=dict)
    _restarts: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    _taken: deque[tuple[float, str, str]] = field(default_factory=deque)

    # -- what happened -------------------------------------------------------------------

    def applied(self, proposal: Proposal, now: float) -> None:
        """Record that ``proposal`` ran at ``now`` (its cooldown starts)."""
        self._taken.append((now, proposal.rule.name, proposal.target))
        self._since.pop(proposal.key, None)

    def actions_in_hour(self, now: float, rule: str | None = None) -> int:
        """Actions taken in the hour before ``now`` (of ``rule`` only, when given)."""
        while self._taken and self._taken[0][0] < now - HOUR_S:
            self._taken.popleft()
        return sum(1 for _, name, _ in self._taken if rule is None or name == rule)

    def last_taken(self, rule: str, target: str) -> float | None:
        """When ``rule`` last acted on ``target`` (within the last hour), else None."""
        times = [t for t, name, what in self._taken if name == rule and what == target]
        return max(times) if times else None

    # -- deciding ------------------------------------------------------------------------

    def observe(self, snapshot: FleetSnapshot, now: float | None = None) -> Decision:
        """The proposals (and the held ones) for this snapshot."""
        now = snapshot.taken_at if now is None else now
        self._count_restarts(snapshot, now)
        self.actions_in_hour(now)
        proposals: list[Proposal] = []
        held: list[tuple[Proposal, str]] = []
        for rule in self.rules:
            for proposal in self._matches(rule, snapshot, now):
                why = self._held(proposal, now)
                if why:
                    held.append((proposal, why))
                else:
                    proposals.append(proposal)
        return Decision(tuple(proposals), tuple(held))

    def _held(self, proposal: Proposal, now: float) -> str:
        rule = proposal.rule
        last = self.last_taken(rule.name, proposal.target)
        if last is not None and now - last < rule.cooldown_s:
            return f"cooldown: {rule.cooldown_s - (now - last):.0f}s left"
        if self.actions_in_hour(now, rule.name) >= rule.max_per_hour:
            return f"cap: {rule.max_per_hour} actions of this rule in the last hour"
        if rule.action == "scale-out" and self.servers_in is not None:
            servers = self.servers_in(proposal.target)
            if servers >= rule.max_replicas:
                return f"pool at its maximum of {rule.max_replicas} servers"
        return ""

    def _held_long_enough(self, rule: Rule, target: str, holds: bool | None, now: float) -> bool:
        key = (rule.name, target)
        if not holds:
            self._since.pop(key, None)
            return False
        began = self._since.setdefault(key, now)
        return now - began >= rule.for_s

    def _matches(self, rule: Rule, snapshot: FleetSnapshot, now: float) -> Iterable[Proposal]:
        if rule.metric == "queue_depth":
            for pool in snapshot.pools:
                value = pool.waiting
                if self._held_long_enough(rule, pool.name, _over(value, rule.over), now):
                    why = f"queue {value:g} > {rule.over:g} for {rule.for_s:g}s"
                    yield Proposal(rule, pool.name, pool.name, why)
        elif rule.metric == "error_rate":
            scopes = list(snapshot.pools) if rule.scope == "pool" else [snapshot.fleet]
            for scope in scopes:
                if scope is None:
                    continue
                name = scope.name if rule.scope == "pool" else "fleet"
                rate = scope.traffic.error_rate
                if self._held_long_enough(rule, name, _over(rate, rule.over), now):
                    yield Proposal(rule, name, name, f"error rate {rate:.1%} > {rule.over:.0%}")
        elif rule.metric == "container_restarts":
            backends = {b.container: b.name for b in snapshot.backends if b.container}
            for container in snapshot.containers:
                counted = self._restarts_within(container.name, now, rule.within_s)
                if counted > rule.over:
                    shown = backends.get(container.name) or container.labels.get(
                        "io.inferdeck.backend", container.name
                    )
                    why = f"{counted} restarts in {rule.within_s:g}s > {rule.over:g}"
                    yield Proposal(rule, container.name, shown, why)

    def _count_restarts(self, snapshot: FleetSnapshot, now: float) -> None:
        keep = max((r.within_s for r in self.rules if r.metric == "container_restarts"),
                   default=0.0)  # fmt: skip
        for container in snapshot.containers:
            samples = self._restarts.setdefault(container.name, deque())
            samples.append((now, container.restart_count))
            while len(samples) > 1 and samples[1][0] <= now - keep:
                samples.popleft()

    def _restarts_within(self, container: str, now: float, within_s: float) -> int:
        samples = self._restarts.get(container)
        if not samples:
            return 0
        start = next((c for t, c in samples if t >= now - within_s), samples[-1][1])
        older = [c for t, c in samples if t < now - within_s]
        base = older[-1] if older else start
        return max(0, samples[-1][1] - base)


def _over(value: float | None, limit: float) -> bool | None:
    return None if value is None else value > limit
