"""Contexts on screen: a production context asks a typed confirmation for every action;
`X` and the palette switch to another context."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, OptionList

from tests.app.conftest import AppFactory
from tui.analysis.alert_rules import immediate
from tui.config import Config
from tui.ops.alerts.local_acks import AckStore, LocalAlerting
from tui.ops.audit import AuditLog
from tui.ops.build import operations_for
from tui.screens.confirm import ConfirmScreen
from tui.screens.context_picker import ContextPicker
from tui.screens.palette import InferdeckCommands
from widgets.alert_table import AlertTable


async def test_a_production_context_asks_a_typed_confirmation_even_for_an_ack(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, source = make_app(seconds=20)
    app.hub.alerts_hook = LocalAlerting(AckStore(tmp_path / "acks.json"), rules=immediate())
    app.ops = operations_for(Config(path=None, environment="prod-us", state_dir=str(tmp_path)))
    app.production, app.context = True, "prod-us"
    async with app.run_test(size=(140, 40)) as pilot:
        source.fleet.set_fault("green-0", "crash")
        await app.hub.poll_once()
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one(AlertTable)
        names = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        table.move_cursor(row=next(i for i, n in enumerate(names) if "LLMServiceDown" in n))
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        assert screen.plan.dangerous and screen.plan.title.startswith("[prod-us] ")
        assert screen.query_one("#apply", Button).disabled  # until the name is typed
        await pilot.press(*screen.plan.confirm_text, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        events = [r["event"] for r in AuditLog(tmp_path / "audit.jsonl").tail(10)]
        assert events[-2:] == ["intent", "result"], events


async def test_x_and_the_palette_switch_context(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=5)
    app.context, app.contexts = "prod-us", ("prod-us", "prod-eu", "staging")
    async with app.run_test(size=(120, 40)) as pilot:
        texts = [t for t, _, _ in InferdeckCommands(app.screen)._commands()]
        assert "Switch context: prod-eu" in texts and "Switch context: prod-us" not in texts
        await pilot.press("X")
        await pilot.pause()
        assert isinstance(app.screen, ContextPicker)
        assert app.screen.query_one(OptionList).highlighted == 0  # on the current one
        await pilot.press("down", "enter")
        await pilot.pause()
    assert app.return_value == "prod-eu"  # the dashboard starts again on it
