"""The header's one truth: the overall state is the worst of three verdicts.

This module is the ONE place where the inputs are mapped onto `OverallState`:

=============================================  ===========  ==========================
input                                          state        reason line
=============================================  ===========  ==========================
the SLO evaluation (`slo.overall_state`)       its own      "blue-0 down: refused", …
a source in ERROR                              WARNING      "prometheus ERROR: …"
a source STALE (no good poll for 3 intervals)  WARNING      "prometheus STALE 12s"
no source answers (none ok, one has tried)     NO DATA      the sources' errors
an unacknowledged firing *critical* alert      DEGRADED     "LLMServiceDown backend=…"
an unacknowledged firing *warning* alert       WARNING      "GPUHighTemperature gpu=…"
an acknowledged firing alert                   (no change)  "… (acknowledged by bob)"
=============================================  ===========  ==========================

States rank OK < UNKNOWN < WARNING < DEGRADED < DOWN < NO DATA; the worst wins, and the
reasons are listed worst first. A source that is UNAVAILABLE (cannot work on this machine,
e.g. no NVIDIA driver) says so on its panels but does not raise the state: it is a fact
of the set-up, not an incident. Pending alerts and info alerts do not raise it either.
An alert whose source has stopped answering (``last_known_at``) still counts — it was
firing when last seen — and its reason says "last known". When no source answers, the
SLO verdict (computed on figures nobody vouches for) is left out.

Pure: no I/O, no clock (``now`` is passed in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tui.analysis.slo import DEFAULT_TIER, SloTier, overall_state
from tui.model import (
    Alert,
    Backend,
    OverallState,
    Pool,
    Severity,
    SourceState,
    SourceStatus,
)

__all__ = ["FIRING", "RANK", "alert_reason", "overall", "source_reason", "worst"]

RANK: dict[OverallState, int] = {
    OverallState.OK: 0,
    OverallState.UNKNOWN: 1,
    OverallState.WARNING: 2,
    OverallState.DEGRADED: 3,
    OverallState.DOWN: 4,
    OverallState.NO_DATA: 5,
}
"""How bad each state is; the overall state is the one with the highest rank."""

FIRING = frozenset({"firing", "active"})
"""Alert states that mean "firing" (Prometheus and local rules say firing, Alertmanager
active); pending, suppressed (silenced or inhibited) and resolved ones do not."""

ALERT_STATE = {Severity.CRITICAL: OverallState.DEGRADED, Severity.WARNING: OverallState.WARNING}
"""What an unacknowledged firing alert of each severity raises the state to, at least."""

_WHERE = ("backend", "pool", "instance", "gpu", "host", "Hostname")
_SUMMARY_CHARS = 60


def worst(states: Iterable[OverallState]) -> OverallState:
    """The worst of ``states`` (OK when there are none)."""
    return max(states, key=RANK.__getitem__, default=OverallState.OK)


def _age(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


def source_reason(status: SourceStatus, now: float) -> str:
    """One line for a source in trouble: ``prometheus ERROR: …``, ``nvml STALE 12s``."""
    if status.state is SourceState.STALE:
        stale = f" {_age(now - status.last_ok)}" if status.last_ok is not None else ""
        return f"{status.name} STALE{stale}"
    message = " ".join(status.message.split())
    return f"{status.name} {status.state.value.upper()}" + (f": {message}" if message else "")


def alert_reason(alert: Alert, now: float) -> str:
    """One line for a firing alert: name, where, summary; acknowledgement or staleness."""
    where = " ".join(f"{k}={alert.labels[k]}" for k in _WHERE if alert.labels.get(k))
    text = alert.name + (f" {where}" if where else "")
    summary = " ".join(alert.summary.split())
    if summary:
        if len(summary) > _SUMMARY_CHARS:
            summary = summary[: _SUMMARY_CHARS - 1] + "…"
        text += f": {summary}"
    if alert.acknowledged_by:
        text += f" (acknowledged by {alert.acknowledged_by})"
    if alert.last_known_at is not None:
        text += f" (last known {_age(now - alert.last_known_at)} ago)"
    return text


def _acknowledged(alert: Alert, now: float) -> bool:
    if not alert.acknowledged_by:
        return False
    return alert.acknowledged_until is None or alert.acknowledged_until > now


def _alert_verdicts(alerts: Iterable[Alert], now: float) -> list[tuple[OverallState, str]]:
    out: list[tuple[OverallState, str]] = []
    for alert in alerts:
        if alert.state not in FIRING:
            continue
        raises = ALERT_STATE.get(alert.severity)
        if raises is None:
            continue
        if _acknowledged(alert, now):
            out.append((OverallState.OK, alert_reason(alert, now)))
        else:
            out.append((raises, alert_reason(alert, now)))
    return out


def _source_verdicts(
    sources: Sequence[SourceStatus], now: float
) -> tuple[bool, list[tuple[OverallState, str]]]:
    """(no source answers, a verdict per source in trouble)."""
    troubled = [s for s in sources if s.state in (SourceState.ERROR, SourceState.STALE)]
    answering = [s for s in sources if s.state is SourceState.OK]
    tried = [s for s in sources if s.state is not SourceState.PENDING]
    no_data = bool(tried) and not answering and len(tried) == len(sources)
    return no_data, [(OverallState.WARNING, source_reason(s, now)) for s in troubled]


def overall(
    *,
    backends: Iterable[Backend] | None,
    fleet: Pool | None,
    tier: SloTier | str = DEFAULT_TIER,
    sources: Sequence[SourceStatus] = (),
    alerts: Iterable[Alert] = (),
    now: float,
) -> tuple[OverallState, tuple[str, ...]]:
    """The header's verdict and its reasons, worst first (see the module's table)."""
    no_data, verdicts = _source_verdicts(sources, now)
    verdicts += _alert_verdicts(alerts, now)
    if no_data:
        verdicts.insert(0, (OverallState.NO_DATA, "no source answers"))
    else:
        slo_state, slo_reasons = overall_state(backends, fleet, tier)
        verdicts[:0] = [(slo_state, r) for r in slo_reasons]
        if not slo_reasons:
            verdicts.insert(0, (slo_state, ""))
    state = worst(v[0] for v in verdicts)
    # worst first; a stable sort keeps the SLO's, then the sources', then the alerts' order
    ordered = sorted((v for v in verdicts if v[1]), key=lambda v: -RANK[v[0]])
    return state, tuple(dict.fromkeys(reason for _, reason in ordered))
