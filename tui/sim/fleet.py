"""The simulated fleet: backends (engines), their GPUs, the router's weights and faults.

Everything moves in virtual time through ``SimFleet.advance(dt)``; nothing here reads a
clock (apart from the ``_created`` timestamps of a backend's metrics) or does I/O, so a run is
determined by the config's seed and the calls made. ``tui.sim.server`` puts HTTP servers in
front of it and advances it in real time.

GPU assignment: GPU *i* serves backend *i*; GPUs beyond the number of backends idle (spares),
and when there are more backends than GPUs, backend *j* shares GPU ``j % gpus``.

Internal routing (when the load is internal): each arrival picks a pool by the weights, then
the next live backend of that pool round-robin; a crashed or hung backend is skipped (as
nginx's passive health checks would after their timeouts); when no backend of the pool is
live, the request fails and is counted in ``state()["load"]["failed"]``. Internal clients
give up after ``CLIENT_TIMEOUT_S`` (like a proxy's read timeout): the engine aborts their
request (``finished_reason="abort"``), which bounds the queue of an overloaded backend.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Collection
from typing import Any

from prometheus_client import CollectorRegistry

from tui.sim.config import SimConfig, check_weights
from tui.sim.engine import Engine, EngineParams, Request
from tui.sim.engine_metrics import (
    LlamacppCollector,
    SglangCollector,
    TextCollector,
    TgiCollector,
)
from tui.sim.gpu import GpuLoad, SimGpu, dcgm_exposition
from tui.sim.load import ArrivalProcess
from tui.sim.metrics import CONTENT_TYPE_TEXT, build_registry, render
from tui.sim.stats import HttpStats
from tui.sim.vllm_metrics import VllmCollector

FAULT_DEFAULTS: dict[str, float] = {
    "crash": 1.0,
    "hang": 1.0,
    "latency": 3.0,
    "errors": 0.5,
    "kv-pressure": 0.1,
    "overheat": 92.0,
}
"""Fault kinds and the value each takes when none is given (``clear`` removes them all)."""

FAULT_KINDS: tuple[str, ...] = (*FAULT_DEFAULTS, "clear")
"""Every kind ``set_fault`` accepts."""

_VALUE_RANGES: dict[str, tuple[float, float]] = {
    "latency": (0.1, 100.0),
    "errors": (0.0, 1.0),
    "kv-pressure": (0.01, 1.0),
    "overheat": (40.0, 110.0),
}

WEIGHTS_MIB = 15320.0  # an 8B model in bf16
OVERHEAD_MIB = 2200.0  # CUDA context, activations, CUDA graphs
MAX_SLICE_S = 1.0  # longest step of the GPU model inside one advance()
CLIENT_TIMEOUT_S = 60.0  # internal load's clients give up (the engine aborts) after this


class FaultError(ValueError):
    """An unknown backend, fault kind, or a value out of range."""


def model_for_pool(index: int, pool: str) -> str:
    """The served model name of the ``index``-th pool (blue = stable, green = new)."""
    if index == 0:
        return "llama-3.1-8b-instruct"
    if index == 1:
        return "llama-3.1-8b-instruct-v2"
    return f"llama-3.1-8b-instruct-{pool}"


class SimBackend:
    """One vLLM server: its engine, HTTP counts, metrics registry, faults and GPUs."""

    def __init__(self, fleet: SimFleet, index: int, name: str, pool: str, model: str) -> None:
        self.fleet = fleet
        self.index = index
        self.name = name
        self.pool = pool
        self.model = model
        self.port: int | None = None  # set by the server once listening
        self.faults: dict[str, float] = {}
        self.gpus: list[SimGpu] = []
        self.restarts = 0
        self.rng = random.Random(f"backend-{fleet.config.seed}-{name}")
        self.params = EngineParams()
        self.engine = self._new_engine()
        self.http = HttpStats()
        self.created = time.time()
        self.engine_name = fleet.config.engine_of(pool)
        self.collector = make_collector(self)
        self.registry: CollectorRegistry | None = (
            None if isinstance(self.collector, TextCollector) else build_registry(self.collector)
        )
        self.collector.attach(self.engine)
        self._busy_mark = 0.0
        self._batch_mark = 0.0
        self._deadlines: deque[tuple[float, Request]] = deque()

    def _new_engine(self) -> Engine:
        seed = self.fleet.config.seed * 100_003 + self.index * 1_009 + self.restarts
        engine = Engine(self.params, seed=seed, buckets=self.fleet.config.histogram_buckets)
        engine.now = self.fleet.now
        return engine

    @property
    def crashed(self) -> bool:
        """Whether the process is down (the ``crash`` fault)."""
        return "crash" in self.faults

    @property
    def hung(self) -> bool:
        """Whether the server accepts connections but never answers (``hang``)."""
        return "hang" in self.faults

    @property
    def live(self) -> bool:
        """Neither crashed nor hung."""
        return not self.crashed and not self.hung

    def submit(
        self,
        prompt_tokens: int,
        max_tokens: int,
        handler: str = "/v1/chat/completions",
        record_http: bool = True,
    ) -> Request | None:
        """Hand a request to the engine now; None when the ``errors`` fault rejects it.

        A rejected request is counted as a 5xx (and, in the current generation, as
        ``finished_reason="error"``). With ``record_http`` the completion is counted as a 2xx
        with its end-to-end latency (the HTTP server records its own requests itself).
        """
        error_rate = self.faults.get("errors", 0.0)
        if error_rate > 0 and self.rng.random() < error_rate:
            self.engine.record_error()
            if record_http:
                self.http.record(handler, "POST", 500, 0.002)
            return None
        req = self.engine.submit(prompt_tokens, max_tokens)
        if record_http:

            def _done(r: Request) -> None:
                if r.done and r.e2e is not None:
                    self.http.record(handler, "POST", 200, r.e2e)

            req.add_listener(_done)
            self._deadlines.append((req.arrival + CLIENT_TIMEOUT_S, req))
        return req

    def expire(self, now: float) -> None:
        """Abort the internal requests whose clients have given up by ``now``."""
        while self._deadlines and self._deadlines[0][0] <= now:
            _, req = self._deadlines.popleft()
            if not req.done:
                self.engine.abort(req)

    def gpu_load(self) -> GpuLoad | None:
        """What the engine did since the last call, for its GPUs (None when crashed)."""
        stats = self.engine.stats
        busy = stats.busy_s - self._busy_mark
        batch = stats.batch_s - self._batch_mark
        self._busy_mark, self._batch_mark = stats.busy_s, stats.batch_s
        if self.crashed:
            return None
        dt = self.fleet.last_dt
        pool_mib = 0.9 * 81559 - WEIGHTS_MIB - OVERHEAD_MIB
        kv_fraction = self.engine.kv_fraction
        return GpuLoad(
            busy=busy / dt if dt > 0 else 0.0,
            batch_ratio=(batch / busy / self.params.max_num_seqs) if busy > 0 else 0.0,
            kv_usage=kv_fraction * self.engine.kv_usage + (1.0 - kv_fraction),
            weights_mib=WEIGHTS_MIB + OVERHEAD_MIB,
            kv_pool_mib=pool_mib,
            hung=self.hung,
        )

    def restart(self) -> None:
        """The process comes back: fresh engine, counters from zero, new ``_created``."""
        self.restarts += 1
        self.engine = self._new_engine()
        self.collector.attach(self.engine)
        self.http = HttpStats()
        self.created = time.time()
        self._busy_mark = self._batch_mark = 0.0
        self._deadlines.clear()

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary."""
        return {
            "name": self.name,
            "pool": self.pool,
            "model": self.model,
            "engine": self.engine_name,
            "port": self.port,
            "faults": dict(self.faults),
            "running": self.engine.num_running,
            "waiting": self.engine.num_waiting,
            "kv_cache_usage": round(self.engine.kv_usage, 4),
            "gpus": [g.index for g in self.gpus],
        }


