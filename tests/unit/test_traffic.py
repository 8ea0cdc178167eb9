"""Traffic: weight checks, upstream rendering, plans, the nginx router's backup/restore, the
rollout gate (with a scripted figures() sequence), the executor's guard, and the CLI.

The nginx router here runs a stand-in ``nginx`` script (``-t`` fails when the upstream file
holds the word ``bad``; ``-s reload`` fails when a marker file exists), so the apply
sequence's every branch is exercised in milliseconds. The real nginx is in
``tests/integration/test_traffic.py``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml

from tui.commands.main import main as inferdeck_main
from tui.commands.traffic import parse_duration, parse_steps
from tui.config import NginxRouterConfig, parse_config
from tui.lab.render import config_data
from tui.model import Pool, Quantiles, Traffic
from tui.ops.audit import AuditLog
from tui.ops.executor import Executor, Outcome, always
from tui.ops.files import remove_stale_temps
from tui.ops.traffic.nginx import NginxRouter
from tui.ops.traffic.rollout import Rollout, SloGate, check_steps
from tui.ops.traffic.upstream import parse_upstream, render_upstream
from tui.ops.traffic.weights import (
    Applied,
    Rollback,
    RouterError,
    SetWeights,
    WeightsError,
    change_lines,
    check_weights,
    parse_weights,
)

SERVERS = {"blue": ("127.0.0.1:9001", "127.0.0.1:9002"), "green": ("127.0.0.1:9003",)}
POOLS = ("blue", "green")

FAKE_NGINX = """#!/bin/sh
# A stand-in for nginx: -v, -t (fails on the word "bad" in the upstream file), -s reload.
for arg in "$@"; do
  case "$arg" in
    -v) echo "nginx version: nginx/1.22.1" >&2; exit 0 ;;
    -t) if grep -q bad "{upstream}"; then
          echo "nginx: [emerg] host not found in upstream \\"bad:1\\" in {upstream}:4" >&2
          echo "nginx: configuration file {conf} test failed" >&2
          exit 1
        fi
        exit 0 ;;
    reload) if [ -e "{fail_reload}" ]; then
          echo "nginx: [error] invalid PID number \\"\\" in \\"/x/nginx.pid\\"" >&2; exit 1
        fi
        echo reload >> "{reloads}"; exit 0 ;;
  esac
