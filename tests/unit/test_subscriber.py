"""The hub's subscriber threads: the recorder gets every snapshot in order, the incident
tracker only the newest; neither ever blocks the hub's thread."""

from __future__ import annotations

import threading
from dataclasses import replace

from tui.demo_data import warmed_hub
from tui.model import FleetSnapshot
from tui.subscriber import SubscriberThread


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
