"""inferdeck's own alert rules: the handbook's alerting rules on the hub's figures.

Where no Alertmanager (and no Prometheus) watches the fleet — the demo above all — the
hub raises these alerts itself from what it already knows. The rules and thresholds are
the seed's ``alerts/llm-operations.yml``:

=====================  ========  ===========================================  =====
alert                  severity  condition (hub figure)                       for
=====================  ========  ===========================================  =====
LLMServiceDown         critical  a backend's health is down                   1m
LLMHighLatency         warning   fleet end-to-end p95 > 10 s                  5m
LLMHighErrorRate       warning   fleet error rate > 1%                        5m
QueueBacklog           warning   an up backend's waiting requests > 10         2m
GPUMemoryPressure      warning   a GPU's memory used / total > 90%            5m
GPUHighTemperature     warning   a GPU's temperature > 80 °C                  5m
=====================  ========  ===========================================  =====

``CapacityNearLimit`` (utilisation averaged over an hour) is not raised: the hub keeps
minutes of history, not an hour.

Like Prometheus, a condition that starts holding makes the alert *pending*; once it has
held for the rule's ``for`` it is *firing*. ``starts_at`` is when the condition first held
and is carried over from the previous evaluation while the alert stays active. Labels
read like the real rules' (``alertname``, ``severity``, and ``backend``/``pool``/
``instance`` or ``gpu``/``host``); the fingerprint is Alertmanager's own function of the
labels, so the same labels always give the same identity. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from urllib.parse import urlsplit

from tui.analysis.fingerprint import fingerprint
from tui.analysis.slo import DEFAULT_TIER, SloTier, format_ratio, format_seconds, get_tier
from tui.model import Alert, Backend, Gpu, Health, Pool, Severity

__all__ = ["POOL_UNSERVED", "RULES", "SOURCE", "Rule", "local_alerts", "unserved_pools"]

SOURCE = "local"
"""The ``source`` of every alert raised here."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One alerting rule: its name, severity, summary and how long it must hold."""

    name: str
    severity: Severity
    summary: str
    for_s: float


SERVICE_DOWN = Rule("LLMServiceDown", Severity.CRITICAL, "LLM service is down", 60.0)
HIGH_LATENCY = Rule("LLMHighLatency", Severity.WARNING, "P95 latency exceeds 10 seconds", 300.0)
HIGH_ERROR_RATE = Rule("LLMHighErrorRate", Severity.WARNING, "Error rate exceeds 1%", 300.0)
QUEUE_BACKLOG = Rule("QueueBacklog", Severity.WARNING, "Request queue building up", 120.0)
GPU_MEMORY = Rule("GPUMemoryPressure", Severity.WARNING, "GPU memory above 90%", 300.0)
GPU_TEMPERATURE = Rule("GPUHighTemperature", Severity.WARNING, "GPU temperature high", 300.0)

RULES: tuple[Rule, ...] = (
    SERVICE_DOWN,
    HIGH_LATENCY,
    HIGH_ERROR_RATE,
    QUEUE_BACKLOG,
    GPU_MEMORY,
    GPU_TEMPERATURE,
)
"""The handbook's rules, with the handbook's ``for`` durations."""

E2E_P95_LIMIT_S = 10.0
ERROR_RATE_LIMIT = 0.01
QUEUE_LIMIT = 10.0
GPU_MEMORY_LIMIT = 0.9
GPU_TEMPERATURE_LIMIT_C = 80.0


@dataclass(frozen=True, slots=True)
class _Finding:
    """A condition that holds now: the rule, the identifying labels, and a detail line."""

    rule: Rule
    labels: Mapping[str, str]
    detail: str


def _over(value: float | None, limit: float) -> bool:
    return value is not None and not math.isnan(value) and value > limit


def _instance(url: str) -> str:
    """``host:port`` of a backend URL (what Prometheus calls ``instance``)."""
    return urlsplit(url).netloc or url


