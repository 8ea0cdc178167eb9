"""Incidents: grouping, the SEV table, response clocks, timelines, resolution, the
database (migration, two trackers, SIGKILL), export, and the ``incident`` commands."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypedDict

import pytest

from tui.config import ConfigError, parse_config
from tui.incidents.config import IncidentsConfig, incidents_config, parse_response
from tui.incidents.export import to_json, to_markdown
from tui.incidents.model import EventKind, Sev, add_business_days
from tui.incidents.rules import group_key, group_of, sev_of
from tui.incidents.schema import LATEST, version_of
from tui.incidents.store import Batch, Store
from tui.incidents.tracker import IncidentTracker
from tui.model import (
    Alert,
    FleetSnapshot,
    Pool,
    Quantiles,
    Severity,
    SourceState,
    SourceStatus,
    Traffic,
)
from tui.ops.audit import AuditLog

REPO = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000.0


def alert(
    name: str = "LLMServiceDown",
    *,
    severity: Severity = Severity.CRITICAL,
    acked_by: str | None = None,
    acked_until: float | None = None,
    starts_at: float = T0,
    state: str = "active",
    **labels: str,
) -> Alert:
    """An alert like Alertmanager's, fingerprinted by its labels."""
    full = {"alertname": name, "severity": str(severity), **labels}
    fp = "fp-" + "-".join(f"{k}={v}" for k, v in sorted(full.items()))
    return Alert(
        name=name, severity=severity, summary=f"{name} summary",
        labels=MappingProxyType(full), starts_at=starts_at, fingerprint=fp, state=state,
        source="alertmanager", acknowledged_by=acked_by, acknowledged_until=acked_until,
    )  # fmt: skip


def snap(
    at: float, *alerts: Alert, error_rate: float | None = None, ttft_p95: float | None = None,
    pending: bool = False, pools: tuple[Pool, ...] = (),
) -> FleetSnapshot:  # fmt: skip
    """A snapshot at ``at`` with ``alerts`` and fleet figures."""
    fleet = Pool("fleet", 3, 3, ttft=Quantiles(p95=ttft_p95), e2e=Quantiles(p95=3.0),
                 traffic=Traffic(error_rate=error_rate))  # fmt: skip
    state = SourceState.PENDING if pending else SourceState.OK
    return FleetSnapshot(
        taken_at=at, environment="lab", slo_tier="standard", alerts=alerts, fleet=fleet,
        pools=pools, sources=(SourceStatus("alertmanager", state),),
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "incidents.sqlite3")


def tracker(store: Store, audit: Path | None = None, **config: Any) -> IncidentTracker:
    section = IncidentsConfig(**{"resolve_after_s": 0.0, **config})
    return IncidentTracker(store, section, audit)


# --- grouping and the SEV table ---------------------------------------------------------


def test_alerts_group_by_alertname_and_pool(store: Store) -> None:
    t = tracker(store)
    t.observe(snap(T0, alert(backend="blue-0", pool="blue"), alert(backend="blue-1", pool="blue"),
                   alert(backend="green-0", pool="green")))  # fmt: skip
    incidents = store.incidents()
    assert sorted(i.title for i in incidents) == [
        "LLMServiceDown pool=blue", "LLMServiceDown pool=green",
    ]  # fmt: skip
    blue = next(i for i in incidents if "blue" in i.title)
    assert {a.labels["backend"] for a in blue.alerts} == {"blue-0", "blue-1"}


def test_grouping_is_configurable_and_falls_back_to_service() -> None:
    a = alert(service="chat")
    assert group_of(a, (("alertname",), ("pool", "service"))) == (
        ("alertname", "LLMServiceDown"), ("service", "chat"),
    )  # fmt: skip
    config = parse_config("incidents:\n  group_by: [alertname]\n", "x.yaml")
    section = incidents_config(config)
    assert section.group_by == (("alertname",),)
    one, two = alert(pool="blue"), alert(pool="green")
    assert group_key(group_of(one, section.group_by)) == group_key(group_of(two, section.group_by))


