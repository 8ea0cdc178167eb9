"""Runbooks run for real: subprocesses, process groups, HTTP on loopback, the audit log."""

from __future__ import annotations

import argparse
import http.server
import os
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tui.commands.runbook import add_runbook_arguments, run_runbook
from tui.ops.audit import AuditLog
from tui.ops.executor import Action, Executor, Plan, always
from tui.ops.runbooks.catalog import from_runbooks
from tui.ops.runbooks.runner import CheckQuestion, RunbookEvent, Runbooks, StepOutcome
from tui.ops.runbooks.schema import parse_runbook
from tui.ops.traffic.weights import Applied, Rollback, SetWeights

PY = sys.executable


def make(tmp_path: Path, text: str, **kwargs: Any) -> tuple[Runbooks, Any, AuditLog]:
    runbook = parse_runbook(textwrap.dedent(text), str(tmp_path / "rb.yaml"))
    audit = AuditLog(tmp_path / "audit.jsonl")
    read_only = kwargs.pop("read_only", None)
    executor = Executor(audit, actor="tester@host", read_only=read_only)
    return Runbooks(executor, from_runbooks([runbook]), **kwargs), runbook, audit


def events(audit: AuditLog) -> list[tuple[str, str]]:
    return [(r["event"], r["target"]) for r in audit.tail(100)]


def touch(path: Path) -> str:
    return f"[{PY}, -c, 'import pathlib; pathlib.Path(\"{path}\").touch()']"


async def test_a_failing_step_stops_the_runbook_and_says_why(tmp_path: Path) -> None:
    third = tmp_path / "third"
    runbooks, runbook, audit = make(tmp_path, f"""\
        name: three
        steps:
          - {{name: first, run: [{PY}, -c, 'print("one")']}}
          - name: second
            run: [{PY}, -c, 'import sys; print("broken", file=sys.stderr); sys.exit(3)']
          - {{name: third, run: {touch(third)}}}
        """)  # fmt: skip
    report = await runbooks.run(runbook, confirm=always)
    assert not report.ok and report.stopped_at == "second" and report.reason == "exit status 3"
    assert [s.outcome for s in report.steps] == [
        StepOutcome.OK,
        StepOutcome.FAILED,
        StepOutcome.SKIPPED,
    ]
    assert report.steps[1].output == ("broken",)  # stderr is streamed too
    assert report.summary()[-1] == "three stopped at step 2 'second': exit status 3"
    assert not third.exists()
    assert events(audit) == [("intent", "three/first"), ("result", "three/first"),
                             ("intent", "three/second"), ("result", "three/second")]  # fmt: skip
    assert audit.tail(1)[0]["outcome"] == "failed" and audit.tail(1)[0]["action"] == "runbook.step"


async def test_continue_on_error_goes_on(tmp_path: Path) -> None:
    third = tmp_path / "third"
    runbooks, runbook, _ = make(tmp_path, f"""\
        name: three
        steps:
          - {{name: first, run: [true]}}
          - {{name: second, run: [false], continue_on_error: true}}
          - {{name: third, run: {touch(third)}}}
        """)  # fmt: skip
    report = await runbooks.run(runbook, confirm=always)
    assert third.exists() and report.ok and report.stopped_at is None
    assert report.steps[1].outcome is StepOutcome.FAILED and report.steps[1].continued


async def test_output_streams_line_by_line_while_the_step_runs(tmp_path: Path) -> None:
    # The step prints "first", then waits (up to 30 s) until the test has been told of that
    # line, and only then prints "second": told only at the step's end, it says so instead.
    seen_first = tmp_path / "seen-first"
    script = (
        f"import os, time; print('first', flush=True); "
        f"[time.sleep(0.02) for _ in range(1500) if not os.path.exists('{seen_first}')]; "
        f"print('second' if os.path.exists('{seen_first}') else 'first was not told', flush=True)"
    )
    runbooks, runbook, _ = make(tmp_path, f"""\
        name: slow
        steps:
          - name: talk
            run: [{PY}, -c, "{script}"]
        """)  # fmt: skip
    seen: list[RunbookEvent] = []
    threads: set[str] = set()

    def progress(event: RunbookEvent) -> None:
        seen.append(event)
        threads.add(threading.current_thread().name)
        if event.kind == "line" and event.text == "first":
            seen_first.touch()

    report = await runbooks.run(runbook, confirm=always, progress=progress)
    assert report.ok
    # "first" was told while the step was still running: the step waited for it
    assert [e.text for e in seen if e.kind == "line"] == ["first", "second"]
    assert [e.kind for e in seen] == ["start", "line", "line", "end"]
    assert threads == {threading.current_thread().name}  # always on the event loop's thread


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


