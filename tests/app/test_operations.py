"""Actions from the keyboard: the plan first, Cancel by default, audited, hidden when read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import RichLog

from tests.app.conftest import AppFactory
from tui.analysis.alert_rules import immediate
from tui.app import InferdeckApp, LaterOperations
from tui.config import Config
from tui.demo_data import warmed_hub
from tui.ops.alerts.local_acks import AckStore, LocalAlerting
from tui.ops.audit import AuditLog
from tui.ops.build import operations_for
from tui.ops.context import Operations
from tui.recording.recorder import RecorderThread
from tui.screens.alerts import AlertsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.live import LiveScreen
from tui.sources.simulated import VirtualFleetSource
from widgets.alert_table import AlertTable
from widgets.header import FleetHeader


def demo_ops(tmp_path: Path, *, read_only: bool = False) -> Operations:
    config = Config(path=None, environment="demo", state_dir=str(tmp_path))
    return operations_for(config, read_only_flag=read_only)


async def crash_and_alert(app: InferdeckApp, source: VirtualFleetSource) -> None:
    source.fleet.set_fault("green-0", "crash")
    await app.hub.poll_once()


def ack_events(tmp_path: Path) -> list[str]:
    return [r["event"] for r in AuditLog(tmp_path / "audit.jsonl").tail(50)]


async def test_ack_asks_first_cancel_is_the_default_and_apply_is_audited(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, source = make_app(seconds=20)
    app.hub.alerts_hook = LocalAlerting(AckStore(tmp_path / "acks.json"), rules=immediate())
    app.ops = demo_ops(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await crash_and_alert(app, source)
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        table = app.screen.query_one(AlertTable)
        names = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        # green-0 was green's only backend: PoolWithoutHealthyBackend fires beside it
        assert any("LLMServiceDown" in n for n in names)
        table.move_cursor(row=next(i for i, n in enumerate(names) if "LLMServiceDown" in n))

        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        plan_text = str(app.screen.query_one("#plan-lines").render())
        assert 'backend="green-0"' in plan_text and "duration: 1h" in plan_text
        await pilot.press("enter")  # the focused button is Cancel
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        assert ack_events(tmp_path) == ["cancelled"]

        await pilot.press("a")
        await pilot.pause()
        await pilot.press("tab", "enter")  # to Apply, then press it
        await app.workers.wait_for_complete()
        await app.hub.poll_once()
        await pilot.pause()
        assert ack_events(tmp_path) == ["cancelled", "intent", "result"]
        assert AuditLog(tmp_path / "audit.jsonl").tail(1)[0]["outcome"] == "done"
        assert app.latest is not None
        acked = [a for a in app.latest.alerts if a.name == "LLMServiceDown"]
        assert acked and acked[0].acknowledged_by == app.ops.executor.actor


async def test_read_only_hides_the_keys_that_change_things(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, source = make_app(seconds=20)
    app.hub.alerts_hook = LocalAlerting(AckStore(tmp_path / "acks.json"), rules=immediate())
    app.ops = demo_ops(tmp_path, read_only=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await crash_and_alert(app, source)
        await pilot.press("4")
        await pilot.pause()
        shown = {b.action for (_, b, enabled, _) in app.active_bindings.values() if enabled}
        assert "ack" not in shown and "unack" not in shown and "rollback" not in shown
        await pilot.press("a", "R")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)  # no confirmation, nothing ran
        assert ack_events(tmp_path) == []


async def test_read_only_explains_every_acting_key_and_changes_nothing(
    make_app: AppFactory, tmp_path: Path
) -> None:
    from tui.config import TrafficConfig
    from tui.screens.traffic import TrafficScreen
    from tui.sim.config import SimConfig
    from tui.sim.server import SimRuntime
    from widgets.header import FleetHeader
    from widgets.traffic import TrafficSplit

    runtime = SimRuntime(SimConfig(port_base=0, load=False, weights={"blue": 60, "green": 40}))
    description = runtime.start()
    try:
        traffic = TrafficConfig(router="sim", sim_control=description["control"])
        config = Config(path=None, environment="demo", state_dir=str(tmp_path), traffic=traffic)
        app, source = make_app(seconds=20)
        app.hub.alerts_hook = LocalAlerting(AckStore(tmp_path / "acks.json"), rules=immediate())
        app.ops = operations_for(config, read_only_flag=True)
        notices: list[str] = []
        notify = app.notify

        def record(message: str, **kwargs: object) -> None:
            notices.append(str(message))
            notify(message, **kwargs)  # type: ignore[arg-type]

        app.notify = record  # type: ignore[method-assign]
        async with app.run_test(size=(140, 40)) as pilot:
            await crash_and_alert(app, source)
            await pilot.pause()
            header = app.screen.query_one(FleetHeader)
            assert "READ-ONLY" in str(header.render_line(0).text)
            presses = [("1", "R", "rollback"), ("4", "a", "acknowledg"),
                       ("4", "A", "un-acknowledg"), ("5", "left", "split"),
                       ("5", "right", "split"), ("5", "enter", "split"),
                       ("5", "o", "rollout")]  # fmt: skip
            for screen_key, key, what in presses:
                await pilot.press(screen_key)
                await pilot.pause()
                notices.clear()
                await pilot.press(key)
                await pilot.pause()
                assert any(
                    n.startswith("read-only (--read-only): ") and what in n for n in notices
                ), (key, notices)
                assert not isinstance(app.screen, ConfirmScreen)
            assert isinstance(app.screen, TrafficScreen)
            assert app.screen.query_one(TrafficSplit).proposed is None
        assert runtime.fleet.weights == {"blue": 60.0, "green": 40.0}
        assert ack_events(tmp_path) == []
        acks = tmp_path / "acks.json"
        assert not acks.exists() or "green-0" not in acks.read_text()
    finally:
        runtime.stop()


async def test_read_only_hides_acting_keys_from_footer_help_and_borders(
    make_app: AppFactory, tmp_path: Path
) -> None:
    from textual.widgets import Footer

    from tui.screens.help import HelpScreen

    app, source = make_app(seconds=20)
    app.hub.alerts_hook = LocalAlerting(AckStore(tmp_path / "acks.json"), rules=immediate())
    app.ops = demo_ops(tmp_path, read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await crash_and_alert(app, source)
        for screen_key in ("1", "4", "5"):
            await pilot.press(screen_key)
            await pilot.pause()
            footer = " ".join(str(k.render()) for k in app.screen.query_one(Footer).children)
            for label in ("Roll back", "Acknowledge", "Un-acknowledge", "Apply", "Roll out",
                          "Canary", "Stable"):  # fmt: skip
                assert label not in footer, (screen_key, label)
            await pilot.press("question_mark")
            await pilot.pause()
            help_screen = app.screen
            assert isinstance(help_screen, HelpScreen)
            help_text = " ".join(k.does for k in (*help_screen.local, *help_screen.everywhere))
            assert "Roll back" not in help_text and "Acknowledge" not in help_text
            assert "Quit" in help_text
            await pilot.press("question_mark")
            await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        border = str(app.screen.query_one(AlertTable).border_subtitle)
        assert "firing" in border and "ack" not in border.replace("acknowledged", "")


async def test_runbook_screen_dry_runs_and_runs_step_by_step(
    make_app: AppFactory, tmp_path: Path
) -> None:
    books = tmp_path / "runbooks"
    books.mkdir()
    marker = tmp_path / "ran"
    (books / "smoke.yaml").write_text(
        "name: aaa-smoke\ntitle: Smoke test\nsteps:\n"
        f"  - name: Say hello\n    run: [sh, -c, 'echo hello; echo done > {marker}']\n"
        "  - name: Look at it\n    check: Does the fleet look fine?\n"
    )
    config = Config(path=None, environment="demo", state_dir=str(tmp_path),
                    runbooks_dir=str(books))  # fmt: skip
    app, _ = make_app(seconds=5)
    app.ops = operations_for(config)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        log = app.screen.query_one("#runbook-log", RichLog)
        await pilot.press("d")
        await pilot.pause()
        text = "\n".join(strip.text for strip in log.lines)
        assert "dry run of aaa-smoke" in text and "Say hello" in text
        assert not marker.exists()

        await pilot.press("enter")  # run: the first step's plan asks first
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")  # Apply
        for _ in range(50):
            await pilot.pause(0.1)
            if isinstance(app.screen, ConfirmScreen) and "Manual check" in str(
                app.screen.query_one("#plan-title").render()
            ):
                break
        assert marker.read_text() == "done\n"
        await pilot.press("tab", "enter")  # the check: done and fine
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = "\n".join(strip.text for strip in log.lines)
        assert "hello" in text
        events = [r["event"] for r in AuditLog(tmp_path / "audit.jsonl").tail(20)]
        assert events.count("result") == 2


async def test_palette_lists_actions_and_runbooks(make_app: AppFactory, tmp_path: Path) -> None:
    from tui.screens.palette import InferdeckCommands

    app, _ = make_app(seconds=5)
    app.ops = demo_ops(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        provider = InferdeckCommands(app.screen)
        texts = [text for text, _, _ in provider._commands()]
        assert texts[0].startswith("Runbook: ")  # the Runbooks screen's own commands first
        assert "Runbook: Diagnosis checklist" in texts
        assert "Go to Traffic" in texts and "Pause / resume updates" in texts
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to gpus")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        from tui.screens.tables import GpusScreen

        assert isinstance(app.screen, GpusScreen)


async def test_rollback_makes_the_operator_type_the_pool_name(
    make_app: AppFactory, tmp_path: Path
) -> None:
    from textual.widgets import Button

    from tui.config import TrafficConfig
    from tui.sim.config import SimConfig
    from tui.sim.server import SimRuntime

    runtime = SimRuntime(SimConfig(port_base=0, load=False, weights={"blue": 60, "green": 40}))
    description = runtime.start()
    try:
        traffic = TrafficConfig(router="sim", sim_control=description["control"])
        config = Config(path=None, environment="demo", state_dir=str(tmp_path), traffic=traffic)
        app, _ = make_app(seconds=5)
        app.ops = operations_for(config)
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.press("R")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and app.screen.plan.dangerous
            apply = app.screen.query_one("#apply", Button)
            assert apply.disabled
            await pilot.press(*"blu", "enter")  # wrong name: nothing happens
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and apply.disabled
            await pilot.press("e")
            await pilot.pause()
            assert not apply.disabled
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert runtime.fleet.weights == {"blue": 100.0, "green": 0.0}
        last = AuditLog(tmp_path / "audit.jsonl").tail(1)[0]
        assert (last["action"], last["outcome"]) == ("traffic.rollback", "done")
    finally:
        runtime.stop()


async def test_hostile_alert_is_shown_literally_and_acknowledged_exactly(
    make_app: AppFactory, tmp_path: Path
) -> None:
    import dataclasses

    from tui.app import SnapshotReady
    from tui.model import Alert, Severity

    marker = tmp_path / "pwned"
    labels = {"alertname": "Evil", "severity": "warning", "cmd": f"$(touch {marker})",
              "markup": "[bold red]x[/]", "esc": "\x1b[31mred\x07"}  # fmt: skip
    evil = Alert("Evil", Severity.WARNING, "[link=file:///etc/passwd]click[/link]", labels,
                 1.0, "0123456789abcdef", source="local")  # fmt: skip
    app, _ = make_app(seconds=5)
    store = AckStore(tmp_path / "acks.json")
    app.ops = demo_ops(tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        assert app.hub.latest is not None
        app.post_message(SnapshotReady(dataclasses.replace(app.hub.latest, alerts=(evil,))))
        await pilot.press("4")
        await pilot.pause()
        row = [c.plain for c in app.screen.query_one(AlertTable).get_row("0123456789abcdef")]
        assert row[1] == "Evil" and row[4] == "[link=file:///etc/passwd]click[/link]"
        await pilot.press("a")
        await pilot.pause()
        plan = str(app.screen.query_one("#plan-lines").render())
        assert f'cmd="$(touch {marker})"' in plan and 'markup="[bold red]x[/]"' in plan
        assert "\x1b" not in plan
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
    acked = store.get("0123456789abcdef")
    assert acked is not None and acked.by == app.ops.executor.actor
    assert not marker.exists()


async def test_operations_made_later_say_read_only_at_the_first_frame_and_come_just_after(
    tmp_path: Path,
) -> None:
    # The dashboard makes its operations (~10 ms of imports) just after its first frame;
    # the header says READ-ONLY from that frame on without making them.
    hub, source = warmed_hub(seconds=20)
    made: list[Operations] = []

    def make() -> Operations:
        made.append(demo_ops(tmp_path, read_only=True))
        return made[-1]

    started: list[int] = []

    class Helpers:
        recorder: RecorderThread | None = None

        def start(self) -> list[str]:
            started.append(len(made))
            return []

    app = InferdeckApp(hub, clock=source.clock, start_hub=False,
                       ops=LaterOperations("--read-only", make),
                       after_first_frame=Helpers())  # fmt: skip
    first_frame: list[tuple[str, int]] = []
    display = app._display

    def show(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if not first_frame and isinstance(screen, LiveScreen):
            header = str(screen.query_one(FleetHeader).render_line(0).text)
            first_frame.append((header, len(made)))

    app._display = show  # type: ignore[method-assign]
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.3)
        header, made_by_then = first_frame[0]
        assert "READ-ONLY" in header and made_by_then == 0
        assert started == [0]  # the helpers started after the first frame, then the ops
        assert len(made) == 1 and app.made_ops is made[0] and app.ops is made[0]
        await pilot.pause(0.2)
        assert started == [0] and len(made) == 1  # once


def test_operations_made_later_are_made_at_the_first_need_and_only_once(tmp_path: Path) -> None:
    hub, source = warmed_hub(seconds=5)
    made: list[Operations] = []

    def make() -> Operations:
        made.append(demo_ops(tmp_path))
        return made[-1]

    app = InferdeckApp(hub, clock=source.clock, ops=LaterOperations(None, make))
    # what the footer and the header ask for each key does not make them
    assert app.actions_off is None and app.read_only is None and app.made_ops is None
    assert made == []
    ops = app.ops  # a key that acts, pressed before the first frame was out
    assert ops is not None and made == [ops] and app.ops is ops and app.made_ops is ops
    assert InferdeckApp(hub, clock=source.clock).actions_off == "no actions configured"
