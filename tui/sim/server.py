"""HTTP servers in front of a ``SimFleet``: backends, the GPU exporter, the control endpoint.

Port layout: control on ``port_base``, backend *i* on ``port_base + 1 + i``, the DCGM-style
GPU exporter on ``port_base + 100``; ``port_base == 0`` picks free ports for all of them.
A tick task advances the fleet by the measured elapsed time every 100 ms (and before every
submitted request), so simulated latency is real latency.

``SimServer`` runs inside an existing asyncio loop; ``SimRuntime`` runs one in a dedicated
thread with its own loop, for synchronous callers (the CLI, tests, the TUI's demo mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from tui.sim.api import BackendApi, exposition
from tui.sim.config import SimConfig
from tui.sim.fleet import FaultError, SimBackend, SimFleet
from tui.sim.load import HttpLoadGenerator
from tui.sim.metrics import CONTENT_TYPE_TEXT

TICK_S = 0.1
SHUTDOWN_TIMEOUT_S = 0.3
T = TypeVar("T")


class PortInUse(OSError):
    """A port the simulator needs is taken by another process."""

    def __init__(self, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} is already in use")
        self.port = port

    def __str__(self) -> str:
        return f"port {self.port} is already in use"


class _Site:
    """One aiohttp application listening on one port (stoppable and restartable)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.runner: web.AppRunner | None = None

    async def start(self) -> int:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(self.port) from exc
            raise
        self.runner = runner
        self.port = runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        runner, self.runner = self.runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def listening(self) -> bool:
        return self.runner is not None