async def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pid_file, after = tmp_path / "child.pid", tmp_path / "after"
    runbooks, runbook, _ = make(tmp_path, f"""\
        name: hang
        inputs:
          pid_file: {pid_file}
        steps:
          - name: hang
            shell: true
            run: 'sleep 60 & echo $! > "$1"; echo started; sleep 60; echo never'
            args: ["{{pid_file}}"]
            timeout: 1
          - {{name: after, run: {touch(after)}}}
        """)  # fmt: skip
    started = time.monotonic()
    report = await runbooks.run(runbook, confirm=always)
    assert time.monotonic() - started < 10
    step = report.steps[0]
    assert step.outcome is StepOutcome.FAILED and step.output == ("started",)
    assert step.message == "timed out after 1s: killed its process group"
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child), "the step's child outlived its timeout"
    assert not after.exists() and report.steps[1].outcome is StepOutcome.SKIPPED


class Health(http.server.BaseHTTPRequestHandler):
    """503 for the first ``failures`` requests, then 200 with ``body``."""

    failures = 0
    body = b"ok"
    seen = 0

    def do_GET(self) -> None:
        type(self).seen += 1
        ready = type(self).seen > type(self).failures
        payload = type(self).body if ready else b"loading"
        self.send_response(200 if ready else 503)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Health]]]:
    handler = type("H", (Health,), {"failures": 0, "seen": 0, "body": b"ok"})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


WAIT = """\
    name: wait
    inputs:
      url: {url}
    steps:
      - name: ready
        wait: {{url: "{{url}}/health", expect_status: 200, expect_body_contains: ok,
               interval: 0.1, timeout: {timeout}}}
    """


async def test_wait_until_the_server_answers(
    tmp_path: Path, server: tuple[str, type[Health]]
) -> None:
    url, handler = server
    handler.failures = 3
    runbooks, runbook, _ = make(tmp_path, WAIT.format(url=url, timeout=10))
    lines: list[str] = []
    report = await runbooks.run(runbook, confirm=always, progress=lambda e: lines.append(e.text))
    assert report.ok, report.summary()
    assert (
        handler.seen == 4 and "answered as expected after 4 attempt(s)" in report.steps[0].message
    )
    assert any("status 503 (want 200)" in line for line in lines)


async def test_wait_times_out_saying_what_it_last_saw(
    tmp_path: Path, server: tuple[str, type[Health]]
) -> None:
    url, handler = server
    handler.body = b"starting"  # 200, but never the expected text
    runbooks, runbook, _ = make(tmp_path, WAIT.format(url=url, timeout=0.5))
    started = time.monotonic()
    report = await runbooks.run(runbook, confirm=always)
    assert time.monotonic() - started < 5
    assert report.stopped_at == "ready"
    assert report.reason == "timed out after 0.5s: status 200 but the body lacks 'ok'"


async def test_dry_run_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    runbooks, runbook, audit = make(tmp_path, f"""\
        name: dry
        steps:
          - {{name: touch, run: {touch(marker)}}}
          - {{name: shell, shell: true, run: 'touch "$1"', args: ["{marker}"]}}
          - {{name: check, check: 'fine?'}}
        """)  # fmt: skip
    previews = runbooks.dry_run(runbook)
    assert f"$ touch {marker}" not in previews[0].lines  # the exact argv, python's, is shown:
    assert previews[0].lines[0].startswith(f"$ {PY} -c ")
    assert previews[1].lines[-2] == f"  $1={marker}"
    assert not marker.exists() and audit.tail(10) == []