done
exit 0
"""


# -- weights -----------------------------------------------------------------------------


def test_weights_name_known_pools_within_0_100_adding_up_to_100() -> None:
    assert check_weights({"blue": 90, "green": 10}, POOLS) == {"blue": 90.0, "green": 10.0}
    assert check_weights({"green": 100}, POOLS) == {"blue": 0.0, "green": 100.0}
    cases: dict[str, Any] = {
        "unknown pool 'red' (pools: blue, green)": {"red": 100},
        "weight of blue must be 0..100 (percent), got 120": {"blue": 120, "green": -20},
        "weight of green must be 0..100 (percent), got -10": {"blue": 50, "green": -10},
        "weights must add up to 100, got 110 (blue 90 + green 20)": {"blue": 90, "green": 20},
        "weight of blue must be 0..100 (percent), got nan": {"blue": float("nan")},
        "weight of blue must be a number, got True": {"blue": True},
        "no weights given": {},
    }
    for message, weights in cases.items():
        with pytest.raises(WeightsError) as caught:
            check_weights(weights, POOLS)
        assert message in str(caught.value)
        assert "\n" not in str(caught.value)


def test_weights_parse_from_the_command_line() -> None:
    assert parse_weights(["blue=90", "green=10%"]) == {"blue": 90.0, "green": 10.0}
    for bad, message in (
        (["blue"], "POOL=PERCENT"),
        (["blue=x"], "not a number"),
        (["blue=50", "blue=50"], "twice"),
        (["=5"], "POOL=PERCENT"),
    ):
        with pytest.raises(WeightsError, match=message):
            parse_weights(bad)


def test_a_pool_at_zero_is_written_down_and_reads_back() -> None:
    text = render_upstream("vllm", SERVERS, {"blue": 0, "green": 100})
    assert "server 127.0.0.1:9001 down;  # pool=blue" in text
    assert "server 127.0.0.1:9003 weight=1 max_fails=1 fail_timeout=2s;  # pool=green" in text
    assert "weight=0" not in text
    assert parse_upstream(text).weights == {"blue": 0.0, "green": 100.0}


def test_a_torn_upstream_file_does_not_read_back() -> None:
    text = render_upstream("vllm", SERVERS, {"blue": 100})
    with pytest.raises(ValueError):
        parse_upstream(text[: text.rindex("}")])


def test_a_server_entry_cannot_inject_nginx_syntax() -> None:
    with pytest.raises(ValueError, match="bad server address"):
        render_upstream("vllm", {"blue": ["127.0.0.1:1; include /etc/passwd"]}, {"blue": 100})


# -- a fake router, for plans and rollouts ------------------------------------------------


class FakeRouter:
    """An in-memory router that records every split applied (and can fail on request)."""

    kind = "fake"
    where = "memory"

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        self.weights = dict(weights or {"blue": 100.0, "green": 0.0})
        self.applied: list[dict[str, float]] = []
        self.fail_on: dict[str, float] | None = None

    def pools(self) -> tuple[str, ...]:
        return tuple(self.weights)

    def current(self) -> dict[str, float]:
        return dict(self.weights)

    def describe(self, weights: Mapping[str, float]) -> tuple[str, ...]:
        return (f"store {dict(weights)}",)

    def apply(self, weights: Mapping[str, float], progress: Any = None) -> Applied:
        wanted = check_weights(weights, self.pools())
        if wanted == self.fail_on:
            raise RouterError("nginx -t refused the change, old file put back: [emerg] x")
        self.weights = wanted
        self.applied.append(wanted)
        return Applied(dict(wanted), ("stored",))


def test_set_weights_plan_shows_old_to_new_and_the_exact_change() -> None:
    action = SetWeights(FakeRouter(), {"blue": 90, "green": 10})
    plan = action.plan()
    assert plan.title == "Set traffic: blue 90%, green 10% (fake: memory)"
    assert plan.lines[:2] == ("blue    100% → 90%", "green     0% → 10%")
    assert plan.lines[2] == "store {'blue': 90.0, 'green': 10.0}"
    assert not plan.dangerous
    assert action.target == "blue=90 green=10"
    assert action.params()["weights"] == {"blue": 90.0, "green": 10.0}


def test_set_weights_refuses_bad_weights_before_anything_runs() -> None:
    with pytest.raises(WeightsError, match="add up to 100"):
        SetWeights(FakeRouter(), {"blue": 50})


def test_rollback_is_dangerous_and_confirmed_by_the_stable_pools_name() -> None:
    router = FakeRouter({"blue": 50, "green": 50})
    stopped: list[str] = []

    def stop() -> str:
        stopped.append("x")
        return "stopped 1"

    action = Rollback(router, "blue", stop_containers=stop)
    plan = action.plan()
    assert plan.dangerous and plan.confirm_text == "blue"
    assert "green    50% → 0%  (written down: no traffic)" in plan.lines
    assert plan.lines[-1] == "then: stop the new pool's containers"
    result = action.run(lambda line: None)
    assert result.ok, result.message
    assert router.weights == {"blue": 100.0, "green": 0.0}
    assert stopped == ["x"] and "stopped 1" in result.message


def test_rollback_reports_a_container_failure_after_moving_traffic() -> None:
    router = FakeRouter({"blue": 0, "green": 100})

    def broken() -> str:
        raise RuntimeError("podman gone")

    result = Rollback(router, "blue", stop_containers=broken).run(lambda line: None)
    assert router.weights["blue"] == 100.0
    assert not result.ok
    assert "rolled back: blue 100%" in result.message and "podman gone" in result.message


def test_change_lines_mark_unknown_and_unchanged() -> None:
    assert change_lines(None, {"blue": 100.0}) == ["blue      ? → 100%"]
    assert change_lines({"blue": 100.0}, {"blue": 100.0}) == ["blue   100% → 100%  (unchanged)"]


# -- rollout gate ---------------------------------------------------------------------------


def _pool(error_rate: float | None = 0.0, ttft: float = 0.2, e2e: float = 3.0) -> Pool:
    return Pool(
        "green",
        1,
        1,
        ttft=Quantiles(p95=ttft),
        e2e=Quantiles(p95=e2e),
        traffic=Traffic(requests_per_min=600.0, error_rate=error_rate),
    )


def _scripted(readings: list[Pool | None]) -> Iterator[Pool | None]:
    yield from readings
    while True:
        yield readings[-1]


def _rollout(router: FakeRouter, readings: list[Pool | None], **kw: Any) -> Rollout:
    figures = _scripted(readings)
    gate = SloGate(lambda: next(figures), "standard", poll_s=0.005)
    return Rollout(
        router,
        "green",
        gate,
        steps=kw.pop("steps", (10, 50, 100)),
        hold_s=kw.pop("hold_s", 0.02),
        **kw,
    )


def test_a_healthy_rollout_walks_every_step_and_ends_at_100() -> None:
    router = FakeRouter()
    lines: list[str] = []
    result = _rollout(router, [_pool()]).run(lines.append)
    assert result.ok, result.message
    assert [w["green"] for w in router.applied] == [10.0, 50.0, 100.0]
    assert router.weights == {"blue": 0.0, "green": 100.0}
    assert [c["step"] for c in result.details["completed"]] == [1, 2, 3]
    assert any(
        "step 2/3 (green 50%) gate" in line and "error rate 0% (≤2%)" in line for line in lines
    )
    assert result.message.startswith("rolled out: green 100% after 3 steps")


def test_a_breach_at_step_two_rolls_back_and_says_which_figure() -> None:
    router = FakeRouter()

    def figures() -> Pool:  # the canary fails once it takes half the traffic
        return _pool(error_rate=0.3 if router.weights["green"] >= 50 else 0.0)

    gate = SloGate(figures, "standard", poll_s=0.005)
    result = Rollout(router, "green", gate, hold_s=0.02).run(lambda line: None)
    assert not result.ok
    assert router.applied[-1] == {"blue": 100.0, "green": 0.0}  # rolled back
    assert result.details["failed_step"] == 2 and result.details["failed_percent"] == 50.0
    assert result.details["reason"] == "green error rate 30% > 2%"
    assert result.details["rolled_back"] is True
    assert result.details["figures"]["error_rate"] == 0.3
    assert "rolled back: blue 100%, green 0%" in result.message


@pytest.mark.parametrize(
    ("pool", "reason"),
    [(_pool(ttft=2.5), "green TTFT p95 2.5s > 2s"), (_pool(e2e=20.0), "green E2E p95 20s > 15s")],
)
def test_a_latency_breach_fails_the_gate(pool: Pool, reason: str) -> None:
    router = FakeRouter()
    result = _rollout(router, [pool]).run(lambda line: None)
    assert result.details["reason"] == reason and result.details["failed_step"] == 1
    assert router.weights == {"blue": 100.0, "green": 0.0}


def test_a_hold_without_figures_fails_rather_than_passing_blind() -> None:
    router = FakeRouter()
    result = _rollout(router, [None, _pool(error_rate=None)]).run(lambda line: None)
    assert not result.ok
    assert "no figures for green during the hold" in result.details["reason"]
    assert router.weights["blue"] == 100.0


def test_a_figures_callable_that_raises_counts_as_no_figures() -> None:
    def broken() -> Pool | None:
        raise ConnectionError("scrape refused")

    gate = SloGate(broken, "standard", poll_s=0.005)
    router = FakeRouter()
    result = Rollout(router, "green", gate, steps=(50,), hold_s=0.01).run(lambda line: None)
    assert not result.ok and router.weights["blue"] == 100.0


def test_cancel_stops_the_rollout_and_rolls_back() -> None:
    router = FakeRouter()
    cancel = threading.Event()
    rollout = _rollout(router, [_pool()], hold_s=5.0, cancel=cancel)
    threading.Timer(0.05, cancel.set).start()
    result = rollout.run(lambda line: None)
    assert not result.ok
    assert result.details["reason"] == "cancelled by the operator"
    assert router.weights == {"blue": 100.0, "green": 0.0}


def test_a_step_the_router_refuses_rolls_back() -> None:
    router = FakeRouter()
    router.fail_on = {"blue": 50.0, "green": 50.0}
    result = _rollout(router, [_pool()]).run(lambda line: None)
    assert result.details["failed_step"] == 2
    assert result.details["reason"].startswith("not applied: nginx -t refused")
    assert router.weights == {"blue": 100.0, "green": 0.0}


def test_rollout_plan_lists_steps_gate_and_fallback() -> None:
    plan = _rollout(FakeRouter(), [_pool()], hold_s=60).plan()
    assert plan.title == "Roll out green: 10% → 50% → 100%, hold 60s each (fake: memory)"
    assert plan.lines[:3] == (
        "step 1: blue 90%, green 10%",
        "step 2: blue 50%, green 50%",
        "step 3: blue 0%, green 100%",
    )
    assert "error rate ≤ 2%, TTFT p95 ≤ 2s, E2E p95 ≤ 15s (standard SLO)" in plan.lines[3]
    assert "blue 100% at once (rollback)" in plan.lines[4]


def test_rollout_steps_must_rise_within_100() -> None:
    assert check_steps([10, 50, 100]) == (10.0, 50.0, 100.0)
    for bad in ([], [50, 10], [0, 100], [10, 120], [50, 50]):
        with pytest.raises(WeightsError):
            check_steps(bad)
    with pytest.raises(WeightsError, match="unknown pool"):
        Rollout(FakeRouter(), "red", SloGate(lambda: None))


# -- the nginx router's apply sequence (a stand-in nginx) ---------------------------------


@pytest.fixture
def fake_nginx(tmp_path: Path) -> dict[str, Path]:
    paths = {
        name: tmp_path / name
        for name in ("upstream.conf", "nginx.conf", "reloads", "fail-reload", "nginx")
    }
    script = FAKE_NGINX.format(
        upstream=paths["upstream.conf"],
        conf=paths["nginx.conf"],
        reloads=paths["reloads"],
        fail_reload=paths["fail-reload"],
    )
    paths["nginx"].write_text(script)
    paths["nginx"].chmod(paths["nginx"].stat().st_mode | stat.S_IXUSR)
    paths["nginx.conf"].write_text("events {}\n")
    return paths


def _router(paths: Mapping[str, Path], servers: Any = None) -> NginxRouter:
    config = NginxRouterConfig(
        upstream_file=str(paths["upstream.conf"]),
        servers=servers or SERVERS,
        upstream_name="vllm",
        binary=str(paths["nginx"]),
        conf=str(paths["nginx.conf"]),
    )
    return NginxRouter(config)


def test_apply_writes_keeps_a_backup_checks_reloads_and_reads_back(
    fake_nginx: dict[str, Path],
) -> None:
    router = _router(fake_nginx)
    router.apply({"blue": 100})
    old = fake_nginx["upstream.conf"].read_bytes()
    lines: list[str] = []
    applied = router.apply({"blue": 90, "green": 10}, lines.append)
    assert applied.weights == {"blue": 90.0, "green": 10.0}
    assert router.current() == {"blue": 90.0, "green": 10.0}
    assert (fake_nginx["upstream.conf"].parent / "upstream.conf.bak").read_bytes() == old
    assert fake_nginx["reloads"].read_text().count("reload") == 2
    assert lines[1] == "nginx -t: ok" and lines[-1] == "read back: blue 90%, green 10%"
    assert "-e stderr" in " ".join(router.check_argv())


def test_a_change_nginx_rejects_restores_the_file_byte_for_byte(
    fake_nginx: dict[str, Path],
) -> None:
    _router(fake_nginx).apply({"blue": 100})
    before = fake_nginx["upstream.conf"].read_bytes()
    broken = _router(fake_nginx, {**SERVERS, "green": ("bad:1",)})
    with pytest.raises(RouterError) as caught:
        broken.apply({"blue": 50, "green": 50})
    message = str(caught.value)
    assert message.startswith("nginx -t refused the change, old file put back: nginx: [emerg]")
    assert "host not found" in message and "\n" not in message
    assert fake_nginx["upstream.conf"].read_bytes() == before
    assert fake_nginx["reloads"].read_text().count("reload") == 1  # never reloaded


def test_a_failed_reload_restores_the_file(fake_nginx: dict[str, Path]) -> None:
    router = _router(fake_nginx)
    router.apply({"blue": 100})
    before = fake_nginx["upstream.conf"].read_bytes()
    fake_nginx["fail-reload"].write_text("")
    with pytest.raises(RouterError, match=r"^nginx reload failed, old file put back: .*\[error\]"):
        router.apply({"green": 100})
    assert fake_nginx["upstream.conf"].read_bytes() == before


def test_stale_temp_files_of_dead_writers_are_removed(fake_nginx: dict[str, Path]) -> None:
    upstream = fake_nginx["upstream.conf"]
    dead = upstream.with_name(".upstream.conf.999999999.tmp")
    mine = upstream.with_name(f".upstream.conf.{os.getpid()}.tmp")
    dead.write_text("half")
    mine.write_text("in progress")
    assert remove_stale_temps(upstream) == [dead]
    assert mine.exists()
    mine.unlink()


def test_current_on_a_foreign_file_says_so_in_one_line(fake_nginx: dict[str, Path]) -> None:
    fake_nginx["upstream.conf"].write_text("upstream x { server a:1; }\n")
    with pytest.raises(RouterError, match=r"not a .*upstream file written by inferdeck"):
        _router(fake_nginx).current()


def test_describe_names_the_file_and_exact_commands(fake_nginx: dict[str, Path]) -> None:
    lines = _router(fake_nginx).describe({"blue": 100})
    assert lines[0].startswith(f"write {fake_nginx['upstream.conf']} (old kept as ")
    assert "  server 127.0.0.1:9003 down;  # pool=green" in lines
    assert any(line.startswith("check:  ") and line.endswith("-t -q") for line in lines)
    assert any(line.startswith("reload: ") and line.endswith("-s reload") for line in lines)


# -- executor and CLI ------------------------------------------------------------------------


async def test_read_only_refuses_and_audits_without_touching_the_file(
    fake_nginx: dict[str, Path], tmp_path: Path
) -> None:
    router = _router(fake_nginx)
    router.apply({"blue": 100})
    before = fake_nginx["upstream.conf"].read_bytes()
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit, read_only="--read-only")
    for action in (
        SetWeights(router, {"green": 100}),
        Rollback(router, "blue"),
        Rollout(router, "green", SloGate(lambda: None)),
    ):
        execution = await executor.execute(action, always)
        assert execution.outcome is Outcome.REFUSED
    assert fake_nginx["upstream.conf"].read_bytes() == before
    events = [(r["action"], r["event"]) for r in audit.tail()]
    assert events == [
        ("traffic.set", "refused"),
        ("traffic.rollback", "refused"),
        ("traffic.rollout", "refused"),
    ]


def _config_file(paths: Mapping[str, Path], tmp_path: Path, **extra: Any) -> Path:
    data = {
        "audit_log": str(tmp_path / "audit.jsonl"),
        "traffic": {
            "router": "nginx",
            "nginx": {
                "upstream_file": str(paths["upstream.conf"]),
                "binary": str(paths["nginx"]),
                "conf": str(paths["nginx.conf"]),
                "servers": {k: list(v) for k, v in SERVERS.items()},
            },
        },
        **extra,
    }
    path = tmp_path / "inferdeck.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_cli_set_show_refusals_and_exit_codes(
    fake_nginx: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = str(_config_file(fake_nginx, tmp_path))
    assert inferdeck_main(["traffic", "set", "blue=100", "--yes", "-c", config]) == 0
    assert inferdeck_main(["traffic", "set", "blue=90", "green=10", "--yes", "-c", config]) == 0
    assert inferdeck_main(["traffic", "show", "--json", "-c", config]) == 0
    shown = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert shown["weights"] == {"blue": 90.0, "green": 10.0} and shown["router"] == "nginx"
    assert inferdeck_main(["traffic", "set", "blue=90", "green=20", "--yes", "-c", config]) == 2
    assert "add up to 100" in capsys.readouterr().err
    assert inferdeck_main(["traffic", "rollback", "--read-only", "-c", config]) == 1
    assert "refused: read-only (--read-only)" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("green\n"))  # not the stable pool's name
    assert inferdeck_main(["traffic", "rollback", "-c", config]) == 1
    assert "Type blue to go ahead" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert inferdeck_main(["traffic", "set", "blue=100", "-c", config]) == 0
    assert inferdeck_main(["traffic", "set", "blue=90", "green=10", "--yes", "-c", config]) == 0
    assert inferdeck_main(["traffic", "set", "-c", str(tmp_path / "nope.yaml"), "blue=100"]) == 2
    assert "no such config file" in capsys.readouterr().err
    ro = str(_config_file(fake_nginx, tmp_path, read_only=True))
    assert inferdeck_main(["traffic", "rollback", "--yes", "-c", ro]) == 1
    assert "read_only: true in" in capsys.readouterr().err
    assert _router(fake_nginx).current() == {"blue": 90.0, "green": 10.0}


def test_cli_durations_and_steps() -> None:
    assert [parse_duration(x) for x in ("60s", "2m", "500ms", "90", "1.5s")] == [
        60.0,
        120.0,
        0.5,
        90.0,
        1.5,
    ]
    assert parse_steps("10,50,100") == (10.0, 50.0, 100.0)
    for bad in ("soon", "-1s"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_duration(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_steps("50,10")


def test_lab_config_gets_a_traffic_section_the_config_accepts() -> None:
    state = {
        "dir": "/tmp/lab",
        "backends": [
            {"name": "blue-0", "pool": "blue", "url": "http://127.0.0.1:9001"},
            {"name": "blue-1", "pool": "blue", "url": "http://127.0.0.1:9002"},
            {"name": "green-0", "pool": "green", "url": "http://127.0.0.1:9003"},
        ],
        "gpu_exporter": "http://127.0.0.1:9100/metrics",
        "prometheus": "http://127.0.0.1:9090",
        "alertmanager": "http://127.0.0.1:9093",
        "nginx": "http://127.0.0.1:8080",
        "files": {
            "nginx_upstream": "/tmp/lab/nginx/upstream.conf",
            "nginx_conf": "/tmp/lab/nginx/nginx.conf",
            "nginx_binary": "/usr/sbin/nginx",
        },
    }
    config = parse_config(yaml.safe_dump(config_data(state)), "lab.yaml")
    traffic = config.traffic
    assert traffic is not None and traffic.nginx is not None
    assert (traffic.router, traffic.stable_pool, traffic.canary_pool) == ("nginx", "blue", "green")
    assert dict(traffic.nginx.servers) == {
        "blue": ("127.0.0.1:9001", "127.0.0.1:9002"),
        "green": ("127.0.0.1:9003",),
    }
    assert traffic.nginx.upstream_name == "inferdeck_backends"
    assert traffic.nginx.prefix == "/tmp/lab/nginx/"
    assert traffic.nginx.verify_url == "http://127.0.0.1:8080/health"


def test_a_rejected_first_write_leaves_no_file_behind(fake_nginx: dict[str, Path]) -> None:
    broken = _router(fake_nginx, {**SERVERS, "green": ("bad:1",)})
    with pytest.raises(RouterError, match="nginx -t refused"):
        broken.apply({"green": 100})
    assert not fake_nginx["upstream.conf"].exists()
    assert not list(fake_nginx["upstream.conf"].parent.glob(".upstream.conf.*.tmp"))


def test_a_canary_that_crashes_during_its_hold_fails_the_gate() -> None:
    """A pool with nothing up has no figures to breach; the gate must still fail."""
    router = FakeRouter()
    crashed = replace(_pool(), healthy=0)
    result = _rollout(router, [_pool(), crashed, crashed]).run(lambda line: None)
    assert not result.ok
    assert result.details["reason"] == "green has no backend up (0/1)"
    assert router.weights == {"blue": 100.0, "green": 0.0}


def test_a_canary_on_an_engine_without_an_error_counter_is_judged_on_what_it_exposes() -> None:
    # SGLang has no error counter: its latency figures are the gate, and the line says so
    sglang = replace(_pool(error_rate=None), unexposed=MappingProxyType({"errors": "sglang"}))
    gate = SloGate(lambda: sglang, "standard", poll_s=0.005)
    reading = gate.read()
    assert "error rate n/a (sglang)" in reading.line and reading.has_data
    router = FakeRouter()
    result = Rollout(router, "green", gate, steps=(50, 100), hold_s=0.01).run(lambda line: None)
    assert result.ok and router.weights["green"] == 100.0
    # ... and still fails on a latency it does expose
    slow = replace(sglang, e2e=Quantiles(p95=40.0))
    assert SloGate(lambda: slow, "standard").read().breach == "green E2E p95 40s > 15s"
