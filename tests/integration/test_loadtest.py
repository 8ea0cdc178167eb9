"""``inferdeck loadtest`` against the simulator over real HTTP: Locust sends streaming
requests, and the report agrees with what the backends' own counters say."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tui.analysis.slo import STANDARD
from tui.loadtest.drill import Progress, drill
from tui.loadtest.run import RunSettings
from tui.loadtest.scenario import parse_scenario
from tui.sim import SimConfig, SimRuntime

INFERDECK = [sys.executable, "-m", "tui.commands"]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimRuntime]:
    runtime = SimRuntime(SimConfig(port_base=0, load=False, gpus=0, pools={"blue": 2}))
    runtime.start()
    yield runtime
    runtime.stop()


def _backends(sim: SimRuntime) -> list[dict]:
    return sim.description["backends"]


def _config(tmp_path: Path, sim: SimRuntime, extra: str = "") -> Path:
    lines = ["backends:"]
    for b in _backends(sim):
        lines.append(f"  - {{name: {b['name']}, pool: {b['pool']}, url: '{b['url']}'}}")
    lines += [f"audit_log: {tmp_path / 'audit.jsonl'}", f"lock_file: {tmp_path / 'lock'}",
              f"state_dir: {tmp_path / 'state'}", extra]  # fmt: skip
    path = tmp_path / "c.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _counted(url: str) -> tuple[float, float]:
    """A backend's own counts: finished requests (stop/length) and generated tokens."""
    done = tokens = 0.0
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        for s in family.samples:
            if s.name == "vllm:request_success_total" and s.labels["finished_reason"] in (
                "stop",
                "length",
            ):
                done += s.value
            elif s.name == "vllm:generation_tokens_total":
                tokens += s.value
    return done, tokens


def _run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INFERDECK, *args], capture_output=True, text=True,
                          timeout=timeout, check=False, stdin=subprocess.DEVNULL)  # fmt: skip


def test_the_report_matches_what_the_backends_counted(sim: SimRuntime, tmp_path: Path) -> None:
    config = _config(tmp_path, sim)
    target = _backends(sim)[0]["url"]
    before = [_counted(b["url"]) for b in _backends(sim)]
    result = _run("-c", str(config), "loadtest", "baseline", "--target", target,
                  "--scale", "0.3", "--duration", "4s", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    after = [_counted(b["url"]) for b in _backends(sim)]
    done = sum(a[0] - b[0] for a, b in zip(after, before, strict=True))
    tokens = sum(a[1] - b[1] for a, b in zip(after, before, strict=True))
    assert report["requests"] > 5 and report["ok"] == report["requests"]
    assert report["ok"] == done == report["server"]["completed"]
    assert report["output_tokens"] == tokens == report["server"]["generation_tokens"]
    assert report["passed"] and [c["met"] for c in report["criteria"]] == [True, True, True]
    assert report["ttft_s"]["p95"] > 0 and report["itl_s"]["p50"] > 0
    assert report["server"]["ttft_s"]["p95"] > 0
    assert "asked 3 users" in result.stderr  # progress while it ran (stderr under --json)
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(e["action"], e["event"]) for e in events] == [
        ("loadtest.run", "intent"),
        ("loadtest.run", "result"),
    ]
    assert events[1]["outcome"] == "done" and events[1]["params"]["scenario"] == "baseline"


def test_errors_are_counted_by_kind_and_fail_the_run(sim: SimRuntime, tmp_path: Path) -> None:
    config = _config(tmp_path, sim)
    backend = _backends(sim)[1]
    sim.set_fault(backend["name"], "errors", 0.5)
    try:
        result = _run("-c", str(config), "loadtest", "baseline", "--target", backend["url"],
                      "--scale", "0.3", "--duration", "3s", "--json")  # fmt: skip
    finally:
        sim.set_fault(backend["name"], "clear")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"].get("http_500", 0) > 0
    assert {c["name"]: c["met"] for c in report["criteria"]}["error rate"] is False
    assert not report["passed"]


