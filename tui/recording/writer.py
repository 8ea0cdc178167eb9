"""Writing a recording: frames (what changed) and events, in segments rotated by size and age.

`RecordingWriter.frame(snapshot)` appends one frame: a keyframe (the whole snapshot) at
the start of each segment and every ``keyframe_every`` frames, otherwise only what changed
since the previous frame. `event(...)` adds an audit record or an incident event; it is
written with the next frame, at its own time. A segment closes when the next frame would
take it past ``segment_bytes`` or it is older than ``segment_s``; then the oldest segments
in the folder go until the folder fits ``keep_bytes`` again, and any older than
``keep_s`` go too. Each block is one ``write``: a process killed at any instant leaves
every frame before the one being written readable (`tui.recording.format`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tui.model import FleetSnapshot
from tui.recording.config import Limits
from tui.recording.format import (
    CONTINUES,
    EVENT,
    KEYFRAME,
    MAGIC,
    SAME,
    SUFFIX,
    VERSION,
    Compressor,
    Header,
    block,
    diff,
    event_payload,
    leaf_changes,
    shift,
)
from tui.recording.history import advanced_by
from tui.recording.leaves import SamplePlan, body_of, flat_body
from tui.recording.precision import rounded_history, rounded_series

_DEFAULT_LIMITS = Limits()


def history_patch(
    old: Mapping[str, tuple[float, ...]], new: Mapping[str, tuple[float, ...]]
) -> dict[str, Any]:
    """What changed in the chart series, at the stored precision: for each, the values
    appended (``["S", keep, values]``), or the whole series (``["=", values]``), or
    ``["-"]`` when it is gone. (Most frames need none: see `tui.recording.history`.)"""
    out: dict[str, Any] = {}
    for name, values in new.items():
        after = rounded_series(values)
        before = rounded_series(old[name]) if name in old else None
        if before == after:
            continue
        moved = shift(before, after) if before is not None else None
        out[name] = moved if moved is not None else ["=", after]
    for name in old:
        if name not in new:
            out[name] = ["-"]
    return out


class RecordingWriter:
    """Appends frames and events to segments in ``folder`` (see the module's docstring)."""

    def __init__(
        self,
        folder: Path | str,
        limits: Limits = _DEFAULT_LIMITS,
        *,
        environment: str = "",
        slo_tier: str = "",
        refresh_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        session: str | None = None,
        name: str | None = None,
    ) -> None:
        """``name``: one file to write (``record --out``): no rotation, no deleting."""
        self.folder = Path(folder)
        self.limits = limits
        self.environment, self.slo_tier, self.refresh_s = environment, slo_tier, refresh_s
        self.clock = clock
        self.session = session or os.urandom(4).hex()  # not secrets: it loads hmac, hashlib
        self.single = Path(name) if name else None
        self.path: Path | None = None
        self.sequence = -1
        self.frames_written = 0
        self.bytes_written = 0
        self._fd: int | None = None
        self._size = 0
        self._segment_frames = 0
        self._stopped: OSError | None = None  # one file that failed: nothing more to it
        self._opened_at = 0.0
        self._since_keyframe = 0
        self._compressor = Compressor()
        self._previous: FleetSnapshot | None = None  # the last frame written (None: none yet)
        self._body: dict[str, Any] | None = None  # its body, when it was made
        self._plan: SamplePlan | None = None
        self._shape: tuple[Any, ...] = ()
        self._leaves: list[Any] = []
        self._history: Mapping[str, tuple[float, ...]] = {}
        self._pending: list[tuple[float, dict[str, Any]]] = []
        self.history_moved_on: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] | None = None
        """The hub's word that a snapshot's chart series are the previous one's moved on
        by one point (`tui.hub.History.advanced`; set by `start_recorder`): the writer
        then checks only the new points. None: it compares every point."""

    # --- writing -------------------------------------------------------------------

    def event(self, source: str, at: float, record: Mapping[str, Any]) -> None:
        """An audit record or incident event, written with the next frame."""
        self._pending.append((at, {"event": {"source": source, **record}}))

    def frame(self, snapshot: FleetSnapshot) -> None:
        """Append one snapshot as shown; the first of a segment is a keyframe.

        `OSError` when it cannot be written (a full disk, a folder it may not write, the
        segment's file removed): that segment is given up (a block may be torn at its
        end, which readers skip) and the next frame starts a new one — or, writing one
        file (``name``), every later frame fails the same way: the frames before stay.
        """
        if self._stopped is not None:
            stopped = self._stopped
            raise OSError(stopped.errno, stopped.strerror, stopped.filename)
        try:
            self._frame(snapshot)
        except OSError as exc:
            if exc.filename is None and self.path is not None:  # os.write names no file
                exc = OSError(exc.errno, exc.strerror, str(self.path))
            self._give_up_segment(exc)
            raise exc from None

    def _give_up_segment(self, error: OSError) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        self._previous = None  # the next frame is a keyframe, in a new segment
        if self.single is not None:  # opening it again would empty it: stop here
            self._stopped = error

    def _frame(self, snapshot: FleetSnapshot) -> None:
        now = self.clock()
        if self._fd is not None and os.fstat(self._fd).st_nlink == 0:
            raise FileNotFoundError(errno.ENOENT, "its file was removed", str(self.path))
        if (
            self._fd is not None
            and self.single is None
            and (now - self._opened_at >= self.limits.segment_s)
        ):
            self._rotate(now, snapshot.taken_at)
        shape, leaves = flat_body(snapshot)  # the body itself is made only when needed
        history = snapshot.history
        keyframe = (
            self._fd is None
            or self._previous is None
            or self._since_keyframe + 1 >= self.limits.keyframe_every
        )
        at = snapshot.taken_at
        body: dict[str, Any] | None = None
        if keyframe:
            if self._fd is None:
                self._open(now, at)
            body = body_of(snapshot)
            blocks = self._keyframe_block(at, body, history)
        else:
            blocks, body = self._delta_block(snapshot, shape, leaves, history)
        events = self._event_blocks()
        if (
            self.single is None
            and self._segment_frames
            and self._size + len(blocks) + len(events) > self.limits.segment_bytes
        ):  # the segment would grow past its limit: this frame starts the next one
            self._rotate(now, at)
            keyframe = True
            body = body if body is not None else body_of(snapshot)
            blocks = self._keyframe_block(at, body, history)
        self._write(blocks + events)
        self._pending.clear()
        self._segment_frames += 1
        self._previous, self._body = snapshot, body
        self._shape, self._leaves, self._history = shape, leaves, history
        self._since_keyframe = 0 if keyframe else self._since_keyframe + 1
        self.frames_written += 1

    def _keyframe_block(
        self, at: float, body: dict[str, Any], history: Mapping[str, tuple[float, ...]]
    ) -> bytes:
        self._compressor.restart()
        record = {"frame": {"t": at, "s": body, "h": rounded_history(history)}}
        return block(KEYFRAME, at, self._compressor.compress(record))

    def _delta_block(
        self,
        snapshot: FleetSnapshot,
        shape: tuple[Any, ...],
        leaves: list[Any],
        history: Mapping[str, tuple[float, ...]],
    ) -> tuple[bytes, dict[str, Any] | None]:
        """The frame's block, and its body when the frame needed it made."""
        frame: dict[str, Any] = {}
        body: dict[str, Any] | None = None
        changes = leaf_changes(self._leaves, leaves, steps=True) if shape == self._shape else None
        if changes is not None:  # the usual frame: only figures moved
            if changes[0]:
                frame["n"] = changes
        else:  # a backend came or went, an alert fired: the structure changed
            assert self._previous is not None
            body = body_of(snapshot)
            before = self._body if self._body is not None else body_of(self._previous)
            change = diff(before, body)
            if change is not SAME:
                frame["d"] = change
        if history is not self._history:
            sample = self._sample(snapshot, shape, leaves, body)
            vouched = self.history_moved_on
            moved_on = vouched is not None and vouched(self._history, history)
            keep = advanced_by(self._history, history, sample, moved_on=moved_on)
            if keep is not None:
                frame["a"] = keep
            else:
                moved = history_patch(self._history, history)
                if moved:
                    frame["h"] = moved
        record = {"frame": frame}
        at = snapshot.taken_at
        return block(CONTINUES, at, self._compressor.compress(record)), body

    def _sample(
        self,
        snapshot: FleetSnapshot,
        shape: tuple[Any, ...],
        leaves: list[Any],
        body: dict[str, Any] | None,
    ) -> dict[str, float | None]:
        """The chart sample a reader derives from this frame (`sample_of_body`), read
        from its leaves where the last plan still holds."""
        plan = self._plan
        if plan is None or not plan.holds(shape, leaves):
            plan = self._plan = SamplePlan.of(body or body_of(snapshot), shape)
        return plan.sample(leaves)

    def _event_blocks(self) -> bytes:
        out = b""
        for at, record in self._pending:
            out += block(EVENT, at, event_payload(record))
        return out  # cleared once written: a failed write keeps them for the next frame

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:  # one call in practice; a short write (a signal) is finished
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(data)
        self.bytes_written += len(data)

    # --- segments --------------------------------------------------------------------

    def _open(self, now: float, first: float) -> None:
        """A new segment, opened at ``now`` by the writer's clock, whose first frame was
        taken at ``first`` (its name and header say so)."""
        self.sequence += 1
        if self.single is not None:
            path = self.single
            path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y-%m-%dT%H-%M-%SZ", time.gmtime(first))
            path = self.folder / f"{stamp}-{self.session}-{self.sequence:04d}{SUFFIX}"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        self._fd = os.open(path, flags | os.O_APPEND, 0o600)
        self.path = path
        self._opened_at = now
        header = Header(
            session=self.session,
            started_at=first,
            environment=self.environment,
            slo_tier=self.slo_tier,
            refresh_s=self.refresh_s,
            keyframe_every=self.limits.keyframe_every,
            sequence=self.sequence,
        )
        self._size = 0
        self._segment_frames = 0
        self._write(MAGIC + f" {VERSION}\n".encode() + header.line())

    def _rotate(self, now: float, first: float) -> None:
        self._close_segment()
        self._open(now, first)
        self.prune(now)

    def _close_segment(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def prune(self, now: float | None = None) -> list[Path]:
        """Delete the oldest segments until the folder fits the limits; those deleted.

        The segment being written is kept. Closed segments must leave it room to grow to
        ``segment_bytes``, so the folder never holds more than ``keep_bytes``.
        """
        if self.single is not None:
            return []
        now = self.clock() if now is None else now
        segments = []
        for path in self.folder.glob(f"*{SUFFIX}"):
            if path == self.path:
                continue
            with contextlib.suppress(OSError):
                st = path.stat()
                segments.append((st.st_mtime, path.name, path, st.st_size))
        segments.sort()
        room = self.limits.keep_bytes - self.limits.segment_bytes
        total = sum(size for *_, size in segments)
        gone = []
        for mtime, _name, path, size in segments:
            if total <= room and now - mtime <= self.limits.keep_s:
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            total -= size
            gone.append(path)
        return gone

    def close(self) -> None:
        """Write pending events (into the current segment) and close it."""
        if self._fd is not None and self._pending:
            self._write(self._event_blocks())
            self._pending.clear()
        self._close_segment()
