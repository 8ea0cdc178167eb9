"""``inferdeck slo|capacity|cost|models --json`` against the demo fleet, and the error budget
from a real Prometheus scraping the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.real_servers import (
    running_sim,
    sim_jobs,
    start_prometheus,
    wait_for_targets,
)
from tui.commands.main import main
from tui.sources.slo_history import ABORTS_SOURCE

pytestmark = pytest.mark.integration

QUICK = ["--samples", "2", "--interval", "0.5"]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main([*argv, "--json", *QUICK]) == 0
    return json.loads(capsys.readouterr().out)


def test_slo_demo(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "slo", "--demo")
    keys = [o["key"] for o in report["objectives"]]
    assert keys == [
        "ttft_p50", "ttft_p95", "e2e_p50", "e2e_p95", "tokens_per_s", "requests_per_min",
        "queue_depth", "error_rate", "timeout_rate", "availability",
    ]  # fmt: skip
    by_key = {o["key"]: o for o in report["objectives"]}
    assert by_key["ttft_p95"]["state"] in ("met", "at risk", "breached")
    assert by_key["timeout_rate"]["note"].startswith("engine aborts")
    budget = report["budget"]
    assert budget["source"] == "history" and budget["allowed_min"] == 216.0
    assert "inferdeck's own history: 2 samples" in budget["source_detail"]
    assert [a["rule"]["factor"] for a in budget["alerts"]] == [14.4, 6.0, 3.0, 1.0]


def test_capacity_demo(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "capacity", "--demo")
    assert report["hosts"][0]["host"]["source"] == "psutil"
    assert [c["name"] for c in report["hosts"][0]["checks"]][:3] == ["CPU", "RAM", "disk I/O"]
    assert report["decision"]["action"] in (
        "Monitor", "Plan expansion", "Execute expansion", "Emergency expansion",
    )  # fmt: skip
    assert report["utilisation"]["source"].startswith("mean GPU utilisation")
    assert report["projection"]["monthly_growth"] == 0.1
    assert all(f["max_num_seqs"] == 64 for f in report["in_flight"])


def test_cost_demo_uses_the_handbooks_table(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "cost", "--demo")
    assert report["total_usd"] == 6200.0
    assert report["requests"]["source"].startswith("live: ")
    assert report["per_request_usd"] == pytest.approx(6200 / report["requests"]["count"])


def test_models_demo_maps_pools_to_versions(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "models", "--demo")
    assert {p["pool"]: p["version"] for p in report["pools"]} == {"blue": "v1.0", "green": "v2.0"}
    assert report["warnings"] == []


def test_models_without_a_fleet_judges_the_inventory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "models:\n  models:\n    - name: m\n      versions:\n"
        "        - {version: v1, status: active}\n"
        "        - {version: v0, status: standby}\n        - {version: v00, status: standby}\n"
    )
    assert main(["models", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "! m: 2 standby versions (v0, v00); keep 1" in out
    assert "! m v1: active but no pool serves it" in out


def test_error_budget_from_a_real_prometheus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_sim(seed=3, rps=20.0, gpus=1) as sim:
        prometheus = start_prometheus(tmp_path / "prom", sim_jobs(sim.description))
        try:
            wait_for_targets(prometheus, len(sim.description["backends"]) + 1)
            import time

            time.sleep(4.0)  # a few scrapes, so rate() has two points
            config = tmp_path / "c.yaml"
            config.write_text(f"sources:\n  prometheus: {{url: '{prometheus.url}'}}\n")
            report = run_json(capsys, "slo", "-c", str(config))
        finally:
            prometheus.stop()
    budget = report["budget"]
    assert budget["source"] == "prometheus"
    assert budget["source_detail"].startswith(f"Prometheus at {prometheus.url}")
    assert 0 < budget["covered_s"] < 600  # only the seconds Prometheus has seen
    five = next(b for b in budget["burn_rates"] if b["window_s"] == 300)
    assert five["rate"] is not None and five["rate"] >= 0
    timeout = next(o for o in report["objectives"] if o["key"] == "timeout_rate")
    assert timeout["note"].startswith(ABORTS_SOURCE)
