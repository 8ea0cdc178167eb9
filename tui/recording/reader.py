"""Reading recordings: one segment or a chain of them, as frames on a timeline and events.

`open_recording` takes a segment file, a folder of them (the newest session, or the one
covering a time) or a list of files, and gives a `Recording`: the time of every frame
and every event from the blocks' heads alone, and `snapshot_json(index)` / `snapshot(index)`
decoded on demand from the keyframe before it (a player stepping forward costs one patch).
A torn tail, or a block that fails its checksum, ends what is read of that segment.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from tui.model import FleetSnapshot
from tui.model_json import snapshot_from_jsonable
from tui.recording.format import (
    EVENT,
    KEYFRAME,
    SUFFIX,
    BlockHead,
    Decompressor,
    FormatError,
    Header,
    apply_leaf_changes,
    event_record,
    leaf_paths,
    patch,
    payload_of,
    read_header,
    scan,
)
from tui.recording.history import advance_many, sample_of_body
from tui.recording.precision import RELATIVE_KEYS, frame_time, moment_at


class RecordingError(Exception):
    """A recording that cannot be opened or has nothing at the time asked for."""


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An audit record or incident event as the recording kept it."""

    at: float
    source: str  # "audit" or "incident"
    record: dict[str, Any]

    @property
    def kind(self) -> str:
        """What the timeline marks it as: ``alert`` (an alert fired or resolved),
        ``action`` (something people did) or ``incident`` (the rest of a timeline)."""
        if self.source == "audit":
            return "action"
        if self.source == "alert":
            return "alert"
        what = str(self.record.get("kind", ""))
        if what in ("firing", "alert resolved", "opened"):
            return "alert"
        if what in ("action", "acknowledged", "un-acknowledged", "note"):
            return "action"
        return "incident"

    @property
    def text(self) -> str:
        """One line saying what happened (outside text: escape before showing)."""
        r = self.record
        if self.source == "audit":
            parts = [r.get("action"), r.get("target"), r.get("outcome") or r.get("phase")]
            who = r.get("actor")
            return " ".join(str(p) for p in parts if p) + (f" ({who})" if who else "")
        if self.source == "alert":
            return f"{r.get('name', '?')} {r.get('state', '')}".strip()
        incident = r.get("incident_id")
        return f"#{incident} {r.get('kind', '')}: {r.get('text', '')}"


class Segment:
    """One segment file: its header and its blocks' heads (payloads read on demand)."""

    def __init__(self, path: Path | str) -> None:
        """Read the header and scan the heads; `FormatError` if it is not a recording."""
        self.path = Path(path)
        try:
            self._handle: BinaryIO = self.path.open("rb")
        except OSError as exc:
            raise RecordingError(f"{self.path}: {exc.strerror or exc}") from None
        try:
            self.header: Header
            self.header, start = read_header(self._handle, str(self.path))
            size = self.path.stat().st_size
            self.heads: list[BlockHead] = list(scan(self._handle, start, size))
        except Exception:
            self._handle.close()
            raise

    def payload(self, head: BlockHead) -> bytes | None:
        """A block's payload; None when it fails its checksum."""
        return payload_of(self._handle, head)

    def close(self) -> None:
        """Close the file."""
        self._handle.close()


@dataclass(frozen=True, slots=True)
class _FrameRef:
    at: float
    segment: int
    block: int  # index into the segment's heads
    keyframe: bool


_Decoded = tuple[int, dict[str, Any], dict[str, Any], Decompressor, list[tuple[Any, ...]] | None]
"""The last frame decoded: its index, body, chart series, the stream after it, and where
its body's leaves are (None: not worked out yet)."""


