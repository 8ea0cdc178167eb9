"""AlertmanagerSource against a real Alertmanager: alerts pushed, a silence as acknowledgement."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.integration.real_servers import ServerProcess, start_alertmanager
from tui.analysis.fingerprint import fingerprint
from tui.model import Collected, Severity
from tui.sources._alerting import parse_rfc3339
from tui.sources.alertmanager import AlertmanagerError, AlertmanagerSource

pytestmark = pytest.mark.integration

PWNED = Path("/tmp/inferdeck-am-pwned")
HOSTILE = {
    "alertname": "LLMHighLatency",
    "severity": "warning",
    "instance": "127.0.0.1:8001",
    "cmd": f"$(touch {PWNED}); `touch {PWNED}`",
    "markup": "[bold red]x[/]",
    "esc": "\x1b[31mred\x1b[0m",
}
CRITICAL = {"alertname": "GPUOverheat", "severity": "critical", "gpu": "0"}
ODD = {"alertname": "Odd", "severity": "sev-unknown"}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_alertmanager(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def _push(am: ServerProcess, started: datetime) -> None:
    alerts: list[dict[str, object]] = [
        {"labels": HOSTILE, "annotations": {"summary": "P95 > 10s [i]now[/i]"}},
        {"labels": CRITICAL, "annotations": {"description": "GPU 0 at 95 C"}},
        {"labels": ODD, "annotations": {}},
    ]
    for a in alerts:
        a["startsAt"] = _iso(started)
        a["endsAt"] = _iso(started + timedelta(hours=1))
    httpx.post(am.url + "/api/v2/alerts", json=alerts, timeout=5).raise_for_status()


async def _until(source: AlertmanagerSource, ready: object, timeout_s: float = 10.0) -> Collected:
    """Collect until ``ready(collected)`` holds; the last result."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = await source.collect()
        if ready(got) or time.monotonic() > deadline:  # type: ignore[operator]
            return got
        await asyncio.sleep(0.2)


async def test_pushed_alerts_are_reported_exactly(alertmanager: ServerProcess) -> None:
    started = datetime.now(UTC).replace(microsecond=123456) - timedelta(minutes=5)
    _push(alertmanager, started)
    source = AlertmanagerSource(alertmanager.url, interval=1)
    got = await _until(source, lambda c: len(c.alerts or ()) == 3)
    by_name = {a.name: a for a in got.alerts or ()}
    hostile = by_name["LLMHighLatency"]
    assert dict(hostile.labels) == HOSTILE  # byte for byte: nothing run, stripped, escaped
    assert hostile.summary == "P95 > 10s [i]now[/i]"
    assert hostile.severity is Severity.WARNING and hostile.state == "active"
    assert hostile.starts_at == pytest.approx(started.timestamp(), abs=1e-3)
    assert hostile.fingerprint == fingerprint(HOSTILE)  # Alertmanager's own fingerprint
    assert hostile.acknowledged_by is None and hostile.source == "alertmanager"
    assert by_name["GPUOverheat"].severity is Severity.CRITICAL
    assert by_name["GPUOverheat"].summary == "GPU 0 at 95 C"
    assert by_name["Odd"].severity is Severity.WARNING and by_name["Odd"].summary == ""
    assert not PWNED.exists()
    await source.aclose()


async def test_silence_shows_as_acknowledgement(alertmanager: ServerProcess) -> None:
    _push(alertmanager, datetime.now(UTC) - timedelta(minutes=1))
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    silence = {
        "matchers": [
            {"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in HOSTILE.items()
        ],
        "startsAt": _iso(datetime.now(UTC)),
        "endsAt": _iso(ends),
        "createdBy": "oncall@host; rm -rf /",
        "comment": "ack: investigating",
    }
    answer = httpx.post(alertmanager.url + "/api/v2/silences", json=silence, timeout=5)
    answer.raise_for_status()
    silence_id = answer.json()["silenceID"]
    source = AlertmanagerSource(alertmanager.url)
    got = await _until(
        source,
        lambda c: any(a.state == "suppressed" for a in c.alerts or ()) and len(c.alerts or ()) == 3,
    )
    by_name = {a.name: a for a in got.alerts or ()}
    acked = by_name["LLMHighLatency"]
    assert acked.state == "suppressed"
    assert acked.acknowledged_by == "oncall@host; rm -rf /"
    assert acked.acknowledged_until == pytest.approx(ends.timestamp(), abs=1e-3)
    for other in ("GPUOverheat", "Odd"):  # the silence matched all labels: siblings unsilenced
        assert by_name[other].state == "active" and by_name[other].acknowledged_by is None
    amtool = shutil.which("amtool")
    if amtool:  # the real CLI agrees about the silence
        out = subprocess.run(
            [amtool, f"--alertmanager.url={alertmanager.url}", "silence", "query", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        (listed,) = json.loads(out)
        assert listed["id"] == silence_id and listed["createdBy"] == acked.acknowledged_by
        assert parse_rfc3339(listed["endsAt"]) == acked.acknowledged_until
    httpx.delete(f"{alertmanager.url}/api/v2/silence/{silence_id}", timeout=5).raise_for_status()
    got = await _until(source, lambda c: all(a.state == "active" for a in c.alerts or ()))
    assert all(a.acknowledged_by is None for a in got.alerts or ())


async def test_dead_or_hung_alertmanager_raises_within_timeout(alertmanager: ServerProcess) -> None:

    source = AlertmanagerSource(alertmanager.url, timeout_s=1.0)
    assert (await source.collect()).alerts == ()
    alertmanager.signal(signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(AlertmanagerError, match="timeout"):
        await source.collect()
    assert time.monotonic() - started < 2.0
    alertmanager.signal(signal.SIGCONT)
    alertmanager.kill()
    started = time.monotonic()
    with pytest.raises(AlertmanagerError, match="connection refused") as info:
        await source.collect()
    assert time.monotonic() - started < 1.0
    assert alertmanager.url in str(info.value) and "\n" not in str(info.value)