HOSTILE = [
    "$(touch {m})",
    "; touch {m}",
    "`touch {m}`",
    "| touch {m}",
    "&& touch {m} #",
    "'\"; touch {m}",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_hostile_inputs_are_inert(tmp_path: Path, value: str) -> None:
    marker = tmp_path / "pwned"
    evil = value.format(m=marker)
    runbooks, runbook, _ = make(tmp_path, """\
        name: inert
        inputs:
          value: harmless
        steps:
          - {name: echo, run: [echo, "{value}"]}
          - {name: shell, shell: true, run: 'printf "%s\\n" "$1"', args: ["{value}"]}
          - {name: env, shell: true, run: 'printf "%s\\n" "$VALUE"', env: {VALUE: "{value}"}}
        """)  # fmt: skip
    report = await runbooks.run(runbook, {"value": evil}, confirm=always)
    assert report.ok, report.summary()
    assert [s.output for s in report.steps] == [(evil,), (evil,), (evil,)]
    assert not marker.exists()


class FakeAction:
    def __init__(self, kind: str, target: str, log: list[str]) -> None:
        self.kind, self.target, self.log = kind, target, log

    def params(self) -> dict[str, Any]:
        return {}

    def plan(self) -> Plan:
        return Plan(f"{self.kind} {self.target}", dangerous=True, confirm_text=self.target)

    def run(self, progress: Any) -> Any:
        from tui.ops.executor import ActionResult

        self.log.append(f"{self.kind} {self.target}")
        progress(f"{self.kind} {self.target}: done")
        return ActionResult(True, f"{self.kind} done")


class FakeOps:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.container = lambda verb, name: FakeAction(f"container.{verb}", name, self.log)
        self.set_weights = None
        self.rollback = None


async def test_read_only_refuses_every_step_and_audits_it(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    ops = FakeOps()
    runbooks, runbook, audit = make(tmp_path, f"""\
        name: ro
        steps:
          - {{name: touch, run: {touch(marker)}, continue_on_error: true}}
          - {{name: check, check: 'fine?', continue_on_error: true}}
          - {{name: restart, container: {{action: restart, name: vllm}}, continue_on_error: true}}
        """, ops=ops, read_only="--read-only")  # fmt: skip
    asked: list[CheckQuestion] = []

    async def ask(question: CheckQuestion) -> bool:
        asked.append(question)
        return True

    report = await runbooks.run(runbook, confirm=always, ask_check=ask)
    assert [s.outcome for s in report.steps] == [StepOutcome.REFUSED] * 3 and not report.ok
    assert all(s.message == "refused: read-only (--read-only)" for s in report.steps)
    assert events(audit) == [("refused", "ro/touch"), ("refused", "ro/check"),
                             ("refused", "ro/restart")]  # fmt: skip
    assert not marker.exists() and not asked and not ops.log


async def test_checks_are_asked_and_a_no_stops(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    runbooks, runbook, audit = make(tmp_path, f"""\
        name: checks
        inputs:
          pool: green
        steps:
          - {{name: one, check: "is {{pool}} fine?"}}
          - {{name: two, check: 'really?'}}
          - {{name: touch, run: {touch(marker)}}}
        """)  # fmt: skip
    answers = iter([True, False])
    prompts: list[str] = []
    confirmed: list[str] = []

    async def ask(question: CheckQuestion) -> bool:
        prompts.append(question.prompt)
        return next(answers)

    async def confirm(action: Action, plan: Plan) -> bool:
        confirmed.append(action.target)
        return True

    report = await runbooks.run(runbook, confirm=confirm, ask_check=ask)
    assert prompts == ["is green fine?", "really?"] and confirmed == []  # no double question
    assert [s.outcome for s in report.steps] == [
        StepOutcome.OK,
        StepOutcome.FAILED,
        StepOutcome.SKIPPED,
    ]
    assert report.reason == "the operator did not confirm: really?" and not marker.exists()
    results = [r for r in audit.tail(10) if r["event"] == "result"]
    assert [r["params"]["answer"] for r in results] == [True, False]


async def test_operator_declining_a_step_stops_the_runbook(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    runbooks, runbook, audit = make(
        tmp_path, f"name: declined\nsteps:\n  - {{name: t, run: {touch(marker)}}}\n"
    )

    async def no(action: Action, plan: Plan) -> bool:
        return False

    report = await runbooks.run(runbook, confirm=no)
    assert report.steps[0].outcome is StepOutcome.CANCELLED and not marker.exists()
    assert events(audit) == [("cancelled", "declined/t")]


async def test_cancel_kills_the_running_step(tmp_path: Path) -> None:
    import asyncio

    runbooks, runbook, _ = make(tmp_path, f"""\
        name: long
        steps:
          - {{name: sleep, run: [sleep, "30"]}}
          - {{name: after, run: {touch(tmp_path / "after")}}}
        """)  # fmt: skip
    started = time.monotonic()
    task = asyncio.create_task(runbooks.run(runbook, confirm=always))
    await asyncio.sleep(0.5)
    assert runbooks.running == "long"
    runbooks.cancel()
    report = await task
    assert time.monotonic() - started < 10 and runbooks.running is None
    assert [s.outcome for s in report.steps] == [StepOutcome.CANCELLED, StepOutcome.SKIPPED]


class MemoryRouter:
    """A router in memory, for tui.ops.traffic.weights's real SetWeights and Rollback."""

    kind, where = "memory", "here"

    def __init__(self) -> None:
        self.weights = {"blue": 100.0, "green": 0.0}

    def pools(self) -> tuple[str, ...]:
        return ("blue", "green")

    def current(self) -> dict[str, float]:
        return dict(self.weights)

    def apply(self, weights: Mapping[str, float], progress: Any = None) -> Applied:
        self.weights = dict(weights)
        if progress is not None:
            progress("applied")
        return Applied(dict(weights))

    def describe(self, weights: Mapping[str, float]) -> tuple[str, ...]:
        return (f"write {dict(weights)}",)


async def test_container_and_traffic_steps_run_the_real_actions(tmp_path: Path) -> None:
    router, ops = MemoryRouter(), FakeOps()
    ops.set_weights = lambda w: SetWeights(router, w)  # type: ignore[assignment]
    ops.rollback = lambda: Rollback(router, "blue")  # type: ignore[assignment]
    runbooks, runbook, audit = make(tmp_path, """\
        name: deploy
        inputs: {canary: green}
        steps:
          - {name: restart, container: {action: restart, name: "vllm-{canary}"}}
          - {name: shift, traffic: {set: {blue: 90, "{canary}": 10}}}
          - {name: back, traffic: {rollback: true}}
        """, ops=ops)  # fmt: skip
    plans: list[Plan] = []

    async def confirm(action: Action, plan: Plan) -> bool:
        plans.append(plan)
        return True

    lines: list[str] = []
    report = await runbooks.run(runbook, confirm=confirm, progress=lambda e: lines.append(e.text))
    assert report.ok, report.summary()
    assert ops.log == ["container.restart vllm-green"] and router.weights["blue"] == 100.0
    assert plans[0].dangerous and plans[0].confirm_text == "vllm-green"  # the inner plan's
    assert plans[2].dangerous and plans[2].confirm_text == "blue"
    assert "container.restart vllm-green: done" in lines and "applied" in lines
    result = [r for r in audit.tail(10) if r["event"] == "result"][1]
    assert result["details"]["action"] == "traffic.set" and result["target"] == "deploy/shift"


def cli_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("-c", "--config", default=argparse.SUPPRESS)
        sub.add_argument("--yes", action="store_true", default=argparse.SUPPRESS)
        sub.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS)

    add_runbook_arguments(parser, common=common)
    return parser.parse_args(argv)


def test_cli_runs_through_the_audited_executor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    books, marker = tmp_path / "books", tmp_path / "marker"
    books.mkdir()
    (books / "mine.yaml").write_text(textwrap.dedent(f"""\
        name: mine
        steps:
          - {{name: hello, run: [echo, hello]}}
          - {{name: touch, run: {touch(marker)}}}
        """))  # fmt: skip
    audit = tmp_path / "audit.jsonl"
    config = tmp_path / "inferdeck.yaml"
    config.write_text(f"runbooks_dir: {books}\naudit_log: {audit}\n")
    assert run_runbook(cli_args(["run", "mine", "-c", str(config), "--read-only"])) == 1
    assert not marker.exists()
    assert [r["event"] for r in AuditLog(audit).tail(10)] == ["refused"]
    assert run_runbook(cli_args(["run", "mine", "-c", str(config), "--yes"])) == 0
    out = capsys.readouterr().out
    assert "    hello" in out and "mine: all 2 steps ok" in out and marker.exists()
    os.unlink(marker)
    config.write_text(f"runbooks_dir: {books}\naudit_log: {audit}\nread_only: true\n")
    assert run_runbook(cli_args(["run", "mine", "-c", str(config), "--yes"])) == 1
    assert not marker.exists()


def test_cli_json_is_only_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    books = tmp_path / "books"
    books.mkdir()
    (books / "m.yaml").write_text("name: m\nsteps:\n  - {name: hi, run: [echo, hi]}\n")
    config = tmp_path / "c.yaml"
    config.write_text(f"runbooks_dir: books\naudit_log: {tmp_path / 'a.jsonl'}\n")
    args = cli_args(["run", "m", "-c", str(config), "--yes"])
    args.json = True
    assert run_runbook(args) == 0
    captured = capsys.readouterr()
    body = json.loads(captured.out)
    assert body["ok"] and body["steps"][0]["outcome"] == "ok" and "    hi" in captured.err
