"""Which rules match now, and which of those may act: the autopilot's decisions (pure).

`Autopilot.observe` takes each snapshot (and the time) and returns a `Decision`: the
`Proposal` s that may run now, and those *held* with the reason (a cooldown still
running, the rule's hourly cap reached, the pool at its maximum). `Autopilot.applied`
records an action that ran, which starts the rule's cooldown for that target and counts
towards the caps. Conditions that must hold ``for`` a while are timed from the first
snapshot that showed them; a gap in the data (the value unknown) starts them over.

OOM kills are not in a snapshot (a restarted container's ``OOMKilled`` is reset): they
come from `OomCounts`, the container engine's events counted per container
(`tui.ops.containers.oom.OomWatch`). Where they cannot be counted — no events watched,
the engine unreachable, a backend with no container — the rule does not guess: the
decision says what it *cannot evaluate* and why (`Decision.unknown`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

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
class Unknown:
    """A rule that cannot be evaluated for a target now, and why (it proposes nothing)."""

    rule: Rule
    target: str
    why: str

    def line(self) -> str:
        """``rule restart-on-oom cannot evaluate blue-0: no container found for it``."""
        return f"rule {self.rule.name} cannot evaluate {self.target}: {self.why}"


class OomCounts(Protocol):
    """OOM kills per container, from the container engine's events."""

    @property
    def problem(self) -> str | None:
        """Why they cannot be counted now (None while they can)."""
        ...

    def count(self, container: str, within_s: float, now: float) -> int:
        """OOM kills of ``container`` in the ``within_s`` before ``now``."""
        ...


@dataclass(frozen=True, slots=True)
class Decision:
    """What the autopilot would do now, what it holds back (with why), and what it
    cannot evaluate (with why)."""

    proposals: tuple[Proposal, ...] = ()
    held: tuple[tuple[Proposal, str], ...] = ()
    unknown: tuple[Unknown, ...] = ()


@dataclass
class Autopilot:
    """The rules' state across snapshots: when conditions began, restart counts, and the
    actions taken (for cooldowns and hourly caps)."""

    rules: tuple[Rule, ...]
    servers_in: Callable[[str], int] | None = None  # a pool's servers now (scale-out's max)
    ooms: OomCounts | None = None  # OOM kills per container (oom_restarts); None: not watched
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
        unknown: list[Unknown] = []
        for rule in self.rules:
            for found in self._matches(rule, snapshot, now):
                if isinstance(found, Unknown):
                    unknown.append(found)
                elif why := self._held(found, now):
                    held.append((found, why))
                else:
                    proposals.append(found)
        return Decision(tuple(proposals), tuple(held), tuple(unknown))

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

    def _matches(
        self, rule: Rule, snapshot: FleetSnapshot, now: float
    ) -> Iterable[Proposal | Unknown]:
        if rule.metric == "oom_restarts":
            yield from self._oom_matches(rule, snapshot, now)
        elif rule.metric == "queue_depth":
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

    def _oom_matches(
        self, rule: Rule, snapshot: FleetSnapshot, now: float
    ) -> Iterable[Proposal | Unknown]:
        """Each backend's container's OOM kills in the window, or why they are unknown."""
        ooms = self.ooms
        problem = (
            "OOM kills are not watched (no container engine events: sources.docker)"
            if ooms is None
            else ooms.problem
        )
        listed = {c.name for c in snapshot.containers}
        for backend in snapshot.backends:
            if problem is not None:
                yield Unknown(rule, backend.name, problem)
            elif backend.container is None:
                yield Unknown(rule, backend.name, "no container found for it in the engine")
            elif backend.container not in listed:
                yield Unknown(rule, backend.name, f"its container {backend.container} is "
                              "not in the engine's listing now")  # fmt: skip
            else:
                assert ooms is not None
                counted = ooms.count(backend.container, rule.within_s, now)
                if counted > rule.over:
                    why = f"{counted} OOM kills in {rule.within_s:g}s > {rule.over:g}"
                    yield Proposal(rule, backend.container, backend.name, why)

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