def _backend_labels(b: Backend) -> dict[str, str]:
    return {"backend": b.name, "pool": b.pool, "instance": _instance(b.url)}


def _findings(
    backends: Iterable[Backend], fleet: Pool | None, gpus: Iterable[Gpu], tier: SloTier
) -> list[_Finding]:
    """Every rule condition that holds on these figures."""
    found: list[_Finding] = []
    for b in backends:
        if b.health is Health.DOWN:
            found.append(_Finding(SERVICE_DOWN, _backend_labels(b), b.reason or "down"))
        elif b.health is Health.UP and _over(b.waiting, QUEUE_LIMIT):
            detail = f"{b.waiting:g} requests waiting > {QUEUE_LIMIT:g}"
            found.append(_Finding(QUEUE_BACKLOG, _backend_labels(b), detail))
    if fleet is not None:
        p95 = fleet.e2e.p95
        if p95 is not None and _over(p95, E2E_P95_LIMIT_S):
            detail = (
                f"fleet E2E p95 {format_seconds(p95)} > {format_seconds(E2E_P95_LIMIT_S)}"
                f" ({tier.name} SLO: {format_seconds(tier.e2e_p95_s)})"
            )
            found.append(_Finding(HIGH_LATENCY, {}, detail))
        rate = fleet.traffic.error_rate
        if rate is not None and _over(rate, ERROR_RATE_LIMIT):
            detail = (
                f"fleet error rate {format_ratio(rate)} > {format_ratio(ERROR_RATE_LIMIT)}"
                f" ({tier.name} SLO: {format_ratio(tier.error_rate_max)})"
            )
            found.append(_Finding(HIGH_ERROR_RATE, {}, detail))
    for g in gpus:
        labels = {"gpu": str(g.index), "host": g.host}
        ratio = g.mem_ratio
        if ratio is not None and _over(ratio, GPU_MEMORY_LIMIT):
            detail = f"GPU {g.key} memory {format_ratio(ratio)} > {format_ratio(GPU_MEMORY_LIMIT)}"
            found.append(_Finding(GPU_MEMORY, labels, detail))
        if g.temp_c is not None and _over(g.temp_c, GPU_TEMPERATURE_LIMIT_C):
            detail = f"GPU {g.key} at {g.temp_c:g} °C > {GPU_TEMPERATURE_LIMIT_C:g} °C"
            found.append(_Finding(GPU_TEMPERATURE, labels, detail))
    return found


def local_alerts(
    *,
    backends: Iterable[Backend] = (),
    fleet: Pool | None = None,
    gpus: Iterable[Gpu] = (),
    tier: SloTier | str = DEFAULT_TIER,
    now: float,
    previous: Sequence[Alert] = (),
    rules: Sequence[Rule] = RULES,
) -> tuple[Alert, ...]:
    """The local alerts active at ``now``, given those of the previous evaluation.

    An alert stays active exactly while its condition holds; it is ``pending`` until the
    condition has held for the rule's ``for_s`` and ``firing`` after. ``starts_at`` (and
    so the pending clock) carries over from ``previous`` by fingerprint. Only ``rules``
    are evaluated (pass ones with ``for_s=0`` to fire at once). Newest first.
    """
    if isinstance(tier, str):
        tier = get_tier(tier)
    enabled = {r.name: r for r in rules}
    earlier = {a.fingerprint: a for a in previous}
    out: list[Alert] = []
    seen: set[str] = set()
    for finding in _findings(backends, fleet, gpus, tier):
        rule = enabled.get(finding.rule.name)
        if rule is None:
            continue
        labels = {"alertname": rule.name, "severity": rule.severity.value, **finding.labels}
        fp = fingerprint(labels)
        if fp in seen:  # two backends with the same name and URL: one alert
            continue
        seen.add(fp)
        before = earlier.get(fp)
        started = before.starts_at if before is not None else now
        state = "firing" if now - started >= rule.for_s else "pending"
        out.append(
            Alert(
                name=rule.name,
                severity=rule.severity,
                summary=f"{rule.summary}: {finding.detail}",
                labels=MappingProxyType(labels),
                starts_at=started,
                fingerprint=fp,
                state=state,
                source=SOURCE,
            )
        )
    return tuple(sorted(out, key=lambda a: (-a.starts_at, a.name, a.fingerprint)))


