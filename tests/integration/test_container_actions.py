"""Container actions through the executor and the CLI, on a real podman (Docker API).

The module runs ``acts-web-1`` (compose project ``acts``: the stack) and ``outsider``
(no compose labels). Each test leaves both running.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.podman_fixture import podman_engine  # noqa: F401
from tui.commands.containers import add_containers_arguments, run_containers
from tui.lab.podman import BASE_IMAGE, PodmanEngine
from tui.model import Container
from tui.ops.audit import AuditLog
from tui.ops.containers.actions import (
    RestartContainer,
    StartContainer,
    StopContainer,
    container_action_factory,
)
from tui.ops.executor import Action, Executor, Outcome, Plan, always
from tui.sources.docker import DockerSource

pytestmark = pytest.mark.integration

WEB, OUTSIDER = "acts-web-1", "outsider"
LOOP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]


@pytest.fixture(scope="module")
def engine(podman_engine: PodmanEngine) -> Iterator[PodmanEngine]:  # noqa: F811
    """The engine with the stack's container and an outsider, both running."""
    podman_engine.run_backend(WEB, LOOP, project="acts", service="web")
    podman_engine.run_backend(OUTSIDER, LOOP)
    yield podman_engine


def _source(engine: PodmanEngine) -> DockerSource:
    return DockerSource(engine.url, compose_project="acts", timeout_s=10.0)


def _now(engine: PodmanEngine, name: str) -> Container:
    everyone = DockerSource(engine.url, name_patterns=("*",), timeout_s=10.0)
    return next(c for c in everyone.list_containers_sync() if c.name == name)


async def _typing_the_name(action: Action, plan: Plan) -> bool:
    """The operator reads the plan and types the name when asked to."""
    assert plan.confirm_text == (action.target if plan.dangerous else "")
    return True


async def test_restart_stop_start_through_the_executor(
    engine: PodmanEngine, tmp_path: Path
) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit, actor="alice@host")
    source = _source(engine)
    before = {c.name: c for c in source.list_containers_sync()}[WEB]
    make = container_action_factory(source)

    restart = make("restart", WEB)
    assert isinstance(restart, RestartContainer)
    plan = restart.plan()
    assert plan.title == f"Restart container {WEB}" and plan.dangerous and plan.confirm_text == WEB
    assert f"image: {BASE_IMAGE}" in plan.lines and "state now: running" in plan.lines
    assert any(line.startswith('compose: project "acts", service "web"') for line in plan.lines)
    done = await executor.execute(restart, _typing_the_name)
    assert done.ok, done.message
    after = _now(engine, WEB)
    assert after.state == "running"
    assert before.started_at is not None and after.started_at is not None
    assert after.started_at > before.started_at
    assert done.result is not None and done.result.details["started_at"] == after.started_at

    stop = StopContainer(source, WEB, timeout_s=5)
    assert stop.plan().dangerous and stop.plan().confirm_text == WEB
    done = await executor.execute(stop, _typing_the_name)
    assert done.ok and done.message == f"stop {WEB}: now exited", done.message
    assert _now(engine, WEB).state == "exited"

    start = StartContainer(source, WEB)
    assert not start.plan().dangerous and "state now: exited" in start.plan().lines
    done = await executor.execute(start, _typing_the_name)
    assert done.ok and _now(engine, WEB).state == "running", done.message

    records = [(r["action"], r["event"], r.get("outcome")) for r in audit.tail(20)]
    assert records == [
        ("container.restart", "intent", None), ("container.restart", "result", "done"),
        ("container.stop", "intent", None), ("container.stop", "result", "done"),
        ("container.start", "intent", None), ("container.start", "result", "done"),
    ]  # fmt: skip
    assert audit.tail(6)[0]["params"]["image"] == BASE_IMAGE


async def test_a_container_outside_the_stack_is_refused(
    engine: PodmanEngine, tmp_path: Path
) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    executor = Executor(audit, actor="alice@host")
    stop = StopContainer(_source(engine), OUTSIDER, timeout_s=1)
    assert "not in the stack's last listing" in " ".join(stop.plan().lines)
    done = await executor.execute(stop, always)
    assert done.outcome is Outcome.FAILED
    assert "not one of the stack's containers" in done.message and "\n" not in done.message
    assert _now(engine, OUTSIDER).state == "running"
    intent, result = audit.tail(2)
    assert intent["event"] == "intent" and result["outcome"] == "failed"


# --- the command line -----------------------------------------------------------------------


