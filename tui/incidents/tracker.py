"""The incident tracker: turns published snapshots and the audit log into incidents.

`IncidentTracker.observe` takes one `FleetSnapshot` and, in one database transaction:

* opens an incident for a firing alert whose group (``group_by``) has none open, with the
  SEV of the config's table, and adds the alert's firing to the timeline (an alert joins
  its group's open incident when there is one);
* records acknowledgements and their withdrawal as the snapshot shows them
  (``acknowledged_by``: Alertmanager silences, local acks);
* marks an alert resolved once it has been gone ``resolve_after_s`` (not while a source
  has not answered yet), and resolves an incident when all its alerts are;
* raises an incident's SEV when its alerts call for more (never lowers it, and never
  touches a SEV set by hand), and keeps the worst SLO figures seen while it is open;
* reads the audit log from where it stopped: acks and un-acks go to their alert's
  incident, every other executed action (traffic, rollback, containers, runbook steps)
  to every incident open at that moment.

It returns the events it recorded, after the commit. `TrackerThread` runs it beside the
hub: the hub's callback only hands over the newest snapshot, the database work happens
in the tracker's own thread, so a slow disk or a locked database never delays the hub.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.incidents.audit_feed import Position, read_new
from tui.incidents.config import IncidentsConfig
from tui.incidents.model import Event, EventKind
from tui.incidents.rules import (
    describe,
    fleet_impact,
    group_key,
    group_of,
    group_title,
    is_firing,
    most_severe,
    rule_of,
    worse,
)
from tui.incidents.store import Batch, Store
from tui.model import Alert, FleetSnapshot, SourceState
from tui.subscriber import SubscriberThread

LOOK_BACK_S = 900.0
"""Audit records this recent are offered to an incident that opens after them (an alert
reaches Alertmanager, and so the tracker, some time after it started firing)."""

ACK_KINDS = {"alert.ack": EventKind.ACK, "alert.unack": EventKind.UNACK}
TRACKER = "inferdeck"  # the "who" of what the tracker decides by itself


def _labels_text(alert: Alert) -> str:
    return " ".join(
        f"{k}={v}" for k, v in sorted(alert.labels.items()) if k not in ("alertname", "severity")
    )


def _audit_key(record: dict[str, Any]) -> str:
    """A record's identity: its ``id`` when the executor gives one, else a digest."""
    if record.get("id"):
        return f"audit:{record['id']}"
    import hashlib  # here: rarely needed, and ~0.5 MB of OpenSSL's digests

    body = json.dumps(record, sort_keys=True, default=str).encode()
    return "audit:" + hashlib.sha256(body).hexdigest()[:24]


