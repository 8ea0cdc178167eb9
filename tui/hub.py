"""The hub: runs the sources on their intervals, keeps bounded history, publishes snapshots.

Each source has its own polling task; a poll never overlaps the previous one of the same
source, and a slow or failing source never delays another. A publishing loop builds a
`FleetSnapshot` every refresh from the latest result of every source, so a source that
hangs shows up as *stale* (with its age) on the next refresh rather than freezing the view.
No Textual here: the app passes a callback, which is called from the hub's thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from tui.analysis.alert_rules import NO_DATA_PREFIX, unserved_pools
from tui.analysis.overall import overall
from tui.model import (
    Alert,
    Backend,
    Collected,
    Container,
    FleetSnapshot,
    Gpu,
    Health,
    Pool,
    SourceState,
    SourceStatus,
)
from tui.sources.base import Source, SourceUnavailable
from tui.subscriber import name_os_thread

SnapshotCallback = Callable[[FleetSnapshot], None]
AlertsHook = Callable[[FleetSnapshot], tuple[Alert, ...]]
"""Given the merged snapshot, the alerts it should carry (inferdeck's own alerts and acks)."""

STALE_AFTER_INTERVALS = 3.0
"""A source is stale when its last good poll is older than this many intervals."""

HUB_THREAD = "inferdeck-hub"
"""The hub's thread, as the OS shows it: the sources' requests and timers."""
WORK_THREAD = "inferdeck-work"
"""The threads the sources hand work to (parsing, windows, blocking clients), as the OS
shows them."""


@dataclass
class _SourceSlot:
    """What the hub knows of one source: its last result and how its polls went."""

    source: Source
    result: Collected | None = None
    result_at: float | None = None
    state: SourceState = SourceState.PENDING
    message: str = ""
    last_ok: float | None = None
    duration_s: float | None = None
    polling_since: float | None = None
    generation: int = 0  # bumped on every good poll


class _Ring:
    """A fixed-size ring of floats in one ``array('d')``: 8 bytes a point, never more.

    The tuple a snapshot holds (`as_tuple`) is made once from the array, then moved on
    by each new value (the last one's items and the new value: no float made again), so
    consecutive snapshots share their points, and a reader comparing them (the flight
    recorder) compares references."""

    __slots__ = ("_at", "_count", "_tuple", "_values", "gap_run")

    def __init__(self, points: int) -> None:
        self._values = array("d", bytes(8 * points))
        self._at = 0  # where the next value goes
        self._count = 0
        self._tuple: tuple[float, ...] | None = None  # the values, once asked for
        self.gap_run = 0  # how many of the newest values are gaps (NaN)

    def append(self, value: float) -> None:
        """Add the newest value, dropping the oldest when full."""
        values = self._values
        values[self._at] = value
        self._at = (self._at + 1) % len(values)
        full = self._count == len(values)
        self._count = min(self._count + 1, len(values))
        self.gap_run = self.gap_run + 1 if math.isnan(value) else 0
        if self._tuple is not None:
            self._tuple = (self._tuple[1:] if full else self._tuple) + (value,)

    def as_tuple(self) -> tuple[float, ...]:
        """The values, oldest first."""
        if self._tuple is None:
            values, at = self._values, self._at
            if self._count < len(values):
                self._tuple = tuple(values[: self._count])
            else:
                self._tuple = tuple(values[at:]) + tuple(values[:at])
        return self._tuple


class History:
    """Bounded ring buffers of chart series, keyed by name (``fleet.ttft_p95``, ...).

    Each series is one ``array('d')`` of ``points`` floats; a snapshot gets tuples made
    once per new sample (not once per refresh). A series that has been a gap for a whole
    chart span (a GPU or pool that went away) is dropped, so a dashboard running for
    weeks on a changing fleet holds only what its charts can show.
    """

    def __init__(self, points: int) -> None:
        """Keep the last ``points`` values of each series."""
        self.points = points
        self._series: dict[str, _Ring] = {}
        self._frozen: MappingProxyType[str, tuple[float, ...]] | None = None
        self._base: MappingProxyType[str, tuple[float, ...]] | None = None  # the last copy
        self._appends = 0  # samples appended since it
        self._reshaped = False  # a series dropped or put before since it
        self._advances: deque[tuple[Mapping[str, Any], Mapping[str, Any]]] = deque(maxlen=2)

    def append(self, values: dict[str, float | None]) -> None:
        """Append one sample to every named series (None → NaN: a gap, not a zero).

        A series this sample does not mention (its source stopped answering, its GPU is
        gone) gets a gap too: charts stay aligned in time and never extend a line with
        points nobody measured.
        """
        self._frozen = None
        self._appends += 1
        for name, kept in list(self._series.items()):
            if name not in values:
                kept.append(math.nan)
                if kept.gap_run >= self.points:
                    del self._series[name]  # nothing left to draw
                    self._reshaped = True
        for name, value in values.items():
            ring = self._series.get(name)
            if ring is None:
                ring = self._series[name] = _Ring(self.points)
            ring.append(math.nan if value is None else float(value))

    def prepend(self, series: dict[str, list[float]]) -> None:
        """Put older samples (from a range query) before what was collected live."""
        self._frozen = None
        self._reshaped = True
        for name, older in series.items():
            current = self._series[name].as_tuple() if name in self._series else ()
            ring = self._series[name] = _Ring(self.points)
            for value in [*older, *current][-self.points :]:
                ring.append(value)

    def frozen(self) -> MappingProxyType[str, tuple[float, ...]]:
        """An immutable copy for a snapshot (the same one until a sample is added)."""
        if self._frozen is None:
            frozen = MappingProxyType({k: v.as_tuple() for k, v in self._series.items()})
            if self._base is not None and self._appends == 1 and not self._reshaped:
                self._advances.append((self._base, frozen))
            self._frozen = self._base = frozen
            self._appends, self._reshaped = 0, False
        return self._frozen

    def advanced(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
        """Whether the copy ``after`` is the copy ``before`` with one sample appended to
        each series and nothing dropped or put before: each series of ``after`` is its
        series in ``before`` (or none, a new one) moved on by one point. Known for the
        last two copies (False for anything else: not known). For the flight recorder,
        which then checks only the new points (`tui.recording.history.advanced_by`);
        called from its thread."""
        return any(old is before and new is after for old, new in tuple(self._advances))


def history_sample(snapshot: FleetSnapshot) -> dict[str, float | None]:
    """The chart figures of one snapshot: fleet latency, queue, throughput, and per GPU."""
    sample: dict[str, float | None] = {}
    fleet = snapshot.fleet
    if fleet is not None:
        sample.update(
            {
                "fleet.ttft_p50": fleet.ttft.p50,
                "fleet.ttft_p95": fleet.ttft.p95,
                "fleet.e2e_p50": fleet.e2e.p50,
                "fleet.e2e_p95": fleet.e2e.p95,
                "fleet.waiting": fleet.waiting,
                "fleet.running": fleet.running,
                "fleet.kv": fleet.kv_cache_usage,
                "fleet.gen_tps": fleet.traffic.generation_tokens_per_s,
                "fleet.prompt_tps": fleet.traffic.prompt_tokens_per_s,
                "fleet.rpm": fleet.traffic.requests_per_min,
                "fleet.error_rate": fleet.traffic.error_rate,
            }
        )
    for pool in snapshot.pools:
        sample[f"pool.{pool.name}.waiting"] = pool.waiting
        sample[f"pool.{pool.name}.rpm"] = pool.traffic.requests_per_min
    for b in snapshot.backends:  # for the backend's detail screen
        sample[f"backend.{b.name}.ttft_p95"] = b.ttft.p95
        sample[f"backend.{b.name}.running"] = b.running
        sample[f"backend.{b.name}.waiting"] = b.waiting
        sample[f"backend.{b.name}.kv"] = b.kv_cache_usage
    for gpu in snapshot.gpus:
        sample[f"gpu.{gpu.key}.util"] = gpu.util_pct
        sample[f"gpu.{gpu.key}.temp"] = gpu.temp_c
    return sample


class Hub:
    """Polls sources, merges their results into `FleetSnapshot`s and keeps history."""

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        environment: str = "default",
        slo_tier: str = "standard",
        refresh_s: float = 1.0,
        history_points: int = 300,
        clock: Callable[[], float] = time.time,
        alerts_hook: AlertsHook | None = None,
    ) -> None:
        """``alerts_hook``: replaces each snapshot's alerts after the merge (local alerts)."""
        self.environment = environment
        self.slo_tier = slo_tier
        self.refresh_s = refresh_s
        self.clock = clock
        self.history = History(history_points)
        self._slots = [_SourceSlot(s) for s in sources]
        self._callbacks: list[SnapshotCallback] = []
        self._seen_generations: tuple[int, ...] = ()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.latest: FleetSnapshot | None = None
        self.alerts_hook = alerts_hook
        self._pool_alerts: tuple[Alert, ...] = ()
        self._alert_starts: dict[str, float] = {}  # fingerprint -> earliest start seen

    @property
    def sources(self) -> tuple[Source, ...]:
        """The sources this hub polls."""
        return tuple(slot.source for slot in self._slots)

    # --- subscribing -------------------------------------------------------------------

    def subscribe(self, callback: SnapshotCallback) -> None:
        """Call ``callback(snapshot)`` on every publish (from the hub's thread)."""
        self._callbacks.append(callback)

    # --- one pass ----------------------------------------------------------------------

    async def poll_once(self) -> FleetSnapshot:
        """Poll every source once, concurrently, and return the resulting snapshot."""
        await asyncio.gather(*(self._poll(slot) for slot in self._slots))
        return self._publish()

    async def _poll(self, slot: _SourceSlot) -> None:
        started = self.clock()
        slot.polling_since = started
        try:
            result = await slot.source.collect()
        except SourceUnavailable as exc:
            slot.state, slot.message = SourceState.UNAVAILABLE, _one_line(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken source must never take the hub down
            slot.state, slot.message = SourceState.ERROR, _one_line(exc)
        else:
            self._accept(slot, result)
        finally:
            slot.polling_since = None
            slot.duration_s = self.clock() - started

    def _hub_alerts(self, snapshot: FleetSnapshot) -> tuple[Alert, ...]:
        """The snapshot's alerts plus the hub's own: a pool that gets traffic with no
        backend up (raised whatever else watches the fleet: only the hub knows both the
        router's weights and every backend's health)."""
        self._pool_alerts = unserved_pools(
            snapshot.backends, snapshot.weights, now=snapshot.taken_at, previous=self._pool_alerts
        )
        known = {a.fingerprint for a in snapshot.alerts}
        extra = tuple(a for a in self._pool_alerts if a.fingerprint not in known)
        alerts = self._steady_starts((*snapshot.alerts, *extra))
        return tuple(sorted(alerts, key=lambda a: a.starts_at, reverse=True))

    def _steady_starts(self, alerts: Iterable[Alert]) -> list[Alert]:
        """Each alert's start as the earliest any source gave while it stayed active.

        Sources disagree: Prometheus's ``activeAt`` is when the condition started holding
        (pending included), Alertmanager's ``startsAt`` when the alert fired (``for:``
        later), and an alert whose start Prometheus cannot tell is dated by the query. As
        the view that wins changes (a source late, failing or back), "For" jumped back by
        the ``for:`` wait. Remembering the earliest start per fingerprint keeps it moving
        forward only; an alert gone from every source is forgotten.
        """
        out = []
        seen: dict[str, float] = {}
        for alert in alerts:
            start = min(alert.starts_at, self._alert_starts.get(alert.fingerprint, math.inf))
            seen[alert.fingerprint] = start
            out.append(alert if start == alert.starts_at else replace(alert, starts_at=start))
        self._alert_starts = seen
        return out

    def _accept(self, slot: _SourceSlot, result: Collected) -> None:
        slot.result, slot.result_at = result, self.clock()
        slot.state, slot.message = SourceState.OK, ""
        slot.last_ok = slot.result_at
        slot.generation += 1

    def record(self, source: Source, result: Collected) -> FleetSnapshot:
        """Take a result that a source produced outside the hub's loop, and publish.

        For push-style sources and for replaying recorded or simulated data synchronously.
        """
        slot = next(s for s in self._slots if s.source is source)
        self._accept(slot, result)
        return self._publish()

    # --- running -------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll every source on its interval and publish every refresh, until stopped."""
        self._stop = asyncio.Event()
        tasks = [asyncio.create_task(self._source_loop(slot)) for slot in self._slots]
        tasks.append(asyncio.create_task(self._prefill_history()))
        try:
            while not self._stop.is_set():
                self._publish()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.refresh_s)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for slot in self._slots:
                with contextlib.suppress(Exception):
                    await slot.source.aclose()

    async def _prefill_history(self) -> None:
        """Ask sources that keep history (Prometheus) for the charts' past, once.

        Runs beside the polls, so the first frame never waits for it; a failure only
        means the charts start empty.
        """
        span = self.history.points * self.refresh_s
        for slot in self._slots:
            history = getattr(slot.source, "history", None)
            if history is None:
                continue
            with contextlib.suppress(Exception):
                self.history.prepend(await history(span, self.refresh_s))

    async def _source_loop(self, slot: _SourceSlot) -> None:
        assert self._stop is not None
        first = True
        while not self._stop.is_set():
            started = time.monotonic()
            await self._poll(slot)  # the next poll starts only after this one ends
            if first:  # show the first data at once, not at the next refresh tick
                first = False
                self._publish()
            if slot.state is SourceState.UNAVAILABLE:
                return  # it will not start working by itself
            delay = max(0.0, slot.source.interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    def start(self) -> None:
        """Run the hub in a background thread with its own event loop.

        The thread is ``inferdeck-hub`` to the OS (``top -H``, /proc's ``comm``): the
        sources' HTTP and timers; the work its sources hand off (``asyncio.to_thread``:
        parsing, windows, blocking clients) runs in threads called ``inferdeck-work``. An
        operator, or ``benchmarks/idle_cpu.py``, can so tell collection's CPU from the
        screen's (the process's main thread).
        """

        def main() -> None:
            name_os_thread(HUB_THREAD)
            self._loop = asyncio.new_event_loop()
            self._loop.set_default_executor(
                concurrent.futures.ThreadPoolExecutor(
                    thread_name_prefix=WORK_THREAD,
                    initializer=name_os_thread,
                    initargs=(WORK_THREAD,),
                )
            )
            try:
                self._loop.run_until_complete(self.run())
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=main, name=HUB_THREAD, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread started by `start` and close every source."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # --- merging -------------------------------------------------------------------------

    def statuses(self, now: float) -> tuple[SourceStatus, ...]:
        """Every source's status now; a good source whose data has aged becomes stale."""
        out = []
        for slot in self._slots:
            state, message = slot.state, slot.message
            limit = self._stale_limit(slot)
            if state is SourceState.OK and slot.last_ok is not None:
                age = now - slot.last_ok
                if age > limit:
                    state, message = SourceState.STALE, f"no data for {age:.0f}s"
            elif state is SourceState.PENDING and slot.polling_since is not None:
                waited = now - slot.polling_since
                if waited > limit:
                    state, message = (
                        SourceState.STALE,
                        f"first poll still running after {waited:.0f}s",
                    )
            out.append(
                SourceStatus(slot.source.name, state, message, slot.last_ok, slot.duration_s)
            )
        return tuple(out)

    def _stale_limit(self, slot: _SourceSlot) -> float:
        """How old a source's last good data may be before it counts as stale."""
        return STALE_AFTER_INTERVALS * max(slot.source.interval, self.refresh_s)

    def _views(
        self, now: float, statuses: Sequence[SourceStatus]
    ) -> tuple[list[Collected], list[Collected]]:
        """(what to show, what to chart): each source's result as far as it is current.

        * a source whose last poll succeeded (OK): its result, shown and charted;
        * one whose last poll failed less than 3 intervals after its last good one (ERROR,
          recent): its last result is shown (the panels say ERROR) but not charted — a
          chart point is a measurement, and this one was not measured again;
        * one whose data is older than that (STALE, or ERROR for long): `last_known` —
          identities stay, figures become unknown, alerts are marked last known.

        Current views come first, so for a backend or GPU two sources see, the one that
        answers is the one shown.
        """
        fresh: list[Collected] = []
        held: list[Collected] = []
        aged: list[Collected] = []
        for slot, status in zip(self._slots, statuses, strict=True):
            if slot.result is None:
                continue
            if status.state is SourceState.OK:
                fresh.append(slot.result)
                continue
            recent = slot.last_ok is not None and now - slot.last_ok <= self._stale_limit(slot)
            if status.state is SourceState.ERROR and recent:
                held.append(slot.result)
            else:
                why = describe_trouble(status, now)
                aged.append(last_known(slot.result, why, slot.last_ok))
        return [*fresh, *held, *aged], [*fresh, *aged]

    def _publish(self) -> FleetSnapshot:
        now = self.clock()
        statuses = self.statuses(now)
        shown, charted = self._views(now, statuses)
        common = {"taken_at": now, "environment": self.environment, "slo_tier": self.slo_tier}
        snapshot = merge(shown, sources=statuses, **common)  # type: ignore[arg-type]
        snapshot = replace(snapshot, alerts=self._hub_alerts(snapshot))
        if self.alerts_hook is not None:  # local alerts and acks: tui.ops.alerts.local_acks
            snapshot = replace(snapshot, alerts=self.alerts_hook(snapshot))
        generations = tuple(slot.generation for slot in self._slots)
        if generations != self._seen_generations:  # new data arrived: extend the charts
            self._seen_generations = generations
            measured = snapshot if charted == shown else merge(charted, **common)  # type: ignore[arg-type]
            self.history.append(history_sample(measured))
        freshest = max((s.last_ok for s in self._slots if s.last_ok is not None), default=None)
        state, reasons = overall(
            backends=snapshot.backends,
            fleet=snapshot.fleet,
            tier=self.slo_tier,
            sources=statuses,
            alerts=snapshot.alerts,
            now=now,
        )
        snapshot = replace(
            snapshot,
            history=self.history.frozen(),
            overall=state,
            overall_reasons=reasons,
            freshest_data_at=freshest,
        )
        self.latest = snapshot
        for callback in self._callbacks:
            callback(snapshot)
        return snapshot


def merge(
    results: Iterable[Collected],
    *,
    taken_at: float,
    environment: str,
    slo_tier: str,
    sources: tuple[SourceStatus, ...] = (),
) -> FleetSnapshot:
    """Merge the sources' latest results, in the sources' order.

    Two sources may describe the same thing (the scrape source and Prometheus both see
    backend blue-0, by name or by URL, and GPU host/0): the first source's view of a
    backend, GPU, pool or container wins, so the direct view is not replaced by a delayed
    one. Alerts are the
    exception: Alertmanager comes after Prometheus and knows silences, so the last view
    of an alert (by fingerprint) wins.
    """
    gpus: dict[str, Gpu] = {}
    backends: dict[str, Backend] = {}
    seen_urls: set[str] = set()
    pools: dict[str, Pool] = {}
    containers: dict[str, Container] = {}
    alerts: dict[str, Alert] = {}
    fleet: Pool | None = None
    weights: dict[str, float] = {}
    gpu_problems: list[str] = []
    for result in results:
        for gpu in result.gpus or ():
            gpus.setdefault(gpu.key, gpu)
        gpu_problems += result.gpu_problems
        for backend in result.backends or ():
            # The same server may be named differently by two sources (blue-0 in the config,
            # 10.0.0.5:8000 in Prometheus): its URL says it is the same one.
            same = backend.url.rstrip("/") in seen_urls
            if not same and backend.name not in backends:
                backends[backend.name] = backend
                seen_urls.add(backend.url.rstrip("/"))
        for pool in result.pools or ():
            pools.setdefault(pool.name, pool)
        for container in result.containers or ():
            containers.setdefault(container.name, container)
        for alert in result.alerts or ():
            before = alerts.get(alert.fingerprint)
            if before is None or before.last_known_at is not None or alert.last_known_at is None:
                alerts[alert.fingerprint] = alert  # a live view beats a last-known one
        fleet = fleet or result.fleet
        weights.update(result.weights or {})
    pool_list = [replace(unserved(p), weight=weights.get(p.name, p.weight)) for p in pools.values()]
    linked = link_containers(tuple(backends.values()), tuple(containers.values()))
    return FleetSnapshot(
        taken_at=taken_at,
        environment=environment,
        slo_tier=slo_tier,
        gpus=tuple(sorted(gpus.values(), key=lambda g: (g.host, g.index))),
        backends=linked,
        pools=tuple(pool_list),
        fleet=unserved(fleet) if fleet is not None else None,
        alerts=tuple(sorted(alerts.values(), key=lambda a: a.starts_at, reverse=True)),
        weights=MappingProxyType(weights),
        containers=tuple(sorted(containers.values(), key=lambda c: c.name)),
        gpu_problems=tuple(dict.fromkeys(gpu_problems)),
        sources=sources,
    )


def unserved(pool: Pool) -> Pool:
    """``pool`` without figures when none of its backends is up.

    Window figures (latency, rates) of a pool with nothing serving describe the past, and
    gauges summed over no backend are not zero but unknown: they become None (`—`).
    """
    if pool.healthy > 0:
        return pool
    return Pool(name=pool.name, backends=pool.backends, healthy=0, weight=pool.weight)


def describe_trouble(status: SourceStatus, now: float) -> str:
    """Why a source's data is not current, in a few words: ``prometheus STALE 40s``."""
    if status.state is SourceState.STALE and status.last_ok is not None:
        return f"{status.name} STALE {now - status.last_ok:.0f}s"
    message = " ".join(status.message.split())[:80]
    return f"{status.name} {status.state.value.upper()}" + (f": {message}" if message else "")


def last_known(result: Collected, why: str, as_of: float | None) -> Collected:
    """What a source that stopped answering last said, with nothing passed off as current.

    GPUs, backends, pools and containers keep their identity (so rows do not jump) but lose
    every figure; backends become UNKNOWN with ``why`` as the reason. Alerts are kept —
    they are what the operator most needs — marked ``last_known_at`` (their age and the
    source's error are shown beside them). The router's weights are kept: they are
    configuration, and the Traffic screen's border says the router is not answering.
    """
    return Collected(
        gpus=None
        if result.gpus is None
        else tuple(Gpu(host=g.host, index=g.index, name=g.name, uuid=g.uuid) for g in result.gpus),
        backends=None
        if result.backends is None
        else tuple(
            Backend(
                name=b.name,
                pool=b.pool,
                url=b.url,
                model=b.model,
                health=Health.UNKNOWN,
                reason=NO_DATA_PREFIX + why,
                container=b.container,
            )
            for b in result.backends
        ),
        pools=None if result.pools is None else tuple(unserved_copy(p) for p in result.pools),
        fleet=None if result.fleet is None else unserved_copy(result.fleet),
        alerts=None
        if result.alerts is None
        else tuple(
            a if a.last_known_at is not None else replace(a, last_known_at=as_of or 0.0)
            for a in result.alerts
        ),
        weights=result.weights,
        containers=None
        if result.containers is None
        else tuple(replace(c, state="unknown", health=None) for c in result.containers),
    )


def unserved_copy(pool: Pool) -> Pool:
    """A pool with its identity and no figures (none of its backends is known to be up)."""
    return unserved(replace(pool, healthy=0))


BACKEND_LABEL = "io.inferdeck.backend"
"""A container label naming the backend the container runs (set by `inferdeck lab`)."""


def link_containers(
    backends: tuple[Backend, ...], containers: tuple[Container, ...]
) -> tuple[Backend, ...]:
    """Name each backend's container: by the `BACKEND_LABEL` label, or by container name
    (``blue-0``, ``vllm-blue-0``, ``llm_blue-0_1``)."""
    if not containers:
        return backends

    def runs(container: Container, name: str) -> bool:
        if container.labels.get(BACKEND_LABEL) == name:
            return True
        return container.name == name or container.name.endswith(("-" + name, "_" + name))

    out = []
    for backend in backends:
        if backend.container is None:
            match = next((c.name for c in containers if runs(c, backend.name)), None)
            backend = replace(backend, container=match) if match else backend
        out.append(backend)
    return tuple(out)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:200]
