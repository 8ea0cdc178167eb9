"""The GPUs (2), Backends (3) and Containers (c) screens, and the log viewer."""

from __future__ import annotations

import dataclasses

from tests.app.conftest import AppFactory
from tui.app import SnapshotReady
from tui.model import Container, LogLine
from tui.screens.detail import DetailScreen
from tui.screens.logs import LogView
from tui.screens.overview import OverviewScreen
from tui.screens.tables import BackendsScreen, ContainersScreen, GpusScreen
from widgets.backends import BackendsDetailTable
from widgets.containers import ContainersTable
from widgets.format import seconds
from widgets.gpu_table import GpuTable
from widgets.table import SnapshotTable


def cells(table: SnapshotTable, key: str) -> list[str]:
    return [c.plain for c in table.get_row(key)]


async def test_number_keys_switch_screens(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=10)
    async with app.run_test(size=(160, 40)) as pilot:
        for key, screen_type in (("2", GpusScreen), ("3", BackendsScreen),
                                 ("c", ContainersScreen), ("1", OverviewScreen)):  # fmt: skip
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, screen_type)


async def test_gpus_screen_lists_every_gpu(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=30)
    snapshot = app.hub.latest
    assert snapshot is not None
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        table = app.screen.query_one(GpuTable)
        assert table.row_count == len(snapshot.gpus) == 4
        for gpu in snapshot.gpus:
            row = cells(table, gpu.key)
            assert row[0] == f"{gpu.host}/{gpu.index}"
            # the demo's exporter labels GPU i with backend i's pod (the fourth GPU is spare)
            assert row[1] == {0: "blue-0", 1: "blue-1", 2: "green-0"}.get(gpu.index, "—")
            assert row[2] == "NVIDIA H100 80GB HBM3"
            # a figure near or past its limit carries a mark (▲ ✗) beside its colour
            assert row[3].rstrip("▲✗") == f"{gpu.util_pct:.0f}%"
            assert row[6].rstrip("▲✗") == f"{gpu.temp_c:.0f}°C"
            assert len(row[4].strip()) > 20  # two minutes of history drawn


async def test_backends_screen_shows_every_quantile(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=30)
    snapshot = app.hub.latest
    assert snapshot is not None
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one(BackendsDetailTable)
        backend = snapshot.backends[0]
        row = cells(table, backend.name)
        assert row[3] == backend.model
        assert row[7] == " / ".join(seconds(v) for v in (backend.ttft.p50, backend.ttft.p95,
                                                          backend.ttft.p99))  # fmt: skip
        assert row[9] == seconds(backend.queue_time.p95)


async def test_containers_screen_and_logs(make_app: AppFactory) -> None:
    asked: list[str] = []

    async def read_logs(name: str) -> list[LogLine]:
        asked.append(name)
        return [LogLine("INFO started"), LogLine("ERROR CUDA out of memory \x1b[31m[b]x", True)]

    app, _ = make_app(seconds=5)
    app.log_reader = read_logs
    snapshot = app.hub.latest
    assert snapshot is not None
    now = snapshot.taken_at
    containers = (
        Container(name="vllm-blue-0", id="a1", image="localhost/base", state="running",
                  restart_count=2, started_at=now - 300, service="vllm-blue"),
        Container(name="vllm-green-0", id="b2", image="localhost/base", state="exited",
                  exit_code=137, service="vllm-green"),
    )  # fmt: skip
    async with app.run_test(size=(160, 40)) as pilot:
        app.post_message(SnapshotReady(dataclasses.replace(snapshot, containers=containers)))
        await pilot.press("c")
        await pilot.pause()
        table = app.screen.query_one(ContainersTable)
        assert cells(table, "vllm-blue-0")[1:6] == ["vllm-blue", "running", "—", "2", "5m"]
        assert cells(table, "vllm-green-0")[2] == " exited (137) "
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert asked == ["vllm-blue-0"]
        assert isinstance(app.screen, DetailScreen)  # its figures, ties, actions and log
        log = app.screen.query_one(LogView)
        text = "\n".join(strip.text for strip in log.lines)
        assert "ERROR CUDA out of memory ␛[31m[b]x" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ContainersScreen)


async def test_table_screens_say_when_their_source_fails(make_app: AppFactory) -> None:
    from tui.model import SourceState, SourceStatus

    app, _ = make_app(seconds=5)
    snapshot = app.hub.latest
    assert snapshot is not None
    broken = dataclasses.replace(
        snapshot,
        sources=(*snapshot.sources, SourceStatus("docker", SourceState.ERROR, "docker at "
                                                 "unix:///x.sock: connection refused")),
    )  # fmt: skip
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        table = app.screen.query_one(ContainersTable)
        assert "no container engine configured" in str(table.border_subtitle)
        app.post_message(SnapshotReady(broken))
        await pilot.pause()
        assert "docker ERROR: docker at unix:///x.sock: connection refused" in str(
            table.border_subtitle
        )
        assert table.has_class("-source-trouble")
