"""An incident as data (JSON) and as the handbook's post-incident document (Markdown).

The Markdown has: summary (severity, status, duration, time to acknowledge and to
resolve, alerts), impact (the worst SLO figures while it was open, against the tier),
what the dashboard showed (when a recording covers it: text charts of the key figures
against the SLO, and a link to the recording segment), timeline, actions taken, and empty
root-cause and action-item sections to fill in.
Text from outside (labels, summaries, notes, actor names) is escaped: it can hold
backticks, pipes, HTML or terminal escapes and still reads as what it is.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from tui.analysis.slo import DEFAULT_TIER, TIERS
from tui.analysis.text import visible_controls
from tui.analysis.textchart import text_chart
from tui.incidents.model import Event, EventKind, Incident, format_span

_MD_SPECIAL = set("\\`*_[]|~#")


@dataclass(frozen=True, slots=True)
class Chart:
    """One key figure over the incident, a value per column (worst in it; None: no data)."""

    title: str
    unit: str  # "s", "%", "" (a count)
    values: tuple[float | None, ...]
    limit: float | None = None  # the SLO's limit, drawn as a dotted line


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the flight recorder kept of the incident (`tui.recording.figures`)."""

    start: float
    end: float
    charts: tuple[Chart, ...]
    link: str | None = None  # the recording segment, relative to the document when beside it
    frames: int = 0


def md(value: object) -> str:
    """Outside text for Markdown: one line, control characters made visible, HTML as
    entities, Markdown punctuation backslash-escaped."""
    import html  # here: the flight recorder imports this module, and html.entities is ~1 MB

    text = html.escape(visible_controls(value), quote=False)
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


def when(moment: float | None) -> str:
    """``2024-05-01 14:03:02 CEST`` (local time); ``-`` for None."""
    if moment is None:
        return "-"
    return dt.datetime.fromtimestamp(moment).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def clocks(incident: Incident, now: float) -> dict[str, Any]:
    """The response clock: due, time left (negative: overdue), TTA and TTR, in seconds."""
    return {
        "ack_due_at": incident.ack_due_at,
        "ack_time_left_s": incident.ack_time_left(now),
        "overdue": incident.overdue(now),
        "time_to_acknowledge_s": incident.time_to_acknowledge,
        "time_to_resolve_s": incident.time_to_resolve,
        "duration_s": incident.duration(now),
    }


def incident_data(incident: Incident, now: float) -> dict[str, Any]:
    """The incident as JSON-ready data (clocks computed at ``now``)."""
    return {
        "id": incident.id,
        "title": incident.title,
        "group": json.loads(incident.group_key),
        "sev": incident.sev.value,
        "sev_set_by": incident.sev_set_by,
        "status": "open" if incident.is_open else "resolved",
        "environment": incident.environment,
        "slo_tier": incident.slo_tier,
        "opened_at": incident.opened_at,
        "acknowledged_at": incident.acknowledged_at,
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": incident.resolved_at,
        "resolved_by": incident.resolved_by,
        **clocks(incident, now),
        "impact": {
            "worst_ttft_p95_s": incident.impact.ttft_p95_s,
            "worst_e2e_p95_s": incident.impact.e2e_p95_s,
            "worst_error_rate": incident.impact.error_rate,
        },
        "alerts": [
            {
                "fingerprint": a.fingerprint,
                "name": a.name,
                "labels": dict(a.labels),
                "severity": a.severity,
                "summary": a.summary,
                "starts_at": a.starts_at,
                "resolved_at": a.resolved_at,
                "acknowledged_by": a.acknowledged_by,
            }
            for a in incident.alerts
        ],
    }


def event_data(event: Event) -> dict[str, Any]:
    """One timeline event as JSON-ready data."""
    return {
        "id": event.id,
        "incident_id": event.incident_id,
        "at": event.at,
        "kind": event.kind.value,
        "who": event.who,
        "text": event.text,
        "fingerprint": event.fingerprint,
        "details": dict(event.details),
    }


def to_json(incident: Incident, timeline: Sequence[Event], now: float) -> str:
    """The whole incident and its timeline as one JSON document."""
    body = {**incident_data(incident, now), "timeline": [event_data(e) for e in timeline]}
    return json.dumps(body, indent=2, sort_keys=True, default=str) + "\n"


def is_action(event: Event) -> bool:
    """Whether an event is something people did: an audited action (acks included), a SEV
    set by hand, a resolution by hand."""
    if event.kind in (EventKind.ACTION, EventKind.ACK, EventKind.UNACK):
        return "action" in event.details
    if event.kind is EventKind.SEV:
        return bool(event.details.get("by_hand"))
    return event.kind is EventKind.RESOLVED and event.who != "inferdeck"


def _figure(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f}s"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:g}"