def test_read_only_refuses_and_audits(sim: SimRuntime, tmp_path: Path) -> None:
    config = _config(tmp_path, sim)
    before = _counted(_backends(sim)[0]["url"])
    result = _run("-c", str(config), "--read-only", "loadtest", "baseline",
                  "--target", _backends(sim)[0]["url"], "--duration", "3s")  # fmt: skip
    assert result.returncode == 1
    assert "refused: read-only (--read-only)" in result.stderr
    assert _counted(_backends(sim)[0]["url"]) == before
    event = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert (event["action"], event["event"]) == ("loadtest.run", "refused")


def test_an_unknown_target_is_refused_without_confirmation(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"audit_log: {tmp_path / 'a.jsonl'}\nlock_file: {tmp_path / 'l'}\n")
    result = _run("-c", str(config), "loadtest", "baseline", "--target", "http://192.0.2.1:9",
                  "--duration", "3s")  # fmt: skip
    assert result.returncode == 1
    assert "192.0.2.1:9 is neither loopback nor a target in the config" in result.stderr
    assert "refused: http://192.0.2.1:9 is not a target in the config" in result.stderr


def test_the_configured_caps_refuse_a_bigger_run(sim: SimRuntime, tmp_path: Path) -> None:
    config = _config(tmp_path, sim, "loadtest: {max_users: 20, max_duration: 1m}")
    target = _backends(sim)[0]["url"]
    result = _run("-c", str(config), "loadtest", "peak", "--target", target, "--duration", "30s")
    assert result.returncode == 2
    assert "asks for 50 users, over the cap of 20 (loadtest.max_users" in result.stderr
    result = _run("-c", str(config), "loadtest", "baseline", "--target", target)
    assert result.returncode == 2 and "lasts 300s, over the cap of 60s" in result.stderr


def test_a_stop_ends_the_run_at_once_and_the_report_says_so(
    sim: SimRuntime, tmp_path: Path
) -> None:
    scenario = parse_scenario("name: long\nstages: [{duration: 10m, target: 4}]\n"
                              "request: {prompt_tokens: 16, output_tokens: 400}\n")  # fmt: skip
    target = _backends(sim)[0]["url"]
    stop = threading.Event()
    seen: list[float] = []

    def progress(p: Progress) -> None:
        seen.append(p.elapsed_s)
        if p.sent >= 1 or len(seen) > 30:
            stop.set()

    settings = RunSettings(scenario, target, "", tmp_path / "r.jsonl", grace_s=30)
    began = time.monotonic()
    report = drill(settings, STANDARD, {"b": target}, progress=progress, stop=stop)
    assert time.monotonic() - began < 60  # nowhere near its 10 minutes, nor the 30 s grace
    assert report.stopped == "stopped by the operator" and not report.passed
    assert report.requests >= 1


def test_ctrl_c_stops_the_command_at_once_with_a_report(
    sim: SimRuntime, tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]]
) -> None:
    import signal

    config = _config(tmp_path, sim)
    target = _backends(sim)[0]["url"]
    process = spawn(
        [*INFERDECK, "-c", str(config), "loadtest", "sustained", "--target", target,
         "--scale", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()  # the first progress line: the run is under way
    assert "asked" in first
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)  # an hour-long scenario, ended in seconds
    assert process.returncode == 1, err
    assert "stopped early: stopped by the operator" in out
    assert "FAILED" in out


def test_a_master_and_a_local_worker_report_what_the_backends_counted(
    sim: SimRuntime, tmp_path: Path
) -> None:
    # the master runs no users: every request here was sent by the worker process, and
    # its records reached the report through Locust's master/worker messages
    scenario = parse_scenario("name: spread\nload: rate\nstages: [{duration: 4s, target: 6}]\n"
                              "request: {prompt_tokens: 16, output_tokens: 8}\n")  # fmt: skip
    backend = _backends(sim)[1]
    settings = RunSettings(scenario, backend["url"], "", tmp_path / "r.jsonl", grace_s=5,
                           per_user_rps=2.0, workers=1)  # fmt: skip
    before = _counted(backend["url"])
    report = drill(settings, STANDARD, {backend["name"]: backend["url"]})
    done, tokens = (a - b for a, b in zip(_counted(backend["url"]), before, strict=True))
    assert report.stopped == "" and report.requests > 10, report
    assert report.ok == report.requests == done == report.server["completed"]
    assert report.output_tokens == tokens
    log = (tmp_path / "r.locust.log").read_text()
    assert "--worker" not in log and "Traceback" not in log, log[-2000:]
