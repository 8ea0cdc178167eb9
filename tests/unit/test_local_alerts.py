"""inferdeck's own alerts (the handbook's rules on hub figures), the local ack store, the hook."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tui.analysis.alert_rules import RULES, immediate, local_alerts
from tui.analysis.fingerprint import fingerprint
from tui.commands.alerts import add_ack_arguments, add_unack_arguments, run_ack, run_unack
from tui.config import AlertmanagerConfig, Config, PrometheusConfig, SourcesConfig
from tui.hub import Hub
from tui.model import Alert, Backend, Collected, Gpu, Health, Pool, Quantiles, Severity, Traffic
from tui.ops.actor import current_actor
from tui.ops.alerts.local_acks import (
    AckRecord,
    AckStore,
    LocalAck,
    LocalAlerting,
    LocalUnack,
    local_alerting,
    read_published,
)
from tui.ops.audit import AuditLog
from tui.ops.executor import Executor, Outcome, always

T0 = 1_800_000_000.0


def up(name: str = "blue-0", waiting: float = 0.0, pool: str = "blue") -> Backend:
    return Backend(name, pool, f"http://127.0.0.1:80{name[-1]}1", health=Health.UP, waiting=waiting)


def down(name: str = "blue-1", reason: str = "connection refused") -> Backend:
    url = f"http://127.0.0.1:80{name[-1]}1"
    return Backend(name, "blue", url, health=Health.DOWN, reason=reason)


def fleet(p95: float | None = 1.0, error_rate: float | None = 0.0) -> Pool:
    return Pool("fleet", 2, 2, e2e=Quantiles(p95=p95), traffic=Traffic(error_rate=error_rate))


def gpu(index: int = 0, used: float = 10_000, total: float = 80_000, temp: float = 60) -> Gpu:
    return Gpu("node-1", index, mem_used_mib=used, mem_total_mib=total, temp_c=temp)


def names(alerts: tuple[Alert, ...]) -> list[str]:
    return sorted(a.name for a in alerts)


def test_healthy_fleet_raises_nothing() -> None:
    assert local_alerts(backends=[up()], fleet=fleet(), gpus=[gpu()], now=T0) == ()


def test_backend_down_is_critical_service_down_with_real_labels() -> None:
    (alert,) = local_alerts(backends=[up(), down()], fleet=fleet(), now=T0)
    assert alert.name == "LLMServiceDown" and alert.severity is Severity.CRITICAL
    assert dict(alert.labels) == {
        "alertname": "LLMServiceDown",
        "severity": "critical",
        "backend": "blue-1",
        "pool": "blue",
        "instance": "127.0.0.1:8011",
    }
    assert alert.source == "local" and "connection refused" in alert.summary
    assert alert.fingerprint == fingerprint(alert.labels)  # Alertmanager's own identity
    assert len(alert.fingerprint) == 16 and alert.starts_at == T0


@pytest.mark.parametrize(
    ("value", "fires"), [(10.0, False), (10.01, True), (None, False), (float("nan"), False)]
)
def test_high_latency_over_ten_seconds_fleet_p95(value: float | None, fires: bool) -> None:
    got = local_alerts(backends=[up()], fleet=fleet(p95=value), now=T0, rules=immediate())
    assert names(got) == (["LLMHighLatency"] if fires else [])
    if fires:
        assert got[0].severity is Severity.WARNING
        assert dict(got[0].labels) == {"alertname": "LLMHighLatency", "severity": "warning"}
        assert "standard SLO: 15s" in got[0].summary


@pytest.mark.parametrize(("rate", "fires"), [(0.01, False), (0.0101, True), (0.5, True)])
def test_error_rate_over_one_percent(rate: float, fires: bool) -> None:
    got = local_alerts(fleet=fleet(error_rate=rate), now=T0, tier="premium")
    assert names(got) == (["LLMHighErrorRate"] if fires else [])
    if fires:
        assert "premium SLO: 0.5%" in got[0].summary


def test_queue_backlog_per_up_backend_over_ten() -> None:
    got = local_alerts(backends=[up("blue-0", 11), up("green-0", 10, "green")], now=T0)
    assert names(got) == ["QueueBacklog"]
    assert got[0].labels["backend"] == "blue-0" and got[0].labels["pool"] == "blue"
    assert local_alerts(backends=[down()], now=T0)[0].name == "LLMServiceDown"  # not queue


def test_gpu_memory_and_temperature() -> None:
    hot_full = gpu(1, used=73_000, total=80_000, temp=81)
    got = local_alerts(gpus=[gpu(0, used=72_000, temp=80), hot_full], now=T0)
    assert names(got) == ["GPUHighTemperature", "GPUMemoryPressure"]
    for a in got:
        assert a.labels["gpu"] == "1" and a.labels["host"] == "node-1"
    unknown = Gpu("node-1", 2, mem_used_mib=70_000, mem_total_mib=None, temp_c=None)
    assert local_alerts(gpus=[unknown], now=T0) == ()


def test_fingerprints_are_stable_and_distinct() -> None:
    one = local_alerts(backends=[down("blue-1")], now=T0)
    again = local_alerts(backends=[down("blue-1", reason="timeout")], now=T0 + 99)
    other = local_alerts(
        backends=[Backend("blue-2", "blue", "http://h:1", health=Health.DOWN)], now=T0
    )
    assert one[0].fingerprint == again[0].fingerprint  # summary is not identity
    assert one[0].fingerprint != other[0].fingerprint


def test_pending_until_for_then_firing_and_starts_at_kept() -> None:
    first = local_alerts(backends=[down()], now=T0)
    assert first[0].state == "pending"  # LLMServiceDown has for: 1m
    later = local_alerts(backends=[down()], now=T0 + 59, previous=first)
    assert later[0].state == "pending" and later[0].starts_at == T0
    firing = local_alerts(backends=[down()], now=T0 + 60, previous=later)
    assert firing[0].state == "firing" and firing[0].starts_at == T0
    cleared = local_alerts(backends=[up("blue-1")], now=T0 + 61, previous=firing)
    assert cleared == ()
    again = local_alerts(backends=[down()], now=T0 + 62, previous=cleared)
    assert again[0].starts_at == T0 + 62 and again[0].state == "pending"  # a new episode


def test_rules_are_the_handbooks() -> None:
    assert {r.name: r.for_s for r in RULES} == {
        "LLMServiceDown": 60,
        "LLMHighLatency": 300,
        "LLMHighErrorRate": 300,
        "QueueBacklog": 120,
        "GPUMemoryPressure": 300,
        "GPUHighTemperature": 300,
    }
    assert local_alerts(backends=[down()], now=T0, rules=immediate())[0].state == "firing"


# --- the store -----------------------------------------------------------------------------


def test_store_round_trip_expiry_and_atomic_file(tmp_path: Path) -> None:
    now = [T0]
    store = AckStore(tmp_path / "state" / "acks.json", clock=lambda: now[0])
    assert store.active() == {} and store.get("f1") is None
    store.put("f1", AckRecord("alice@h", T0 + 60, "looking", "LLMServiceDown", T0))
    store.put("f2", AckRecord("bob@h", T0 + 10, "", "QueueBacklog", T0))
    assert set(store.active()) == {"f1", "f2"}
    assert store.get("f1") == AckRecord("alice@h", T0 + 60, "looking", "LLMServiceDown", T0)
    raw = json.loads(store.path.read_text())
    assert raw["version"] == 1 and raw["acks"]["f1"]["by"] == "alice@h"
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    now[0] = T0 + 10  # f2 ends exactly now: no longer in force
    assert set(store.active()) == {"f1"}
    store.put("f3", AckRecord("carol@h", T0 + 99))
    assert set(json.loads(store.path.read_text())["acks"]) == {"f1", "f3"}  # f2 pruned
    assert store.remove("f1") is not None and store.remove("f1") is None
    assert set(store.active()) == {"f3"}
    assert [p.name for p in store.path.parent.iterdir()] == ["acks.json"]  # no temp left


def test_store_survives_garbage_and_a_failed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "acks.json"
    path.write_text("{not json")
    store = AckStore(path, clock=lambda: T0)
    assert store.active() == {}
    path.write_text(json.dumps({"acks": {"ok": {"by": "a", "until": T0 + 5}, "bad": {"x": 1}}}))
    assert set(store.active()) == {"ok"}
    before = path.read_text()

    def crash(src: object, dst: object) -> None:
        raise OSError("power cut before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        store.put("new", AckRecord("b", T0 + 9))
    assert path.read_text() == before  # the old file, whole
    assert [p.name for p in tmp_path.iterdir()] == ["acks.json"]  # the temporary is gone


async def test_local_ack_and_unack_through_the_executor(tmp_path: Path) -> None:
    store = AckStore(tmp_path / "acks.json")
    audit = AuditLog(tmp_path / "audit.jsonl")
    (alert,) = local_alerts(backends=[down()], now=T0)
    executor = Executor(audit, actor="alice@host")
    action = LocalAck(store, alert, executor.actor, None, 1800)
    plan = action.plan()
    assert plan.title == 'Acknowledge "LLMServiceDown" for 30m' and not plan.dangerous
    assert '  backend="blue-1"' in plan.lines and 'comment: "ack: alice@host"' in plan.lines
    done = await executor.execute(action, always)
    assert done.ok, done.message
    record = store.get(alert.fingerprint)
    assert record is not None and record.by == "alice@host" and record.comment == "ack: alice@host"
    undone = await executor.execute(LocalUnack(store, alert), always)
    assert undone.ok and store.get(alert.fingerprint) is None
    again = await executor.execute(LocalUnack(store, alert), always)
    assert again.outcome is Outcome.FAILED and "no local acknowledgement" in again.message
    kinds = [(r["action"], r["event"]) for r in audit.tail(10)]
    assert kinds == [("alert.ack", "intent"), ("alert.ack", "result")] + [
        ("alert.unack", "intent"), ("alert.unack", "result")
    ] * 2  # fmt: skip


# --- the hub hook ----------------------------------------------------------------------------


class Fixed:
    """A source answering with given figures."""

    name, interval = "fixed", 1.0

    def __init__(self, collected: Collected) -> None:
        self.collected = collected

    async def collect(self) -> Collected:
        return self.collected

    async def aclose(self) -> None:
        pass


async def test_hub_hook_adds_alerts_marks_acks_and_publishes(tmp_path: Path) -> None:
    now = [T0]
    hook = local_alerting(None, tmp_path)
    assert hook is not None and hook.raise_alerts
    source = Fixed(Collected(backends=(up("blue-0"), down()), fleet=fleet(p95=12.0)))
    hub = Hub([source], clock=lambda: now[0], alerts_hook=hook)
    first = await hub.poll_once()
    assert names(first.alerts) == ["LLMHighLatency", "LLMServiceDown"]
    assert {a.state for a in first.alerts} == {"pending"}
    down_alert = next(a for a in first.alerts if a.name == "LLMServiceDown")
    hook.store.put(down_alert.fingerprint, AckRecord("alice@h", T0 + 3600, "on it"))
    now[0] = T0 + 61
    second = await hub.poll_once()
    acked = next(a for a in second.alerts if a.name == "LLMServiceDown")
    assert acked.state == "firing" and acked.starts_at == T0
    assert acked.acknowledged_by == "alice@h" and acked.acknowledged_until == T0 + 3600
    published = read_published(tmp_path)
    assert published is not None and published[0] == T0 + 61
    assert {a.fingerprint: a.acknowledged_by for a in published[1]} == {
        a.fingerprint: a.acknowledged_by for a in second.alerts
    }


def test_hook_never_raises_and_config_decides(tmp_path: Path) -> None:
    broken = LocalAlerting(AckStore(tmp_path / "acks.json"), publish_to=tmp_path / "no" / "x")
    (tmp_path / "no").write_text("a file where a folder should be")
    snap = asyncio.run(Hub([Fixed(Collected(backends=(down(),)))]).poll_once())
    assert broken(snap) == snap.alerts and broken.error is not None
    am = Config(sources=SourcesConfig(alertmanager=AlertmanagerConfig(url="http://127.0.0.1:9")))
    assert local_alerting(am, tmp_path) is None
    prom = Config(sources=SourcesConfig(prometheus=PrometheusConfig(url="http://127.0.0.1:9")))
    with_prom = local_alerting(prom, tmp_path)
    assert with_prom is not None and not with_prom.raise_alerts  # Prometheus raises them
    assert with_prom(snap) == snap.alerts


# --- the command line in local mode -----------------------------------------------------------


def _cli(run: Any, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", "--config")
    for flag in ("--read-only", "--yes", "--json"):
        parser.add_argument(flag, action="store_true")
    (add_ack_arguments if run is run_ack else add_unack_arguments)(parser)
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(args)
    finally:
        sys.stdin = saved
    return int(code), out.getvalue(), err.getvalue()


def test_cli_acks_locally_what_the_dashboard_published(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = tmp_path / "inferdeck.yaml"
    config.write_text(json.dumps({"state_dir": str(state)}))
    c = ["-c", str(config)]
    assert _cli(run_ack, ["LLMServiceDown", *c, "--yes"])[0] == 2  # nothing published yet
    hook = local_alerting(None, state)
    assert hook is not None
    backends = (down("blue-1"), down("blue-2"), up("green-0", 50, "green"))
    hub = Hub([Fixed(Collected(backends=backends))], alerts_hook=hook)
    asyncio.run(hub.poll_once())
    code, _, err = _cli(run_ack, ["LLMServiceDown", *c, "--yes"])
    assert code == 2 and "names 2 alerts" in err and 'backend="blue-2"' in err
    code, out, err = _cli(run_ack, ["QueueBacklog", *c, "--for", "30m"], stdin="yes\n")
    assert code == 0, err
    assert "QueueBacklog" in err and "kept locally in" in err  # the plan, on stderr
    assert out.startswith('acknowledged "QueueBacklog" for 30m')
    snapshot = asyncio.run(hub.poll_once())
    queue = next(a for a in snapshot.alerts if a.name == "QueueBacklog")
    assert queue.acknowledged_by == current_actor()
    assert queue.acknowledged_until == pytest.approx(time.time() + 1800, abs=30)
    code, out, err = _cli(run_unack, [queue.fingerprint[:8], *c, "--yes", "--json"])
    assert code == 0 and json.loads(out)["outcome"] == "done", err
    assert all(a.acknowledged_by is None for a in asyncio.run(hub.poll_once()).alerts)
    code, _, err = _cli(run_ack, ["QueueBacklog", *c, "--for", "soon", "--yes"])
    assert code == 2 and "bad duration" in err
    events = [(r["action"], r["event"]) for r in AuditLog(state / "audit.jsonl").tail(10)]
    assert events == [("alert.ack", "intent"), ("alert.ack", "result"),
                      ("alert.unack", "intent"), ("alert.unack", "result")]  # fmt: skip
