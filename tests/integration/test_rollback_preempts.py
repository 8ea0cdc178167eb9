"""Issue 8 against the lab's real nginx: a rollback from a second console preempts a
running rollout; a hangup or terminate puts back the starting split; ``traffic show``
tells the file from what nginx was last verified to serve; the audit trail pairs intent
and result by id and is the machine's shared one (or says it is not)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration import test_traffic
from tests.integration.test_lab import REPO
from tests.integration.test_traffic import TRAFFIC, send_through_nginx
from tui.ops.files import write_atomic
from tui.ops.traffic.upstream import parse_upstream, render_upstream

pytestmark = pytest.mark.integration
lab = test_traffic.lab  # the fixture: a lab of this module's own, without load


def env_for(lab: dict[str, Any], **extra: str) -> dict[str, str]:
    """The shared folder is the lab's own (never the real /var/lib)."""
    shared = lab["state"] / "shared"
    shared.mkdir(exist_ok=True)
    return {**os.environ, "XDG_STATE_HOME": str(lab["state"]),
            "INFERDECK_SHARED_DIR": str(shared), **extra}  # fmt: skip


def run(lab: dict[str, Any], *args: Any, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TRAFFIC, *map(str, args), "-c", str(lab["config"])],
        capture_output=True, text=True, timeout=120, cwd=REPO, env=env_for(lab, **env),
        check=False,
    )  # fmt: skip


def start_rollout(
    lab: dict[str, Any], spawn: Callable[..., subprocess.Popen[str]]
) -> subprocess.Popen[str]:
    """``traffic rollout green --steps 10,50,100 --hold 60s --yes``, once it holds at 10 %;
    stopped by PID after the test."""
    argv = [*TRAFFIC, "rollout", "green", "--steps", "10,50,100", "--hold", "60s", "--yes"]
    rollout = spawn(
        [*argv, "-c", str(lab["config"])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env_for(lab),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while weights(lab)["green"] != 10:
        assert rollout.poll() is None, rollout.communicate()
        assert time.monotonic() < deadline, "the rollout never reached its first step"
        time.sleep(0.05)
    time.sleep(0.3)  # into the hold
    return rollout


def weights(lab: dict[str, Any]) -> dict[str, float]:
    return parse_upstream(lab["upstream"].read_text()).weights


def shared_audit(lab: dict[str, Any]) -> list[dict[str, Any]]:
    path = lab["state"] / "shared" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_rollback_from_a_second_console_preempts_a_running_rollout(
    lab: dict[str, Any], spawn: Callable[..., subprocess.Popen[str]]
) -> None:
    assert run(lab, "set", "blue=100", "--yes").returncode == 0
    rollout = start_rollout(lab, spawn)
    try:
        began = time.monotonic()
        back = run(lab, "rollback", "--yes")
        took = time.monotonic() - began
        assert back.returncode == 0, back.stderr
        assert "rolled back: blue 100%, green 0%" in back.stdout
        assert weights(lab) == {"blue": 100.0, "green": 0.0}
        _, err = rollout.communicate(timeout=10)
    finally:
        rollout.kill()
    print(f"rollback from a second console during a rollout: {took:.2f}s (whole process)")
    assert took < 2.0, took
    assert rollout.returncode == 1 and "preempted by rollback" in err
    assert send_through_nginx(lab, 40)["green"] == 0
    records = shared_audit(lab)
    rolled = [r for r in records if r["action"] == "traffic.rollout"][-2:]
    assert [r["event"] for r in rolled] == ["intent", "result"]
    assert rolled[0]["id"] == rolled[1]["id"] and rolled[1]["outcome"] == "preempted"
    rollback = [r for r in records if r["action"] == "traffic.rollback"][-1]
    assert rolled[1]["details"]["preempted_by"] == rollback["id"]
    assert weights(lab) == {"blue": 100.0, "green": 0.0}  # the rollout touched nothing after


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_a_hangup_or_terminate_puts_back_the_starting_split(
    lab: dict[str, Any], sig: signal.Signals, spawn: Callable[..., subprocess.Popen[str]]
) -> None:
    assert run(lab, "set", "blue=100", "--yes").returncode == 0
    rollout = start_rollout(lab, spawn)
    try:
        rollout.send_signal(sig)
        rollout.communicate(timeout=10)
    finally:
        rollout.kill()
    assert rollout.returncode == 1
    assert weights(lab) == {"blue": 100.0, "green": 0.0}
    intent, result = [r for r in shared_audit(lab) if r["action"] == "traffic.rollout"][-2:]
    assert (intent["event"], result["event"], result["id"]) == ("intent", "result", intent["id"])
    assert f"{sig.name} received; put back blue 100%, green 0%" in result["message"]


def test_show_tells_the_written_split_from_the_served_one(lab: dict[str, Any]) -> None:
    assert run(lab, "set", "blue=90", "green=10", "--yes").returncode == 0
    shown = json.loads(run(lab, "show", "--json").stdout)
    assert shown["differs"] is False and shown["served"]["weights"] == shown["written"]
    nginx = lab["traffic"].nginx
    # kill -9 between the rename and the reload: the file is new, nginx serves the old one
    write_atomic(lab["upstream"], render_upstream(nginx.upstream_name, nginx.servers,
                                                  {"blue": 50.0, "green": 50.0}))  # fmt: skip
    shown = json.loads(run(lab, "show", "--json").stdout)
    assert shown["written"] == {"blue": 50.0, "green": 50.0}
    assert shown["served"]["weights"] == {"blue": 90.0, "green": 10.0}
    assert shown["differs"] is True
    text = run(lab, "show").stdout
    assert "DIFFERS: the file says blue 50%, green 50%" in text and "blue 90%, green 10%" in text
    assert run(lab, "set", "blue=100", "--yes").returncode == 0
    assert "served: the same" in run(lab, "show").stdout


def test_audit_tail_pairs_intent_and_result_and_shows_the_message(lab: dict[str, Any]) -> None:
    assert run(lab, "set", "blue=100", "--yes").returncode == 0
    tail = subprocess.run(
        [*TRAFFIC[:-1], "audit", "--tail", "2", "-c", str(lab["config"])],
        capture_output=True, text=True, timeout=60, cwd=REPO, env=env_for(lab), check=False,
    )  # fmt: skip
    intent, result = tail.stdout.splitlines()
    assert intent.split()[2] == result.split()[2]  # the same id
    assert " intent " in intent and " result " in result
    assert result.endswith("traffic: blue 100%, green 0% (was blue 100%, green 0%)")


def test_without_a_shared_folder_the_trail_is_the_users_and_it_says_so(
    lab: dict[str, Any], tmp_path: Path
) -> None:
    own = tmp_path / "state"
    done = run(lab, "set", "blue=100", "--yes", XDG_STATE_HOME=str(own),
               INFERDECK_SHARED_DIR=str(tmp_path / "absent"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    (note,) = done.stderr.splitlines()
    assert note.startswith("inferdeck: note:") and str(tmp_path / "absent") in note
    assert (own / "inferdeck" / "audit.jsonl").exists()
    assert (own / "inferdeck" / "mutation.lock").exists()
    shared = run(lab, "set", "blue=100", "--yes")
    assert shared.returncode == 0 and shared.stderr == ""
    assert shared_audit(lab)[-1]["action"] == "traffic.set"
