"""Drills in the dashboard: the autopilot's proposal in the header, applied with ``P``
through the confirmation and the executor (posting a real webhook, audited with the
rule), hidden in read-only mode; load tests offered in the palette."""

from __future__ import annotations

import dataclasses
import gc
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.app.conftest import AppFactory
from tui.app import InferdeckApp, SnapshotReady
from tui.config import parse_config
from tui.model import FleetSnapshot
from tui.ops.build import operations_for
from tui.ops.context import Operations
from tui.screens.confirm import ConfirmScreen
from widgets.header import FleetHeader


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _ops(tmp_path: Path, hook: str, *, read_only: bool = False) -> Operations:
    config = parse_config(
        f"environment: demo\nstate_dir: {tmp_path}\naudit_log: {tmp_path / 'audit.jsonl'}\n"
        f"lock_file: {tmp_path / 'lock'}\nautopilot:\n  notify: [{{url: '{hook}'}}]\n",
        str(tmp_path / "c.yaml"),
    )
    return operations_for(config, read_only_flag=read_only)


def _erring(app: InferdeckApp) -> FleetSnapshot:
    snapshot = app.hub.latest
    assert snapshot is not None and snapshot.fleet is not None
    fleet = snapshot.fleet
    traffic = dataclasses.replace(fleet.traffic, error_rate=0.25)
    return dataclasses.replace(snapshot, fleet=dataclasses.replace(fleet, traffic=traffic))


async def test_a_proposal_shows_in_the_header_and_p_applies_it(
    make_app: AppFactory, tmp_path: Path, hook: str
) -> None:
    app, _ = make_app(seconds=20)
    app.ops = _ops(tmp_path, hook)
    async with app.run_test(size=(160, 40)) as pilot:
        app.post_message(SnapshotReady(_erring(app)))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        line = "proposed: notify fleet (rule alert-on-degradation)"
        assert app.screen.query_one(FleetHeader).drill == line
        await pilot.press("4")  # the Alerts screen's header says it too
        await pilot.pause()
        app.show_drill()
        assert app.screen.query_one(FleetHeader).drill == line
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        plan = str(app.screen.query_one("#plan-lines").render())
        assert "rule alert-on-degradation: error rate 25.0% > 5%" in plan
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [b["rule"] for b in _Hook.received] == ["alert-on-degradation"]
        result = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()][-1]
        assert (result["action"], result["outcome"], result["params"]["rule"]) == (
            "notify.webhook",
            "done",
            "alert-on-degradation",
        )
        assert app.screen.query_one(FleetHeader).drill == ""  # applied: cooling down


async def test_read_only_proposes_but_p_changes_nothing(
    make_app: AppFactory, tmp_path: Path, hook: str
) -> None:
    app, _ = make_app(seconds=20)
    app.ops = _ops(tmp_path, hook, read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        app.post_message(SnapshotReady(_erring(app)))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one(FleetHeader).drill.startswith("proposed: notify fleet")
        await pilot.press("P")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert _Hook.received == []


async def test_the_palette_offers_the_load_tests(
    make_app: AppFactory, tmp_path: Path, hook: str
) -> None:
    app, _ = make_app(seconds=20)
    app.ops = _ops(tmp_path, hook)
    async with app.run_test(size=(160, 40)):
        from tui.screens.palette import InferdeckCommands

        provider = InferdeckCommands(app.screen)
        texts = [text for text, _, _ in provider._commands()]
        assert {"Load test: baseline", "Load test: spike", "Load test: soak"} <= set(texts)


async def test_a_load_test_from_the_palette_shows_progress_and_ctrl_x_stops_it(
    make_app: AppFactory, tmp_path: Path
) -> None:
    import asyncio

    from tui.judging import Judging
    from tui.sim import SimConfig, SimRuntime

    with SimRuntime(SimConfig(port_base=0, load=False, gpus=0, pools={"blue": 1})) as sim:
        backend = sim.description["backends"][0]
        config = parse_config(
            f"backends:\n  - {{name: blue-0, pool: blue, url: '{backend['url']}'}}\n"
            f"audit_log: {tmp_path / 'audit.jsonl'}\nlock_file: {tmp_path / 'lock'}\n",
            str(tmp_path / "c.yaml"),
        )
        app, _ = make_app(seconds=20)
        app.ops = operations_for(config)
        app.judging = Judging(config)
        async with app.run_test(size=(160, 40)) as pilot:
            app.start_loadtest("sustained")  # an hour, unless stopped
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("tab", "enter")
            header = app.screen.query_one(FleetHeader)
            for _ in range(200):
                if "load test sustained" in header.drill and "req/s" in header.drill:
                    break
                await asyncio.sleep(0.1)
            assert header.drill.startswith("load test sustained ")
            await pilot.press("ctrl+x")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert header.drill == ""
        events = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert [(e["action"], e["event"]) for e in events] == [
            ("loadtest.run", "intent"),
            ("loadtest.run", "result"),
        ]
        assert events[-1]["message"] == "stopped by the operator"


async def test_snapshots_faster_than_the_autopilot_leave_no_tick_unawaited(
    make_app: AppFactory, tmp_path: Path, hook: str, recwarn: pytest.WarningsRecorder
) -> None:
    """Each snapshot starts an autopilot tick that replaces the one before (exclusive);
    a tick replaced before it started must not leave behind a coroutine that was never
    awaited (Python reports it when the coroutine is collected: in CI's log, at exit)."""
    app, _ = make_app(seconds=20)
    app.ops = _ops(tmp_path, hook)
    async with app.run_test(size=(160, 40)) as pilot:
        snapshot = _erring(app)
        for _ in range(5):  # in one go: each replaces the last before it has run
            app.autopilot_seen(snapshot)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one(FleetHeader).drill.startswith("proposed")
    gc.collect()  # a coroutine never awaited is reported when collected
    assert [str(w.message) for w in recwarn if "never awaited" in str(w.message)] == []
