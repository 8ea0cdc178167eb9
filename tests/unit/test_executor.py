"""The executor: read-only refuses, one mutation at a time, confirm first, audit everything."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tui.ops.actor import current_actor
from tui.ops.audit import AuditLog
from tui.ops.executor import ActionResult, Executor, Outcome, Plan, Progress, always


class TouchFile:
    """A real action: it writes a file (and can be told to wait, or to fail)."""

    kind = "test.touch"

    def __init__(self, path: Path, *, gate: threading.Event | None = None, fail: bool = False):
        self.path, self.gate, self.fail = path, gate, fail
        self.target = path.name

    def params(self) -> dict[str, Any]:
        return {"path": str(self.path)}

    def plan(self) -> Plan:
        return Plan(f"write {self.path.name}", (f"path: {self.path}",))

    def run(self, progress: Progress) -> ActionResult:
        progress("writing")
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            raise OSError("disk on fire\nsecond line")
        self.path.write_text("done")
        return ActionResult(True, f"wrote {self.path.name}")


async def no(action: object, plan: Plan) -> bool:
    return False


def events(audit: AuditLog) -> list[tuple[str, str]]:
    return [(r["event"], r.get("outcome") or r.get("reason", "")) for r in audit.tail(100)]


async def test_intent_then_result_with_actor_and_duration(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit, actor="alice@host (ssh from 10.0.0.9)")
    done = await executor.execute(TouchFile(tmp_path / "x"), always)
    assert done.outcome is Outcome.DONE and (tmp_path / "x").read_text() == "done"
    intent, result = audit.tail(2)
    assert intent["event"] == "intent" and intent["plan"] == ["write x", f"path: {tmp_path / 'x'}"]
    assert result["event"] == "result" and result["outcome"] == "done"
    assert intent["actor"] == result["actor"] == "alice@host (ssh from 10.0.0.9)"
    assert intent["action"] == "test.touch" and intent["params"] == {"path": str(tmp_path / "x")}
    assert result["duration_s"] >= 0 and result["time"] >= intent["time"]


async def test_read_only_refuses_and_is_audited(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit, read_only="--read-only")
    done = await executor.execute(TouchFile(tmp_path / "x"), always)
    assert done.outcome is Outcome.REFUSED and "read-only (--read-only)" in done.message
    assert not (tmp_path / "x").exists()
    assert events(audit) == [("refused", "refused: read-only (--read-only)")]


async def test_cancel_changes_nothing(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    done = await Executor(audit).execute(TouchFile(tmp_path / "x"), no)
    assert done.outcome is Outcome.CANCELLED and not (tmp_path / "x").exists()
    assert events(audit) == [("cancelled", "")]


async def test_failure_is_one_line_and_audited(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    done = await Executor(audit).execute(TouchFile(tmp_path / "x", fail=True), always)
    assert done.outcome is Outcome.FAILED
    assert done.message == "OSError: disk on fire second line"
    assert audit.tail(1)[0]["outcome"] == "failed"


async def test_a_second_mutation_while_the_first_runs_is_refused(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit, actor="bob@host")
    gate = threading.Event()
    first = asyncio.create_task(executor.execute(TouchFile(tmp_path / "a", gate=gate), always))
    await asyncio.sleep(0.2)
    second = await executor.execute(TouchFile(tmp_path / "b"), always)
    assert second.outcome is Outcome.REFUSED
    assert "another action is running (bob@host, pid" in second.message
    gate.set()
    assert (await first).ok and not (tmp_path / "b").exists()


async def test_another_process_holding_the_lock_refuses_too(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    lock = tmp_path / "mutation.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl,os,sys,time; fd=os.open(sys.argv[1], os.O_RDWR|os.O_CREAT);"
         "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'carol@other, pid 1');"
         "print('locked', flush=True); time.sleep(30)", str(lock)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        done = await Executor(audit).execute(TouchFile(tmp_path / "x"), always)
        assert done.outcome is Outcome.REFUSED and "carol@other" in done.message
    finally:
        holder.kill()
        holder.wait()
    assert (await Executor(audit).execute(TouchFile(tmp_path / "x"), always)).ok


def test_audit_is_append_only_and_skips_torn_lines(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.append({"event": "one"})
    before = (tmp_path / "audit.jsonl").read_bytes()
    with (tmp_path / "audit.jsonl").open("a") as handle:
        handle.write('{"event": "torn by a cra')  # a crash mid-write
    audit.append({"event": "two", "label": "$(touch /tmp/x)\x1b[31m"})
    data = (tmp_path / "audit.jsonl").read_bytes()
    assert data.startswith(before)
    assert [r["event"] for r in audit.tail(10)] == ["one", "two"]  # the torn line is skipped
    assert "\\u001b[31m" in data.decode()  # escapes are stored escaped, never raw


def test_actor_names_the_ssh_client() -> None:
    actor = current_actor({"USER": "dana", "SSH_CLIENT": "192.0.2.7 51234 22"})
    assert actor.startswith("dana@") and actor.endswith("(ssh from 192.0.2.7)")
    assert "ssh" not in current_actor({"USER": "dana"})


@pytest.mark.parametrize("count", [0, 1, 3])
def test_tail(tmp_path: Path, count: int) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    for i in range(5):
        audit.append({"event": "e", "i": i})
    assert [r["i"] for r in audit.tail(count)] == (list(range(5))[5 - count :] if count else [])
    assert json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[0])["i"] == 0


def test_audit_log_location_follows_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.config import Config
    from tui.ops.audit import audit_log_for

    monkeypatch.setenv("HOME", "/home/oncall")
    monkeypatch.setenv("XDG_STATE_HOME", "/var/state")
    assert audit_log_for(None).path == Path("/var/state/inferdeck/audit.jsonl")
    assert audit_log_for(Config(state_dir="~/st")).path == Path("/home/oncall/st/audit.jsonl")
    assert audit_log_for(Config(audit_log="~/a.jsonl")).path == Path("/home/oncall/a.jsonl")
