"""Rollback is never blocked (issue 8): confirmations hold no lock and expire, a rollback
preempts a running rollout (in this process or another), a stale confirmation is
cancelled, a rollout stopped from outside puts back its starting split, every audit
record of one execution shares an id, and the lock and the trail are the machine's."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_traffic import FakeRouter, _pool, _rollout
from tui.config import Config
from tui.ops.audit import AuditLog
from tui.ops.executor import ActionResult, Executor, Outcome, Plan, Progress, Stop, always
from tui.ops.places import places_for
from tui.ops.traffic.weights import Rollback


class Slow:
    """A rollout-like interruptible action: holds until interrupted (or ``hold_s``)."""

    kind = "test.slow"
    target = "canary"

    def __init__(self, hold_s: float = 30.0) -> None:
        self.hold_s = hold_s
        self.cancel = threading.Event()
        self.started = threading.Event()
        self.stopped: tuple[Stop, str] | None = None

    def params(self) -> dict[str, Any]:
        return {}

    def plan(self) -> Plan:
        return Plan("hold")

    def interrupt(self, stop: Stop, reason: str) -> None:
        self.stopped = (stop, reason)
        self.cancel.set()

    def run(self, progress: Progress) -> ActionResult:
        self.started.set()
        if self.cancel.wait(self.hold_s):
            assert self.stopped is not None
            return ActionResult(False, f"stopped: {self.stopped[1]}")
        return ActionResult(True, "held")


class Note:
    """An action whose plan reads a file (so what ran meanwhile can make it stale)."""

    kind = "test.note"

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text, self.target = path, text, path.name

    def params(self) -> dict[str, Any]:
        return {"text": self.text}

    def plan(self) -> Plan:
        before = self.path.read_text() if self.path.exists() else "nothing"
        return Plan(f"{before} → {self.text}")

    def run(self, progress: Progress) -> ActionResult:
        self.path.write_text(self.text)
        return ActionResult(True, f"wrote {self.text}")


class Waiting:
    """A confirmation that answers when told to (a person reading the plan)."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    async def __call__(self, action: object, plan: Plan) -> bool:
        self.asked.set()
        return await self.answer