def recorded_lines(recorded: Recorded | None) -> list[str]:
    """The section "What the dashboard showed": charts, the recording's link; or why not."""
    lines = ["## What the dashboard showed", ""]
    if recorded is None or not recorded.frames:
        return [*lines, "No recording covers this incident (recording: in the config).", ""]
    lines += [
        f"Recorded by inferdeck's flight recorder, {when(recorded.start)} to"
        f" {when(recorded.end)} ({recorded.frames} frames); each column is the worst value"
        " in its slice of time, the dotted line the SLO.",
        "",
    ]
    if recorded.link:
        link = recorded.link.replace(" ", "%20")
        lines += [
            f"Recording: [{md(recorded.link)}]({link}) — replay it with"
            f" `inferdeck replay {recorded.link}`.",
            "",
        ]
    for chart in recorded.charts:
        known = [v for v in chart.values if v is not None]
        worst = _figure(max(known), chart.unit) if known else "no data"
        slo = f", SLO < {_figure(chart.limit, chart.unit)} (┄)" if chart.limit is not None else ""
        lines += [f"**{chart.title}** (worst {worst}{slo})", "", "```text"]
        lines += text_chart(chart.values, limit=chart.limit, fmt=partial(_figure, unit=chart.unit))
        start = dt.datetime.fromtimestamp(recorded.start).astimezone().strftime("%H:%M:%S")
        end = dt.datetime.fromtimestamp(recorded.end).astimezone().strftime("%H:%M:%S")
        pad = len(lines[-1]) - len(chart.values) - 1
        gap = max(1, len(chart.values) - len(start) - len(end))
        lines += [
            " " * pad + "└" + "─" * len(chart.values),
            " " * (pad + 1) + start + " " * gap + end,
        ]
        lines += ["```", ""]
    return lines


def to_markdown(
    incident: Incident, timeline: Sequence[Event], now: float, recorded: Recorded | None = None
) -> str:
    """The post-incident document; ``recorded``: what the flight recorder kept of it."""
    tier = TIERS.get(incident.slo_tier, DEFAULT_TIER)
    status = (
        f"resolved {when(incident.resolved_at)} by {md(incident.resolved_by or '?')}"
        if not incident.is_open
        else "open"
    )
    if incident.acknowledged_at is not None:
        ack = f"{format_span(incident.time_to_acknowledge)} (by {md(incident.acknowledged_by)})"
    else:
        left = incident.ack_time_left(now) or 0.0
        late = f"overdue by {format_span(-left)}" if left < 0 else f"{format_span(left)} left"
        ack = f"not acknowledged (due {when(incident.ack_due_at)}, {late})"
    sev = incident.sev.value + (
        f" (set by hand by {md(incident.sev_set_by)})" if incident.sev_set_by else ""
    )
    lines = [
        f"# Incident #{incident.id}: {md(incident.title)}",
        "",
        "## Summary",
        "",
        "| | |",
        "|---|---|",
        f"| Severity | {sev} |",
        f"| Status | {status} |",
        f"| Environment | {md(incident.environment or '-')} (SLO tier {md(tier.name)}) |",
        f"| Opened | {when(incident.opened_at)} |",
        f"| Duration | {format_span(incident.duration(now))} |",
        f"| Time to acknowledge | {ack} |",
        f"| Time to resolve | {format_span(incident.time_to_resolve)} |",
        f"| Post-mortem | {'required (SEV1/SEV2)' if incident.sev.rank <= 2 else 'optional'} |",
        "",
        "Alerts:",
        "",
    ]
    for alert in incident.alerts:
        labels = ", ".join(f"{md(k)}={md(v)}" for k, v in sorted(alert.labels.items()))
        state = f"resolved {when(alert.resolved_at)}" if alert.resolved_at else "firing"
        summary = f": {md(alert.summary)}" if alert.summary else ""
        lines.append(
            f"- **{md(alert.name)}** ({labels}), since {when(alert.starts_at)}, {state}{summary}"
        )
    impact = incident.impact
    lines += [
        "",
        "## Impact",
        "",
        f"Worst figures of the fleet while the incident was open, against the {tier.name}"
        " tier's SLO:",
        "",
        "| figure | worst | SLO |",
        "|---|---|---|",
        f"| TTFT p95 | {_seconds(impact.ttft_p95_s)} | < {tier.ttft_p95_s:g}s |",
        f"| E2E p95 | {_seconds(impact.e2e_p95_s)} | < {tier.e2e_p95_s:g}s |",
        f"| Error rate | {_percent(impact.error_rate)} | < {tier.error_rate_max:.1%} |",
        "",
        *recorded_lines(recorded),
        "## Timeline",
        "",
        "| time | what | who | detail |",
        "|---|---|---|---|",
    ]
    for event in timeline:
        lines.append(
            f"| {when(event.at)} | {event.kind.value} | {md(event.who or '-')} | {md(event.text)} |"
        )
    actions = [e for e in timeline if is_action(e)]
    lines += ["", "## Actions taken", ""]
    lines += [f"- {when(e.at)} {md(e.who)}: {md(e.text)}" for e in actions] or ["- none recorded"]
    lines += ["", "## Root cause", "", "", "## Action items", "", "- [ ] ", ""]
    return "\n".join(lines)
