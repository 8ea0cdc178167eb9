"""Notify rules post to real webhooks (a local HTTP server), through the executor: the
operator's key applies a proposal, ``autopilot: on`` acts alone and stops at its cap,
read-only never acts, and every action is audited with its rule."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tui.config import parse_config
from tui.model import FleetSnapshot, Pool, Traffic
from tui.ops.audit import AuditLog
from tui.ops.autopilot.config import autopilot_config
from tui.ops.autopilot.pilot import Pilot, actions_from_config
from tui.ops.executor import Executor, always


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    _Hook.received, _Hook.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _snap(t: float, errors: float) -> FleetSnapshot:
    fleet = Pool("fleet", 2, 2, traffic=Traffic(error_rate=errors))
    return FleetSnapshot(taken_at=t, environment="prod", slo_tier="standard", fleet=fleet)


def _pilot(tmp_path: Path, hook: str, mode: str, *, read_only: str | None = None,
           cap: int = 6, clock: list[float]) -> Pilot:  # fmt: skip
    config = parse_config(
        f"environment: prod\nautopilot:\n  mode: {mode}\n  max_actions_per_hour: {cap}\n"
        f"  notify:\n    - {{url: '{hook}/slack', format: slack}}\n"
        f"    - {{url: '{hook}/generic?token=s3cret', format: generic}}\n"
        "  rules:\n    - {name: alert-on-degradation, when: {metric: error_rate, over: 0.05},"
        " action: notify, message: LLM error rate elevated, cooldown: 10s, max_per_hour: 50}\n",
        "c.yaml",
    )
    settings = autopilot_config(config)
    executor = Executor(AuditLog(tmp_path / "audit.jsonl"), read_only=read_only,
                        lock_path=tmp_path / "lock")  # fmt: skip
    return Pilot(settings, executor, actions_from_config(config, settings),
                 clock=lambda: clock[0])  # fmt: skip


def _audit(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]


def test_the_operator_applies_a_proposed_notification(tmp_path: Path, hook: str) -> None:
    clock = [1000.0]
    pilot = _pilot(tmp_path, hook, "propose", clock=clock)
    pilot.observe(_snap(1000, 0.2))
    assert [p.line() for p in pilot.proposals] == ["notify fleet (rule alert-on-degradation)"]
    assert asyncio.run(pilot.act()) == []  # proposing: it does nothing alone
    done = asyncio.run(pilot.apply(pilot.proposals[0], always))
    assert done.ok, done.message
    assert sorted(path for path, _ in _Hook.received) == ["/generic?token=s3cret", "/slack"]
    bodies = dict(_Hook.received)
    assert bodies["/slack"] == {"text": "[inferdeck] LLM error rate elevated (prod: fleet, "
                                "rule alert-on-degradation: error rate 20.0% > 5%)"}  # fmt: skip
    generic = bodies["/generic?token=s3cret"]
    assert (generic["source"], generic["rule"], generic["target"], generic["environment"]) == (
        "inferdeck",
        "alert-on-degradation",
        "fleet",
        "prod",
    )
    result = _audit(tmp_path)[-1]
    assert (result["action"], result["event"], result["outcome"]) == (
        "notify.webhook",
        "result",
        "done",
    )
    assert result["params"]["rule"] == "alert-on-degradation"
    assert result["params"]["by"] == "operator"
    assert "s3cret" not in (tmp_path / "audit.jsonl").read_text()
    assert pilot.proposals == ()  # applied: its cooldown holds it back
    pilot.observe(_snap(1005, 0.2))
    assert pilot.proposals == () and "cooldown" in pilot.decision.held[0][1]


def test_a_webhook_that_refuses_fails_the_action(tmp_path: Path, hook: str) -> None:
    _Hook.status = 500
    pilot = _pilot(tmp_path, hook, "propose", clock=[0.0])
    pilot.observe(_snap(0, 0.2))
    done = asyncio.run(pilot.apply(pilot.proposals[0], always))
    assert not done.ok and "answered 500" in done.message


def test_autopilot_on_acts_alone_and_stops_at_its_cap(tmp_path: Path, hook: str) -> None:
    clock = [0.0]
    pilot = _pilot(tmp_path, hook, "on", cap=2, clock=clock)
    ran = []
    for t in range(0, 60, 11):  # past each 10 s cooldown
        clock[0] = float(t)
        pilot.observe(_snap(t, 0.2))
        ran += asyncio.run(pilot.act())
    assert [e.ok for e in ran] == [True, True]
    assert pilot.stopped.startswith("stopped acting: 2 actions in the last hour")
    assert [p.line() for p in pilot.proposals] == ["notify fleet (rule alert-on-degradation)"]
    results = [e for e in _audit(tmp_path) if e["event"] == "result"]
    assert [(e["params"]["by"], e["params"]["rule"]) for e in results] == [
        ("autopilot", "alert-on-degradation")
    ] * 2
    assert len(_Hook.received) == 4  # two actions, two webhooks each


def test_read_only_never_acts(tmp_path: Path, hook: str) -> None:
    pilot = _pilot(tmp_path, hook, "on", read_only="--read-only", clock=[0.0])
    pilot.observe(_snap(0, 0.2))
    assert pilot.proposals and asyncio.run(pilot.act()) == []
    assert pilot.status() == "autopilot proposes only: read-only (--read-only)"
    done = asyncio.run(pilot.apply(pilot.proposals[0], always))
    assert done.message == "refused: read-only (--read-only)"
    assert _Hook.received == []


def test_the_watch_command_notifies_by_itself_when_on(tmp_path: Path, hook: str) -> None:
    """``inferdeck autopilot watch`` on a simulated fleet whose backend fails half its
    requests: the fleet's error rate passes 5%, and with ``autopilot: on`` it posts."""
    import subprocess
    import sys

    from tui.sim import SimConfig, SimRuntime

    with SimRuntime(SimConfig(port_base=0, gpus=0, pools={"blue": 1}, rps=30)) as sim:
        backend = sim.description["backends"][0]
        sim.set_fault(backend["name"], "errors", 0.5)
        config = tmp_path / "c.yaml"
        config.write_text(
            f"backends:\n  - {{name: {backend['name']}, pool: blue, url: '{backend['url']}'}}\n"
            f"audit_log: {tmp_path / 'audit.jsonl'}\nlock_file: {tmp_path / 'lock'}\n"
            f"autopilot:\n  mode: on\n  notify: [{{url: '{hook}/generic'}}]\n"
        )
        listed = subprocess.run([sys.executable, "-m", "tui.commands", "-c", str(config),
                                 "autopilot", "--json"], capture_output=True, text=True,
                                timeout=60, check=False)  # fmt: skip
        assert json.loads(listed.stdout)["mode"] == "on"
        watched = subprocess.run([sys.executable, "-m", "tui.commands", "-c", str(config),
                                  "autopilot", "watch", "--for", "8s"], capture_output=True,
                                 text=True, timeout=60, check=False)  # fmt: skip
    assert watched.returncode == 0, watched.stderr
    assert "proposed: notify fleet (rule alert-on-degradation): error rate" in watched.stdout
    assert "done: notified 1 webhook(s)" in watched.stdout
    assert [body["rule"] for _, body in _Hook.received] == ["alert-on-degradation"]
    result = _audit(tmp_path)[-1]
    assert (result["params"]["by"], result["outcome"]) == ("autopilot", "done")


