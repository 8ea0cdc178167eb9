"""A thread that works on the hub's snapshots apart from the hub and the screen.

The hub calls `SubscriberThread.submit` from its own thread for every snapshot; it
returns at once. The subscriber's thread takes what was handed over and works on it
(`handle`), so a slow disk or database never holds up collection or the screen. What is
handed over is either every snapshot, in order, up to a bound (``keep_all``: the flight
recorder writes each frame), or only the newest (the incident tracker judges the fleet
as it is now).
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections import deque
from collections.abc import Callable
from typing import Self

from tui.model import FleetSnapshot


def name_os_thread(name: str) -> None:
    """Give the calling thread ``name`` where the OS shows it (``top -H``, /proc's
    ``comm``: at most 15 characters), so its CPU can be told from the others'."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME (Linux)


class SubscriberThread:
    """Hands snapshots from the hub's thread to a thread of its own (see the module).

    Subclasses implement `handle`; ``name`` names the thread (``os_name``: at the OS);
    with ``keep_all``, at most ``limit`` snapshots wait (the oldest go first) and
    `stop` lets the thread finish them; otherwise only the newest waits and `stop` ends
    after the one under way.
    """

    name = "inferdeck-subscriber"
    os_name: str | None = None
    keep_all = False
    limit = 1

    def __init__(self) -> None:
        self._queue: deque[FleetSnapshot] = deque(maxlen=self.limit if self.keep_all else 1)
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def submit(self, snapshot: FleetSnapshot) -> None:
        """Hand over a snapshot (from the hub's thread); returns at once."""
        with self._wake:
            self._queue.append(snapshot)
            self._wake.notify()

    def start(self) -> Self:
        """Start the thread; returns self."""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (after what it must still do, see the class), waiting at most
        ``timeout`` seconds."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def handle(self, snapshot: FleetSnapshot) -> None:
        """Work on one snapshot, in the subscriber's thread."""
        raise NotImplementedError

    def _run(self) -> None:
        if self.os_name:
            name_os_thread(self.os_name)
        while True:
            with self._wake:
                while not self._queue and not self._stopping:
                    self._wake.wait()
                if not self._queue or (self._stopping and not self.keep_all):
                    return
                snapshot = self._queue.popleft()
            self.handle(snapshot)


class Backlog:
    """The hub's snapshots held for a subscriber that starts later.

    Subscribed to the hub at once (``hub.subscribe(backlog)``), it keeps what is published
    (the newest ``limit``) until something subscribes to it; that gets them, oldest first,
    then every new snapshot straight from the hub's thread. The dashboard starts its flight
    recorder and incident tracker just after its first frame, which their imports would
    otherwise hold up, and neither misses a snapshot published meanwhile.
    """

    def __init__(self, limit: int = 64) -> None:
        self._held: deque[FleetSnapshot] = deque(maxlen=limit)
        self._callback: Callable[[FleetSnapshot], None] | None = None
        self._lock = threading.Lock()

    def __call__(self, snapshot: FleetSnapshot) -> None:
        """Take one published snapshot (from the hub's thread)."""
        with self._lock:
            callback = self._callback
            if callback is None:
                self._held.append(snapshot)
                return
        callback(snapshot)

    def subscribe(self, callback: Callable[[FleetSnapshot], None]) -> None:
        """Hand ``callback`` what was held, oldest first, then every new snapshot (as
        `tui.hub.Hub.subscribe` does; one subscriber only)."""
        with self._lock:  # a snapshot published meanwhile waits, and comes after these
            while self._held:
                callback(self._held.popleft())
            self._callback = callback