class SimServer:
    """Every HTTP server of a fleet, in the running asyncio loop."""

    def __init__(self, fleet: SimFleet) -> None:
        self.fleet = fleet
        self.config: SimConfig = fleet.config
        self._sites: dict[str, _Site] = {}
        self._unhung: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._last = 0.0
        self.load: HttpLoadGenerator | None = None
        self.description: dict[str, Any] = {}

    # ------------------------------------------------------------------ time
    def sync(self) -> None:
        """Advance the fleet to the present (real elapsed time since the last sync)."""
        now = time.monotonic()
        dt = now - self._last
        self._last = now
        if dt > 0:
            self.fleet.advance(dt)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.sync()

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> dict[str, Any]:
        """Listen on every port; returns the description. PortInUse leaves nothing open."""
        base, host = self.config.port_base, self.config.host
        control = web.Application()
        control.add_routes(
            [
                web.get("/state", self._state),
                web.post("/faults", self._faults),
                web.get("/weights", self._get_weights),
                web.put("/weights", self._put_weights),
            ]
        )
        gpu_app = web.Application()
        gpu_app.add_routes([web.get("/metrics", self._gpu_metrics)])
        self._sites["control"] = _Site(control, host, base)
        for i, backend in enumerate(self.fleet.backends):
            self._unhung[backend.name] = asyncio.Event()
            self._unhung[backend.name].set()
            self._sites[backend.name] = _Site(
                self._backend_app(backend), host, base + 1 + i if base else 0
            )
        self._sites["gpu"] = _Site(gpu_app, host, base + 100 if base else 0)
        try:
            for name, site in self._sites.items():
                port = await site.start()
                if name not in ("control", "gpu"):
                    self.fleet.backend(name).port = port
        except BaseException:
            await self._stop_sites()
            raise
        for backend in self.fleet.backends:
            if backend.crashed:
                await self._sites[backend.name].stop()
            if backend.hung:
                self._unhung[backend.name].clear()
        self._last = time.monotonic()
        self._tasks.append(asyncio.create_task(self._tick()))
        if self.config.load and self.config.load_target:
            self.load = HttpLoadGenerator(
                self.config.load_target, self.fleet.arrivals, self.fleet.backends[0].model
            )
            self._tasks.append(asyncio.create_task(self.load.run()))
        url = f"http://{host}"
        self.description = {
            "backends": [
                {
                    "name": b.name,
                    "pool": b.pool,
                    "model": b.model,
                    "engine": b.engine_name,
                    "url": f"{url}:{b.port}",
                }
                for b in self.fleet.backends
            ],
            "gpu_exporter": f"{url}:{self._sites['gpu'].port}/metrics",
            "control": f"{url}:{self._sites['control'].port}",
        }
        return self.description

    async def stop(self) -> None:
        """Stop every task and server; no port stays listening."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for event in self._unhung.values():
            event.set()  # let hung handlers finish so shutdown does not wait on them
        await self._stop_sites()

    async def _stop_sites(self) -> None:
        for site in self._sites.values():
            await site.stop()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --------------------------------------------------------------- control
    async def apply_fault(
        self, backend: str, kind: str, value: float | None = None
    ) -> dict[str, float]:
        """Set a fault in the fleet and make the servers follow (crash closes the port)."""
        self.sync()
        b = self.fleet.backend(backend)
        was_crashed = b.crashed
        faults = self.fleet.set_fault(backend, kind, value)
        site = self._sites.get(backend)
        if site is not None:
            if b.crashed and site.listening:
                await site.stop()
            elif was_crashed and not b.crashed and not site.listening:
                await site.start()
        event = self._unhung.get(backend)
        if event is not None:
            if b.hung:
                event.clear()
            else:
                event.set()
        return faults

    def _backend_app(self, backend: SimBackend) -> web.Application:
        @web.middleware
        async def hang(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            await self._unhung[backend.name].wait()
            return await handler(request)

        app = web.Application(middlewares=[hang])
        app.add_routes(BackendApi(self.fleet, backend, self.sync).routes())
        return app

    # -------------------------------------------------------------- handlers
    async def _gpu_metrics(self, request: web.Request) -> web.Response:
        self.sync()
        return exposition(request, self.fleet.gpu_metrics_text(), CONTENT_TYPE_TEXT)

    def full_state(self) -> dict[str, Any]:
        """The fleet's state plus the servers' addresses and the HTTP load counts."""
        state = self.fleet.state()
        if self.load is not None:
            state["load"]["http"] = self.load.counts.as_dict()
        state["endpoints"] = self.description
        return state

    async def _state(self, request: web.Request) -> web.Response:
        self.sync()
        return web.json_response(self.full_state())

    async def _faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            backend, kind = body["backend"], body["kind"]
            value = body.get("value")
            if value is not None:
                value = float(value)
        except (ValueError, KeyError, TypeError):
            return web.json_response(
                {"error": 'expected JSON {"backend": NAME, "kind": KIND, "value": X}'}, status=400
            )
        try:
            faults = await self.apply_fault(str(backend), str(kind), value)
        except FaultError as exc:
            status = 404 if str(exc).startswith("unknown backend") else 400
            return web.json_response({"error": str(exc)}, status=status)
        except OSError as exc:
            return web.json_response({"error": f"cannot re-open {backend}: {exc}"}, status=500)
        return web.json_response({"backend": backend, "kind": kind, "faults": faults})

    async def _get_weights(self, request: web.Request) -> web.Response:
        return web.json_response({"weights": self.fleet.weights})

    async def _put_weights(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError('expected JSON {"pool": weight, ...}')
            self.sync()
            weights = self.fleet.set_weights(body)
        except ValueError as exc:  # includes JSON errors
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"weights": weights})


class SimRuntime:
    """A ``SimServer`` in a background thread with its own loop, for synchronous code.

    ``fleet`` is the live model; it belongs to the runtime's thread, so mutate it through
    ``set_fault``/``set_weights`` (or ``call``) rather than directly while running.
    """

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.fleet = SimFleet(self.config)
        self.server: SimServer | None = None
        self.description: dict[str, Any] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    def start(self) -> dict[str, Any]:
        """Start every server; returns the description. Raises PortInUse (nothing left open)."""
        if self._thread is not None:
            raise RuntimeError("already started")
        ready = threading.Event()
        outcome: dict[str, Any] = {}

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            server = SimServer(self.fleet)
            try:
                outcome["description"] = await server.start()
            except BaseException as exc:
                outcome["error"] = exc
                ready.set()
                return
            self.server = server
            ready.set()
            try:
                await self._stop_event.wait()
            finally:
                await server.stop()

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), name="inferdeck-sim")
        self._thread.daemon = True
        self._thread.start()
        ready.wait()
        if "error" in outcome:
            self._thread.join()
            self._thread = None
            raise outcome["error"]
        self.description = outcome["description"]
        return self.description

    def stop(self) -> None:
        """Stop every server and task and join the thread (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._loop is not None and self._stop_event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stop_event.set)
        thread.join()

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
        """Run ``fn()`` (a coroutine function) in the runtime's loop and return its result."""
        if self._loop is None or self._thread is None:
            raise RuntimeError("the runtime is not running")

        async def run() -> T:
            return await fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def set_fault(self, backend: str, kind: str, value: float | None = None) -> dict[str, float]:
        """Inject a fault (servers follow: crash closes the port, clear re-opens it)."""
        server = self._server()
        return self.call(lambda: server.apply_fault(backend, kind, value))

    def set_weights(self, weights: dict[str, float]) -> dict[str, float]:
        """Set the router's weights (percent per pool)."""

        async def run() -> dict[str, float]:
            return self.fleet.set_weights(weights)

        return self.call(run)

    def state(self) -> dict[str, Any]:
        """The control endpoint's ``/state`` document."""
        server = self._server()

        async def run() -> dict[str, Any]:
            server.sync()
            return server.full_state()

        return json.loads(json.dumps(self.call(run)))

    def _server(self) -> SimServer:
        if self.server is None:
            raise RuntimeError("the runtime is not running")
        return self.server

    def __enter__(self) -> SimRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
