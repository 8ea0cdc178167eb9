"""Local alerts and acknowledgements: the demo's (and any Alertmanager-less stack's) alerting.

* `AckStore` keeps acknowledgements in ``STATE_DIR/acks.json``: by, until, comment per
  fingerprint. Every write is atomic (a file beside it, fsync, rename, fsync of the
  folder), so a crash leaves the old or the new file, never a torn one; expired acks
  are ignored on read and dropped on the next write.
* `LocalAck` / `LocalUnack` are the executor actions that write it.
* `LocalAlerting` is the hub's ``alerts_hook``: after each merge it adds the alerts of
  `tui.analysis.alert_rules` (when no other alert source is configured), marks the
  locally acknowledged ones, and publishes the result to ``STATE_DIR/local_alerts.json``
  so ``inferdeck ack`` in another terminal can resolve what the dashboard shows.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tui.analysis.alert_rules import RULES, Rule, local_alerts, with_acks
from tui.analysis.text import shown
from tui.config import Config
from tui.model import Alert, FleetSnapshot, Severity
from tui.ops.action import ActionResult, Plan, Progress
from tui.ops.alerts.silences import format_duration, matcher_lines
from tui.ops.audit import state_dir_of
from tui.ops.files import write_atomic

__all__ = [
    "ACKS_FILE",
    "PUBLISHED_FILE",
    "AckRecord",
    "AckStore",
    "LocalAck",
    "LocalAlerting",
    "LocalUnack",
    "local_alerting",
    "read_published",
    "state_dir_of",
]

ACKS_FILE = "acks.json"
PUBLISHED_FILE = "local_alerts.json"


@dataclass(frozen=True, slots=True)
class AckRecord:
    """One local acknowledgement."""

    by: str
    until: float  # epoch seconds
    comment: str = ""
    alertname: str = ""
    at: float = 0.0  # when it was made


class AckStore:
    """Acknowledgements by fingerprint in a JSON file; reads are cached by mtime."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        """``path``: usually ``STATE_DIR/acks.json``."""
        self.path = Path(path)
        self.clock = clock
        self._cache: tuple[tuple[int, int, int], dict[str, AckRecord]] | None = None

    def _read(self) -> dict[str, AckRecord]:
        """Every record in the file (expired ones too); a missing or bad file is empty."""
        try:
            st = self.path.stat()
        except OSError:
            return {}
        key = (st.st_mtime_ns, st.st_size, st.st_ino)  # a rename makes a new inode
        if self._cache is not None and self._cache[0] == key:
            return dict(self._cache[1])
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = {}
        found: dict[str, AckRecord] = {}
        for fp, rec in (raw.get("acks", {}) if isinstance(raw, dict) else {}).items():
            with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                found[str(fp)] = AckRecord(
                    by=str(rec["by"]),
                    until=float(rec["until"]),
                    comment=str(rec.get("comment", "")),
                    alertname=str(rec.get("alertname", "")),
                    at=float(rec.get("at", 0.0)),
                )
        self._cache = (key, found)
        return dict(found)

    def active(self, now: float | None = None) -> dict[str, AckRecord]:
        """The acknowledgements still in force at ``now``."""
        moment = self.clock() if now is None else now
        return {fp: r for fp, r in self._read().items() if r.until > moment}

    def get(self, fingerprint: str, now: float | None = None) -> AckRecord | None:
        """The live acknowledgement of ``fingerprint``, or None."""
        return self.active(now).get(fingerprint)

    def _write(self, records: Mapping[str, AckRecord]) -> None:
        body = {"version": 1, "acks": {fp: asdict(r) for fp, r in sorted(records.items())}}
        write_atomic(self.path, json.dumps(body, indent=1, ensure_ascii=True) + "\n", mode=0o600)

    def put(self, fingerprint: str, record: AckRecord) -> None:
        """Record (or replace) an acknowledgement; expired ones are dropped meanwhile."""
        records = self.active()
        records[fingerprint] = record
        self._write(records)

    def remove(self, fingerprint: str) -> AckRecord | None:
        """Drop the live acknowledgement of ``fingerprint``; the one dropped, or None."""
        records = self.active()
        gone = records.pop(fingerprint, None)
        if gone is not None:
            self._write(records)
        return gone


class LocalAck:
    """Acknowledge an alert locally (no Alertmanager): a record in the `AckStore`."""

    kind = "alert.ack"

    def __init__(
        self,
        store: AckStore,
        alert: Alert,
        actor: str,
        comment: str | None = None,
        duration_s: float = 3600.0,
    ) -> None:
        """``comment`` defaults to ``ack: <actor>``."""
        if duration_s <= 0:
            raise ValueError("the acknowledgement must last more than zero seconds")
        self.store, self.alert, self.actor = store, alert, actor
        self.comment = comment or f"ack: {actor}"
        self.duration_s = float(duration_s)
        self.target = f"{alert.name} {alert.fingerprint}"

    def params(self) -> dict[str, Any]:
        """For the audit log."""
        return {
            "store": str(self.store.path),
            "fingerprint": self.alert.fingerprint,
            "labels": dict(self.alert.labels),
            "duration_s": self.duration_s,
            "comment": self.comment,
        }

    def plan(self) -> Plan:
        """The alert's labels, the duration, the comment and where it is kept."""
        return Plan(
            f"Acknowledge {shown(self.alert.name)} for {format_duration(self.duration_s)}",
            (
                f"kept locally in {self.store.path} (no Alertmanager)",
                f"fingerprint: {self.alert.fingerprint}",
                "alert labels:",
                *(f"  {line}" for line in matcher_lines(self.alert.labels)),
                f"duration: {format_duration(self.duration_s)}",
                f"comment: {shown(self.comment)}",
                f"by: {shown(self.actor)}",
            ),
        )

    def run(self, progress: Progress) -> ActionResult:
        """Write the record."""
        now = self.store.clock()
        until = now + self.duration_s
        record = AckRecord(self.actor, until, self.comment, self.alert.name, now)
        self.store.put(self.alert.fingerprint, record)
        return ActionResult(
            True,
            f"acknowledged {shown(self.alert.name)} for {format_duration(self.duration_s)}"
            " (locally)",
            {"until": until, "store": str(self.store.path)},
        )


