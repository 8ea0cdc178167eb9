"""The hub a replayed dashboard runs on: a player over a `Recording`.

`ReplayHub` has the hub's face (``subscribe``, ``latest``, ``start``/``stop``,
``refresh_s``, no sources) and publishes the recorded snapshots instead of collecting
them: the one at the player's position, again each time the position moves. It plays at
1x-60x in its own thread (decoding never runs on the UI thread); `step`, `jump`,
`next_event`, `play`, `pause` and `set_speed` move it from any thread. `clock()` is the
recorded time of the frame shown, so every age on every screen is the age it had then.
"""

from __future__ import annotations

import bisect
import threading
import time

from tui.hub import Hub
from tui.model import FleetSnapshot
from tui.recording.reader import RecordedEvent, Recording

SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""The play speeds `faster` and `slower` step through."""


class ReplayHub(Hub):
    """Publishes a recording's frames: at a position, or playing (see the module)."""

    def __init__(self, recording: Recording, index: int = 0, *, speed: float = 1.0) -> None:
        header = recording.header
        super().__init__(
            [],
            environment=header.environment or "recording",
            slo_tier=header.slo_tier or "standard",
            refresh_s=header.refresh_s,
        )
        self.recording = recording
        self.index = max(0, min(index, len(recording) - 1))
        self.speed = speed
        self.playing = False
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._dirty = True  # the position moved: publish the frame there
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.clock = self.recorded_time
        self.last_error: str | None = None

    # --- where we are ------------------------------------------------------------------

    def recorded_time(self) -> float:
        """The recorded time of the frame shown (the replayed dashboard's clock)."""
        return self.recording.times[self.index] if len(self.recording) else 0.0

    @property
    def events(self) -> list[RecordedEvent]:
        """Every event of the recording, in time order."""
        return self.recording.events

    # --- moving ------------------------------------------------------------------------

    def _move(self, index: int) -> None:
        with self._wake:
            self.index = max(0, min(index, len(self.recording) - 1))
            self._dirty = True
            self._wake.notify()

    def step(self, frames: int) -> None:
        """Move by whole frames (negative: back)."""
        self._move(self.index + frames)

    def jump(self, seconds: float) -> None:
        """Move by recorded time: to the last frame at or before now + ``seconds``."""
        target = self.recorded_time() + seconds
        index = bisect.bisect_right(self.recording.times, target) - 1
        if seconds > 0 and index <= self.index:
            index = self.index + 1  # never stuck on a gap in the recording
        self._move(index)

    def seek(self, at: float) -> None:
        """Go to recorded time ``at``."""
        self._move(bisect.bisect_right(self.recording.times, at) - 1)

    def next_event(self, direction: int = 1) -> RecordedEvent | None:
        """Go to the next (``direction`` 1) or previous (-1) event; the event, or None."""
        now = self.recorded_time()
        events = self.events
        if direction > 0:
            found = next((e for e in events if e.at > now + 1e-6), None)
        else:
            frame_before = self.recording.times[self.index - 1] if self.index else now
            found = next((e for e in reversed(events) if e.at < frame_before - 1e-6), None)
        if found is not None:
            index = bisect.bisect_left(self.recording.times, found.at)  # the frame showing it
            self._move(min(index, len(self.recording) - 1))
        return found

    def play(self) -> None:
        """Play from here at the current speed."""
        with self._wake:
            self.playing = True
            self._wake.notify()

    def pause(self) -> None:
        """Stop playing; the frame stays."""
        with self._wake:
            self.playing = False
            self._dirty = True  # republish: the header shows the new state at once
            self._wake.notify()

    def toggle(self) -> bool:
        """Play or pause; whether it now plays."""
        if self.playing:
            self.pause()
        else:
            self.play()
        return self.playing

    def set_speed(self, speed: float) -> None:
        """1x..60x."""
        with self._wake:
            self.speed = max(SPEEDS[0], min(SPEEDS[-1], speed))
            self._wake.notify()

    def faster(self, direction: int = 1) -> float:
        """The next speed up (or down with -1) from `SPEEDS`; the new speed."""
        current = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - self.speed))
        self.set_speed(SPEEDS[max(0, min(len(SPEEDS) - 1, current + direction))])
        return self.speed

    # --- publishing ----------------------------------------------------------------------

    def publish_now(self) -> FleetSnapshot:
        """Decode and publish the frame at the position (synchronously; tests, start-up)."""
        with self._wake:
            index = self.index
            self._dirty = False
        snapshot = self.recording.snapshot(index)
        self.latest = snapshot
        for callback in self._callbacks:
            callback(snapshot)
        return snapshot

    def start(self) -> None:
        """Publish from a thread of its own: each move, and the frames while playing."""
        self._thread = threading.Thread(target=self._run, name="inferdeck-replay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the recording."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.recording.close()

    def _run(self) -> None:
        position: float | None = None  # recorded time reached while playing
        last = time.monotonic()
        while True:
            with self._wake:
                if self._stopping:
                    return
                if self._dirty:
                    position = None  # moved by hand: play on from the new frame
                elif not self.playing:
                    position = None
                    self._wake.wait()
                    continue
                else:
                    if position is None:
                        position, last = self.recorded_time(), time.monotonic()
                    self._wake.wait(0.1)
                    if self._dirty or not self.playing or self._stopping:
                        continue
                    now = time.monotonic()
                    position += (now - last) * self.speed
                    last = now
                    index = bisect.bisect_right(self.recording.times, position) - 1
                    if index >= len(self.recording) - 1:
                        index, self.playing = len(self.recording) - 1, False  # the end
                    if index == self.index and self.playing:
                        continue
                    self.index, self._dirty = index, True
            try:
                self.publish_now()
            except Exception as exc:  # a damaged frame: say so, stay where we are
                self.last_error = f"replay: {' '.join(str(exc).split())}"
