"""Traffic against real components: the lab's nginx (``lab up --rps 0``, so the only
requests are ours and each is attributed to a pool exactly by the backends'
``http_requests_total``), and the simulator's router for gated rollouts.

Commands run as a user would: ``python -m tui.commands.main traffic ...`` once the CLI wires it,
``python -m tui.commands.traffic ...`` until then (same arguments, same code).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.integration.real_servers import require_binary
from tests.integration.test_lab import BINARIES, REPO, lab_cmd
from tui.config import load_config
from tui.ops.traffic.upstream import parse_upstream, render_upstream
from tui.sim.config import SimConfig
from tui.sim.server import SimRuntime

pytestmark = pytest.mark.integration


def _traffic_argv() -> list[str]:
    """How to run ``inferdeck traffic``: through tui.commands.main when it has the subcommand."""
    from tui.commands.main import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction) and "traffic" in action.choices:
            return [sys.executable, "-m", "tui.commands", "traffic"]
    return [sys.executable, "-m", "tui.commands", "traffic"]


TRAFFIC = _traffic_argv()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A lab without its load generator; ``state`` is a private XDG_STATE_HOME (audit log)."""
    for binary, package in BINARIES:
        require_binary(binary, package)
    folder = tmp_path_factory.mktemp("lab")
    state = tmp_path_factory.mktemp("state")
    up = lab_cmd("up", "--dir", folder, "--rps", "0")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        config = folder / "inferdeck.yaml"
        traffic = load_config(config).traffic
        assert traffic is not None and traffic.nginx is not None
        record = json.loads((folder / "lab.json").read_text())
        yield {
            "dir": folder,
            "config": config,
            "state": state,
            "traffic": traffic,
            "upstream": Path(traffic.nginx.upstream_file),
            "nginx": record["nginx"],
            "backends": {b["name"]: b for b in record["backends"]},
        }
    finally:
        lab_cmd("down", "--dir", folder)


def traffic(lab: dict[str, Any], *args: Any, config: Path | None = None) -> Any:
    """Run one traffic command against the lab's config (or ``config``)."""
    shared = lab["state"] / "inferdeck"  # the machine's shared folder, never the real one
    shared.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "XDG_STATE_HOME": str(lab["state"]), "INFERDECK_SHARED_DIR": str(shared)}
    return subprocess.run(
        [*TRAFFIC, *map(str, args), "-c", str(config or lab["config"])],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
        check=False,
    )


def audit(lab: dict[str, Any]) -> list[dict[str, Any]]:
    path = lab["state"] / "inferdeck" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def served(lab: dict[str, Any]) -> dict[str, float]:
    """``/v1/`` requests each pool's backends have answered so far."""
    totals: dict[str, float] = {}
    for backend in lab["backends"].values():
        text = httpx.get(backend["url"] + "/metrics", timeout=5).text
        count = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("http_requests_total{") and 'handler="/v1/' in line
        )
        totals[backend["pool"]] = totals.get(backend["pool"], 0.0) + count
    return totals


async def _send(url: str, count: int, concurrency: int = 50) -> list[int]:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:

        async def one() -> int:
            async with limit:
                answer = await client.post(
                    url + "/v1/completions", json={"prompt": "hi", "max_tokens": 1}
                )
                return answer.status_code

        return list(await asyncio.gather(*(one() for _ in range(count))))


def send_through_nginx(lab: dict[str, Any], count: int) -> dict[str, float]:
    """``count`` requests through nginx; how many each pool answered."""
    before = served(lab)
    statuses = asyncio.run(_send(lab["nginx"], count))
    assert statuses.count(200) == count, {s: statuses.count(s) for s in set(statuses)}
    after = served(lab)
    return {pool: after[pool] - before[pool] for pool in after}


def test_set_90_10_splits_1000_requests_within_3_points(lab: dict[str, Any]) -> None:
    done = traffic(lab, "set", "blue=90", "green=10", "--yes")
    assert done.returncode == 0, done.stderr
    assert "traffic: blue 90%, green 10% (was blue 100%, green 0%)" in done.stdout
    assert parse_upstream(lab["upstream"].read_text()).weights == {"blue": 90.0, "green": 10.0}
    split = send_through_nginx(lab, 1000)
    assert sum(split.values()) == 1000  # every request attributed to exactly one pool
    assert abs(split["green"] / 10 - 10) <= 3, split
    assert abs(split["blue"] / 10 - 90) <= 3, split
    shown = traffic(lab, "show", "--json")
    assert json.loads(shown.stdout)["weights"] == {"blue": 90.0, "green": 10.0}