class IncidentTracker:
    """Keeps the incidents database in step with what the fleet shows and what was done."""

    def __init__(
        self,
        store: Store,
        config: IncidentsConfig | None = None,
        audit_path: Path | str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``audit_path``: the audit log to follow (None: no actions in timelines)."""
        self.store = store
        self.config = config or IncidentsConfig()
        self.audit_path = Path(audit_path) if audit_path is not None else None
        self.clock = clock
        self._recent: deque[dict[str, Any]] = deque(maxlen=2000)
        self._quiet = False  # the last pass left no open incident and no live alert

    # --- one pass ----------------------------------------------------------------------

    def observe(self, snapshot: FleetSnapshot) -> list[Event]:
        """Bring the database in step with ``snapshot`` and the audit log; the new events
        (already committed)."""
        now = snapshot.taken_at
        firing = {a.fingerprint: a for a in snapshot.alerts if is_firing(a)}
        if not firing and self._quiet:
            # nothing fires and nothing is open: no write, no fsync, once a second, for weeks
            # (audit records appended meanwhile are read, from the saved cursor, next time)
            return []
        waiting = any(s.state is SourceState.PENDING for s in snapshot.sources)
        with self.store.batch() as batch:
            opened = self._alerts(batch, snapshot, firing, now)
            if not waiting:
                self._gone(batch, firing, now)
            self._incidents(batch, snapshot, firing, now)
            self._audit(batch, opened, now)
            self._quiet = not firing and not batch.open_incidents() and not batch.live_alerts()
        return batch.new_events

    def _alerts(
        self, batch: Batch, snapshot: FleetSnapshot, firing: dict[str, Alert], now: float
    ) -> list[int]:
        """Open incidents and attach alerts; follow acknowledgements. The incidents opened."""
        live = batch.live_alerts()
        opened: list[int] = []
        for fp, alert in sorted(firing.items(), key=lambda kv: (kv[1].starts_at, kv[0])):
            row = live.get(fp)
            if row is None:
                incident_id = self._attach(batch, snapshot, alert, now, opened)
                acked_by, acked_until = None, None
            else:
                incident_id = int(row["incident_id"])
                acked_by, acked_until = row["acked_by"], row["acked_until"]
                if row["missing_since"] is not None:
                    batch.update_alert(incident_id, fp, missing_since=None)
            self._ack_seen(batch, incident_id, alert, acked_by, acked_until, now)
        return opened

    def _attach(
        self, batch: Batch, snapshot: FleetSnapshot, alert: Alert, now: float, opened: list[int]
    ) -> int:
        group = group_of(alert, self.config.group_by)
        key = group_key(group)
        started = alert.starts_at if 0 < alert.starts_at <= now else now
        incident = batch.open_for_group(key)
        if incident is not None:
            incident_id = incident.id
        else:
            rule = rule_of(alert, self.config, snapshot)
            title = group_title(alert, group)
            due = self.config.response_for(rule.sev).due(started)
            new_id = batch.open_incident(
                key, title, rule.sev, started, due, snapshot.environment, snapshot.slo_tier
            )
            assert new_id is not None  # the write lock is ours: nobody opened it meanwhile
            incident_id = new_id
            opened.append(incident_id)
            batch.event(
                incident_id,
                started,
                EventKind.OPENED,
                f"opened: {title}",
                who=TRACKER,
                fingerprint=alert.fingerprint,
                dedup="opened",
            )
            batch.event(
                incident_id,
                started,
                EventKind.SEV,
                f"{rule.sev}: {describe(rule)}",
                who=TRACKER,
                details={"sev": rule.sev.value, "by_hand": False},
                dedup="sev:first",
            )
        batch.attach_alert(
            incident_id,
            alert.fingerprint,
            alert.name,
            alert.labels,
            str(alert.severity),
            alert.summary,
            started,
        )
        where = _labels_text(alert)
        text = f"{alert.name} firing" + (f" ({where})" if where else "")
        text += f": {alert.summary}" if alert.summary else ""
        batch.event(
            incident_id,
            started,
            EventKind.FIRING,
            text,
            who=alert.source,
            fingerprint=alert.fingerprint,
            details={"labels": dict(alert.labels), "severity": str(alert.severity)},
            dedup=f"firing:{alert.fingerprint}:{started}",
        )
        return incident_id

    def _ack_seen(
        self,
        batch: Batch,
        incident_id: int,
        alert: Alert,
        acked_by: str | None,
        acked_until: float | None,
        now: float,
    ) -> None:
        """Record an acknowledgement appearing or going away in the snapshot."""
        fp, seen = alert.fingerprint, alert.acknowledged_by
        if seen and not acked_by:
            if not batch.acked_in_timeline(incident_id, fp):
                batch.event(
                    incident_id,
                    now,
                    EventKind.ACK,
                    f"{alert.name} acknowledged",
                    who=seen,
                    fingerprint=fp,
                    details={"until": alert.acknowledged_until, "seen_in": alert.source},
                    dedup=f"ack:{fp}:{alert.acknowledged_until}",
                )
            batch.acknowledged(incident_id, now, seen)
        elif acked_by and not seen:
            expired = acked_until is not None and acked_until <= now
            if batch.acked_in_timeline(incident_id, fp):
                what = "acknowledgement expired" if expired else "acknowledgement withdrawn"
                batch.event(
                    incident_id,
                    now,
                    EventKind.UNACK,
                    f"{alert.name}: {what}",
                    who=acked_by,
                    fingerprint=fp,
                    dedup=f"unack:{fp}:{acked_until}",
                )
        if (seen, alert.acknowledged_until) != (acked_by, acked_until):
            batch.update_alert(
                incident_id,
                fp,
                acked_by=seen,
                acked_until=alert.acknowledged_until if seen else None,
            )

    def _gone(self, batch: Batch, firing: dict[str, Alert], now: float) -> None:
        """Alerts no longer firing: resolved once gone for ``resolve_after_s``."""
        for fp, row in batch.live_alerts().items():
            if fp in firing:
                continue
            incident_id, since = int(row["incident_id"]), row["missing_since"]
            if since is None:
                since = now
                batch.update_alert(incident_id, fp, missing_since=now)
            if now - since >= self.config.resolve_after_s:
                batch.update_alert(incident_id, fp, resolved_at=since, missing_since=None)
                batch.event(
                    incident_id,
                    since,
                    EventKind.ALERT_RESOLVED,
                    f"{row['name']} resolved",
                    who=TRACKER,
                    fingerprint=fp,
                    dedup=f"resolved:{fp}:{row['starts_at']}",
                )

    def _incidents(
        self, batch: Batch, snapshot: FleetSnapshot, firing: dict[str, Alert], now: float
    ) -> None:
        """Resolve incidents whose alerts all resolved; raise SEVs; keep the impact."""
        figures = fleet_impact(snapshot)
        for incident in batch.open_incidents():
            rows = batch.alerts_of(incident.id)
            if rows and all(r["resolved_at"] is not None for r in rows):
                last = max(float(r["resolved_at"]) for r in rows)
                batch.resolve(incident.id, last, TRACKER, "every alert resolved")
                continue
            mine = [
                firing[str(r["fingerprint"])]
                for r in rows
                if r["resolved_at"] is None and str(r["fingerprint"]) in firing
            ]
            if mine and incident.sev_set_by is None:
                rules = [rule_of(a, self.config, snapshot) for a in mine]
                sev = most_severe(r.sev for r in rules)
                if sev.rank < incident.sev.rank:
                    rule = next(r for r in rules if r.sev is sev)
                    due = self.config.response_for(sev).due(incident.opened_at)
                    batch.change_sev(
                        incident.id,
                        sev,
                        due,
                        now,
                        who=TRACKER,
                        by_hand=False,
                        why=f"raised from {incident.sev}: {describe(rule)}",
                    )
            impact = worse(incident.impact, figures)
            if impact != incident.impact:
                batch.set_impact(incident.id, impact)

    # --- the audit log -----------------------------------------------------------------

    def _audit(self, batch: Batch, opened: list[int], now: float) -> None:
        """Attach the audit records appended since the last read; offer the recent ones to
        incidents that just opened."""
        if self.audit_path is None:
            return
        name = f"audit:{self.audit_path}"
        records, position = read_new(self.audit_path, Position.loads(batch.cursor(name)))
        if records or position.dumps() != batch.cursor(name):
            batch.set_cursor(name, position.dumps())
        for record in records:
            self._recent.append(record)
            self._attach_record(batch, record, None)
        while self._recent and _time_of(self._recent[0]) < now - LOOK_BACK_S:
            self._recent.popleft()
        if opened:
            for record in list(self._recent):
                self._attach_record(batch, record, set(opened))

    def _attach_record(self, batch: Batch, record: dict[str, Any], only: set[int] | None) -> None:
        """One audit record into the timelines it belongs to (``only`` these, if given)."""
        action = str(record.get("action", ""))
        if record.get("event") != "result" or not action or action.startswith("incident."):
            return  # intents, refusals, cancellations; the incidents' own changes
        at, who = _time_of(record), str(record.get("actor", ""))
        outcome = str(record.get("outcome", ""))
        target, message = str(record.get("target", "")), str(record.get("message", ""))
        details = {
            "action": action,
            "target": target,
            "outcome": outcome,
            "params": record.get("params"),
            "details": record.get("details"),
            "audit_id": record.get("id"),
        }
        key = _audit_key(record)
        raw = record.get("params")
        params: dict[str, Any] = raw if isinstance(raw, dict) else {}
        fingerprint = str(params.get("fingerprint") or "") if action in ACK_KINDS else ""
        if fingerprint:
            kind = ACK_KINDS[action] if outcome == "done" else EventKind.ACTION
            for incident in batch.incidents_with_alert(fingerprint):
                if (only is not None and incident.id not in only) or at < incident.opened_at:
                    continue
                text = f"{action} {target}: {outcome}" + (f": {message}" if message else "")
                batch.event(
                    incident.id,
                    at,
                    kind,
                    text,
                    who=who,
                    fingerprint=fingerprint,
                    details=details,
                    dedup=key,
                )
                if kind is EventKind.ACK:
                    batch.acknowledged(incident.id, at, who)
            return
        for incident_id in batch.open_at(at):
            if only is None or incident_id in only:
                text = f"{action} {target}: {outcome}" + (f": {message}" if message else "")
                batch.event(
                    incident_id, at, EventKind.ACTION, text, who=who, details=details, dedup=key
                )


def _time_of(record: dict[str, Any]) -> float:
    try:
        return float(record.get("time", 0.0))
    except (TypeError, ValueError):
        return 0.0


class TrackerThread(SubscriberThread):
    """Runs an `IncidentTracker` in its own thread on the newest snapshot handed to it.

    `submit` (the hub's subscriber) never blocks: it replaces the pending snapshot and
    wakes the thread. A failing pass is kept in `last_error` (shown by the UI, one line)
    and the next snapshot is tried again; the tracker never stops the dashboard.
    """

    name = "inferdeck-incidents"

    def __init__(
        self, tracker: IncidentTracker, on_events: Callable[[list[Event]], None] | None = None
    ) -> None:
        """``on_events``: called (from the tracker's thread) with each pass's new events."""
        super().__init__()
        self.tracker = tracker
        self.on_events = on_events
        self.last_error: str | None = None

    def start(self) -> TrackerThread:
        """Start the thread; returns self."""
        super().start()
        return self

    def handle(self, snapshot: FleetSnapshot) -> None:
        """One pass of the tracker over the newest snapshot."""
        try:
            events = self.tracker.observe(snapshot)
        except Exception as exc:  # a disk or database problem: say so, keep going
            self.last_error = f"incidents: {type(exc).__name__}: {' '.join(str(exc).split())}"
            return
        self.last_error = None
        if events and self.on_events is not None:
            with contextlib.suppress(Exception):
                self.on_events(events)
