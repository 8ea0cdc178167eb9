"""Acks against a real Alertmanager: silences on every label, checked with amtool.

Two alerts share an alertname and differ by instance; one carries hostile label values
(shell, Rich markup, a terminal escape). Acknowledging one must silence exactly it, by
the executor and by the CLI; un-acknowledging expires the silence; read-only refuses
(audited) and leaves no silence; nothing from a label is ever run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.real_servers import (
    AMTOOL,
    ServerProcess,
    require_binary,
    start_alertmanager,
    wait_for,
)
from tui.analysis.fingerprint import fingerprint
from tui.commands.alerts import add_ack_arguments, add_unack_arguments, run_ack, run_unack
from tui.model import Alert
from tui.ops.alerts.silences import AckAlert, AlertmanagerEndpoint, UnackAlert
from tui.ops.audit import AuditLog
from tui.ops.executor import Executor, Outcome, always
from tui.sources.alertmanager import alerts_from_api

pytestmark = pytest.mark.integration

PWNED = Path("/tmp/x")
MARKER = Path(tempfile.gettempdir()) / f"inferdeck-ack-pwned-{os.getpid()}"
HOSTILE = {
    "alertname": "LLMHighLatency",
    "severity": "warning",
    "instance": "127.0.0.1:8001",
    "cmd": f"$(touch {PWNED}); `touch {MARKER}`",
    "markup": "[bold red]x[/]",
    "esc": "\x1b[31m",
}
SIBLING = {"alertname": "LLMHighLatency", "severity": "warning", "instance": "127.0.0.1:8002"}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[ServerProcess]:
    """A real Alertmanager holding the hostile alert and its sibling."""
    require_binary(*AMTOOL)

    def touched() -> int | None:  # /tmp/x may exist already: then its mtime must not move
        return PWNED.stat().st_mtime_ns if PWNED.exists() else None

    before = touched()
    server = start_alertmanager(tmp_path / "am")
    try:
        now = datetime.now(UTC)
        alerts = [
            {"labels": labels, "annotations": {"summary": "P95 > 10s"},
             "startsAt": _iso(now - timedelta(minutes=2)), "endsAt": _iso(now + timedelta(hours=1))}
            for labels in (HOSTILE, SIBLING)
        ]  # fmt: skip
        httpx.post(server.url + "/api/v2/alerts", json=alerts, timeout=5).raise_for_status()
        assert wait_for(lambda: len(_alerts(server)) == 2, 10), "alerts never showed up"
        yield server
    finally:
        server.stop()
    assert touched() == before and not MARKER.exists(), "a label value was executed"


def _alerts(server: ServerProcess) -> dict[str, Alert]:
    """The alerts as inferdeck's source parses them, by fingerprint."""
    alerts = httpx.get(server.url + "/api/v2/alerts", timeout=5).json()
    silences = httpx.get(server.url + "/api/v2/silences", timeout=5).json()
    return {a.fingerprint: a for a in alerts_from_api(alerts, silences)}


def _amtool_silences(server: ServerProcess, *extra: str) -> list[dict[str, Any]]:
    """``amtool silence query -o json`` (active silences unless ``extra`` says otherwise)."""
    amtool = require_binary(*AMTOOL)
    out = subprocess.run(
        [amtool, f"--alertmanager.url={server.url}", "silence", "query", "-o", "json", *extra],
        capture_output=True,
        text=True,
        timeout=15,
        check=True,
    ).stdout
    found: list[dict[str, Any]] = json.loads(out or "[]") or []
    return found


def _states(server: ServerProcess) -> dict[str, tuple[str, str | None]]:
    return {fp: (a.state, a.acknowledged_by) for fp, a in _alerts(server).items()}


HOSTILE_FP, SIBLING_FP = fingerprint(HOSTILE), fingerprint(SIBLING)


def _silenced(server: ServerProcess, by: str) -> bool:
    states = _states(server)
    return states[HOSTILE_FP] == ("suppressed", by) and states[SIBLING_FP] == ("active", None)