def _cli(
    tmp_path: Path, engine: PodmanEngine, argv: list[str], stdin: str = ""
) -> tuple[int, str, str]:
    """``inferdeck containers ARGV`` with a config naming the engine and project ``acts``."""
    config = tmp_path / "inferdeck.yaml"
    body = {
        "sources": {"docker": {"url": engine.url, "compose_project": "acts"}},
        "state_dir": str(tmp_path / "state"),
    }
    config.write_text(json.dumps(body))
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", "--config")
    for flag in ("--read-only", "--yes", "--json"):
        parser.add_argument(flag, action="store_true")
    add_containers_arguments(parser)
    args = parser.parse_args(["-c", str(config), *argv])
    out, err = io.StringIO(), io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run_containers(args)
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def test_cli_list_stop_start_with_typed_name_and_read_only(
    engine: PodmanEngine, tmp_path: Path
) -> None:
    code, out, err = _cli(tmp_path, engine, ["list", "--json"])
    assert code == 0, err
    assert [(c["name"], c["state"], c["service"]) for c in json.loads(out)] == [
        (WEB, "running", "web")
    ]
    code, out, err = _cli(tmp_path, engine, ["stop", WEB], stdin="y\n")
    assert code == 1 and "cancelled" in err and f"Type {WEB} to go ahead" in err
    assert _now(engine, WEB).state == "running"
    code, out, err = _cli(tmp_path, engine, ["stop", WEB], stdin=f"{WEB}\n")
    assert code == 0 and out == f"stop {WEB}: now exited\n", err
    assert _now(engine, WEB).state == "exited"
    code, out, err = _cli(tmp_path, engine, ["start", WEB, "--read-only", "--yes"])
    assert code == 1 and "refused: read-only (--read-only)" in err
    assert _now(engine, WEB).state == "exited"
    code, out, err = _cli(tmp_path, engine, ["start", WEB], stdin="y\n")
    assert code == 0 and _now(engine, WEB).state == "running", err
    code, out, err = _cli(tmp_path, engine, ["restart", OUTSIDER, "--yes"])
    assert code == 1 and "not one of the stack's containers" in err
    code, out, err = _cli(tmp_path, engine, ["restart"])
    assert code == 2 and "needs the container's NAME" in err
    events = [
        (r["action"], r["event"]) for r in AuditLog(tmp_path / "state" / "audit.jsonl").tail(20)
    ]
    assert events == [
        ("container.stop", "cancelled"),
        ("container.stop", "intent"), ("container.stop", "result"),
        ("container.start", "refused"),
        ("container.start", "intent"), ("container.start", "result"),
        ("container.restart", "intent"), ("container.restart", "result"),
    ]  # fmt: skip


async def test_restart_through_the_tui_cycles_the_container(
    engine: PodmanEngine, tmp_path: Path
) -> None:
    """c (Containers), e (restart), type the name, enter: the container restarts."""
    from tui.app import InferdeckApp
    from tui.config import Config, DockerConfig, SourcesConfig
    from tui.hub import Hub
    from tui.ops.build import operations_for
    from tui.screens.confirm import ConfirmScreen
    from widgets.containers import ContainersTable

    before = _now(engine, WEB)
    source = DockerSource(engine.url, compose_project="acts", timeout_s=10.0, interval=0.5)
    docker = DockerConfig(url=engine.url, compose_project="acts")
    config = Config(path=None, state_dir=str(tmp_path), sources=SourcesConfig(docker=docker))
    ops = operations_for(config, docker=source)
    app = InferdeckApp(Hub([source], refresh_s=0.5), ops=ops)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("c")
        for _ in range(40):
            await pilot.pause(0.25)
            tables = app.screen.query(ContainersTable)  # empty while the screen composes
            if tables and tables.first().row_count:
                break
        table = app.screen.query_one(ContainersTable)
        assert [k.value for k in table.rows] == [WEB]  # the outsider is not the stack's
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.plan.confirm_text == WEB
        await pilot.press(*WEB, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    after = _now(engine, WEB)
    assert after.state == "running"
    assert after.started_at is not None and before.started_at is not None
    assert after.started_at > before.started_at
    last = AuditLog(tmp_path / "audit.jsonl").tail(1)[0]
    assert (last["action"], last["target"], last["outcome"]) == ("container.restart", WEB, "done")


def test_rollback_can_stop_the_canary_pools_containers(engine: PodmanEngine) -> None:
    """The rollback option that also stops the new pool's containers (by compose service)."""
    from tui.ops.containers.pools import stop_pool_containers

    source = _source(engine)
    said = stop_pool_containers(source, "web")()
    try:
        assert said == f"stopped {WEB}"
        assert _now(engine, WEB).state == "exited"
        assert _now(engine, OUTSIDER).state == "running"  # not the stack's: untouched
        assert stop_pool_containers(source, "green")() == "no container of pool green found"
    finally:
        source.start(WEB)
    assert _now(engine, WEB).state == "running"