def test_a_change_nginx_rejects_leaves_the_file_and_nginx_serving(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    before = lab["upstream"].read_bytes()
    data = yaml.safe_load(lab["config"].read_text())
    data["traffic"]["nginx"]["servers"]["green"] = ["127.0.0.1:99999"]  # a port nginx refuses
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    done = traffic(lab, "set", "blue=50", "green=50", "--yes", config=bad)
    assert done.returncode == 1
    error = done.stderr.strip()
    assert len(error.splitlines()) == 1, error
    assert "nginx -t refused the change, old file put back: nginx: [emerg] invalid port" in error
    assert lab["upstream"].read_bytes() == before
    assert httpx.get(lab["nginx"] + "/health", timeout=5).status_code == 200
    assert sum(send_through_nginx(lab, 20).values()) == 20
    result = audit(lab)[-1]
    assert (result["action"], result["event"], result["outcome"]) == (
        "traffic.set",
        "result",
        "failed",
    )
    assert "[emerg] invalid port" in result["message"] and "\n" not in result["message"]


APPLY_LOOP = """
import os, sys
from tui.config import load_config
from tui.ops.traffic.factory import router_from_config
router = router_from_config(load_config(sys.argv[1]).traffic)
splits = [{"blue": 100.0, "green": 0.0}, {"blue": 90.0, "green": 10.0}]
router.check_argv()  # asks nginx its version once, before forking
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        i = 0 if router.current()["green"] else 1  # the first apply changes the file
        while True:
            router.apply(splits[i % 2])
            i += 1
    print(pid, flush=True)
    os.waitpid(pid, 0)
    print("dead", flush=True)
"""


def test_a_kill_at_any_point_of_an_apply_leaves_the_old_or_the_new_file(
    lab: dict[str, Any],
) -> None:
    """A forked applier (imports done once) is SIGKILLed 0-100 ms into a loop of applies."""
    servers = lab["traffic"].nginx.servers
    name = lab["traffic"].nginx.upstream_name
    texts = {
        render_upstream(name, servers, {"blue": 100.0, "green": 0.0}),
        render_upstream(name, servers, {"blue": 90.0, "green": 10.0}),
    }
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    helper = subprocess.Popen(
        [sys.executable, "-c", APPLY_LOOP, str(lab["config"])],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert helper.stdin is not None and helper.stdout is not None
    rng = random.Random(1234)
    seen: dict[str, int] = {}
    try:
        for _ in range(60):
            helper.stdin.write("go\n")
            helper.stdin.flush()
            pid = int(helper.stdout.readline())
            time.sleep(rng.uniform(0, 0.1))  # an apply takes 10-100 ms
            os.kill(pid, signal.SIGKILL)
            assert helper.stdout.readline().strip() == "dead"
            text = lab["upstream"].read_text()
            assert text in texts, f"torn or foreign upstream file:\n{text}"
            weights = parse_upstream(text).weights
            key = f"green={weights['green']:g}"
            seen[key] = seen.get(key, 0) + 1
    finally:
        helper.kill()
        helper.wait()
    print(f"files found after kill -9: {seen}")
    assert len(seen) == 2, seen  # the kills landed at different points of the sequence
    done = traffic(lab, "set", "blue=100", "--yes")  # the next apply cleans up and works
    assert done.returncode == 0, done.stderr
    assert not list(lab["upstream"].parent.glob(".upstream.conf.*.tmp"))
    assert httpx.get(lab["nginx"] + "/health", timeout=5).status_code == 200


def test_rollback_puts_the_stable_pool_at_100_and_is_audited(lab: dict[str, Any]) -> None:
    assert traffic(lab, "set", "blue=50", "green=50", "--yes").returncode == 0
    done = traffic(lab, "rollback", "--yes")
    assert done.returncode == 0, done.stderr
    assert "rolled back: blue 100%, green 0%" in done.stdout
    assert parse_upstream(lab["upstream"].read_text()).weights == {"blue": 100.0, "green": 0.0}
    assert "down;  # pool=green" in lab["upstream"].read_text()
    assert send_through_nginx(lab, 40)["green"] == 0
    records = [r for r in audit(lab) if r["action"] == "traffic.rollback"]
    assert [r["event"] for r in records[-2:]] == ["intent", "result"]
    assert records[-1]["outcome"] == "done" and records[-1]["target"] == "blue"
    assert records[-1]["details"]["before"] == {"blue": 50.0, "green": 50.0}


def test_read_only_refuses_every_change_and_audits_it(lab: dict[str, Any], tmp_path: Path) -> None:
    before = lab["upstream"].read_bytes()
    data = yaml.safe_load(lab["config"].read_text())
    data["read_only"] = True
    read_only_config = tmp_path / "ro.yaml"
    read_only_config.write_text(yaml.safe_dump(data))
    runs = [
        traffic(lab, "set", "blue=0", "green=100", "--yes", "--read-only"),
        traffic(lab, "rollback", "--yes", "--read-only"),
        traffic(
            lab,
            "rollout",
            "green",
            "--steps",
            "50,100",
            "--hold",
            "1s",
            "--yes",
            config=read_only_config,
        ),
    ]
    for done in runs:
        assert done.returncode == 1
        assert "refused: read-only" in done.stderr
    assert "read_only: true in" in runs[2].stderr
    assert lab["upstream"].read_bytes() == before
    refused = [(r["action"], r["event"]) for r in audit(lab)[-3:]]
    assert refused == [
        ("traffic.set", "refused"),
        ("traffic.rollback", "refused"),
        ("traffic.rollout", "refused"),
    ]


@pytest.fixture
def sim(lab: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A simulated fleet with internal load split by its router (blue 90 %, green 10 %)."""
    config = SimConfig(
        pools={"blue": 1, "green": 1},
        port_base=0,
        rps=10,
        seed=3,
        weights={"blue": 90, "green": 10},
    )
    with SimRuntime(config) as runtime:
        desc = runtime.description
        data = {
            "slo_tier": "standard",
            "backends": [
                {"name": b["name"], "pool": b["pool"], "url": b["url"]} for b in desc["backends"]
            ],
            "traffic": {"router": "sim", "sim_control": desc["control"]},
        }
        path = tmp_path / "sim.yaml"
        path.write_text(yaml.safe_dump(data))
        yield {"runtime": runtime, "config": path}


def test_sim_rollout_with_failing_canary_rolls_back_and_a_healthy_one_completes(
    lab: dict[str, Any], sim: dict[str, Any]
) -> None:
    runtime = sim["runtime"]
    runtime.set_fault("green-0", "errors", 0.5)
    began = time.monotonic()
    failed = traffic(
        lab, "rollout", "green", "--steps", "50,100", "--hold", "2s", "--yes", config=sim["config"]
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "rollout stopped at step 1 (green 50%): green error rate" in failed.stderr
    assert "rolled back: blue 100%, green 0%" in failed.stderr
    assert runtime.state()["weights"] == {"blue": 100.0, "green": 0.0}
    result = audit(lab)[-1]
    assert result["action"] == "traffic.rollout" and result["outcome"] == "failed"
    assert result["details"]["failed_step"] == 1 and result["details"]["rolled_back"] is True
    assert result["details"]["reason"].startswith("green error rate")
    print(f"failing rollout took {time.monotonic() - began:.1f}s")

    runtime.set_fault("green-0", "clear")
    runtime.set_weights({"blue": 90, "green": 10})
    began = time.monotonic()
    healthy = traffic(
        lab, "rollout", "green", "--steps", "50,100", "--hold", "2s", "--yes", config=sim["config"]
    )
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "rolled out: green 100% after 2 steps" in healthy.stdout
    assert "step 2/2 (green 100%) gate" in healthy.stdout
    assert runtime.state()["weights"] == {"blue": 0.0, "green": 100.0}
    assert audit(lab)[-1]["outcome"] == "done"
    print(f"healthy rollout took {time.monotonic() - began:.1f}s")


async def test_the_same_split_through_the_tuis_keys(lab: dict[str, Any]) -> None:
    """5 (Traffic), → (canary +10%), enter, confirm: nginx splits 1,000 requests 90/10."""
    from tui.app import InferdeckApp
    from tui.config import load_config
    from tui.hub import Hub
    from tui.ops.build import operations_for
    from tui.ops.traffic.factory import router_from_config
    from tui.screens.confirm import ConfirmScreen
    from tui.sources.router import RouterSource
    from tui.wiring import sources_for

    assert traffic(lab, "set", "blue=100", "green=0", "--yes").returncode == 0
    config = load_config(lab["config"])
    config = dataclasses.replace(config, audit_log=str(lab["state"] / "inferdeck" / "audit.jsonl"))
    assert config.traffic is not None
    router = router_from_config(config.traffic)
    hub = Hub([*sources_for(config), RouterSource(router.current, interval=0.5)], refresh_s=0.5)
    ops = operations_for(config, latest=lambda: hub.latest, router=router)
    app = InferdeckApp(hub, ops=ops)
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(40):  # until the router's split is on screen
            await pilot.pause(0.25)
            if app.latest is not None and app.latest.weights.get("blue") == 100.0:
                break
        await pilot.press("5", "right", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert router.current() == {"blue": 90.0, "green": 10.0}
    assert audit(lab)[-1]["outcome"] == "done" and audit(lab)[-1]["action"] == "traffic.set"
    answered = await asyncio.to_thread(send_through_nginx, lab, 1000)
    total = sum(answered.values())
    assert total == 1000
    assert abs(100 * answered.get("green", 0) / total - 10) <= 3, answered
