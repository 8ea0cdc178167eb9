"""The hub's subscriber threads: the recorder gets every snapshot in order, the incident
tracker only the newest; neither ever blocks the hub's thread."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from tui.demo_data import warmed_hub
from tui.model import FleetSnapshot
from tui.subscriber import Backlog, SubscriberThread


class _Slow(SubscriberThread):
    """Holds the first snapshot until released; records what it was handed."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[float] = []
        self.release = threading.Event()
        self.busy = threading.Event()

    def handle(self, snapshot: FleetSnapshot) -> None:
        self.busy.set()
        self.release.wait(5)
        self.seen.append(snapshot.taken_at)


class _EveryOne(_Slow):
    keep_all = True
    limit = 3


def _snapshots(count: int) -> list[FleetSnapshot]:
    hub, source = warmed_hub(seconds=2)
    base = hub.record(source, source.poll())
    return [replace(base, taken_at=float(i)) for i in range(count)]


def test_every_snapshot_in_order_up_to_the_bound_and_stop_finishes_them() -> None:
    worker = _EveryOne().start()
    first, *rest = _snapshots(6)
    worker.submit(first)
    assert worker.busy.wait(5)
    for snapshot in rest:  # the handler is busy: these wait, the oldest going first
        worker.submit(snapshot)
    worker.release.set()
    worker.stop()
    assert worker.seen == [0.0, 3.0, 4.0, 5.0]


def test_only_the_newest_waits_and_stop_ends_after_the_one_under_way() -> None:
    worker = _Slow().start()
    first, *rest = _snapshots(4)
    worker.submit(first)
    assert worker.busy.wait(5)
    for snapshot in rest:
        worker.submit(snapshot)
    worker.release.set()
    worker.stop()
    assert worker.seen[0] == 0.0
    assert worker.seen[1:] in ([], [3.0])  # the newest, if the thread took it before stop


def test_a_backlog_hands_its_subscriber_what_came_before_it_then_each_new_one() -> None:
    snapshots = _snapshots(7)
    backlog = Backlog(limit=3)
    for snapshot in snapshots[:5]:  # published before anything subscribed
        backlog(snapshot)
    seen: list[float] = []
    backlog.subscribe(lambda s: seen.append(s.taken_at))
    assert seen == [2.0, 3.0, 4.0]  # the newest `limit`, oldest first
    for snapshot in snapshots[5:]:
        backlog(snapshot)
    assert seen == [2.0, 3.0, 4.0, 5.0, 6.0]


def test_a_snapshot_published_during_the_handover_comes_after_the_ones_held() -> None:
    snapshots = _snapshots(4)
    backlog = Backlog()
    for snapshot in snapshots[:3]:
        backlog(snapshot)
    seen: list[float] = []

    def take(snapshot: FleetSnapshot) -> None:
        seen.append(snapshot.taken_at)
        if len(seen) == 1:  # the hub's thread publishes while the held ones are handed over
            hub = threading.Thread(target=backlog, args=(snapshots[3],))
            hub.start()
            hub.join(0.2)  # it waits for the handover to end

    backlog.subscribe(take)
    deadline = time.monotonic() + 5
    while len(seen) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [0.0, 1.0, 2.0, 3.0]  # every one, once, in order