def _assert_one_exact_silence(server: ServerProcess, by: str) -> dict[str, Any]:
    (silence,) = _amtool_silences(server)
    assert silence["createdBy"] == by
    assert sorted((m["name"], m["value"], m["isRegex"], m.get("isEqual", True))
                  for m in silence["matchers"]) == sorted(
        (k, v, False, True) for k, v in HOSTILE.items())  # fmt: skip
    return silence


async def test_ack_and_unack_through_the_executor(
    alertmanager: ServerProcess, tmp_path: Path
) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit, actor="alice@bastion (ssh from 10.0.0.9)")
    endpoint = AlertmanagerEndpoint(alertmanager.url)
    target = _alerts(alertmanager)[HOSTILE_FP]
    ack = AckAlert(endpoint, target, executor.actor, "investigating", 1800)
    done = await executor.execute(ack, always)
    assert done.ok, done.message
    silence = _assert_one_exact_silence(alertmanager, executor.actor)
    assert silence["comment"] == "investigating"
    assert silence["id"] == done.result.details["silence_id"]  # type: ignore[union-attr]
    ends = datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00")).timestamp()
    assert ends == pytest.approx(time.time() + 1800, abs=30)
    assert wait_for(lambda: _silenced(alertmanager, executor.actor), 10), _states(alertmanager)

    acked = _alerts(alertmanager)[HOSTILE_FP]
    undone = await executor.execute(UnackAlert(endpoint, acked), always)
    assert undone.ok, undone.message
    assert undone.result is not None and undone.result.details["expired"] == [silence["id"]]
    assert _amtool_silences(alertmanager) == []  # none active
    (expired,) = _amtool_silences(alertmanager, "--expired")
    assert expired["id"] == silence["id"]
    assert wait_for(lambda: set(_states(alertmanager).values()) == {("active", None)}, 10), _states(
        alertmanager
    )
    again = await executor.execute(UnackAlert(endpoint, acked), always)
    assert again.outcome is Outcome.FAILED and "no acknowledgement" in again.message
    records = [(r["action"], r["event"], r.get("outcome")) for r in audit.tail(20)]
    assert records == [
        ("alert.ack", "intent", None), ("alert.ack", "result", "done"),
        ("alert.unack", "intent", None), ("alert.unack", "result", "done"),
        ("alert.unack", "intent", None), ("alert.unack", "result", "failed"),
    ]  # fmt: skip
    assert audit.tail(6)[0]["params"]["labels"] == HOSTILE


async def test_unack_leaves_a_broader_silence_alone(
    alertmanager: ServerProcess, tmp_path: Path
) -> None:
    maintenance = {
        "matchers": [{"name": "alertname", "value": "LLMHighLatency", "isRegex": False}],
        "startsAt": _iso(datetime.now(UTC)),
        "endsAt": _iso(datetime.now(UTC) + timedelta(hours=1)),
        "createdBy": "maintenance",
        "comment": "window",
    }
    answer = httpx.post(alertmanager.url + "/api/v2/silences", json=maintenance, timeout=5)
    wide = answer.json()["silenceID"]
    executor = Executor(AuditLog(tmp_path / "audit.jsonl"), actor="alice@h")
    target = _alerts(alertmanager)[HOSTILE_FP]
    undone = await executor.execute(
        UnackAlert(AlertmanagerEndpoint(alertmanager.url), target), always
    )
    assert undone.outcome is Outcome.FAILED
    assert f"still silenced by broader silence(s) {wide}" in undone.message
    assert [s["id"] for s in _amtool_silences(alertmanager)] == [wide]


# --- the command line -----------------------------------------------------------------------


def _config(tmp_path: Path, server: ServerProcess, **extra: object) -> Path:
    body = {
        "sources": {"alertmanager": {"url": server.url}},
        "state_dir": str(tmp_path / "state"),
        **extra,
    }
    path = tmp_path / "inferdeck.yaml"
    path.write_text(json.dumps(body))
    return path


