"""OOM kills from the container engine's events, counted per container in a bounded window.

A container's ``State.OOMKilled`` is reset when it starts again, so a restart policy
that brings an OOM-killed backend straight back leaves nothing to see in a listing: the
engine's *events* are where an OOM kill is told. `OomLedger` (pure) turns the events
into OOM deaths: a ``die`` whose attributes say ``OOMKilled``/``oomKilled`` (engines
that put it there), or a ``die`` and an ``oom`` event of the same container within
`PAIR_S` of each other, in either order (Docker sends ``oom`` before ``die``; podman
sends its ``oom`` after reading the exit). An exit code of 137 alone is *not* an OOM
kill: ``docker stop`` that runs past its timeout ends with 137 too. An ``oom`` with no
``die`` (a child process killed, the main one alive) is no restart and is not counted.

`OomWatch` follows the events stream (``GET /events``, filtered to containers' ``oom``
and ``die``) in a daemon thread, so no screen ever waits for it; it reconnects when the
engine goes away (a restart, a socket gone) and asks again from the last event it saw,
so a kill during the gap is still counted, and says why while it cannot (`problem`).
It starts by reading back the last ``keep_s`` of events, so kills before the dashboard
started count too.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

PAIR_S = 10.0
"""An ``oom`` and a ``die`` of one container this close in time are one OOM death."""
MAX_RETRY_S = 30.0
"""The longest wait between attempts while the engine cannot be reached."""
MAX_KEPT = 64
"""OOM deaths kept per container at most (the window prunes them sooner)."""
MAX_NAMES = 1024
"""Containers whose deaths (of any cause) are counted in `OomLedger.died` at most."""
REPLAY_S = 60.0
"""Events this much older than the newest are no longer checked for replays (a stream is
asked again from `PAIR_S` before where it ended)."""
_TRUE = {"true", "1", "yes"}


def _event_time(event: Mapping[str, Any]) -> float:
    nano = event.get("timeNano")
    if isinstance(nano, int | float) and nano > 0:
        return float(nano) / 1e9
    at = event.get("time")
    return float(at) if isinstance(at, int | float) else time.time()


class OomLedger:
    """OOM deaths per container name, from engine events (no I/O; thread-safe)."""

    def __init__(self, keep_s: float = 600.0, pair_s: float = PAIR_S) -> None:
        """Keep deaths for ``keep_s`` (the longest window a rule counts over)."""
        self.keep_s, self.pair_s = keep_s, pair_s
        self._deaths: dict[str, deque[float]] = {}
        self._oom_at: dict[str, float] = {}  # container id -> an oom not yet paired
        self._die_at: dict[str, tuple[float, str]] = {}  # id -> an unpaired die (time, name)
        self._seen: dict[tuple[str, str, float], float] = {}  # events read, to skip replays
        self.died: dict[str, int] = {}  # container name -> deaths seen, of any cause
        self._newest = 0.0  # the latest event time read
        self._pruned = 0.0
        self._lock = threading.Lock()

    def feed(self, event: Mapping[str, Any]) -> str | None:
        """Take one event; the container's name when it completed an OOM death."""
        if str(event.get("Type") or event.get("type") or "container") != "container":
            return None
        action = str(event.get("Action") or event.get("status") or "")
        actor = event.get("Actor") or {}
        attrs = actor.get("Attributes") or {}
        cid = str(actor.get("ID") or event.get("id") or "")
        name = str(attrs.get("name") or cid)
        at = _event_time(event)
        with self._lock:
            key = (cid, action, at)
            if key in self._seen:  # asked again from an earlier point after a reconnect
                return None
            self._seen[key] = at
            self._newest = max(self._newest, at)
            if self._newest - self._pruned > PAIR_S:
                self._prune()
            if action == "oom":
                die = self._die_at.pop(cid, None)
                if die is not None and abs(at - die[0]) <= self.pair_s:
                    return self._count(die[1], die[0])
                self._oom_at[cid] = at
            elif action == "die":
                self.died[name] = self.died.pop(name, 0) + 1  # the newest last
                if len(self.died) > MAX_NAMES:
                    del self.died[next(iter(self.died))]
                said = next((str(attrs[k]) for k in ("OOMKilled", "oomKilled", "oomkilled")
                             if k in attrs), "")  # fmt: skip
                oom = self._oom_at.pop(cid, None)
                if said.lower() in _TRUE or (oom is not None and abs(at - oom) <= self.pair_s):
                    return self._count(name, at)
                self._die_at[cid] = (at, name)
        return None

    def _prune(self) -> None:
        """Forget what can no longer matter, so a host that runs containers for weeks
        (CI jobs beside the stack) never grows this: replays older than `REPLAY_S`,
        unpaired events older than the pairing time, deaths out of every window."""
        newest = self._pruned = self._newest
        self._seen = {k: t for k, t in self._seen.items() if t >= newest - REPLAY_S}
        self._oom_at = {c: t for c, t in self._oom_at.items() if t >= newest - self.pair_s}
        self._die_at = {c: d for c, d in self._die_at.items() if d[0] >= newest - self.pair_s}
        self._deaths = {
            n: d for n, d in self._deaths.items() if d and d[-1] >= newest - self.keep_s
        }

    @property
    def newest(self) -> float:
        """The time of the latest event read (0 before any)."""
        return self._newest

    def size(self) -> int:
        """How many entries it holds now, all kinds together (its memory, in effect)."""
        with self._lock:
            kept = sum(len(d) for d in self._deaths.values())
            return kept + len(self._seen) + len(self._oom_at) + len(self._die_at) + len(self.died)

    def _count(self, name: str, at: float) -> str:
        deaths = self._deaths.setdefault(name, deque(maxlen=MAX_KEPT))
        deaths.append(at)
        while deaths and deaths[0] < at - self.keep_s:
            deaths.popleft()
        return name

    def count(self, container: str, within_s: float, now: float) -> int:
        """OOM deaths of ``container`` in the ``within_s`` before ``now``."""
        with self._lock:
            return sum(1 for t in self._deaths.get(container, ()) if now - within_s < t <= now)

    def times(self, container: str) -> tuple[float, ...]:
        """The OOM deaths kept for ``container``, oldest first."""
        with self._lock:
            return tuple(self._deaths.get(container, ()))