def test_an_applied_proposal_lands_on_the_open_incidents_timeline(
    tmp_path: Path, hook: str
) -> None:
    from types import MappingProxyType

    from tui.incidents.config import IncidentsConfig
    from tui.incidents.store import Store
    from tui.incidents.tracker import IncidentTracker
    from tui.model import Alert, Severity

    labels = {"alertname": "LLMHighErrorRate", "severity": "warning", "pool": "blue"}
    firing = Alert("LLMHighErrorRate", Severity.WARNING, "errors", MappingProxyType(labels),
                   starts_at=time.time() - 5, fingerprint="fp1", source="alertmanager")  # fmt: skip
    store = Store(tmp_path / "incidents.sqlite3")
    tracker = IncidentTracker(store, IncidentsConfig(), tmp_path / "audit.jsonl")
    now = time.time()
    snapshot = dataclasses.replace(_snap(now, 0.2), alerts=(firing,))
    tracker.observe(snapshot)
    (incident,) = store.incidents(open_only=True)
    pilot = _pilot(tmp_path, hook, "propose", clock=[now])
    pilot.observe(snapshot)
    assert asyncio.run(pilot.apply(pilot.proposals[0], always)).ok
    tracker.observe(dataclasses.replace(snapshot, taken_at=time.time()))
    actions = [e for e in store.timeline(incident.id) if e.details.get("action")]
    assert [e.text for e in actions] == ["notify.webhook fleet: done: notified 2 webhook(s)"]
    assert actions[0].details["params"]["rule"] == "alert-on-degradation"
    store.close()