@pytest.mark.parametrize(
    ("the_alert", "error_rate", "ttft", "sev"),
    [
        (alert("LLMServiceDown"), None, None, Sev.SEV1),
        (alert("LLMHealthCheckFailing"), None, None, Sev.SEV1),
        (alert("LLMHighErrorRate", severity=Severity.WARNING, pool="blue"), 0.6, None, Sev.SEV2),
        (alert("LLMHighErrorRate", severity=Severity.WARNING, pool="blue"), 0.1, None, Sev.SEV3),
        (alert("LLMHighLatency", severity=Severity.WARNING), None, None, Sev.SEV3),
        (alert("QueueBacklog", severity=Severity.WARNING), None, 5.0, Sev.SEV3),  # over the SLO
        (alert("GPUHighTemperature", severity=Severity.WARNING), None, 0.5, Sev.SEV4),
        (alert("SomethingNew", severity=Severity.CRITICAL), None, None, Sev.SEV2),
    ],
)
def test_the_handbooks_sev_table(
    the_alert: Alert, error_rate: float | None, ttft: float | None, sev: Sev
) -> None:
    pools = (Pool("blue", 2, 2, traffic=Traffic(error_rate=error_rate)),)
    assert sev_of(the_alert, IncidentsConfig(), snap(T0, pools=pools, ttft_p95=ttft)) is sev


def test_sev_table_and_response_times_from_the_config() -> None:
    config = parse_config(
        textwrap.dedent(
            """\
            incidents:
              severities:
                - {sev: SEV2, alerts: ["GPU*"]}
                - {sev: sev4}
              response: {SEV2: 45m, SEV4: 2 business days}
            """
        ),
        "x.yaml",
    )
    section = incidents_config(config)
    assert sev_of(alert("GPUHighTemperature"), section, None) is Sev.SEV2
    assert sev_of(alert("LLMServiceDown"), section, None) is Sev.SEV4
    assert section.response_for(Sev.SEV2).seconds == 2700
    assert section.response_for(Sev.SEV4).business_days == 2
    assert section.response_for(Sev.SEV1).seconds == 900  # the default stays


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("incidents:\n  severities:\n    - {sev: SEV5}\n", "x.yaml:3: bad severity 'SEV5'"),
        ("incidents:\n  response: {SEV1: soon}\n", "x.yaml:2: bad response time 'soon'"),
        ("incidents:\n  grouping: [a]\n", "x.yaml:2: unknown key 'grouping' in incidents"),
        ("incidents:\n  severities:\n    - {alerts: [X]}\n", "x.yaml:3: a severity rule needs"),
    ],
)
def test_bad_incidents_section_names_file_and_line(text: str, where: str) -> None:
    with pytest.raises(ConfigError, match="^" + where.replace("(", r"\(")):
        incidents_config(parse_config(text, "x.yaml"))


# --- response clocks --------------------------------------------------------------------


def test_response_clock_runs_until_acknowledged(store: Store) -> None:
    t = tracker(store)
    t.observe(snap(T0 + 60, alert(pool="blue")))
    incident = store.incidents()[0]
    assert incident.sev is Sev.SEV1 and incident.opened_at == T0  # opened when it fired
    assert incident.ack_due_at == T0 + 15 * 60
    assert incident.ack_time_left(T0 + 600) == 300
    assert not incident.overdue(T0 + 899) and incident.overdue(T0 + 901)
    t.observe(snap(T0 + 120, alert(pool="blue", acked_by="alice", acked_until=T0 + 3720)))
    incident = store.get(incident.id)
    assert incident.time_to_acknowledge == 120 and incident.acknowledged_by == "alice"
    assert incident.ack_time_left(T0 + 5000) is None and not incident.overdue(T0 + 5000)
    assert incident.time_to_resolve is None
    t.observe(snap(T0 + 300))
    assert store.get(incident.id).time_to_resolve == 300


def test_one_business_day_skips_the_weekend() -> None:
    friday = dt.datetime(2024, 5, 3, 10, 0).astimezone().timestamp()
    monday = dt.datetime(2024, 5, 6, 10, 0).astimezone().timestamp()
    assert add_business_days(friday, 1) == monday
    assert parse_response("1 business day").due(friday) == monday
    assert parse_response("2h").due(friday) == friday + 7200


# --- timelines, acks, actions and resolution ---------------------------------------------


def _audit(log: AuditLog, at: float, action: str, target: str, **extra: Any) -> None:
    record = {"time": at, "actor": "bob@host", "action": action, "target": target}
    log.append({**record, "event": "result", "outcome": "done", "message": f"{action} ok", **extra})