class LocalUnack:
    """Remove a local acknowledgement."""

    kind = "alert.unack"

    def __init__(self, store: AckStore, alert: Alert) -> None:
        """Acts on the record found when it runs."""
        self.store, self.alert = store, alert
        self.target = f"{alert.name} {alert.fingerprint}"

    def params(self) -> dict[str, Any]:
        """For the audit log."""
        return {"store": str(self.store.path), "fingerprint": self.alert.fingerprint}

    def plan(self) -> Plan:
        """Which record goes."""
        by = self.alert.acknowledged_by
        return Plan(
            f"Un-acknowledge {shown(self.alert.name)}",
            (
                f"remove the local acknowledgement in {self.store.path}",
                f"fingerprint: {self.alert.fingerprint}",
                *(f"  {line}" for line in matcher_lines(self.alert.labels)),
                f"acknowledged by: {shown(by)}" if by else "acknowledged by: nobody known",
            ),
        )

    def run(self, progress: Progress) -> ActionResult:
        """Drop the record; failed when there was none."""
        gone = self.store.remove(self.alert.fingerprint)
        if gone is None:
            return ActionResult(False, f"no local acknowledgement of {shown(self.alert.name)}")
        return ActionResult(
            True, f"un-acknowledged {shown(self.alert.name)} (was by {shown(gone.by)})"
        )


# --- the hub hook and what it publishes -------------------------------------------------------


def _alert_json(a: Alert) -> dict[str, Any]:
    return {
        "name": a.name,
        "severity": a.severity.value,
        "summary": a.summary,
        "labels": dict(a.labels),
        "starts_at": a.starts_at,
        "fingerprint": a.fingerprint,
        "state": a.state,
        "source": a.source,
        "acknowledged_by": a.acknowledged_by,
        "acknowledged_until": a.acknowledged_until,
    }


