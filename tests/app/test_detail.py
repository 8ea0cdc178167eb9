"""`enter` on a backend, GPU, alert or container opens its detail; `esc` goes back."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from tests.app.conftest import AppFactory
from tui.analysis.alert_rules import immediate
from tui.app import InferdeckApp, SnapshotReady
from tui.config import Config
from tui.model import Container, Health, LogLine
from tui.ops.alerts.local_acks import AckStore, LocalAlerting
from tui.ops.audit import AuditLog
from tui.ops.build import operations_for
from tui.screens.alerts import AlertsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.logs import LogView
from tui.screens.tables import BackendsScreen, ContainersScreen, GpusScreen
from widgets.alert_table import AlertTable


def shown(app: InferdeckApp, part: str) -> str:
    """A part of the detail as plain text, whitespace squeezed."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(f"#detail-{part}", Static).content)
    return " ".join(console.export_text().split())


async def test_backend_detail_has_figures_history_gpu_and_goes_back(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=20)
    snapshot = app.hub.latest
    assert snapshot is not None
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        backend = snapshot.backends[0]
        assert shown(app, "title").startswith(f"Backend {backend.name}")
        figures = shown(app, "figures")
        for label in ("TTFT p50/95/99", "E2E p50/95/99", "KV cache", "Requests/min", "Model"):
            assert label in figures
        history = shown(app, "history")
        assert "TTFT p95" in history and "now" in history  # from the hub's per-backend history
        # the demo's GPU exporter labels GPU 0 with blue-0's pod
        assert "GPU inferdeck-sim/0" in shown(app, "ties")
        # it follows the snapshots: a crash shows on the open detail
        down = dataclasses.replace(backend, health=Health.DOWN, reason="connection refused")
        app.post_message(
            SnapshotReady(
                dataclasses.replace(
                    snapshot,
                    backends=(down, *snapshot.backends[1:]),
                    taken_at=snapshot.taken_at + 1,
                )
            )
        )
        await pilot.pause()
        assert "down connection refused" in shown(app, "figures")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BackendsScreen)


async def test_gpu_detail_names_the_backend_on_it(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=20)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert "backend blue-0 up" in shown(app, "ties")
        assert "Utilisation" in shown(app, "history")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, GpusScreen)


async def test_alert_detail_acts_through_the_executor(make_app: AppFactory, tmp_path: Path) -> None:
    app, source = make_app(seconds=20)
    app.hub.alerts_hook = LocalAlerting(AckStore(tmp_path / "acks.json"), rules=immediate())
    app.ops = operations_for(Config(path=None, environment="demo", state_dir=str(tmp_path)))
    async with app.run_test(size=(120, 40)) as pilot:
        source.fleet.set_fault("green-0", "crash")
        await app.hub.poll_once()
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        table = app.screen.query_one(AlertTable)
        names = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        table.move_cursor(row=next(i for i, n in enumerate(names) if "LLMServiceDown" in n))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert "label backend green-0" in shown(app, "figures")
        assert "backend green-0 down" in shown(app, "ties")
        actions = shown(app, "actions")
        assert "a Acknowledge" in actions and "b Runbook" in actions
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # Cancel is the default
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        events = [r["event"] for r in AuditLog(tmp_path / "audit.jsonl").tail(10)]
        assert events == ["cancelled"]


async def test_container_detail_shows_its_log_and_offers_restart(make_app: AppFactory) -> None:
    async def read_logs(name: str) -> list[LogLine]:
        return [LogLine(f"INFO {name} started"), LogLine("ERROR CUDA out of memory", True)]

    app, _ = make_app(seconds=5)
    app.log_reader = read_logs
    snapshot = app.hub.latest
    assert snapshot is not None
    containers = (Container(name="vllm-blue-0", id="a1", image="base", state="running"),)
    backends = (dataclasses.replace(snapshot.backends[0], container="vllm-blue-0"),
                *snapshot.backends[1:])  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        app.post_message(
            SnapshotReady(dataclasses.replace(snapshot, containers=containers, backends=backends))
        )
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ContainersScreen)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        log = "\n".join(s.text for s in app.screen.query_one("#detail-log", LogView).lines)
        assert "INFO vllm-blue-0 started" in log and "ERROR CUDA out of memory" in log
        assert "backend blue-0" in shown(app, "ties")
        assert "GPU inferdeck-sim/0" in shown(app, "ties")
        # no operations configured: the actions say why instead of offering keys
        assert "none here: no actions configured" in shown(app, "actions")


async def test_a_backends_latency_history_is_written_as_a_latency() -> None:
    """``now 35.6s``, as every other latency on screen, not ``now 35.6k ms``."""
    from tests.app.outside import screen_text
    from tui.screenshots import SCENES, build_app, settle

    scene = next(s for s in SCENES if s.name == "backend-detail-incident-120x40")
    app = build_app(scene)
    async with app.run_test(size=scene.size) as pilot:
        await settle(pilot, scene.keys)
        line = next(r for r in screen_text(app).splitlines() if r.strip().startswith("TTFT p95"))
        assert "k ms" not in line and "now 35.6s" in line, line