async def test_an_open_confirmation_holds_no_lock(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    first, second = Executor(audit, actor="ann@h"), Executor(audit, actor="bob@h")
    waiting = Waiting()
    pending = asyncio.create_task(first.execute(Note(tmp_path / "a", "A"), waiting))
    await waiting.asked.wait()
    done = await second.execute(Note(tmp_path / "b", "B"), always)  # another console
    assert done.ok, done.message
    waiting.answer.set_result(True)
    assert (await pending).ok


async def test_an_unanswered_confirmation_expires_cancelled_and_audited(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit, confirm_timeout_s=0.2)
    began = time.monotonic()
    done = await executor.execute(Note(tmp_path / "a", "A"), Waiting())
    assert done.outcome is Outcome.CANCELLED and "expired after 0.2s" in done.message
    assert time.monotonic() - began < 2 and not (tmp_path / "a").exists()
    (record,) = audit.tail(5)
    assert record["event"] == "cancelled" and "expired" in record["reason"]
    assert Executor(AuditLog(tmp_path / "x.jsonl")).confirm_timeout_s == 60


async def test_intent_and_result_share_one_id(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit)
    one = await executor.execute(Note(tmp_path / "a", "A"), always)
    two = await executor.execute(Note(tmp_path / "a", "B"), always)
    records = audit.tail(4)
    assert [r["id"] for r in records] == [one.action_id] * 2 + [two.action_id] * 2
    assert len(one.action_id) == 32 and one.action_id != two.action_id


async def test_rollback_in_the_same_process_preempts_a_running_rollout(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit)
    router = FakeRouter()
    rollout = _rollout(router, [_pool()], steps=(10, 50, 100), hold_s=30)
    running = asyncio.create_task(executor.execute(rollout, always))
    while router.weights["green"] != 10:
        await asyncio.sleep(0.01)
    began = time.monotonic()
    back = await executor.execute(Rollback(router, "blue"), always)
    took = time.monotonic() - began
    assert back.ok, back.message
    assert took < 1.0, took
    stopped = await asyncio.wait_for(running, 2)
    assert stopped.outcome is Outcome.PREEMPTED
    assert "preempted by rollback" in stopped.message
    assert router.weights == {"blue": 100.0, "green": 0.0}
    assert router.applied[-1] == {"blue": 100.0, "green": 0.0}  # the rollback's, last
    result = [r for r in audit.tail(10) if r["action"] == "traffic.rollout"][-1]
    assert result["outcome"] == "preempted"
    assert result["details"]["preempted_by"] == back.action_id


HOLDER = """
import asyncio, sys, threading
sys.path.insert(0, sys.argv[3])
from tests.unit.test_preempt import Slow
from tui.ops.audit import AuditLog
from tui.ops.executor import Executor, always
action = Slow()
threading.Thread(target=lambda: (action.started.wait(), print("running", flush=True))).start()
executor = Executor(AuditLog(sys.argv[1]), lock_path=__import__("pathlib").Path(sys.argv[2]))
done = asyncio.run(executor.execute(action, always))
print(done.outcome.value, done.message, flush=True)
"""


async def test_rollback_from_another_process_preempts_within_a_second(tmp_path: Path) -> None:
    audit_path, lock = tmp_path / "audit.jsonl", tmp_path / "mutation.lock"
    root = str(Path(__file__).resolve().parents[2])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(audit_path), str(lock), root],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "running"
        router = FakeRouter({"blue": 50.0, "green": 50.0})
        executor = Executor(AuditLog(audit_path), lock_path=lock)
        other = await executor.execute(Note(tmp_path / "n", "x"), always)
        assert other.outcome is Outcome.REFUSED and "test.slow canary" in other.message
        began = time.monotonic()
        back = await executor.execute(Rollback(router, "blue"), always)
        took = time.monotonic() - began
        assert back.ok and router.weights == {"blue": 100.0, "green": 0.0}
        assert took < 1.0, took  # the holder stopped: no waiting out the bound
        assert back.result is not None and "preempted" in back.result.details["preempting"]
        line = await asyncio.to_thread(holder.stdout.readline)
        assert line.startswith("preempted stopped: preempted by rollback")
    finally:
        holder.kill()
        holder.wait()
    records = AuditLog(audit_path).tail(20)
    slow = [r for r in records if r["action"] == "test.slow" and r["event"] == "result"]
    assert slow[0]["outcome"] == "preempted"


async def test_a_second_rollback_while_one_runs_is_refused(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit)
    gate = threading.Event()

    class SlowRouter(FakeRouter):
        def apply(self, weights: Any, progress: Any = None) -> Any:
            gate.wait(5)
            return super().apply(weights, progress)

    router = SlowRouter({"blue": 0.0, "green": 100.0})
    first = asyncio.create_task(executor.execute(Rollback(router, "blue"), always))
    await asyncio.sleep(0.2)
    second = await executor.execute(Rollback(router, "blue"), always)
    gate.set()
    assert second.outcome is Outcome.REFUSED and "another rollback is running" in second.message
    assert (await first).ok and len(router.applied) == 1


