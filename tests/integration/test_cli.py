"""The command line as a user types it: flags anywhere, one-line errors, exit codes, JSON."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

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