class Recording:
    """Frames and events of one or more segments, in time order."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        """Segments of one session, any order (sorted by their start here)."""
        if not segments:
            raise RecordingError("no recording segments")
        self.segments = sorted(segments, key=lambda s: (s.header.started_at, s.header.sequence))
        self.header = self.segments[0].header
        frames: list[_FrameRef] = []
        events: list[RecordedEvent] = []
        for si, segment in enumerate(self.segments):
            for bi, head in enumerate(segment.heads):
                if head.kind == EVENT:
                    payload = segment.payload(head)
                    if payload is None:
                        break  # a damaged block: nothing after it is trusted
                    with contextlib.suppress(ValueError):
                        record = event_record(payload).get("event")
                        if isinstance(record, dict):
                            source = str(record.pop("source", "audit"))
                            events.append(RecordedEvent(head.at, source, record))
                    continue
                frames.append(_FrameRef(head.at, si, bi, head.kind == KEYFRAME))
        self._frames = frames
        self.times = [f.at for f in frames]
        self.events = sorted(events, key=lambda e: e.at)
        self._cache: _Decoded | None = None
        self._relative: tuple[list[tuple[Any, ...]], list[int]] | None = None
        self.frames_lost = 0  # frames after a damaged block, not readable

    # --- the timeline --------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def start(self) -> float:
        """The first frame's time."""
        return self.times[0] if self.times else self.header.started_at

    @property
    def end(self) -> float:
        """The last frame's time."""
        return self.times[-1] if self.times else self.header.started_at

    def index_at(self, at: float) -> int:
        """The frame shown at ``at``: the last one taken at or before it.

        `RecordingError` when ``at`` is before the first frame or after the recording
        ended (more than a few refreshes after its last frame).
        """
        if not self.times:
            raise RecordingError("the recording holds no frame")
        index = bisect.bisect_right(self.times, at) - 1
        if index < 0:
            raise RecordingError(
                f"{stamp(at)} is before the recording starts ({stamp(self.start)})"
            )
        if at > self.end + max(5.0, 3 * self.header.refresh_s):
            raise RecordingError(f"{stamp(at)} is after the recording ends ({stamp(self.end)})")
        return index

    # --- frames --------------------------------------------------------------------

    def snapshot_json(self, index: int) -> dict[str, Any]:
        """Frame ``index`` as ``inferdeck snapshot --json`` printed it (history included)."""
        body, history = self._decode(index)
        if self.segments[self._frames[index].segment].header.format >= 3:
            body = self._moments(body, self.times[index])  # stored as offsets
        return {**body, "history": history}

    def snapshot(self, index: int) -> FleetSnapshot:
        """Frame ``index`` as the `FleetSnapshot` the dashboard showed."""
        return snapshot_from_jsonable(self.snapshot_json(index))

    def snapshot_at(self, at: float) -> FleetSnapshot:
        """The snapshot shown at ``at`` (see `index_at`)."""
        return self.snapshot(self.index_at(at))

    def _moments(self, body: dict[str, Any], at: float) -> dict[str, Any]:
        """A version-3 body (the frame's, at ``at``) with its moments turned back from
        offsets (`tui.recording.precision.moment_at`; only the leaves that hold them are
        walked: the cached body's leaf paths say where they are)."""
        cache = self._cache
        paths = cache[4] if cache is not None and cache[1] is body else None
        if paths is None:
            paths = leaf_paths(body)
            if cache is not None and cache[1] is body:
                self._cache = (*cache[:4], paths)
        if self._relative is None or self._relative[0] is not paths:
            where = [i for i, path in enumerate(paths) if path and path[-1] in RELATIVE_KEYS]
            self._relative = (paths, where)
        base = frame_time(at)
        skips: list[int] = []
        values: list[float] = []
        last = -1
        for i in self._relative[1]:
            node: Any = body
            for key in paths[i]:
                node = node[key]
            if type(node) is float:
                skips.append(i - last - 1)
                values.append(moment_at(base, node))
                last = i
        return apply_leaf_changes(body, [skips, values], paths) if values else body

    def _decode(self, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
        if not 0 <= index < len(self._frames):
            raise IndexError(index)
        target = self._frames[index]
        cache = self._cache
        same_group = (
            cache is not None
            and cache[0] <= index
            and all(not f.keyframe for f in self._frames[cache[0] + 1 : index + 1])
        )
        if same_group and cache is not None:
            at, body, history, stream, paths = cache
        else:
            at = index
            while not self._frames[at].keyframe:
                at -= 1
                if at < 0 or self._frames[at].segment != target.segment:
                    raise RecordingError("a frame without a keyframe before it")
            body, history, stream, paths = {}, {}, Decompressor(), None
            at -= 1  # decode from the keyframe itself below
        samples: list[dict[str, float | None]] = []  # chart samples not yet appended
        keep = 0

        def charted(history: dict[str, Any]) -> dict[str, Any]:
            return advance_many(history, samples, keep) if samples else history

        for i in range(at + 1, index + 1):
            ref = self._frames[i]
            segment = self.segments[ref.segment]
            steps = segment.header.format >= 3  # a figure's change written as a step
            head = segment.heads[ref.block]
            payload = segment.payload(head)
            if payload is None:
                raise RecordingError(f"{segment.path}: a damaged block at {stamp(head.at)}")
            frame = stream.feed(head.kind, payload)["frame"]
            if ref.keyframe:
                body, history, samples = frame["s"], dict(frame.get("h", {})), []
                paths = None
                continue
            if "n" in frame:
                if paths is None:
                    paths = leaf_paths(body)
                body = apply_leaf_changes(body, frame["n"], paths, steps=steps)
            if "d" in frame:
                body, paths = patch(body, frame["d"]), None
            if "a" in frame:
                if samples and int(frame["a"]) != keep:
                    history, samples = charted(history), []
                keep = int(frame["a"])
                samples.append(sample_of_body(body))
            if "h" in frame:
                history, samples = patch(charted(history), frame["h"]), []
        history = charted(history)
        self._cache = (index, body, history, stream, paths)
        return body, history

    def close(self) -> None:
        """Close every segment."""
        for segment in self.segments:
            segment.close()


# --- finding recordings ----------------------------------------------------------------


def segments_in(folder: Path) -> list[Path]:
    """The segment files in a folder, oldest first by name (which starts with the time)."""
    return sorted(folder.glob(f"*{SUFFIX}"))


def open_recording(
    where: Path | str | Iterable[Path | str], *, covering: float | None = None
) -> Recording:
    """A recording from a segment file, a list of them, or a folder.

    From a folder: the session whose segments cover ``covering`` (a time), else the
    newest session. Files that are not recordings are skipped in a folder and refused
    when named.
    """
    if isinstance(where, str | Path) and Path(where).is_dir():
        return _from_folder(Path(where), covering)
    paths = [Path(where)] if isinstance(where, str | Path) else [Path(p) for p in where]
    segments = []
    for path in paths:
        try:
            segments.append(Segment(path))
        except FormatError as exc:
            raise RecordingError(str(exc)) from None
    return Recording(segments)


def _from_folder(folder: Path, covering: float | None) -> Recording:
    sessions: dict[str, list[Segment]] = {}
    for path in segments_in(folder):
        try:
            segment = Segment(path)
        except (FormatError, RecordingError):
            continue
        sessions.setdefault(segment.header.session, []).append(segment)
    if not sessions:
        raise RecordingError(f"no recordings in {folder}")

    def span(segs: list[Segment]) -> tuple[float, float]:
        starts = [s.header.started_at for s in segs]
        ends = [s.heads[-1].at if s.heads else s.header.started_at for s in segs]
        return min(starts), max(ends)

    chosen: list[Segment] | None = None
    if covering is not None:
        inside = [s for s in sessions.values() if span(s)[0] <= covering <= span(s)[1]]
        chosen = max(inside, key=lambda s: span(s)[1] - span(s)[0], default=None)
    if chosen is None:
        chosen = max(sessions.values(), key=lambda s: span(s)[1])
    for segs in sessions.values():
        if segs is not chosen:
            for s in segs:
                s.close()
    return Recording(chosen)


# --- times -------------------------------------------------------------------------------

_OFFSET = re.compile(r"^\+(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?$")


def parse_time(text: str, recording_start: float) -> float:
    """Epoch seconds for ``--at``: ISO 8601 (``2026-11-30T02:14:05Z``; without a zone, local
    time), a clock time on the recording's day (``02:14:05``, local time; the first such
    moment at or after the recording starts), or an offset from its start (``+90s``,
    ``+2m``, ``+1h30m``). `ValueError` with a one-line reason otherwise."""
    text = text.strip()
    if text.startswith("+"):
        match = _OFFSET.match(text)
        if not match or text == "+":
            raise ValueError(f"{text!r}: an offset is like +90s, +2m or +1h30m")
        hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        return recording_start + hours * 3600 + minutes * 60 + seconds
    if clock := _CLOCK.match(text):
        hour, minute = int(clock[1]), int(clock[2])
        second = int(clock[3] or 0)
        fraction = float(clock[4] or 0.0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"{text!r} is not a clock time")
        day = dt.datetime.fromtimestamp(recording_start).astimezone()
        moment = day.replace(hour=hour, minute=minute, second=second, microsecond=0)
        if moment.timestamp() + fraction < recording_start - 1:
            moment += dt.timedelta(days=1)
        return moment.timestamp() + fraction
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r}: a time is ISO 8601 (2026-11-30T02:14:05Z), a clock time (02:14:05)"
            " or an offset from the start (+90s)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed.timestamp()


def stamp(at: float) -> str:
    """``2026-11-30 02:14:05 UTC`` style local time, for messages and the header."""
    return dt.datetime.fromtimestamp(at).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