async def test_a_confirmation_made_stale_by_another_action_is_cancelled(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    target = tmp_path / "weights"
    target.write_text("90/10")
    waiting = Waiting()
    pending = asyncio.create_task(Executor(audit).execute(Note(target, "50/50"), waiting))
    await waiting.asked.wait()
    assert (await Executor(audit).execute(Note(target, "100/0"), always)).ok  # a rollback
    waiting.answer.set_result(True)
    done = await pending
    assert done.outcome is Outcome.CANCELLED and "test.note weights ran while" in done.message
    assert target.read_text() == "100/0"
    assert audit.tail(1)[0]["event"] == "cancelled"
    # nothing ran meanwhile: the same confirmation goes ahead
    again = Waiting()
    later = asyncio.create_task(Executor(audit).execute(Note(target, "50/50"), again))
    await again.asked.wait()
    again.answer.set_result(True)
    assert (await later).ok and target.read_text() == "50/50"


async def test_a_rollback_confirmation_is_never_stale(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    router = FakeRouter({"blue": 90.0, "green": 10.0})
    waiting = Waiting()
    pending = asyncio.create_task(Executor(audit).execute(Rollback(router, "blue"), waiting))
    await waiting.asked.wait()
    assert (await Executor(audit).execute(Note(tmp_path / "n", "x"), always)).ok
    router.weights = {"blue": 50.0, "green": 50.0}  # a rollout step meanwhile
    waiting.answer.set_result(True)
    assert (await pending).ok and router.weights == {"blue": 100.0, "green": 0.0}


def test_a_hangup_puts_back_the_split_the_rollout_started_from() -> None:
    router = FakeRouter({"blue": 90.0, "green": 10.0})
    rollout = _rollout(router, [_pool()], steps=(50, 100), hold_s=30)
    threading.Timer(0.2, rollout.interrupt, (Stop.RESTORE, "hangup (SIGHUP)")).start()
    began = time.monotonic()
    result = rollout.run(lambda line: None)
    assert time.monotonic() - began < 1
    assert not result.ok and router.weights == {"blue": 90.0, "green": 10.0}
    assert "hangup (SIGHUP); put back blue 90%, green 10%" in result.message
    assert result.details["started_from"] == {"blue": 90.0, "green": 10.0}


async def test_a_cancelled_execution_stops_the_rollout_and_records_its_result(
    tmp_path: Path,
) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    router = FakeRouter()
    rollout = _rollout(router, [_pool()], steps=(10, 100), hold_s=30)
    task = asyncio.create_task(Executor(audit).execute(rollout, always))
    while router.weights["green"] != 10:
        await asyncio.sleep(0.01)
    task.cancel()  # the TUI exiting cancels its workers
    with pytest.raises(asyncio.CancelledError):
        await task
    assert router.weights == {"blue": 100.0, "green": 0.0}
    intent, result = audit.tail(2)
    assert result["event"] == "result" and result["id"] == intent["id"]
    assert "inferdeck stopped while it ran; put back blue 100%" in result["message"]


def test_lock_and_audit_are_the_machines_when_the_shared_folder_is_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("INFERDECK_SHARED_DIR", str(shared))
    places = places_for(None)
    assert (places.audit, places.lock, places.note) == (
        shared / "audit.jsonl",
        shared / "mutation.lock",
        None,
    )
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "other-user"))
    assert places_for(Config(state_dir=str(tmp_path / "st"))).audit == shared / "audit.jsonl"
    explicit = places_for(Config(audit_log=str(tmp_path / "a.jsonl"), lock_file="/run/x.lock"))
    assert (explicit.audit, explicit.lock) == (tmp_path / "a.jsonl", Path("/run/x.lock"))


def test_without_a_usable_shared_folder_they_fall_back_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("INFERDECK_SHARED_DIR", str(tmp_path / "absent"))
    places = places_for(None)
    own = tmp_path / "state" / "inferdeck"
    assert (places.audit, places.lock) == (own / "audit.jsonl", own / "mutation.lock")
    assert places.note is not None and str(tmp_path / "absent") in places.note
    assert "this user's own" in places.note
    assert places_for(Config(audit_log="/a.jsonl", lock_file="/b.lock")).note is None


def test_the_config_names_the_lock_file(tmp_path: Path) -> None:
    from tui.config import load_config

    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"lock_file": "/run/inferdeck/lock", "audit_log": "/x.jsonl"}))
    assert load_config(path).lock_file == "/run/inferdeck/lock"
