"""Fault matrix: every source x (dead, hung, garbage, slow) is said within 3 of its intervals.

Each HTTP source talks to a real loopback server this test controls (`Controlled`): it
answers like the real system, or is dead (nothing listens), hangs (accepts, never
answers), serves garbage, or answers slower than 3 intervals. nvml goes through a fake
binding. Then, for the hub's snapshot, within 3 intervals (plus a poll): the source's
status is not ok (or, for a scrape target, its backend is not up, with the reason), and
nothing it fed is shown as current — no figure, alerts only as last known.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tui.hub import Hub
from tui.model import FleetSnapshot, Health, SourceState
from tui.sources.alertmanager import AlertmanagerSource
from tui.sources.docker import DockerSource
from tui.sources.nvml import NvmlSource
from tui.sources.prometheus import PrometheusSource
from tui.sources.scrape import ScrapeSource, ScrapeTarget

INTERVAL = 0.2
DEADLINE = 3 * INTERVAL + 0.6  # 3 intervals, plus one poll's round trip and the refresh tick
FAULTS = ("dead", "hung", "garbage", "slow")

VLLM = (
    '# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="m"} 3\n'
    '# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="m"} 1\n'
)
AM_ALERT = {
    "labels": {"alertname": "LLMServiceDown", "severity": "critical", "backend": "blue-0"},
    "annotations": {"summary": "down"},
    "startsAt": "2026-01-01T00:00:00Z",
    "fingerprint": "abc",
    "status": {"state": "active", "silencedBy": []},
}


def ok_answer(path: str) -> tuple[int, str, bytes]:
    """What the real systems answer, small but well-formed."""
    if path.startswith(("/metrics", "/health")):
        return 200, "text/plain", VLLM.encode()
    if path.startswith("/api/v2/alerts"):
        return 200, "application/json", json.dumps([AM_ALERT]).encode()
    if path.startswith("/api/v2/silences"):
        return 200, "application/json", b"[]"
    if path.startswith("/api/v1/alerts"):
        body = {"status": "success", "data": {"alerts": []}}
    elif path.startswith("/api/v1/targets"):
        body = {"status": "success", "data": {"activeTargets": []}}
    elif path.startswith("/api/v1/query"):
        body = {"status": "success", "data": {"resultType": "vector", "result": []}}
    elif "/containers/json" in path:
        return 200, "application/json", b"[]"
    elif path.endswith("/version") or path.endswith("/_ping"):
        body = {"ApiVersion": "1.41", "Version": "20.10", "MinAPIVersion": "1.12"}
    else:
        return 404, "text/plain", b"not found"
    return 200, "application/json", json.dumps(body).encode()


class Controlled:
    """A loopback HTTP server whose behaviour the test switches: ok or one fault."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                mode = outer.mode
                if mode == "hung":
                    outer.release.wait(30)
                    return
                if mode == "slow":
                    outer.release.wait(4 * INTERVAL + 0.4)
                if mode == "garbage":
                    status, ctype, body = 200, "text/html", b"<html>\x00\xff{{{not it</html>"
                else:
                    status, ctype, body = ok_answer(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def do_POST(self) -> None:  # Prometheus takes a refresh's queries as one POST
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def fault(self, mode: str) -> None:
        """Switch to ``mode``; ``dead`` closes the listening socket (connection refused)."""
        self.mode = mode
        if mode == "dead":
            self.close()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[Controlled]:
    s = Controlled()
    try:
        yield s
    finally:
        if s.mode != "dead":
            s.close()


class NvmlFaults:
    """A fake NVML binding that can die, hang, answer garbage or be slow."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.release = threading.Event()

    def init(self) -> None:
        pass

    def shutdown(self) -> None:
        self.release.set()

    def device_count(self) -> int:
        if self.mode == "dead":
            raise RuntimeError("GPU is lost")
        if self.mode == "hung":
            self.release.wait(30)
        if self.mode == "slow":
            self.release.wait(4 * INTERVAL + 0.4)
        return 1

    def read_device(self, index: int) -> Any:
        from tui.sources.nvml import DeviceReading

        if self.mode == "garbage":
            return object()  # not a reading
        return DeviceReading(name="H100", uuid="GPU-1", util_gpu_pct=50.0, mem_used_bytes=1,
                             mem_total_bytes=2, temp_c=60.0, power_mw=1.0, power_limit_mw=2.0,
                             sm_clock_mhz=1.0)  # fmt: skip

    def processes(self, index: int) -> list[Any]:
        return []

    def process_name(self, pid: int) -> str:
        return ""


def nothing_current_from(name: str, snapshot: FleetSnapshot) -> bool:
    """Nothing the source ``name`` fed is shown as current in ``snapshot``."""
    if name == "scrape":
        if not snapshot.backends:
            return False
        backend = snapshot.backends[0]
        return backend.health is not Health.UP and bool(backend.reason)
    if name == "alertmanager":
        return all(a.last_known_at is not None for a in snapshot.alerts)
    if name == "nvml":
        return all(g.util_pct is None for g in snapshot.gpus)
    return True  # prometheus (empty fleet here) and docker (no containers): the status says it


def said(name: str, snapshot: FleetSnapshot) -> bool:
    """The source's trouble is visible: its status, or (scrape target) its backend's reason."""
    if name == "scrape":
        return nothing_current_from(name, snapshot)
    if name == "nvml" and snapshot.gpus and all("unreadable" in g.name for g in snapshot.gpus):
        return True  # one bad device reading is said on that GPU's row, like a scrape target
    status = snapshot.source(name)
    return status is not None and status.state in (SourceState.ERROR, SourceState.STALE)


def make_source(kind: str, url: str, nvml: NvmlFaults) -> Any:
    timeout = 2 * INTERVAL
    if kind == "scrape":
        return ScrapeSource([ScrapeTarget("blue-0", "blue", url)], interval=INTERVAL,
                            timeout_s=timeout)  # fmt: skip
    if kind == "prometheus":
        return PrometheusSource(url, interval=INTERVAL, timeout_s=timeout)
    if kind == "alertmanager":
        return AlertmanagerSource(url, interval=INTERVAL, timeout_s=timeout)
    if kind == "docker":
        return DockerSource(url.replace("http://", "tcp://"), interval=INTERVAL, timeout_s=timeout)
    return NvmlSource(nvml, interval=INTERVAL, host="h")


async def until(check: Callable[[], bool], timeout: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        await asyncio.sleep(0.02)
    return None


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", ["scrape", "prometheus", "alertmanager", "docker", "nvml"])
async def test_a_source_fault_is_said_within_three_intervals(
    kind: str, fault: str, server: Controlled
) -> None:
    nvml = NvmlFaults()
    source = make_source(kind, server.url, nvml)
    hub = Hub([source], refresh_s=INTERVAL / 2)
    task = asyncio.create_task(hub.run())
    try:
        healthy = await until(
            lambda: hub.latest is not None and not said(kind, hub.latest)
            and hub.latest.sources[0].state is SourceState.OK,
            5,
        )  # fmt: skip
        assert healthy is not None, f"{kind} never became healthy: {hub.latest}"
        if kind == "nvml":
            nvml.mode = fault
        else:
            server.fault(fault)
        took = await until(lambda: hub.latest is not None and said(kind, hub.latest), DEADLINE)
        assert took is not None, f"{kind} {fault} not said within {DEADLINE}s: {hub.latest}"
        # and once 3 intervals have passed, nothing it fed is current
        await asyncio.sleep(max(0.0, 3 * INTERVAL + 0.1 - took))
        assert hub.latest is not None and nothing_current_from(kind, hub.latest), hub.latest
        assert hub.latest.overall.value != "OK", hub.latest.overall_reasons
    finally:
        nvml.release.set()
        server.release.set()
        hub._stop.set()  # type: ignore[union-attr]
        await asyncio.wait_for(task, 5)
