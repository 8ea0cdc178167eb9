"""The autopilot on the lab in containers mode: a spike through nginx makes the queue
rule propose a scale-out; applying it starts a replica (a podman container copied from
the pool's) that joins nginx and takes traffic, as its own counters say, and is a row of
its pool on the dashboard (``blue-r1``) until it is scaled in; the cooldown
holds a second one back; then ``autopilot: on`` scales out by itself and stops at its
cap. Rule numbers are short here (they are data): queue over 3 for 2 s.

The spike's prompts are long (1,500 tokens), so each simulated backend holds only ~21
requests in its KV cache and the rest wait: 80 users queue on one, two and three
backends alike, and stop queueing on four.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.podman_fixture import require_podman
from tests.integration.real_servers import require_binary, wait_for
from tui.analysis.slo import STANDARD
from tui.config import load_config
from tui.hub import Hub
from tui.loadtest.drill import drill
from tui.loadtest.report import Report
from tui.loadtest.run import RunSettings
from tui.loadtest.scenario import parse_scenario
from tui.model import Backend, FleetSnapshot
from tui.ops.audit import AuditLog
from tui.ops.autopilot.actions import ScaleIn
from tui.ops.autopilot.config import autopilot_config
from tui.ops.autopilot.engine import Proposal
from tui.ops.autopilot.pilot import Pilot, actions_from_config, scaler_from_config
from tui.ops.executor import Executor, always
from tui.wiring import sources_for

REPO = Path(__file__).resolve().parents[2]
SPIKE = """
name: queue-spike
description: a spike that queues on the lab's simulated backends
load: users
stages:
  - {duration: 4s, target: 5}
  - {duration: 8m, target: 80, ramp: 2s, spike: true}
  - {duration: 4s, target: 5}
request: {prompt_tokens: 1500, output_tokens: 16}
"""


def _rules(mode: str, cooldown: str, cap: int) -> str:
    return (
        f"autopilot:\n  mode: {mode}\n  max_actions_per_hour: {cap}\n"
        "  scaler: {kind: containers, port_arg: --port-base, port_offset: 1, ready_timeout: 60s}\n"
        "  disable: [restart-on-oom, alert-on-degradation]\n"
        "  rules:\n    - {name: scale-on-queue, when: {metric: queue_depth, over: 3, for: 2s},"
        f" action: scale-out, max_replicas: 4, cooldown: {cooldown}, max_per_hour: 10}}\n"
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A containers lab with one blue backend and no load of its own."""
    for binary, package in (("nginx", "nginx-light"), ("prometheus", "prometheus"),
                            ("prometheus-alertmanager", "prometheus-alertmanager")):  # fmt: skip
        require_binary(binary, package)
    require_podman()
    folder = tmp_path_factory.mktemp("lab")
    lab_cmd = [sys.executable, "-m", "tui.commands", "lab"]
    up = subprocess.run([*lab_cmd, "up", "--dir", str(folder), "--containers", "--pools",
                         "blue=1", "--gpus", "1", "--rps", "0"], capture_output=True,
                        text=True, timeout=180, cwd=REPO, check=False)  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield {"dir": folder, "record": json.loads((folder / "lab.json").read_text())}
    finally:
        subprocess.run([*lab_cmd, "down", "--dir", str(folder)], capture_output=True,
                       timeout=180, cwd=REPO, check=False)  # fmt: skip


def _config(lab: dict[str, Any], tmp: Path, rules: str) -> Path:
    text = (lab["dir"] / "inferdeck.yaml").read_text()
    text += f"audit_log: {tmp / 'audit.jsonl'}\nlock_file: {tmp / 'lock'}\n{rules}"
    path = tmp / "inferdeck.yaml"
    path.write_text(text)
    return path


def _completed(server: str) -> float:
    """A server's own count of finished requests."""
    total = 0.0
    text = httpx.get(f"http://{server}/metrics", timeout=3).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "vllm:request_success_total":
                total += s.value
    return total


class _Watch:
    """Snapshots from the dashboard's own sources, polled once a second."""

    def __init__(self, config_path: Path) -> None:
        config = load_config(config_path)
        self.hub = Hub(sources_for(config), environment=config.environment,
                       slo_tier=config.slo_tier)  # fmt: skip
        self.loop = asyncio.new_event_loop()

    def snapshot(self) -> FleetSnapshot:
        return self.loop.run_until_complete(self.hub.poll_once())

    def close(self) -> None:
        for source in self.hub.sources:
            self.loop.run_until_complete(source.aclose())
        self.loop.close()


def _row(snapshot: FleetSnapshot, name: str) -> Backend | None:
    """The backend row ``name`` once it has a request rate."""
    row = next((b for b in snapshot.backends if b.name == name), None)
    return row if row is not None and row.traffic.requests_per_min else None


def _until_proposed(pilot: Pilot, watch: _Watch, timeout_s: float = 120) -> Proposal:
    def proposed() -> Proposal | None:
        pilot.observe(watch.snapshot())
        return next(iter(pilot.proposals), None)

    found = wait_for(proposed, timeout_s, 1.0)
    assert found is not None, f"nothing proposed; held: {pilot.decision.held}"
    return found