def _wired() -> bool:
    """Whether the lead has wired ``ack``/``unack`` into ``tui.commands.main`` yet."""
    from tui.commands.main import build_parser

    with contextlib.suppress(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        return build_parser().parse_args(["ack", "X"]).command == "ack"
    return False


def _cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """``inferdeck ARGV``: through ``python -m tui.commands`` when wired, else `run_ack` itself."""
    if _wired():
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        done = subprocess.run(
            [sys.executable, "-m", "tui.commands", *argv],
            input=stdin, capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        return done.returncode, done.stdout, done.stderr
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    for name, add in (("ack", add_ack_arguments), ("unack", add_unack_arguments)):
        sub = commands.add_parser(name)
        sub.add_argument("-c", "--config")
        for flag in ("--read-only", "--yes", "--json"):
            sub.add_argument(flag, action="store_true")
        add(sub)
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = (run_ack if args.command == "ack" else run_unack)(args)
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def test_cli_ambiguous_name_then_ack_by_fingerprint_then_unack_by_name(
    alertmanager: ServerProcess, tmp_path: Path
) -> None:
    config = str(_config(tmp_path, alertmanager))
    code, out, err = _cli(["ack", "LLMHighLatency", "-c", config, "--yes"])
    assert code == 2, err
    assert "names 2 alerts" in err and HOSTILE_FP in err and SIBLING_FP in err
    assert "\x1b" not in err and 'esc="\\x1b[31m"' in err  # candidates, shown safely
    assert _amtool_silences(alertmanager) == []

    code, out, err = _cli(["ack", HOSTILE_FP, "-c", config, "--for", "2h30m"], stdin="n\n")
    assert code == 1 and "cancelled" in err
    assert f'cmd="$(touch /tmp/x); `touch {MARKER}`"' in err and "\x1b" not in err  # the plan
    assert out == ""
    assert _amtool_silences(alertmanager) == []

    argv = ["ack", HOSTILE_FP, "-c", config, "--for", "2h30m", "--comment", "on it", "--json"]
    code, out, err = _cli(argv, stdin="y\n")
    assert code == 0, err
    result = json.loads(out)
    assert result["outcome"] == "done" and result["details"]["silence_id"]
    from tui.ops.actor import current_actor

    silence = _assert_one_exact_silence(alertmanager, current_actor())
    assert silence["comment"] == "on it"
    ends = datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00")).timestamp()
    assert ends == pytest.approx(time.time() + 9000, abs=30)
    assert wait_for(lambda: _silenced(alertmanager, current_actor()), 10)

    code, out, err = _cli(["unack", "LLMHighLatency", "-c", config, "--yes"])
    assert code == 0, err  # the name names one *acknowledged* alert
    assert "un-acknowledged" in out and _amtool_silences(alertmanager) == []
    audit = AuditLog(tmp_path / "state" / "audit.jsonl").tail(20)
    assert [(r["action"], r["event"]) for r in audit] == [
        ("alert.ack", "cancelled"),
        ("alert.ack", "intent"), ("alert.ack", "result"),
        ("alert.unack", "intent"), ("alert.unack", "result"),
    ]  # fmt: skip


@pytest.mark.parametrize("how", ["flag", "config"])
def test_cli_read_only_refuses_audited_and_silences_nothing(
    alertmanager: ServerProcess, tmp_path: Path, how: str
) -> None:
    audit_path = tmp_path / "audit" / "log.jsonl"
    extra: dict[str, object] = {"audit_log": str(audit_path)}
    if how == "config":
        extra["read_only"] = True
    config = str(_config(tmp_path, alertmanager, **extra))
    argv = ["ack", HOSTILE_FP, "-c", config, "--yes"] + (["--read-only"] if how == "flag" else [])
    code, _out, err = _cli(argv)
    assert code == 1 and "refused: read-only" in err
    (record,) = AuditLog(audit_path).tail(5)
    assert record["event"] == "refused" and record["action"] == "alert.ack"
    assert record["params"]["labels"] == HOSTILE
    assert _amtool_silences(alertmanager) == []
    assert _states(alertmanager)[HOSTILE_FP] == ("active", None)


def test_cli_unreachable_alertmanager_is_one_line_exit_1(tmp_path: Path) -> None:
    dead = ServerProcess("dead", [], 9, tmp_path)  # nothing listens on port 9
    code, _out, err = _cli(["ack", "X", "-c", str(_config(tmp_path, dead)), "--yes"])
    assert code == 1 and err.count("\n") == 1 and "Alertmanager at http://127.0.0.1:9" in err
