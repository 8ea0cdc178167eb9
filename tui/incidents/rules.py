"""Pure decisions: which alerts count as firing, how they group, and what SEV they get."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable

from tui.analysis.slo import DEFAULT_TIER, TIERS
from tui.incidents.config import IncidentsConfig, SevRule
from tui.incidents.model import Impact, Sev
from tui.model import Alert, FleetSnapshot, Pool, Traffic

FIRING_STATES = frozenset({"firing", "active", "suppressed", "unprocessed"})
"""Alert states that mean firing: Prometheus's ``firing``; Alertmanager's ``active``,
``suppressed`` (silenced: acknowledged, still firing) and ``unprocessed``. Not ``pending``."""


def is_firing(alert: Alert) -> bool:
    """Whether ``alert`` fires (a pending alert does not open an incident)."""
    return alert.state in FIRING_STATES and bool(alert.fingerprint)


def label_of(alert: Alert, name: str) -> str:
    """The alert's label ``name`` (``alertname`` is the alert's name)."""
    if name == "alertname":
        return alert.labels.get("alertname") or alert.name
    return alert.labels.get(name, "")


def group_of(alert: Alert, group_by: Iterable[tuple[str, ...]]) -> tuple[tuple[str, str], ...]:
    """The alert's group: one ``(label, value)`` per entry of ``group_by``; an entry of
    alternatives (``pool|service``) takes the first label the alert has."""
    out = []
    for alternatives in group_by:
        name, value = alternatives[0], ""
        for candidate in alternatives:
            if label_of(alert, candidate):
                name, value = candidate, label_of(alert, candidate)
                break
        out.append((name, value))
    return tuple(out)


def group_key(group: tuple[tuple[str, str], ...]) -> str:
    """A group as a stable text key (JSON), for the store's one-open-incident rule."""
    return json.dumps([list(pair) for pair in group], separators=(",", ":"))


def group_title(alert: Alert, group: tuple[tuple[str, str], ...]) -> str:
    """``LLMServiceDown pool=blue``: the alert name and the group's other labels."""
    rest = " ".join(f"{k}={v}" for k, v in group if k != "alertname" and v)
    return f"{alert.name} {rest}".strip()


def traffic_where(alert: Alert, snapshot: FleetSnapshot | None) -> tuple[Traffic, Pool | None]:
    """The figures where ``alert`` fires: its backend's, else its pool's, else the fleet's.

    Returns the traffic and the latency holder (a backend's quantiles live on a `Pool`-like
    view: the backend itself is returned as None and its quantiles are read by the caller).
    """
    if snapshot is None:
        return Traffic(), None
    backend_name = alert.labels.get("backend")
    if backend_name:
        for backend in snapshot.backends:
            if backend.name == backend_name:
                view = Pool(backend.name, 1, 1, ttft=backend.ttft, e2e=backend.e2e)
                return backend.traffic, view
    pool_name = alert.labels.get("pool") or alert.labels.get("service")
    if pool_name:
        for pool in snapshot.pools:
            if pool.name == pool_name:
                return pool.traffic, pool
    fleet = snapshot.fleet
    return (fleet.traffic if fleet else Traffic()), fleet


def _over_slo(view: Pool | None, tier_name: str) -> bool:
    if view is None:
        return False
    tier = TIERS.get(tier_name, DEFAULT_TIER)
    ttft, e2e = view.ttft.p95, view.e2e.p95
    slow_first = ttft is not None and ttft > tier.ttft_p95_s
    return slow_first or (e2e is not None and e2e > tier.e2e_p95_s)


def matches(rule: SevRule, alert: Alert, snapshot: FleetSnapshot | None) -> bool:
    """Whether ``alert`` meets every condition of ``rule`` (figures from ``snapshot``)."""
    if rule.alerts and not any(fnmatch.fnmatchcase(alert.name, g) for g in rule.alerts):
        return False
    if rule.severity and str(alert.severity).lower() not in rule.severity:
        return False
    if any(alert.labels.get(k) != v for k, v in rule.labels.items()):
        return False
    if rule.error_rate_over is not None or rule.latency_over_slo:
        traffic, view = traffic_where(alert, snapshot)
        if rule.error_rate_over is not None:
            rate = traffic.error_rate
            if rate is None or rate <= rule.error_rate_over:
                return False
        if rule.latency_over_slo and not _over_slo(view, snapshot.slo_tier if snapshot else ""):
            return False
    return True


def rule_of(alert: Alert, config: IncidentsConfig, snapshot: FleetSnapshot | None) -> SevRule:
    """The first rule of the SEV table that ``alert`` meets (a SEV4 catch-all otherwise)."""
    return next((r for r in config.rules if matches(r, alert, snapshot)), SevRule(Sev.SEV4))


def sev_of(alert: Alert, config: IncidentsConfig, snapshot: FleetSnapshot | None) -> Sev:
    """The SEV of the first rule ``alert`` meets; SEV4 when none does."""
    return rule_of(alert, config, snapshot).sev


def describe(rule: SevRule) -> str:
    """Why a rule gave its SEV, in words: ``LLMServiceDown; error rate over 50%``."""
    parts = []
    if rule.alerts:
        parts.append("alert " + "/".join(rule.alerts))
    if rule.severity:
        parts.append("severity " + "/".join(rule.severity))
    parts.extend(f"{k}={v}" for k, v in rule.labels.items())
    if rule.error_rate_over is not None:
        parts.append(f"error rate over {rule.error_rate_over:.0%}")
    if rule.latency_over_slo:
        parts.append("latency over the SLO")
    return "; ".join(parts) or "no rule matched more closely"


def most_severe(sevs: Iterable[Sev]) -> Sev:
    """The most severe of ``sevs`` (SEV4 for none)."""
    return min(sevs, key=lambda s: s.rank, default=Sev.SEV4)


def fleet_impact(snapshot: FleetSnapshot) -> Impact:
    """The fleet's SLO figures in ``snapshot``: TTFT and E2E p95, error rate."""
    fleet = snapshot.fleet
    if fleet is None:
        return Impact()
    return Impact(fleet.ttft.p95, fleet.e2e.p95, fleet.traffic.error_rate)


def worse(old: Impact, new: Impact) -> Impact:
    """Figure by figure, the worse (higher) of ``old`` and ``new``."""

    def high(a: float | None, b: float | None) -> float | None:
        if a is None:
            return b
        if b is None or b != b:  # NaN is no figure
            return a
        return max(a, b)

    return Impact(
        high(old.ttft_p95_s, new.ttft_p95_s),
        high(old.e2e_p95_s, new.e2e_p95_s),
        high(old.error_rate, new.error_rate),
    )