def test_a_spike_scales_the_pool_out_by_proposal_then_by_itself(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    config_path = _config(lab, tmp_path, _rules("propose", "1h", 6))
    config = load_config(config_path)
    settings = autopilot_config(config)
    scaler = scaler_from_config(config, settings)
    executor = Executor(AuditLog(tmp_path / "audit.jsonl"), lock_path=tmp_path / "lock")
    pilot = Pilot(settings, executor, actions_from_config(config, settings, scaler),
                  servers_in=scaler.count)  # fmt: skip
    nginx = config.traffic.nginx.verify_url.rsplit("/", 1)[0]  # type: ignore[union-attr]
    stop = threading.Event()
    reports: list[Report] = []
    run = RunSettings(parse_scenario(SPIKE), nginx, "", tmp_path / "records.jsonl", grace_s=2)
    load = threading.Thread(target=lambda: reports.append(drill(run, STANDARD, {}, stop=stop)))
    load.start()
    watch = _Watch(config_path)
    try:
        # proposed, not acted on: the mode is "propose"
        proposal = _until_proposed(pilot, watch)
        assert proposal.line() == "scale out blue (rule scale-on-queue)"
        assert asyncio.run(pilot.act()) == [] and scaler.replicas("blue") == []
        # the operator's key: through the executor, audited with the rule
        done = asyncio.run(pilot.apply(proposal, always))
        assert done.ok, done.message
        (replica,) = scaler.replicas("blue")
        upstream = Path(config.traffic.nginx.upstream_file).read_text()  # type: ignore[union-attr]
        assert f"server {replica.server} weight=1" in upstream
        assert wait_for(lambda: _completed(replica.server) > 5, 60), "the replica took no traffic"
        # on the dashboard it is a row of pool blue, scraped at its own address, with its
        # own container and its own figures
        row = wait_for(lambda: _row(watch.snapshot(), "blue-r1"), 30, 1.0)
        assert row is not None, [b.name for b in watch.snapshot().backends]
        assert (row.pool, row.url, row.container) == ("blue", f"http://{replica.server}",
                                                      replica.name)  # fmt: skip
        assert row.traffic.requests_per_min and row.traffic.requests_per_min > 0
        # the queue still stands on two backends; the cooldown holds a second scale-out back
        waiting: list[float | None] = []

        def held() -> bool:
            snapshot = watch.snapshot()
            waiting.append(next(p.waiting for p in snapshot.pools if p.name == "blue"))
            return bool(pilot.observe(snapshot).held)

        assert wait_for(held, 60, 1.0), f"no second match; blue-0 waiting: {waiting}"
        assert pilot.proposals == ()
        assert [why.split(":")[0] for _, why in pilot.decision.held] == ["cooldown"]
        audit = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
        seen = [(e["action"], e["event"], e["params"]["rule"], e["params"]["by"]) for e in audit]
        assert seen == [("pool.scale-out", "intent", "scale-on-queue", "operator"),
                        ("pool.scale-out", "result", "scale-on-queue", "operator")]  # fmt: skip

        # autopilot: on, a short cooldown, a cap of one action an hour
        on = autopilot_config(load_config(_config(lab, tmp_path, _rules("on", "3s", 1))))
        alone = Pilot(on, executor, actions_from_config(config, on, scaler),
                      servers_in=scaler.count)  # fmt: skip
        acted: list[Any] = []
        deadline = time.monotonic() + 120
        while not acted and time.monotonic() < deadline:
            alone.observe(watch.snapshot())
            acted = asyncio.run(alone.act())
            time.sleep(1)
        assert [e.ok for e in acted] == [True], ([e.message for e in acted], alone.decision)
        assert len(scaler.replicas("blue")) == 2
        # three backends still queue: the rule matches again, and the cap stops it
        deadline = time.monotonic() + 120
        while not alone.stopped and time.monotonic() < deadline:
            alone.observe(watch.snapshot())
            assert asyncio.run(alone.act()) == []
            time.sleep(1)
        assert alone.stopped.startswith("stopped acting: 1 actions in the last hour"), (
            alone.decision
        )
        assert len(scaler.replicas("blue")) == 2
        last = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
        assert (last["params"]["by"], last["params"]["rule"], last["outcome"]) == (
            "autopilot",
            "scale-on-queue",
            "done",
        )
    finally:
        stop.set()
        load.join(30)
        watch.close()
    assert reports and reports[0].stopped == "stopped by the operator"
    # scaling in takes the newest replica out of nginx, then removes its container
    newest = scaler.replicas("blue")[-1]
    gone = asyncio.run(executor.execute(ScaleIn(scaler, "blue"), always))
    assert gone.ok, gone.message
    assert newest.server not in Path(config.traffic.nginx.upstream_file).read_text()  # type: ignore[union-attr]
    assert len(scaler.replicas("blue")) == 1
    # and its row is gone from the dashboard; the older replica's stays
    after = _Watch(config_path)
    try:
        names = [b.name for b in after.snapshot().backends]
    finally:
        after.close()
    assert newest.backend == "blue-r2" and "blue-r2" not in names and "blue-r1" in names
