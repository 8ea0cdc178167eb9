"""Incidents as the operator sees them: severity, response clock, alerts, timeline events.

Frozen dataclasses, read from the store (`tui.incidents.store`); nothing here does I/O.
Times are epoch seconds; durations are seconds.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class Sev(enum.StrEnum):
    """The handbook's severity levels, most severe first."""

    SEV1 = "SEV1"  # service down: respond within 15 minutes
    SEV2 = "SEV2"  # major degradation (>50% errors): 30 minutes
    SEV3 = "SEV3"  # minor degradation (elevated latency): 2 hours
    SEV4 = "SEV4"  # no user impact (warnings): 1 business day

    @property
    def rank(self) -> int:
        """1 for SEV1 ... 4 for SEV4: lower is more severe."""
        return int(self.value[3])

    @classmethod
    def parse(cls, text: str) -> Sev:
        """``SEV2``, ``sev2`` or ``2`` → `Sev.SEV2`; ValueError naming the text otherwise."""
        raw = str(text).strip().upper()
        raw = raw if raw.startswith("SEV") else f"SEV{raw}"
        try:
            return cls(raw)
        except ValueError:
            raise ValueError(f"bad severity {text!r}: use SEV1, SEV2, SEV3 or SEV4") from None


class EventKind(enum.StrEnum):
    """What a timeline line records."""

    OPENED = "opened"  # the incident opened (by its first alert)
    FIRING = "firing"  # an alert of the incident fired (again)
    ALERT_RESOLVED = "alert resolved"  # one alert stopped firing
    ACK = "acknowledged"  # an alert acknowledged (silence, local ack, or `inferdeck ack`)
    UNACK = "un-acknowledged"  # an acknowledgement expired or was withdrawn
    ACTION = "action"  # an action from the audit log: traffic, rollback, container, runbook
    SEV = "severity"  # the severity set or changed (by the tracker or an operator)
    NOTE = "note"  # what an operator typed
    RESOLVED = "resolved"  # the incident resolved (its alerts did, or an operator said so)


@dataclass(frozen=True, slots=True)
class Event:
    """One line of an incident's timeline: when, what, who, and the details."""

    id: int
    incident_id: int
    at: float
    kind: EventKind
    text: str
    who: str = ""
    fingerprint: str | None = None  # the alert it concerns, if one
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class IncidentAlert:
    """An alert that belongs to an incident, as last seen."""

    fingerprint: str
    name: str
    labels: Mapping[str, str]
    severity: str
    summary: str
    starts_at: float
    resolved_at: float | None = None
    acknowledged_by: str | None = None

    @property
    def firing(self) -> bool:
        """Still firing (not resolved)."""
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class Impact:
    """The worst SLO figures the fleet showed while the incident was open (None: not seen)."""

    ttft_p95_s: float | None = None
    e2e_p95_s: float | None = None
    error_rate: float | None = None  # 0..1


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident: its group, severity, clocks and alerts (the timeline is read apart)."""

    id: int
    group_key: str
    title: str
    sev: Sev
    opened_at: float
    ack_due_at: float  # opened_at + the SEV's response time
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    resolved_at: float | None = None
    resolved_by: str | None = None  # "alerts resolved" or the operator
    sev_set_by: str | None = None  # the operator who set the SEV by hand; then it stays
    environment: str = ""
    slo_tier: str = ""
    impact: Impact = field(default_factory=Impact)
    alerts: tuple[IncidentAlert, ...] = ()

    @property
    def is_open(self) -> bool:
        """Not resolved yet."""
        return self.resolved_at is None

    @property
    def is_acknowledged(self) -> bool:
        """Acknowledged at least once (the response clock stopped)."""
        return self.acknowledged_at is not None

    def ack_time_left(self, now: float) -> float | None:
        """Seconds left to acknowledge (negative when overdue); None once acknowledged."""
        if self.acknowledged_at is not None:
            return None
        return self.ack_due_at - now

    def overdue(self, now: float) -> bool:
        """Not acknowledged and past the SEV's response time."""
        left = self.ack_time_left(now)
        return left is not None and left < 0

    @property
    def time_to_acknowledge(self) -> float | None:
        """Seconds from opening to the first acknowledgement, once known."""
        if self.acknowledged_at is None:
            return None
        return max(0.0, self.acknowledged_at - self.opened_at)

    @property
    def time_to_resolve(self) -> float | None:
        """Seconds from opening to resolution, once known."""
        if self.resolved_at is None:
            return None
        return max(0.0, self.resolved_at - self.opened_at)

    def duration(self, now: float) -> float:
        """How long it has been (or was) open."""
        end = self.resolved_at if self.resolved_at is not None else now
        return max(0.0, end - self.opened_at)


def add_business_days(start: float, days: int) -> float:
    """``start`` moved on by ``days`` weekdays (local time; Saturday and Sunday skipped).

    Friday 10:00 + 1 → Monday 10:00; Saturday 10:00 + 1 → Monday 10:00.
    """
    moment = dt.datetime.fromtimestamp(start).astimezone()
    counted = 0
    while counted < days:
        moment += dt.timedelta(days=1)
        if moment.weekday() < 5:
            counted += 1
    return moment.timestamp()


def format_span(seconds: float | None) -> str:
    """``75`` → ``1m15s``, ``7260`` → ``2h1m``; ``-`` for None; a leading ``-`` when negative."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    total = round(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d{hours}h" if hours else f"{days}d"
    elif hours:
        text = f"{hours}h{minutes}m" if minutes else f"{hours}h"
    elif minutes:
        text = f"{minutes}m{secs}s" if secs else f"{minutes}m"
    else:
        text = f"{secs}s"
    return sign + text