def test_timeline_in_order_with_acks_actions_and_notes(store: Store, tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    down = alert(pool="blue", backend="blue-0")
    # an action taken before the tracker first saw the alert still lands in order
    _audit(log, T0 + 5, "traffic.rollback", "blue")
    _audit(log, T0 + 6, "incident.note", "incident #1")  # the incident's own: not copied
    log.append({"time": T0 + 7, "actor": "x", "action": "traffic.set", "target": "blue",
                "event": "intent"})  # fmt: skip
    t = tracker(store, log.path)
    t.observe(snap(T0 + 30, down))
    _audit(log, T0 + 40, "alert.ack", f"LLMServiceDown {down.fingerprint}",
           params={"fingerprint": down.fingerprint})  # fmt: skip
    t.observe(snap(T0 + 45, down))
    # the silence shows in the next snapshot: no second ack line, the audit's came first
    t.observe(snap(T0 + 50, alert(pool="blue", backend="blue-0", acked_by="bob@host",
                                  acked_until=T0 + 3600)))  # fmt: skip
    store.add_note(1, "blue-0 OOM in the log", "carol", at=T0 + 55)
    _audit(log, T0 + 60, "container.restart", "vllm-blue-0")
    t.observe(snap(T0 + 70, alert(pool="blue", backend="blue-0")))  # silence expired/withdrawn
    timeline = store.timeline(1)
    kinds = [(e.kind, e.at) for e in timeline]
    assert kinds == [
        (EventKind.OPENED, T0), (EventKind.SEV, T0), (EventKind.FIRING, T0),
        (EventKind.ACTION, T0 + 5), (EventKind.ACK, T0 + 40), (EventKind.NOTE, T0 + 55),
        (EventKind.ACTION, T0 + 60), (EventKind.UNACK, T0 + 70),
    ]  # fmt: skip
    assert timeline[3].who == "bob@host" and "traffic.rollback blue: done" in timeline[3].text
    assert timeline[4].who == "bob@host"
    assert store.get(1).acknowledged_at == T0 + 40


def test_an_incident_resolves_when_its_alerts_do_and_keeps_its_timeline(store: Store) -> None:
    t = tracker(store, resolve_after_s=30.0)
    a, b = alert(pool="blue", backend="blue-0"), alert(pool="blue", backend="blue-1")
    t.observe(snap(T0, a, b))
    t.observe(snap(T0 + 10, b))  # a gone ...
    t.observe(snap(T0 + 20, a, b))  # ... and back within 30 s: not resolved
    t.observe(snap(T0 + 30, b))
    t.observe(snap(T0 + 100, b, pending=True))
    t.observe(snap(T0 + 200, pending=True))  # a source has not answered: resolve nothing
    assert store.get(1).is_open
    t.observe(snap(T0 + 210))
    assert store.get(1).is_open  # b gone only since now
    t.observe(snap(T0 + 245))
    incident = store.get(1)
    assert not incident.is_open and incident.resolved_at == T0 + 210
    assert incident.resolved_by == "inferdeck"
    kinds = [e.kind for e in store.timeline(1)]
    assert kinds.count(EventKind.ALERT_RESOLVED) == 2 and kinds[-1] is EventKind.RESOLVED
    t.observe(snap(T0 + 300, alert(pool="blue", backend="blue-0", starts_at=T0 + 290)))
    assert [i.id for i in store.incidents(open_only=True)] == [2]  # a new firing: a new one


def test_sev_rises_with_the_error_rate_but_never_over_a_hand_set_one(store: Store) -> None:
    t = tracker(store)
    errors = alert("LLMHighErrorRate", severity=Severity.WARNING, pool="blue")
    pools = lambda rate: (Pool("blue", 2, 2, traffic=Traffic(error_rate=rate)),)  # noqa: E731
    t.observe(snap(T0, errors, pools=pools(0.1), error_rate=0.1))
    assert store.get(1).sev is Sev.SEV3
    t.observe(snap(T0 + 10, errors, pools=pools(0.7), error_rate=0.7))
    incident = store.get(1)
    assert incident.sev is Sev.SEV2 and incident.ack_due_at == T0 + 1800
    assert incident.impact.error_rate == 0.7
    t.observe(snap(T0 + 20, errors, pools=pools(0.1), error_rate=0.1))
    assert store.get(1).sev is Sev.SEV2 and store.get(1).impact.error_rate == 0.7
    store.set_sev(1, Sev.SEV4, "carol", due=T0 + 86400)
    t.observe(snap(T0 + 30, errors, pools=pools(0.9)))
    assert store.get(1).sev is Sev.SEV4 and store.get(1).sev_set_by == "carol"


def test_resolved_by_hand_its_firing_alerts_do_not_reopen_it(store: Store) -> None:
    t = tracker(store)
    t.observe(snap(T0, alert(pool="blue")))
    store.resolve(1, "carol", note="false alarm: maintenance", at=T0 + 10)
    t.observe(snap(T0 + 20, alert(pool="blue")))
    assert [i.id for i in store.incidents()] == [1] and not store.get(1).is_open
    assert [e.kind for e in store.timeline(1)][-2:] == [EventKind.NOTE, EventKind.RESOLVED]


# --- the database -------------------------------------------------------------------------

V1_SQL = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE incidents (id INTEGER PRIMARY KEY, group_key TEXT NOT NULL, title TEXT NOT NULL,
  sev TEXT NOT NULL, opened_at REAL NOT NULL, ack_due_at REAL NOT NULL, acknowledged_at REAL,
  acknowledged_by TEXT, resolved_at REAL, resolved_by TEXT);
CREATE UNIQUE INDEX one_open_incident_per_group ON incidents(group_key) WHERE resolved_at IS NULL;
CREATE TABLE incident_alerts (incident_id INTEGER NOT NULL REFERENCES incidents(id),
  fingerprint TEXT NOT NULL, name TEXT NOT NULL, labels TEXT NOT NULL, severity TEXT NOT NULL,
  summary TEXT NOT NULL, starts_at REAL NOT NULL, missing_since REAL, resolved_at REAL,
  acked_by TEXT, acked_until REAL, PRIMARY KEY (incident_id, fingerprint));
CREATE UNIQUE INDEX one_incident_per_firing_alert ON incident_alerts(fingerprint)
  WHERE resolved_at IS NULL;
CREATE TABLE events (id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL REFERENCES
  incidents(id), at REAL NOT NULL, kind TEXT NOT NULL, who TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL, fingerprint TEXT, details TEXT NOT NULL DEFAULT '{}', dedup TEXT,
  UNIQUE (incident_id, dedup));
CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO incidents (id, group_key, title, sev, opened_at, ack_due_at)
  VALUES (1, '[["alertname","X"]]', 'X', 'SEV3', 1700000000, 1700007200);
INSERT INTO events (incident_id, at, kind, text) VALUES (1, 1700000000, 'opened', 'opened: X');
"""


def test_a_version_1_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SQL)
    store = Store(path)
    incident = store.get(1)
    assert (incident.title, incident.sev, incident.sev_set_by) == ("X", Sev.SEV3, None)
    assert incident.impact.error_rate is None
    assert [e.text for e in store.timeline(1)] == ["opened: X"]
    store.set_sev(1, Sev.SEV2, "carol", due=T0)  # a v2 column
    assert store.get(1).sev_set_by == "carol"
    store.close()
    with sqlite3.connect(path) as conn:
        assert version_of(conn) == LATEST == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript("CREATE TABLE schema_version (version INTEGER); "
                           "INSERT INTO schema_version VALUES (99);")  # fmt: skip
    with pytest.raises(Exception, match="schema version 99, newer"):
        Store(path)


TRACKER_SCRIPT = """
import sys, time
from types import MappingProxyType
from tui.incidents.config import IncidentsConfig
from tui.incidents.store import Store
from tui.incidents.tracker import IncidentTracker
from tui.model import Alert, FleetSnapshot, Severity
db, count, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
while time.time() < start:
    time.sleep(0.001)
tracker = IncidentTracker(Store(db), IncidentsConfig(resolve_after_s=3600))
alerts = []
for i in range(count):
    labels = {"alertname": f"A{i}", "pool": "blue"}
    alerts.append(Alert(f"A{i}", Severity.CRITICAL, "", MappingProxyType(labels), 1.0, f"fp{i}"))
    for event in tracker.observe(FleetSnapshot(2.0 + i, "lab", "standard", alerts=tuple(alerts))):
        print(event.id, event.incident_id, event.kind.value, flush=True)
"""


def _tracker_process(db: Path, count: int, start: float) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", TRACKER_SCRIPT, str(db), str(count), str(start)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_two_tracker_processes_open_each_incident_once(tmp_path: Path) -> None:
    import time

    db = tmp_path / "incidents.sqlite3"
    Store(db).close()
    start = time.time() + 1.5  # both import first, then race
    procs = [_tracker_process(db, 15, start) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    store = Store(db)
    assert len(store.incidents()) == 15
    for incident in store.incidents():
        kinds = [e.kind for e in store.timeline(incident.id)]
        assert kinds == [EventKind.OPENED, EventKind.SEV, EventKind.FIRING], incident


def test_two_threads_with_their_own_connections_open_once(tmp_path: Path) -> None:
    db = tmp_path / "incidents.sqlite3"
    stores = [Store(db), Store(db)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(s: Store) -> None:
        t = tracker(s, resolve_after_s=3600.0)
        barrier.wait()
        try:
            for i in range(20):
                alerts = [alert(pool=f"p{j}") for j in range(i + 1)]
                t.observe(snap(T0 + i, alert(pool="blue"), *alerts))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(stores[0].incidents()) == 21


def test_sigkill_loses_no_event_already_shown(tmp_path: Path) -> None:
    db = tmp_path / "incidents.sqlite3"
    proc = _tracker_process(db, 100_000, 0.0)
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(7)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    store = Store(db)
    for line in lines:
        event_id, incident_id, kind = line.split(maxsplit=2)
        recorded = {e.id: e.kind.value for e in store.timeline(int(incident_id))}
        assert recorded.get(int(event_id)) == kind.strip()


# --- export ---------------------------------------------------------------------------------


class _HostileLabels(TypedDict):
    """Labels by name, so that ``alert(**HOSTILE)`` cannot be read as its other keywords."""

    pool: str
    note: str


HOSTILE: _HostileLabels = {
    "pool": "b|lue",
    "note": "`rm -rf` <script>alert(1)</script> **x** \x1b[31m",
}


def _hostile_incident(store: Store, tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    t = tracker(store, log.path)
    a = alert(**HOSTILE)
    t.observe(snap(T0, a, error_rate=0.3, ttft_p95=4.0))
    _audit(log, T0 + 30, "traffic.rollback", "blue")
    t.observe(snap(T0 + 60, alert(acked_by="alice|<b>", acked_until=T0 + 999, **HOSTILE),
                   error_rate=0.1, ttft_p95=2.5))  # fmt: skip
    store.add_note(1, "restarted | `blue-0` <b>", "carol", at=T0 + 90)
    t.observe(snap(T0 + 600))


def test_markdown_export_is_the_post_incident_document(store: Store, tmp_path: Path) -> None:
    _hostile_incident(store, tmp_path)
    text = to_markdown(store.get(1), store.timeline(1), now=T0 + 700)
    for section in ("## Summary", "## Impact", "## Timeline", "## Actions taken",
                    "## Root cause", "## Action items"):  # fmt: skip
        assert section in text
    assert "| Severity | SEV1 |" in text
    assert "| Duration | 10m |" in text
    assert "| Time to acknowledge | 1m (by alice\\|&lt;b&gt;) |" in text
    assert "| Time to resolve | 10m |" in text
    assert "| TTFT p95 | 4.00s | < 2s |" in text and "| Error rate | 30.0% | < 2.0% |" in text
    assert "traffic.rollback blue: done" in text.split("## Actions taken")[1]
    assert "restarted \\| \\`blue-0\\` &lt;b&gt;" in text
    assert "<script>" not in text and "\x1b" not in text
    assert "\\`rm -rf\\`" in text and " `" not in text
    assert "b\\|lue" in text
    for line in text.splitlines():  # every table row keeps its columns
        if line.startswith("| ") and "Timeline" not in line:
            assert line.replace("\\|", "").count("|") in (3, 4, 5)


def test_json_export_has_clocks_alerts_and_timeline(store: Store, tmp_path: Path) -> None:
    _hostile_incident(store, tmp_path)
    data = json.loads(to_json(store.get(1), store.timeline(1), now=T0 + 700))
    assert data["sev"] == "SEV1" and data["status"] == "resolved"
    assert data["time_to_acknowledge_s"] == 60 and data["time_to_resolve_s"] == 600
    assert data["impact"] == {"worst_ttft_p95_s": 4.0, "worst_e2e_p95_s": 3.0,
                              "worst_error_rate": 0.3}  # fmt: skip
    assert data["alerts"][0]["labels"]["note"] == HOSTILE["note"]  # data stays data
    assert [e["kind"] for e in data["timeline"]] == [
        "opened", "severity", "firing", "action", "acknowledged", "note", "alert resolved",
        "resolved",
    ]  # fmt: skip


# --- the command line -----------------------------------------------------------------------


def cli(*args: str, config: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "tui.commands", "incident", *args, "-c", str(config)],
        capture_output=True, text=True, env=env, input=stdin, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def with_incident(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    config = tmp_path / "inferdeck.yaml"
    config.write_text(f"state_dir: {state}\n")
    store = Store(state / "incidents.sqlite3")
    tracker(store).observe(snap(T0, alert(pool="blue", evil="\x1b[2J")))
    store.close()
    return config


def test_cli_list_show_export(with_incident: Path) -> None:
    listed = cli("list", config=with_incident)
    assert listed.returncode == 0, listed.stderr
    assert "SEV1" in listed.stdout and "LLMServiceDown pool=blue" in listed.stdout
    assert "OVERDUE" in listed.stdout
    as_json = json.loads(cli("list", "--json", config=with_incident).stdout)
    assert [(i["id"], i["sev"], i["overdue"]) for i in as_json] == [(1, "SEV1", True)]
    shown = cli("show", "1", config=with_incident)
    assert shown.returncode == 0 and "LLMServiceDown firing" in shown.stdout
    assert "\x1b" not in shown.stdout and "␛[2J" in shown.stdout
    md = cli("export", "1", config=with_incident)
    assert md.returncode == 0 and md.stdout.startswith("# Incident #1: LLMServiceDown")
    data = json.loads(cli("export", "1", "--format", "json", config=with_incident).stdout)
    assert data["timeline"][0]["kind"] == "opened"


def test_cli_changes_are_audited_and_exit_codes_say_how_it_went(with_incident: Path) -> None:
    audit = with_incident.parent / "state" / "audit.jsonl"
    assert cli("note", "1", "looking at blue-0", config=with_incident).returncode == 0
    assert cli("sev", "1", "sev2", "--yes", config=with_incident).returncode == 0
    assert cli("sev", "1", "SEV9", config=with_incident).returncode == 2
    assert cli("sev", "1", "SEV3", config=with_incident, stdin="n\n").returncode == 1
    refused = cli("note", "1", "x", "--read-only", config=with_incident)
    assert refused.returncode == 1 and "read-only" in refused.stderr
    unknown = cli("note", "7", "x", config=with_incident)
    assert unknown.returncode == 2 and "no incident #7" in unknown.stderr
    assert cli("show", "7", config=with_incident).returncode == 2
    assert cli("resolve", "1", "--note", "fixed", "--yes", config=with_incident).returncode == 0
    again = cli("resolve", "1", "--yes", config=with_incident)
    assert again.returncode == 1 and "already resolved" in again.stderr
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    done = [(r["action"], r["event"]) for r in records if r["event"] in ("result", "refused")]
    assert done == [("incident.note", "result"), ("incident.sev", "result"),
                    ("incident.note", "refused"), ("incident.resolve", "result")]  # fmt: skip
    data = json.loads(cli("export", "1", "--format", "json", config=with_incident).stdout)
    assert data["sev"] == "SEV2" and data["status"] == "resolved"
    texts = [(e["kind"], e["text"]) for e in data["timeline"]]
    assert ("note", "looking at blue-0") in texts and ("note", "fixed") in texts
    assert texts[-1] == ("resolved", "resolved by hand")


def test_a_quiet_fleet_costs_no_database_work_each_refresh(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NOC wall runs for weeks: with nothing firing and nothing open, a refresh opens no
    transaction and takes no write lock on a file other trackers share; an alert that
    fires later still opens its incident."""
    t = tracker(store)
    t.observe(snap(T0))  # the first pass learns that all is quiet
    opened = 0
    real_batch = Store.batch

    def counted(self: Store) -> AbstractContextManager[Batch]:
        nonlocal opened
        opened += 1
        return real_batch(self)

    monkeypatch.setattr(Store, "batch", counted)
    for second in range(1, 30):
        assert t.observe(snap(T0 + second)) == []
    assert opened == 0
    t.observe(snap(T0 + 40, alert(pool="blue", backend="blue-0", starts_at=T0 + 40)))
    assert opened == 1 and len(store.incidents(open_only=True)) == 1
