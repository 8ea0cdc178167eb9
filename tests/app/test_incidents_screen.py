"""The Incidents screen (`i`) and Alert → runbook (issue 10): a crash opens an incident
with SEV1 and a response clock; notes, SEV and resolve go through the executor (audited,
refused read-only); `enter` on an alert runs its runbook for the alert's backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, RichLog

from tests.app.conftest import AppFactory
from tui.analysis.alert_rules import immediate
from tui.app import InferdeckApp
from tui.config import Config
from tui.incidents.model import EventKind, Sev
from tui.model import FleetSnapshot
from tui.ops.alerts.local_acks import AckStore, LocalAlerting
from tui.ops.audit import AuditLog
from tui.ops.build import operations_for
from tui.ops.incidents import tracker_for
from tui.ops.runbooks.links import inputs_for_alert
from tui.ops.runbooks.model import RunbookError
from tui.screens.alerts import AlertsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.incident_dialogs import SevPicker, TextPrompt
from tui.screens.incidents import IncidentsScreen
from tui.screens.runbooks import RunbooksScreen, StepConfirmScreen
from tui.sources.simulated import VirtualFleetSource
from widgets.alert_table import AlertTable
from widgets.incidents import IncidentTable, TimelineTable


def config_in(tmp_path: Path, **extra: Any) -> Config:
    return Config(path=None, environment="demo", state_dir=str(tmp_path), **extra)


async def crash(app: InferdeckApp, source: VirtualFleetSource, tmp_path: Path) -> FleetSnapshot:
    """green-0 crashes; the hub raises LLMServiceDown; the tracker opens the incident."""
    source.fleet.set_fault("green-0", "crash")
    snapshot = await app.hub.poll_once()
    tracker_for(config_in(tmp_path)).observe(snapshot)
    return snapshot


def prepare(
    make_app: AppFactory, tmp_path: Path, *, read_only: bool = False
) -> tuple[InferdeckApp, VirtualFleetSource]:
    app, source = make_app(seconds=20)
    app.hub.alerts_hook = LocalAlerting(AckStore(tmp_path / "acks.json"), rules=immediate())
    app.ops = operations_for(config_in(tmp_path), read_only_flag=read_only)
    return app, source


async def settle(app: InferdeckApp, pilot: Pilot[str | None]) -> None:
    """Let the read workers finish and their results be shown."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def row_of(table: IncidentTable, words: str) -> int:
    titles = [table.get_row_at(i)[2].plain for i in range(table.row_count)]
    return next(i for i, title in enumerate(titles) if words in title)


def timeline(app: InferdeckApp) -> list[str]:
    table = app.screen.query_one(TimelineTable)
    return [" ".join(c.plain for c in table.get_row_at(i)) for i in range(table.row_count)]


def audited(tmp_path: Path) -> list[tuple[str, str]]:
    """(action, outcome) of every audited result."""
    records = AuditLog(tmp_path / "audit.jsonl").tail(50)
    return [(r["action"], r.get("outcome", r["event"])) for r in records]


async def apply(app: InferdeckApp, pilot: Pilot[str | None]) -> None:
    """Apply the executor's confirmation (Cancel has the focus)."""
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.press("tab", "enter")
    await settle(app, pilot)


async def test_a_crash_opens_an_incident_the_screen_lists_notes_sev_and_resolve(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, source = prepare(make_app, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await crash(app, source, tmp_path)
        await pilot.press("i")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentsScreen)
        table = app.screen.query_one(IncidentTable)
        row = row_of(table, "LLMServiceDown")
        cells = [c.plain for c in table.get_row_at(row)]
        assert cells[1] == "SEV1" and cells[3] == "open"
        assert cells[5] == "15m left"  # the response clock of a SEV1
        assert cells[7] == "llm-down"
        table.move_cursor(row=row)
        await settle(app, pilot)
        assert any("opened" in line for line in timeline(app))

        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        app.screen.query_one(Input).value = "green-0 OOM in its log"
        await pilot.press("enter")
        await pilot.pause()
        await apply(app, pilot)
        assert any("note" in line and "green-0 OOM in its log" in line for line in timeline(app))
        assert ("incident.note", "done") in audited(tmp_path)
        records = AuditLog(tmp_path / "audit.jsonl").tail(50)
        assert any(r.get("params", {}).get("text") == "green-0 OOM in its log" for r in records)

        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, SevPicker)
        app.screen.query_one(OptionList).highlighted = 2  # SEV3
        await pilot.press("enter")
        await pilot.pause()
        await apply(app, pilot)
        table = app.screen.query_one(IncidentTable)
        selected = table.incident(table.selected())
        assert selected is not None and selected.sev is Sev.SEV3
        assert ("incident.sev", "done") in audited(tmp_path)

        await pilot.press("z")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        app.screen.query_one(Input).value = "restarted by hand"
        await pilot.press("enter")
        await pilot.pause()
        await apply(app, pilot)
        table = app.screen.query_one(IncidentTable)
        incident = next(i for i in table.incidents if "LLMServiceDown" in i.title)
        assert not incident.is_open and incident.resolved_by
        cells = [c.plain for c in table.get_row(str(incident.id))]
        assert cells[3] == "resolved" and not cells[6].endswith("/ -")  # time to resolve
        assert app.ops is not None and app.ops.incidents is not None
        store = app.ops.incidents.store
        kinds = [e.kind for e in store.timeline(incident.id)]
        assert EventKind.NOTE in kinds and EventKind.SEV in kinds and EventKind.RESOLVED in kinds
        assert ("incident.resolve", "done") in audited(tmp_path)