def _one_line(exc: BaseException) -> str:
    text = " ".join((str(exc) or type(exc).__name__).split())
    return text[:160]


class OomWatch:
    """The engine's ``oom``/``die`` events followed in a daemon thread, into an `OomLedger`."""

    def __init__(
        self,
        url: str,
        *,
        keep_s: float = 600.0,
        retry_s: float = 2.0,
        slice_s: float = 30.0,
        client_factory: Callable[[str], Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Follow the engine at ``url`` (``unix:///var/run/docker.sock``, podman's socket).

        Each stream is asked ``until`` ``slice_s`` ahead and then opened again from
        where it ended: an engine that stopped answering shows within that time (the
        SDK's stream has no read timeout). ``retry_s``: the first wait between attempts
        while the engine cannot be reached (doubling up to `MAX_RETRY_S`).
        """
        self.url, self.retry_s, self.slice_s = url, retry_s, slice_s
        self.ledger = OomLedger(keep_s)
        self.clock = clock
        self._factory = client_factory or _docker_client
        self._problem: str | None = "connecting to the engine's events"
        self._since = clock() - keep_s
        self._stop = threading.Event()
        self._stream: Any = None
        self._thread: threading.Thread | None = None
        self.connects = 0  # how many times the stream was (re)opened
        self.events = 0  # container events read (oom, die and the rest)

    @property
    def problem(self) -> str | None:
        """Why OOM kills cannot be told now (one line), None while the stream is open."""
        return self._problem

    def count(self, container: str, within_s: float, now: float) -> int:
        """OOM deaths of ``container`` in the ``within_s`` before ``now``."""
        return self.ledger.count(container, within_s, now)

    def start(self) -> OomWatch:
        """Start following in a daemon thread (returns at once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="inferdeck-oom-events",
                                            daemon=True)  # fmt: skip
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop following: the open stream is closed, the thread ends."""
        self._stop.set()
        stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        wait = self.retry_s
        while not self._stop.is_set():
            try:
                self._follow()
                wait = self.retry_s
            except Exception as exc:
                if self._stop.is_set():
                    break
                self._problem = f"docker events at {self.url}: {_one_line(exc)}"
                self._stop.wait(wait)
                wait = min(wait * 2, MAX_RETRY_S)  # an engine down for long: ask less often

    def _follow(self) -> None:
        """One stream, from where the last ended until ``slice_s`` from now."""
        client = self._factory(self.url)
        try:
            client.ping()  # an engine that is gone fails here, before any stream opens
            until = self.clock() + self.slice_s
            # Filtered by type only: podman's API matches an ``event`` filter against its
            # own names (``died``), Docker's against Docker's (``die``).
            self._stream = client.events(decode=True, since=f"{self._since:.3f}",
                                         until=f"{until:.3f}",
                                         filters={"type": ["container"]})  # fmt: skip
            self._problem = None
            self.connects += 1
            for event in self._stream:
                if self._stop.is_set():
                    return
                if isinstance(event, Mapping):
                    self.events += 1
                    self.ledger.feed(event)
            # Ended: at ``until``, or early because the engine is going away. Ask again
            # from a little before (the ledger drops what it has seen).
            self._since = max(self._since, min(until, self.clock()) - PAIR_S)
        finally:
            self._stream = None
            # never ask again from further back than the last event read (less `PAIR_S`):
            # what is replayed must stay within the ledger's memory of what it has seen
            if self.ledger.newest:
                self._since = max(self._since, self.ledger.newest - PAIR_S)
            with contextlib.suppress(Exception):
                client.close()


def _docker_client(url: str) -> Any:
    import docker

    return docker.DockerClient(base_url=url, timeout=10, version="auto")