def _alert_from_json(d: Mapping[str, Any]) -> Alert:
    until = d.get("acknowledged_until")
    return Alert(
        name=str(d["name"]),
        severity=Severity(d.get("severity", "warning")),
        summary=str(d.get("summary", "")),
        labels=MappingProxyType({str(k): str(v) for k, v in dict(d.get("labels", {})).items()}),
        starts_at=float(d.get("starts_at", 0.0)),
        fingerprint=str(d["fingerprint"]),
        state=str(d.get("state", "firing")),
        source=str(d.get("source", "local")),
        acknowledged_by=d.get("acknowledged_by"),
        acknowledged_until=float(until) if until is not None else None,
    )


def read_published(state_dir: Path) -> tuple[float, tuple[Alert, ...]] | None:
    """``(taken_at, alerts)`` last published by a running dashboard, or None."""
    try:
        raw = json.loads((state_dir / PUBLISHED_FILE).read_text(encoding="utf-8"))
        alerts = tuple(_alert_from_json(a) for a in raw["alerts"])
        return float(raw["taken_at"]), alerts
    except (OSError, ValueError, KeyError, TypeError):
        return None


class LocalAlerting:
    """The hub's ``alerts_hook``: local alerts (optional), local acks, and publishing."""

    def __init__(
        self,
        store: AckStore,
        *,
        raise_alerts: bool = True,
        rules: Sequence[Rule] = RULES,
        publish_to: Path | None = None,
    ) -> None:
        """``raise_alerts``: evaluate the handbook's rules (off when Prometheus raises
        them); ``publish_to``: where to write the alerts for the CLI (None: nowhere)."""
        self.store = store
        self.raise_alerts = raise_alerts
        self.rules = tuple(rules)
        self.publish_to = publish_to
        self.previous: tuple[Alert, ...] = ()
        self.error: str | None = None  # the last failure, for diagnostics
        self._published: Any = None

    def __call__(self, snapshot: FleetSnapshot) -> tuple[Alert, ...]:
        """The snapshot's alerts plus local ones, local acks marked; never raises."""
        try:
            return self._evaluate(snapshot)
        except Exception as exc:  # alerting must never take the dashboard down
            self.error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            return snapshot.alerts

    def _evaluate(self, snapshot: FleetSnapshot) -> tuple[Alert, ...]:
        now = snapshot.taken_at
        alerts = list(snapshot.alerts)
        if self.raise_alerts:
            self.previous = local_alerts(
                backends=snapshot.backends,
                fleet=snapshot.fleet,
                gpus=snapshot.gpus,
                tier=snapshot.slo_tier,
                now=now,
                previous=self.previous,
                rules=self.rules,
            )
            known = {a.fingerprint for a in alerts}
            alerts += [a for a in self.previous if a.fingerprint not in known]
        acks = self.store.active(now)

        def lookup(fp: str) -> tuple[str, float] | None:
            rec = acks.get(fp)
            return (rec.by, rec.until) if rec is not None else None

        out = tuple(sorted(with_acks(alerts, lookup), key=lambda a: a.starts_at, reverse=True))
        self._publish(now, out)
        self.error = None
        return out

    def _publish(self, now: float, alerts: tuple[Alert, ...]) -> None:
        """Write the alerts when they changed (or every minute, so readers see it's live)."""
        if self.publish_to is None:
            return
        key = tuple((a.fingerprint, a.state, a.acknowledged_by) for a in alerts)
        if self._published is not None:
            last_key, last_at = self._published
            if last_key == key and now - last_at < 60:
                return
        body = {"taken_at": now, "alerts": [_alert_json(a) for a in alerts]}
        write_atomic(self.publish_to, json.dumps(body, ensure_ascii=True) + "\n", mode=0o600)
        self._published = (key, now)


def local_alerting(
    config: Config | None, state_dir: Path | None = None, *, rules: Sequence[Rule] = RULES
) -> LocalAlerting | None:
    """The hook a config calls for: None when Alertmanager keeps the acks; alerts raised
    locally only when neither Alertmanager nor Prometheus raises them."""
    sources = config.sources if config is not None else None
    if sources is not None and sources.alertmanager is not None:
        return None
    folder = state_dir or state_dir_of(config)
    return LocalAlerting(
        AckStore(folder / ACKS_FILE),
        raise_alerts=sources is None or sources.prometheus is None,
        rules=rules,
        publish_to=folder / PUBLISHED_FILE,
    )
