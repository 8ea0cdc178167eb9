"""The hub: sources never block each other, failures become statuses, history is bounded."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import tracemalloc
from pathlib import Path
from types import MappingProxyType

from tui.hub import History, Hub
from tui.model import Backend, Collected, FleetSnapshot, Gpu, Health, Pool, SourceState
from tui.sources.base import SourceUnavailable


class Steady:
    """Answers at once with one GPU whose utilisation counts the polls."""

    def __init__(self, name: str = "steady", interval: float = 0.02) -> None:
        self.name, self.interval = name, interval
        self.polls = 0
        self.active = 0
        self.max_active = 0

    async def collect(self) -> Collected:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        self.polls += 1
        await asyncio.sleep(0.03)  # longer than the interval: polls must still not overlap
        self.active -= 1
        return Collected(
            gpus=(Gpu(host="h", index=0, util_pct=float(self.polls)),),
            backends=(Backend(name="b0", pool="blue", url="http://h", health=Health.UP),),
            fleet=Pool(name="fleet", backends=1, healthy=1),
        )

    async def aclose(self) -> None:
        pass


class Hangs:
    """Answers once, then never again."""

    def __init__(self) -> None:
        self.name, self.interval = "hangs", 0.02
        self.calls = 0
        self.release = asyncio.Event()

    async def collect(self) -> Collected:
        self.calls += 1
        if self.calls > 1:
            await asyncio.Event().wait()
        return Collected(alerts=())

    async def aclose(self) -> None:
        pass


class Broken:
    def __init__(self, exc: Exception) -> None:
        self.name, self.interval, self.exc = "broken", 0.02, exc

    async def collect(self) -> Collected:
        raise self.exc

    async def aclose(self) -> None:
        pass


async def test_poll_once_merges_and_reports_errors() -> None:
    hub = Hub(
        [
            Steady(),
            Broken(RuntimeError("connection refused\nsecond line")),
            Broken(SourceUnavailable("NVML library not found")),
        ]
    )
    snapshot = await hub.poll_once()
    states = {s.name: (s.state, s.message) for s in snapshot.sources}
    assert states["steady"] == (SourceState.OK, "")
    assert states["broken"][0] is SourceState.UNAVAILABLE  # the last of the two named "broken"
    assert snapshot.gpus[0].util_pct == 1.0
    # a failing source makes the picture incomplete: at least WARNING, and it says which
    assert snapshot.overall.value == "WARNING"
    assert "broken ERROR: connection refused second line" in snapshot.overall_reasons


async def test_one_line_error_message() -> None:
    snapshot = await Hub([Broken(RuntimeError("boom\n  at line 2"))]).poll_once()
    assert snapshot.sources[0].state is SourceState.ERROR
    assert snapshot.sources[0].message == "boom at line 2"


def test_hung_source_goes_stale_while_others_keep_updating() -> None:
    steady, hangs = Steady(), Hangs()
    hub = Hub([steady, hangs], refresh_s=0.05)
    seen: list[FleetSnapshot] = []
    done = threading.Event()

    def on_snapshot(snapshot: FleetSnapshot) -> None:
        seen.append(snapshot)
        status = snapshot.source("hangs")
        if status is not None and status.state is SourceState.STALE and steady.polls > 10:
            done.set()

    hub.subscribe(on_snapshot)
    hub.start()
    try:
        assert done.wait(5), "the hung source never showed as stale"
    finally:
        hub.stop()
    steady_status, hangs_status = seen[-1].source("steady"), seen[-1].source("hangs")
    assert steady_status is not None and steady_status.state is SourceState.OK
    assert hangs_status is not None and "no data for" in hangs_status.message
    assert steady.max_active == 1, "a source's polls overlapped"
    utils: list[float] = []
    for snapshot in seen:
        if snapshot.gpus:
            util = snapshot.gpus[0].util_pct
            assert util is not None  # the steady source reports it on every poll
            utils.append(util)
    assert utils == sorted(utils) and utils[-1] > 10


def test_history_is_bounded_and_keeps_gaps() -> None:
    history = History(points=5)
    for i in range(12):
        history.append({"x": float(i), "y": None if i % 2 else 1.0})
    frozen = history.frozen()
    assert frozen["x"] == (7.0, 8.0, 9.0, 10.0, 11.0)
    assert [v != v for v in frozen["y"]] == [True, False, True, False, True]


async def test_history_grows_only_with_new_data() -> None:
    hub = Hub([Steady()])
    await hub.poll_once()
    hub._publish()  # a refresh with no new poll must not add a fake sample
    snapshot = await hub.poll_once()
    assert len(snapshot.history["gpu.h/0.util"]) == 2


def test_merge_prefers_the_first_view_and_the_last_alert() -> None:
    from tui.hub import merge
    from tui.model import Alert, Severity

    direct = Collected(
        backends=(Backend(name="b0", pool="blue", url="http://h", health=Health.UP),),
        gpus=(Gpu(host="h", index=0, util_pct=50.0),),
    )
    via_prometheus = Collected(
        backends=(
            Backend(name="b0", pool="blue", url="http://h", health=Health.DOWN),
            Backend(name="b1", pool="green", url="http://g", health=Health.UP),
        ),
        gpus=(Gpu(host="h", index=0, util_pct=10.0),),
        alerts=(Alert("A", Severity.WARNING, "", {}, 1.0, "f1", source="prometheus"),),
    )
    alertmanager = Collected(
        alerts=(
            Alert(
                "A",
                Severity.WARNING,
                "",
                {},
                1.0,
                "f1",
                source="alertmanager",
                acknowledged_by="oncall",
            ),
        )
    )
    snapshot = merge([direct, via_prometheus, alertmanager], taken_at=2.0, environment="e",
                     slo_tier="standard")  # fmt: skip
    assert [(b.name, b.health) for b in snapshot.backends] == [("b0", Health.UP), ("b1", Health.UP)]
    assert [g.util_pct for g in snapshot.gpus] == [50.0]
    assert [(a.source, a.acknowledged_by) for a in snapshot.alerts] == [("alertmanager", "oncall")]


def test_backends_are_linked_to_their_containers() -> None:
    from tui.hub import link_containers
    from tui.model import Container

    backends = tuple(
        Backend(name=n, pool="blue", url=f"http://h/{n}") for n in ("blue-0", "blue-1", "green-0")
    )
    containers = (
        Container(name="lab-x", id="1", labels={"io.inferdeck.backend": "blue-0"}),
        Container(name="vllm-blue-1", id="2"),
        Container(name="prometheus", id="3"),
    )
    linked = {b.name: b.container for b in link_containers(backends, containers)}
    assert linked == {"blue-0": "lab-x", "blue-1": "vllm-blue-1", "green-0": None}


def test_history_from_a_range_query_goes_before_live_samples() -> None:
    history = History(points=5)
    history.append({"fleet.waiting": 7.0})
    history.prepend({"fleet.waiting": [1.0, 2.0, 3.0, 4.0, 5.0], "gpu.h/0.util": [50.0]})
    frozen = history.frozen()
    assert frozen["fleet.waiting"] == (2.0, 3.0, 4.0, 5.0, 7.0)
    assert frozen["gpu.h/0.util"] == (50.0,)


def test_history_forgets_a_series_gone_for_a_whole_chart_span() -> None:
    """A GPU that left the fleet weeks ago holds no memory on a wall screen."""
    history = History(points=5)
    history.append({"gpu.h/0.util": 10.0, "gpu.h/1.util": 20.0})
    for _ in range(4):
        history.append({"gpu.h/0.util": 10.0})
    assert "gpu.h/1.util" in history.frozen()  # still on the chart: the gap is shown
    history.append({"gpu.h/0.util": 10.0})
    assert set(history.frozen()) == {"gpu.h/0.util"}


def test_history_memory_is_eight_bytes_a_point() -> None:
    """64 GPUs x 2 series x 300 points must not cost megabytes of float objects."""
    names = [f"gpu.h/{g}.{f}" for g in range(64) for f in ("util", "temp")]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    history = History(points=300)
    for i in range(600):
        history.append({name: i + n // 2 / 7 for n, name in enumerate(names)})
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    # Only what the hub's own lines hold: a thread left by another test (a loop, a
    # recorder) allocating meanwhile must not count against the history.
    hub_only = [tracemalloc.Filter(inclusive=True, filename_pattern="*/tui/hub.py")]
    grown = after.filter_traces(hub_only).compare_to(before.filter_traces(hub_only), "filename")
    held = sum(stat.size_diff for stat in grown)
    # 128 x 300 x 8 bytes = 307 KB; a deque of float objects would be ~1.2 MB.
    assert held < 128 * 300 * 8 * 1.5
    assert history.frozen()["gpu.h/63.temp"][-1] == 599 + 63 / 7
    assert len(history.frozen()["gpu.h/63.temp"]) == 300
    assert history.frozen() is history.frozen()  # no copy per refresh without a new sample


def test_the_history_vouches_only_for_a_copy_moved_on_by_one_sample() -> None:
    """`History.advanced` says a copy is the one before it with one sample appended to
    every series (the flight recorder then skips comparing the older points): never
    after two samples, a series dropped or older points put before, and only for the
    copies it made last."""
    history = History(points=3)
    history.append({"a": 1.0})
    first = history.frozen()
    history.append({"a": 2.0, "b": 5.0})  # a new series starts: still one sample on
    second = history.frozen()
    assert history.advanced(first, second)
    assert not history.advanced(second, first)
    assert not history.advanced(MappingProxyType(dict(first)), second)  # an equal copy
    history.append({"a": 3.0})
    history.append({"a": 4.0})  # two samples between copies
    third = history.frozen()
    assert not history.advanced(second, third)
    history.prepend({"a": [0.5]})  # older points put before
    history.append({"a": 5.0})
    fourth = history.frozen()
    assert not history.advanced(third, fourth)
    history.append({"a": 6.0})
    fifth = history.frozen()
    assert history.advanced(fourth, fifth)
    dropping = History(points=2)
    dropping.append({"a": 1.0, "b": 1.0})
    copies = [dropping.frozen()]
    for _ in range(3):  # "b" a gap for a whole span (2 points): dropped at the second
        dropping.append({"a": 2.0})
        copies.append(dropping.frozen())
    assert ["b" in copy for copy in copies] == [True, True, False, False]
    assert [dropping.advanced(a, b) for a, b in itertools.pairwise(copies)] == [True, False, True]
    history.append({"a": 7.0})
    history.frozen()
    assert not history.advanced(first, second)  # two advances since: no longer known


def test_consecutive_histories_share_their_points() -> None:
    """A new sample moves each series on without making its older points again: the
    snapshots' series share them (the flight recorder compares them by reference), and
    the values stay those of the ring, gaps included."""
    history = History(points=4)
    for i in range(6):
        history.append({"fleet.waiting": float(i) if i != 3 else None})
    before = history.frozen()["fleet.waiting"]
    history.append({"fleet.waiting": 6.0})
    after = history.frozen()["fleet.waiting"]
    assert all(a is b for a, b in zip(after[:-1], before[1:], strict=True))
    assert after[0] != after[0]  # the gap kept its place, as a NaN
    assert after[1:] == (4.0, 5.0, 6.0)
    history.append({})  # a sample without it: a gap at the end
    assert history.frozen()["fleet.waiting"][-1] != history.frozen()["fleet.waiting"][-1]
    assert history.frozen()["fleet.waiting"][:3] == (4.0, 5.0, 6.0)


class HandsOff(Steady):
    """Does its work in a thread of the hub's pool, as the scrape source parses."""

    async def collect(self) -> Collected:
        await asyncio.to_thread(lambda: None)
        return await super().collect()


def os_thread_names() -> set[str]:
    """The names of this process's threads as the OS shows them (``top -H``)."""
    return {task.read_text().strip() for task in Path("/proc/self/task").glob("*/comm")}


def test_collection_runs_in_threads_an_operator_can_tell_apart() -> None:
    # `top -H` (and benchmarks/idle_cpu.py) tells collection's CPU from the screen's by
    # these names; before, every thread was "python" to the OS.
    source = HandsOff()
    hub = Hub([source], refresh_s=0.02)
    hub.start()
    try:
        for _ in range(200):
            if source.polls > 2 and {"inferdeck-hub", "inferdeck-work"} <= os_thread_names():
                break
            time.sleep(0.01)
        names = os_thread_names()
    finally:
        hub.stop()
    assert "inferdeck-hub" in names
    assert "inferdeck-work" in names