async def test_the_response_clock_says_overdue_in_words(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, source = prepare(make_app, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await crash(app, source, tmp_path)
        source.clock.advance(16 * 60)
        await pilot.press("i")
        await settle(app, pilot)
        table = app.screen.query_one(IncidentTable)
        clock = table.get_row_at(row_of(table, "LLMServiceDown"))[5]
        assert clock.plain.startswith("OVERDUE 1m")
        assert "OVERDUE" in str(table.border_subtitle)


async def test_read_only_refuses_every_incident_key_with_a_reason(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, source = prepare(make_app, tmp_path, read_only=True)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await crash(app, source, tmp_path)
        await pilot.press("i")
        await settle(app, pilot)
        shown = {b.action for (_, b, enabled, _) in app.active_bindings.values() if enabled}
        assert not {"incident_note", "incident_sev", "incident_resolve", "run_runbook"} & shown
        for key, why in (("n", "adding incident notes is disabled"),
                         ("v", "setting an incident's SEV is disabled"),
                         ("z", "resolving incidents is disabled"),
                         ("enter", "running runbooks is disabled")):  # fmt: skip
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, IncidentsScreen), key
            messages = [n.message for n in app._notifications]
            assert any(m.startswith("read-only (--read-only): ") and why in m
                       for m in messages), (key, messages)  # fmt: skip
        assert not [a for a, _ in audited(tmp_path) if a.startswith("incident.")]
        incident = app.screen.query_one(IncidentTable).incidents[0]
        assert incident.is_open


def _llm_down_book(tmp_path: Path) -> Path:
    """An operator's llm-down (it replaces the shipped one): one harmless step per backend."""
    books = tmp_path / "runbooks"
    books.mkdir()
    book = {"name": "llm-down", "title": "Down (test)", "alerts": ["LLMServiceDown"],
            "steps": [{"name": "Say which", "run": ["echo", "{backend.name}"]}]}  # fmt: skip
    (books / "llm-down.yaml").write_text(yaml.safe_dump(book, sort_keys=False))
    return books


async def test_enter_on_an_alert_offers_its_runbook_and_runs_it_for_its_backend(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, source = make_app(seconds=20)
    app.hub.alerts_hook = LocalAlerting(AckStore(tmp_path / "acks.json"), rules=immediate())
    app.ops = operations_for(config_in(tmp_path, runbooks_dir=str(_llm_down_book(tmp_path))))
    async with app.run_test(size=(200, 40), notifications=True) as pilot:
        source.fleet.set_fault("green-0", "crash")
        await app.hub.poll_once()
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        table = app.screen.query_one(AlertTable)
        keys = [k.value for k in table.columns]
        names = [table.get_row_at(i)[keys.index("name")].plain for i in range(table.row_count)]
        runbooks = [
            table.get_row_at(i)[keys.index("runbook")].plain for i in range(table.row_count)
        ]
        row = names.index("LLMServiceDown")
        assert runbooks[row] == "llm-down"

        other = next((i for i, r in enumerate(runbooks) if r == "—"), None)
        if other is not None:  # PoolWithoutHealthyBackend has none: a notice says so
            table.move_cursor(row=other)
            await pilot.press("b")
            await pilot.pause()
            assert isinstance(app.screen, AlertsScreen)
            assert any(n.message.startswith("No runbook for") for n in app._notifications)

        table.move_cursor(row=row)
        await pilot.press("b")  # enter opens the alert's detail; b offers its runbook
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        title = str(app.screen.query_one("#plan-title").render())
        assert title == "Run runbook llm-down for LLMServiceDown?"
        assert "backend = green-0" in str(app.screen.query_one("#plan-lines").render())
        await pilot.press("tab", "enter")
        for _ in range(50):
            await pilot.pause(0.05)
            if isinstance(app.screen, StepConfirmScreen):
                break
        assert isinstance(app.screen, StepConfirmScreen)  # straight to step 1's question
        assert "echo green-0" in str(app.screen.query_one("#plan-lines").render())
        runbooks_screen = app.get_screen("runbooks")
        assert isinstance(runbooks_screen, RunbooksScreen)
        log = runbooks_screen.query_one("#runbook-log", RichLog)
        assert any("running llm-down on green-0" in s.text for s in log.lines)
        await pilot.press("escape")  # cancel step 1: nothing runs
        await app.workers.wait_for_complete()


def test_alert_labels_fill_the_runbooks_inputs() -> None:
    from tui.ops.runbooks.catalog import load_catalog

    catalog = load_catalog()
    down = catalog.get("llm-down")
    assert down is not None
    labels = {"backend": "blue-0", "container": "vllm-blue-0", "instance": "10.0.0.1:8000"}
    assert inputs_for_alert(down, labels) == {
        "backend": "blue-0",
        "backend.container": "vllm-blue-0",
    }
    temperature = catalog.get("gpu-temperature")
    assert temperature is not None
    assert inputs_for_alert(temperature, labels) == {}  # no backend, no such inputs
    assert issubclass(RunbookError, Exception)