def immediate(rules: Sequence[Rule] = RULES) -> tuple[Rule, ...]:
    """The same rules without their ``for`` wait (they fire on the first breach)."""
    return tuple(replace(r, for_s=0.0) for r in rules)


POOL_UNSERVED = Rule(
    "PoolWithoutHealthyBackend",
    Severity.CRITICAL,
    "Pool receives traffic but no backend of it is up",
    0.0,
)
"""Raised by the hub itself (not only without Alertmanager): requests routed to a pool with
nothing up fail, whatever the other pools do."""

HUB_SOURCE = "inferdeck"
"""The ``source`` of the alerts the hub raises whatever else watches the fleet."""


def unserved_pools(
    backends: Iterable[Backend],
    weights: Mapping[str, float],
    *,
    now: float,
    previous: Sequence[Alert] = (),
) -> tuple[Alert, ...]:
    """A critical alert per pool with a traffic weight > 0 and no backend up.

    A pool counts when some backend of it is known DOWN (or answers unreadably), or when
    it has no backend at all while other backends are known; a pool whose backends are
    all of unknown health (their source is not answering) is not judged — nobody knows.
    ``starts_at`` carries over from ``previous`` by fingerprint.
    """
    listed = list(backends)
    if not listed:
        return ()
    earlier = {a.fingerprint: a for a in previous}
    out: list[Alert] = []
    for pool, weight in sorted(weights.items()):
        if not weight or weight <= 0:
            continue
        members = [b for b in listed if b.pool == pool]
        if any(b.health is Health.UP for b in members):
            continue
        if members and not any(
            b.health is Health.DOWN or (b.health is Health.UNKNOWN and not _unjudged(b))
            for b in members
        ):
            continue
        rule = POOL_UNSERVED
        labels = {"alertname": rule.name, "severity": rule.severity.value, "pool": pool}
        fp = fingerprint(labels)
        before = earlier.get(fp)
        down = ", ".join(f"{b.name} {b.health.value}" for b in members) or "no backend known"
        out.append(
            Alert(
                name=rule.name,
                severity=rule.severity,
                summary=f"{pool} gets {weight:g}% of the traffic: {down}",
                labels=MappingProxyType(labels),
                starts_at=before.starts_at if before is not None else now,
                fingerprint=fp,
                state="firing",
                source=HUB_SOURCE,
            )
        )
    return tuple(out)


NO_DATA_PREFIX = "no data: "
"""How the reason of a backend whose source stopped answering starts (set by the hub)."""


def _unjudged(backend: Backend) -> bool:
    """True for a backend nobody has read (not seen yet, or its source stopped answering)."""
    return not backend.reason or backend.reason.startswith(NO_DATA_PREFIX)


AckLookup = Callable[[str], tuple[str, float] | None]
"""fingerprint → ``(by, until)`` of a live local acknowledgement, or None."""


def with_acks(alerts: Iterable[Alert], lookup: AckLookup) -> tuple[Alert, ...]:
    """``alerts`` with ``acknowledged_by``/``acknowledged_until`` set where ``lookup`` knows
    an acknowledgement (alerts already acknowledged elsewhere are left as they are)."""
    out = []
    for alert in alerts:
        ack = None if alert.acknowledged_by else lookup(alert.fingerprint)
        if ack is not None:
            alert = replace(alert, acknowledged_by=ack[0], acknowledged_until=ack[1])
        out.append(alert)
    return tuple(out)