class SimFleet:
    """All backends and GPUs of a simulated fleet, advanced in virtual time."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.now = 0.0
        self.last_dt = 0.0
        self.weights: dict[str, float] = self.config.initial_weights()
        self._backends: list[SimBackend] = []
        for pool_index, (pool, count) in enumerate(self.config.pools.items()):
            model = model_for_pool(pool_index, pool)
            for i in range(count):
                index = len(self._backends)
                self._backends.append(SimBackend(self, index, f"{pool}-{i}", pool, model))
        self.gpus = [SimGpu(i, self.config.seed) for i in range(self.config.gpus)]
        for i, gpu in enumerate(self.gpus):
            if i < len(self._backends):
                gpu.backend = self._backends[i].name
                self._backends[i].gpus.append(gpu)
        if self.gpus:
            for j in range(len(self.gpus), len(self._backends)):
                gpu = self.gpus[j % len(self.gpus)]
                self._backends[j].gpus.append(gpu)
        self.internal_load = self.config.load and self.config.load_target is None
        self.arrivals = ArrivalProcess(
            self.config.rps,
            self.config.diurnal_amplitude,
            self.config.diurnal_period_s,
            self.config.seed,
        )
        self._router_rng = random.Random(f"router-{self.config.seed}")
        self._round_robin: dict[str, int] = dict.fromkeys(self.config.pools, 0)
        self.load_counts: dict[str, int] = {"sent": 0, "routed": 0, "failed": 0}

    # -------------------------------------------------------------- lookup
    @property
    def backends(self) -> list[SimBackend]:
        """The backends, pool by pool, named ``{pool}-{i}``."""
        return list(self._backends)

    def backend(self, name: str) -> SimBackend:
        """The backend called ``name``; FaultError when there is none."""
        for b in self._backends:
            if b.name == name:
                return b
        known = ", ".join(b.name for b in self._backends)
        raise FaultError(f"unknown backend {name!r} (backends: {known})")

    # ---------------------------------------------------------------- time
    def advance(self, dt: float) -> None:
        """Move virtual time forward ``dt`` seconds (internal load arrives meanwhile).

        Long advances run in slices of at most ``MAX_SLICE_S`` so that GPU temperature and
        throttling feed back into the engines as they would in real time.
        """
        if dt < 0:
            raise ValueError("time only moves forward")
        end = self.now + dt
        while end - self.now > MAX_SLICE_S:
            self._advance(MAX_SLICE_S)
        self._advance(end - self.now)

    def _advance(self, dt: float) -> None:
        target = self.now + dt
        for b in self._backends:
            throttle = max((g.slowdown for g in b.gpus), default=1.0)
            b.engine.slowdown = b.faults.get("latency", 1.0) * throttle
        if self.internal_load:
            for arrival in self.arrivals.until(target):
                self.load_counts["sent"] += 1
                backend = self._route()
                if backend is None:
                    self.load_counts["failed"] += 1
                    continue
                self.load_counts["routed"] += 1
                backend.engine.step(max(0.0, arrival.at - backend.engine.now))
                backend.submit(arrival.prompt_tokens, arrival.max_tokens, arrival.handler)
        for b in self._backends:
            b.engine.step(max(0.0, target - b.engine.now))
            b.expire(target)
        self.now = target
        self.last_dt = dt
        loads: dict[int, list[GpuLoad]] = {}
        for b in self._backends:
            load = b.gpu_load()
            if load is not None:
                for gpu in b.gpus:
                    loads.setdefault(gpu.index, []).append(load)
        for gpu in self.gpus:
            gpu.update(dt, _combine(loads.get(gpu.index, [])))

    def _route(self) -> SimBackend | None:
        pools = [p for p, w in self.weights.items() if w > 0]
        if not pools:
            return None
        total = sum(self.weights[p] for p in pools)
        pick = self._router_rng.random() * total
        pool = pools[-1]
        for p in pools:
            pick -= self.weights[p]
            if pick < 0:
                pool = p
                break
        members = [b for b in self._backends if b.pool == pool]
        for _ in range(len(members)):
            i = self._round_robin[pool] % len(members)
            self._round_robin[pool] += 1
            if members[i].live:
                return members[i]
        return None

    # ------------------------------------------------------------- control
    def set_weights(self, weights: dict[str, float]) -> dict[str, float]:
        """Set the router's split (percent per pool; pools not named keep their weight)."""
        check_weights(weights, self.config.pools)
        self.weights.update({p: float(w) for p, w in weights.items()})
        if sum(self.weights.values()) <= 0:
            raise ValueError("weights must not all be 0")
        return dict(self.weights)

    def set_fault(self, backend: str, kind: str, value: float | None = None) -> dict[str, float]:
        """Inject (or ``clear``) a fault on one backend; returns its faults now.

        Kinds: crash, hang, latency (x value, default 3), errors (fraction, default 0.5),
        kv-pressure (share of the KV cache left, default 0.1), overheat (target degrees C,
        default 92), clear. FaultError on an unknown backend, kind or bad value.
        """
        b = self.backend(backend)
        if kind not in FAULT_KINDS:
            raise FaultError(f"unknown fault kind {kind!r} (kinds: {', '.join(FAULT_KINDS)})")
        if kind == "clear":
            was_crashed = b.crashed
            b.faults.clear()
            if was_crashed:
                b.restart()
            b.engine.frozen = False
            b.engine.kv_fraction = 1.0
            for gpu in b.gpus:
                gpu.overheat_c = None
            return {}
        if value is None:
            value = FAULT_DEFAULTS[kind]
        if kind in _VALUE_RANGES:
            low, high = _VALUE_RANGES[kind]
            if not low <= value <= high:
                raise FaultError(f"value for {kind} must be between {low:g} and {high:g}")
        b.faults[kind] = float(value)
        if kind == "crash":
            b.engine.abort_all()
        elif kind == "hang":
            b.engine.frozen = True
        elif kind == "kv-pressure":
            b.engine.kv_fraction = float(value)
        elif kind == "overheat":
            for gpu in b.gpus:
                gpu.overheat_c = float(value)
        return dict(b.faults)

    # ----------------------------------------------------------- exposition
    def metrics_text(self, backend_name: str, openmetrics: bool = False) -> bytes:
        """The backend's ``/metrics`` body (OpenMetrics escaped per config when asked)."""
        return self.metrics_response(backend_name, openmetrics)[0]

    def metrics_response(
        self, backend_name: str, openmetrics: bool = False, names: Collection[str] = ()
    ) -> tuple[bytes, str]:
        """The backend's ``/metrics`` body and content type.

        ``names``: only these samples (``/metrics?name[]=...``), as prometheus_client's
        exposition serves them behind vLLM and SGLang; TGI and llama.cpp write their page
        themselves and send all of it whatever is asked.
        """
        b = self.backend(backend_name)
        if b.registry is None:  # TGI and llama.cpp write the classic text format themselves
            assert isinstance(b.collector, TextCollector)
            return b.collector.exposition(), CONTENT_TYPE_TEXT
        registry = b.registry.restricted_registry(names) if names else b.registry
        return render(registry, openmetrics, self.config.openmetrics_escaped)

    def gpu_metrics_text(self) -> bytes:
        """DCGM exporter's ``/metrics`` body for every GPU."""
        return dcgm_exposition(self.gpus, power_limit=self.config.dcgm_power_limit)

    def state(self) -> dict[str, Any]:
        """A JSON-able picture: time, backends, weights, faults, load counts, GPUs."""
        return {
            "time": round(self.now, 3),
            "backends": [b.describe() for b in self._backends],
            "weights": dict(self.weights),
            "faults": {b.name: dict(b.faults) for b in self._backends if b.faults},
            "load": {"internal": self.internal_load, "rps": self.config.rps, **self.load_counts},
            "gpus": [
                {
                    "index": g.index,
                    "backend": g.backend,
                    "util_pct": round(g.util_pct, 1),
                    "temp_c": round(g.temp_c, 1),
                    "sm_clock_mhz": round(g.sm_clock_mhz),
                }
                for g in self.gpus
            ],
        }


def _combine(loads: list[GpuLoad]) -> GpuLoad | None:
    if not loads:
        return None
    if len(loads) == 1:
        return loads[0]
    return GpuLoad(
        busy=min(1.0, sum(x.busy for x in loads)),
        batch_ratio=max(x.batch_ratio for x in loads),
        kv_usage=sum(x.kv_usage for x in loads) / len(loads),
        weights_mib=sum(x.weights_mib for x in loads),
        kv_pool_mib=sum(x.kv_pool_mib for x in loads) / len(loads),
        hung=any(x.hung for x in loads),
    )


def make_collector(
    backend: SimBackend,
) -> VllmCollector | SglangCollector | TgiCollector | LlamacppCollector:
    """The metrics collector of the engine ``backend`` simulates."""
    engine = lambda: backend.engine  # noqa: E731
    http = lambda: backend.http  # noqa: E731
    created = lambda: backend.created  # noqa: E731
    name = backend.engine_name
    if name == "sglang":
        return SglangCollector(engine, http, backend.model, created)
    if name == "tgi":
        return TgiCollector(engine, http, backend.model)
    if name == "llamacpp":
        return LlamacppCollector(engine)
    return VllmCollector(engine, http, backend.model, backend.fleet.config.vllm_metrics, created)
