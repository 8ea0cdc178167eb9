"""The command line as a user types it: flags anywhere, one-line errors, exit codes, JSON."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.real_servers import start_prometheus, wait_for
from tui.commands.main import build_parser

INFERDECK = [sys.executable, "-m", "tui.commands"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INFERDECK, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--read-only", "-c", "x.yaml", "--json", "snapshot", "--demo"],
        ["snapshot", "--demo", "--read-only", "-c", "x.yaml", "--json"],
        ["-c", "x.yaml", "snapshot", "--json", "--read-only", "--demo"],
    ],
)
def test_common_flags_before_or_after_the_subcommand(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.command, args.read_only, args.config, args.json, args.demo) == (
        "snapshot",
        True,
        "x.yaml",
        True,
        True,
    )


def test_config_error_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("environment: x\nbackends:\n  - name: a\n    pool: b\n    url: nope\n")
    result = run("snapshot", "-c", str(config))
    assert result.returncode == 2
    assert result.stderr == (
        f"inferdeck: error: {config}:5: 'url' must be an http(s) URL with a host, not 'nope'\n"
    )
    assert result.stdout == ""


def test_missing_config_is_a_usage_error(tmp_path: Path) -> None:
    result = run("-c", str(tmp_path / "absent.yaml"))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"inferdeck: error: {tmp_path / 'absent.yaml'}:0: no such config file"
    )


def test_snapshot_json_from_the_demo_fleet() -> None:
    result = run("snapshot", "--json", "--demo", "--interval", "1")
    assert result.returncode == 0, result.stderr
    snapshot = json.loads(result.stdout)
    assert [b["name"] for b in snapshot["backends"]] == ["blue-0", "blue-1", "green-0"]
    assert all(b["health"] == "up" for b in snapshot["backends"])
    assert len(snapshot["gpus"]) == 4
    assert snapshot["fleet"]["traffic"]["requests_per_min"] > 0
    assert snapshot["overall"] in ("OK", "DEGRADED")
    assert {s["name"]: s["state"] for s in snapshot["sources"]}["scrape"] == "ok"
    assert snapshot["weights"] == {"blue": 90.0, "green": 10.0}


def test_snapshot_of_a_dead_fleet_says_down(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "dead.yaml"
    config.write_text(f"backends:\n  - {{name: a, pool: blue, url: 'http://127.0.0.1:{port}'}}\n")
    result = run("snapshot", "--json", "-c", str(config), "--interval", "0.2")
    assert result.returncode == 0, result.stderr
    snapshot = json.loads(result.stdout)
    assert snapshot["overall"] == "DOWN"
    assert snapshot["backends"][0]["health"] == "down"
    assert "refused" in snapshot["backends"][0]["reason"]


ALWAYS_FIRING = {
    "groups": [
        {
            "name": "inferdeck-cli",
            "rules": [
                {
                    "alert": "InferdeckCliAlways",
                    "expr": "vector(1)",
                    "labels": {"severity": "warning"},
                    "annotations": {"summary": "always firing"},
                }
            ],
        }
    ]
}


@pytest.fixture(scope="module")
def alerting_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus whose one rule always fires; its URL once the alert is firing."""
    server = start_prometheus(tmp_path_factory.mktemp("prom"), [], rules=ALWAYS_FIRING)
    try:
        url = server.url

        def firing() -> bool:
            answer = httpx.get(f"{url}/api/v1/query", params={"query": "ALERTS"}, timeout=2)
            return bool(answer.json()["data"]["result"])

        wait_for(firing, 30, 0.3)
        yield url
    finally:
        server.stop()


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A port that takes connections and never answers (a hung Alertmanager)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)  # the kernel completes the handshake; nobody ever reads or writes
        yield sock.getsockname()[1]


def dead_port() -> int:
    """A port nobody listens on (a stopped Alertmanager)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alerts_config(tmp_path: Path, alertmanager_port: int, prometheus: str | None) -> str:
    text = "sources:\n"
    text += f"  alertmanager: {{url: 'http://127.0.0.1:{alertmanager_port}', timeout_s: 1}}\n"
    if prometheus is not None:
        text += f"  prometheus: {{url: '{prometheus}', timeout_s: 5}}\n"
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    return str(path)


def test_alerts_with_alertmanager_down_and_no_fallback_says_so(tmp_path: Path) -> None:
    config = alerts_config(tmp_path, dead_port(), None)
    result = run("alerts", "-c", config)
    assert result.returncode == 1
    assert "no alerts firing" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Alertmanager did not answer" in lines[0], result.stderr
    result = run("alerts", "--json", "-c", config)
    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert answer["alerts"] == []
    assert answer["sources"]["alertmanager"].startswith("error: ")


@pytest.mark.parametrize("how", ["dead", "hung"])
def test_alerts_fall_back_to_prometheus_when_alertmanager_does_not_answer(
    how: str, tmp_path: Path, alerting_prometheus: str, hung_port: int
) -> None:
    port = dead_port() if how == "dead" else hung_port
    config = alerts_config(tmp_path, port, alerting_prometheus)
    result = run("alerts", "-c", config, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "InferdeckCliAlways" in result.stdout
    assert "Alertmanager did not answer" in result.stderr
    assert "Prometheus" in result.stderr  # says where the list comes from instead
    result = run("alerts", "--json", "-c", config, timeout=30)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert [a["name"] for a in answer["alerts"]] == ["InferdeckCliAlways"]
    assert answer["alerts"][0]["source"] == "prometheus"
    assert answer["sources"]["alertmanager"].startswith("error: ")
    assert answer["sources"]["prometheus"] == "ok"
