"""The TUI during a rollout: `R` preempts it (it used to answer "refused: another action
is running", the holder being the TUI itself), an unanswered confirmation expires and
its modal goes away, and quitting stops the rollout and puts back its starting split."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.app import conftest
from tests.app.conftest import AppFactory
from tests.unit.test_traffic import FakeRouter, _pool, _rollout
from tui.ops.audit import AuditLog
from tui.ops.context import Operations
from tui.ops.executor import Executor
from tui.ops.traffic.weights import Rollback
from tui.screens.confirm import ConfirmScreen

make_app = conftest.make_app  # the fixture: an app on a simulated fleet, no threads


def _ops(tmp_path: Path, router: FakeRouter, **kw: float) -> Operations:
    executor = Executor(AuditLog(tmp_path / "audit.jsonl"), **kw)  # type: ignore[arg-type]
    return Operations(
        executor=executor,
        rollback=lambda: Rollback(router, "blue"),
        rollout=lambda: _rollout(router, [_pool()], steps=(10, 50, 100), hold_s=60),
    )


async def _until(check: object, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_r_during_a_rollout_preempts_it(make_app: AppFactory, tmp_path: Path) -> None:
    router = FakeRouter()
    app, _ = make_app(seconds=5)
    app.ops = _ops(tmp_path, router)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("5", "o")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")  # Apply
        await _until(lambda: router.weights["green"] == 10)
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.plan.dangerous
        await pilot.press(*"blue", "enter")
        await _until(lambda: app.ops is not None and app.ops.executor.running is None)
        await pilot.pause()
    assert router.weights == {"blue": 100.0, "green": 0.0}
    outcomes = {(r["action"], r.get("outcome")) for r in AuditLog(tmp_path / "audit.jsonl").tail(9)}
    assert ("traffic.rollout", "preempted") in outcomes
    assert ("traffic.rollback", "done") in outcomes


async def test_an_open_confirmation_expires_and_its_modal_goes(
    make_app: AppFactory, tmp_path: Path
) -> None:
    router = FakeRouter({"blue": 50.0, "green": 50.0})
    app, _ = make_app(seconds=5)
    app.ops = _ops(tmp_path, router, confirm_timeout_s=2.0)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("R")
        await _until(lambda: isinstance(app.screen, ConfirmScreen))
        await _until(lambda: not isinstance(app.screen, ConfirmScreen))
    assert router.weights == {"blue": 50.0, "green": 50.0}
    (record,) = AuditLog(tmp_path / "audit.jsonl").tail(5)
    assert record["event"] == "cancelled" and "expired" in record["reason"]


async def test_quitting_during_a_rollout_puts_back_its_starting_split(
    make_app: AppFactory, tmp_path: Path
) -> None:
    router = FakeRouter({"blue": 100.0, "green": 0.0})
    app, _ = make_app(seconds=5)
    app.ops = _ops(tmp_path, router)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("5", "o")
        await pilot.pause()
        await pilot.press("tab", "enter")
        await _until(lambda: router.weights["green"] == 10)
        app.exit()  # what a hangup does, after interrupting
    assert router.weights == {"blue": 100.0, "green": 0.0}
    result = AuditLog(tmp_path / "audit.jsonl").tail(1)[0]
    assert result["event"] == "result" and "put back blue 100%, green 0%" in result["message"]
