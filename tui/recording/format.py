"""The recording file format, version 3: a header, then checksummed compressed blocks.

A recording segment (``*.idrec``) is::

    inferdeck-recording 2\\n                 the magic line and the format version
    {"format": 3, "session": ..., ...}\\n     the header: one line of JSON (`Header`)
    block, block, ...                        until the end of the file

and each block is a 17-byte head then the payload::

    length   4 bytes, big-endian: the payload's size
    crc32    4 bytes, big-endian: CRC-32 of kind + time + payload
    kind     1 byte: K (a keyframe: the compressed stream starts again here),
                     C (a frame that continues the stream of the blocks before it) or
                     E (an event, compressed on its own)
    time     8 bytes, big-endian IEEE double: epoch seconds of the frame or event
    payload  raw DEFLATE (zlib, wbits -15), flushed with Z_SYNC_FLUSH after each block

Decompressing a K block and the C blocks after it, in order, gives one JSON record per
block, ending in a newline; an E block decompresses alone:

* a keyframe: ``{"frame": {"t": TIME, "s": BODY, "h": HISTORY}}``: the whole snapshot as
  ``inferdeck snapshot --json`` prints it, without ``history``, and every chart series;
* a frame after it: ``{"frame": {...}}`` with what changed since the previous frame:
  ``"n": [skips, values]`` when only leaves changed (numbers, text: see `flatten` and
  `leaf_changes`), else ``"d": PATCH`` (see `diff` and `patch`); for the chart series
  ``"a": KEEP`` when each moved on by the frame's own figures (derived on reading:
  `tui.recording.history`), else ``"h": HISTORY_PATCH``; a key is absent when nothing of
  its kind changed;
* an event (E): ``{"event": {"source": "audit" | "incident" | "alert", ...}}`` — an audit
  record, an incident timeline event or an alert that fired or resolved, at its time.

Version 3 stores figures at the precision the screens show (`tui.recording.precision`:
three significant digits, times to the millisecond) and the moments that move on with
the frames (when a backend was last scraped, ...) as offsets from the frame's time, to
0.1 s; the reader turns them back (`tui.recording.precision.moment_at`). Version 2 stored
those moments as epoch seconds to the millisecond, and version 1 every figure at full
precision, with ``"t"`` in every frame and only ``"d"`` and ``"h"``; both read with the
same code (`READS`).

So the heads alone say when every frame and every event is, and an event can be read
without decoding the frames around it.

A block is written with one ``write`` call; a reader stops at the first block that is
cut short or fails its checksum (a writer killed mid-write, a disk that lost the tail),
so a torn tail costs that block only and never the blocks before it. A writer never
appends to a segment it did not start.
"""

from __future__ import annotations

import functools
import json
import math
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, count
from operator import ne
from typing import Any, BinaryIO

MAGIC = b"inferdeck-recording"
VERSION = 3
"""The version this inferdeck writes."""
READS = (1, 2, 3)
"""The versions it reads."""
SUFFIX = ".idrec"
HEAD = struct.Struct(">IIcd")  # length, crc32, kind, time
KEYFRAME = b"K"
CONTINUES = b"C"
EVENT = b"E"
KINDS = (KEYFRAME, CONTINUES, EVENT)
SHIFT_SEARCH = 32
"""How many appended values a history patch looks for before it gives up and replaces."""


class FormatError(ValueError):
    """A file that is not a recording, or from a newer inferdeck than this one."""


@dataclass(frozen=True, slots=True)
class Header:
    """What a segment says about itself in its second line."""

    session: str  # the same for every segment one dashboard wrote
    started_at: float
    environment: str = ""
    slo_tier: str = ""
    refresh_s: float = 1.0
    keyframe_every: int = 300
    sequence: int = 0  # the segment's number within its session
    format: int = VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    def line(self) -> bytes:
        """The header as its one line of JSON."""
        body = {
            "format": self.format,
            "session": self.session,
            "started_at": self.started_at,
            "environment": self.environment,
            "slo_tier": self.slo_tier,
            "refresh_s": self.refresh_s,
            "keyframe_every": self.keyframe_every,
            "sequence": self.sequence,
            **dict(self.extra),
        }
        return json.dumps(body, sort_keys=True).encode() + b"\n"


KNOWN_HEADER_KEYS = frozenset(
    {"format", "session", "started_at", "environment", "slo_tier", "refresh_s",
     "keyframe_every", "sequence"}
)  # fmt: skip


def read_header(handle: BinaryIO, name: str = "recording") -> tuple[Header, int]:
    """The header of an open segment and the offset of its first block."""
    magic = handle.readline(64)
    parts = magic.split()
    if len(parts) != 2 or parts[0] != MAGIC:
        raise FormatError(f"{name}: not an inferdeck recording")
    try:
        version = int(parts[1])
    except ValueError:
        raise FormatError(f"{name}: not an inferdeck recording") from None
    if version > VERSION:
        raise FormatError(
            f"{name}: recording format {version} is newer than this inferdeck reads ({VERSION})"
        )
    if version not in READS:
        raise FormatError(f"{name}: not an inferdeck recording")
    line = handle.readline(1 << 20)
    try:
        data = json.loads(line)
        header = Header(
            session=str(data["session"]),
            started_at=float(data["started_at"]),
            environment=str(data.get("environment", "")),
            slo_tier=str(data.get("slo_tier", "")),
            refresh_s=float(data.get("refresh_s", 1.0)),
            keyframe_every=int(data.get("keyframe_every", 300)),
            sequence=int(data.get("sequence", 0)),
            format=version,
            extra={k: v for k, v in data.items() if k not in KNOWN_HEADER_KEYS},
        )
    except (ValueError, KeyError, TypeError):
        raise FormatError(f"{name}: the recording's header is damaged") from None
    return header, handle.tell()


def block(kind: bytes, at: float, payload: bytes) -> bytes:
    """One block, head and payload, ready for a single write."""
    crc = zlib.crc32(payload, zlib.crc32(kind + struct.pack(">d", at)))
    return HEAD.pack(len(payload), crc, kind, at) + payload


@dataclass(frozen=True, slots=True)
class BlockHead:
    """Where a block is and what its head says (the payload is read only when needed)."""

    offset: int  # of the payload
    length: int
    crc: int
    kind: bytes
    at: float


def scan(handle: BinaryIO, start: int, size: int) -> Iterator[BlockHead]:
    """The heads of the whole blocks from ``start``; a block cut short ends the scan."""
    offset = start
    while offset + HEAD.size <= size:
        handle.seek(offset)
        raw = handle.read(HEAD.size)
        if len(raw) < HEAD.size:
            return
        length, crc, kind, at = HEAD.unpack(raw)
        if kind not in KINDS or offset + HEAD.size + length > size:
            return  # torn (or garbage after a torn block): nothing after it is trusted
        yield BlockHead(offset + HEAD.size, length, crc, kind, at)
        offset += HEAD.size + length


def payload_of(handle: BinaryIO, head: BlockHead) -> bytes | None:
    """The block's payload, or None when it fails its checksum."""
    handle.seek(head.offset)
    payload = handle.read(head.length)
    crc = zlib.crc32(payload, zlib.crc32(head.kind + struct.pack(">d", head.at)))
    return payload if len(payload) == head.length and crc == head.crc else None


WINDOW_BITS = 12
"""The writer's DEFLATE window: 4 KB (readers decompress with 32 KB, wbits -15)."""

MEMORY_LEVEL = 4
"""zlib's memLevel for the writer: match tables of 4 KB (zlib's default, 8, is 64 KB)."""


class Compressor:
    """The writer's side of the stream: one DEFLATE stream per keyframe group.

    Level 6, zlib's default: on a dashboard's frames (~120 B each, after a keyframe of a
    few KB) level 9 wrote 3% fewer bytes for 2-4 times the CPU, the largest single part
    of what recording cost (benchmarks/recording_size.py)."""

    def __init__(self, level: int = 6) -> None:
        self.level = level
        self._z: Any = None

    def restart(self) -> None:
        """Start a new stream (the next block is a keyframe).

        A 4 KB window and small match tables (~20 KB of state, where zlib's defaults
        hold ~260 KB): a frame is compressed once a second, after everything it touched
        has left the CPU's caches, so the state it touches is most of what it costs; a
        frame refers back mostly to the last few. 4% more bytes than the defaults for a
        quarter less CPU (benchmarks/recording_size.py); any reader's 32 KB window
        reads it (DEFLATE's window is the writer's choice up to 32 KB)."""
        self._z = zlib.compressobj(self.level, zlib.DEFLATED, -WINDOW_BITS, MEMORY_LEVEL)

    def compress(self, record: Mapping[str, Any]) -> bytes:
        """One record as the next bytes of the stream, flushed so a reader can decode it."""
        assert self._z is not None, "restart() first"
        text = json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"
        out: bytes = self._z.compress(text.encode()) + self._z.flush(zlib.Z_SYNC_FLUSH)
        return out


def event_payload(record: Mapping[str, Any]) -> bytes:
    """An event record compressed on its own (an E block's payload)."""
    text = json.dumps(record, separators=(",", ":"), allow_nan=False, default=str)
    return _deflate(text.encode())


def _deflate(data: bytes) -> bytes:
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush()


def event_record(payload: bytes) -> dict[str, Any]:
    """The record of an E block's payload."""
    record = json.loads(zlib.decompress(payload, -15))
    if not isinstance(record, dict):
        raise ValueError("a record must be a JSON object")
    return record


class Decompressor:
    """The reader's side: feed a keyframe group's payloads in order, get records back."""

    def __init__(self) -> None:
        self._z: Any = None

    def feed(self, kind: bytes, payload: bytes) -> dict[str, Any]:
        """The record in one block (a K block starts a new stream)."""
        if kind == KEYFRAME or self._z is None:
            self._z = zlib.decompressobj(-15)
        record = json.loads(self._z.decompress(payload))
        if not isinstance(record, dict):
            raise ValueError("a record must be a JSON object")
        return record


# --- what changed between two frames -------------------------------------------------


class _Same:
    """Marks "nothing changed" in `diff` (None is a value)."""


SAME = _Same()


def diff(old: Any, new: Any) -> Any:
    """A patch that turns JSON value ``old`` into ``new``, or `SAME`.

    A patch is an object (the patch of an object: key -> patch) or an operation, a list:
    ``["=", value]`` replaces, ``["-"]`` removes the key, ``["L", n, {"i": patch}]`` patches
    a list of the same length item by item, ``["S", keep, [values]]`` keeps the last
    ``keep`` items of the old list and appends ``values`` (a chart series moving on).
    """
    if old == new and type(old) is type(new):
        return SAME
    if isinstance(old, dict) and isinstance(new, dict):
        out: dict[str, Any] = {}
        for key, value in new.items():
            if key in old:
                change = diff(old[key], value)
                if change is not SAME:
                    out[key] = change
            else:
                out[key] = ["=", value]
        for key in old:
            if key not in new:
                out[key] = ["-"]
        return out
    if isinstance(old, list) and isinstance(new, list):
        shifted = shift(old, new)
        if shifted is not None:
            return shifted
        if len(old) == len(new):
            items = {}
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                change = diff(a, b)
                if change is not SAME:
                    items[str(i)] = change
            return ["L", len(new), items]
    return ["=", new]


def shift(old: Sequence[Any], new: Sequence[Any]) -> list[Any] | None:
    """``["S", keep, appended]`` when ``new`` is the end of ``old`` plus a few values."""
    n, m = len(new), len(old)
    for added in range(1, min(n, SHIFT_SEARCH) + 1):
        keep = n - added
        if keep <= m and new[:keep] == old[m - keep :]:
            if keep == 0 and m:
                return None  # nothing in common: a plain replacement says it better
            return ["S", keep, list(new[keep:])]
    return None


def patch(old: Any, change: Any) -> Any:
    """Apply a `diff` patch to ``old`` (not changed in place); the new value."""
    if isinstance(change, dict):
        if not isinstance(old, dict):
            raise ValueError("an object patch needs an object")
        out = dict(old)
        for key, sub in change.items():
            if isinstance(sub, list) and sub and sub[0] == "-":
                out.pop(key, None)
            else:
                out[key] = patch(old.get(key), sub)
        return out
    if not isinstance(change, list) or not change:
        raise ValueError(f"not a patch: {change!r}")
    op = change[0]
    if op == "=":
        return change[1]
    if op == "S":
        keep = int(change[1])
        kept = list(old[len(old) - keep :]) if keep else []
        return kept + list(change[2])
    if op == "L":
        items = list(old)
        for index, sub in change[2].items():
            items[int(index)] = patch(items[int(index)], sub)
        return items
    raise ValueError(f"unknown patch operation {op!r}")


# --- what changed, when only figures changed (version 2) -------------------------------


def flatten(value: Any) -> tuple[tuple[Any, ...], list[Any]]:
    """A JSON value's shape (its keys, in sorted order, and its lists' lengths) and its
    leaves (every number, string, boolean and null) in the same order.

    Two values of the same shape differ only in leaves; `leaf_changes` writes that as
    the leaves that changed. Keys are walked sorted, so the order a dict was built in
    (the writer's, or the reader's after a patch) never matters.
    """
    shape: list[Any] = []
    leaves: list[Any] = []
    flatten_into(value, shape, leaves)
    return tuple(shape), leaves


def flatten_into(value: Any, shape: list[Any], leaves: list[Any]) -> None:
    """`flatten`, appending to ``shape`` and ``leaves``."""
    kind = type(value)
    if kind is dict:
        keys = sorted(value)
        shape.append(tuple(keys))
        for key in keys:
            flatten_into(value[key], shape, leaves)
    elif kind is list:
        shape.append(len(value))
        for item in value:
            flatten_into(item, shape, leaves)
    else:
        leaves.append(value)


WHOLE = 2.0**53
"""Whole floats below this are written without their ``.0`` (exact as integers)."""


def leaf_changes(old: list[Any], new: list[Any], *, steps: bool = False) -> list[list[Any]] | None:
    """``[skips, values]``: the leaves of ``new`` that differ from ``old`` (same shape),
    each after ``skip`` unchanged ones. The skips repeat from frame to frame (the same
    figures move), so they compress to almost nothing.

    A figure that was a float is written as:

    * with ``steps`` (version 3), when it keeps its decimal exponent: an integer, the
      steps its third significant digit moved (``0.0532`` -> ``0.0529``: ``-3``; `step_of`),
      a few characters where its digits were many, and read back exactly (`stepped`);
      otherwise as a float, which JSON tells apart from an integer by its ``.`` or ``e``;
    * without (version 2): when it is a whole float now, as an integer (``28`` for
      ``28.0``) and read back as a float (`apply_leaf_changes`).

    None when a float turns into an integer: that cannot be told apart, so the caller
    writes a `diff` instead.
    """
    if len(old) != len(new):
        raise ValueError(f"leaves of two shapes: {len(old)} and {len(new)}")
    if list(map(type, old)) == list(map(type, new)):  # the usual frame: no leaf's type moved
        # Which leaves differ, found in C: most of a frame's leaves are those of the frame
        # before, and a Python loop over all of them was most of this function's cost.
        changed: Iterable[int] = compress(count(), map(ne, old, new))
    else:  # ``1`` and ``1.0`` are equal, and must still be written
        pairs = enumerate(zip(old, new, strict=True))
        changed = (i for i, (a, b) in pairs if a != b or type(a) is not type(b))
    skips: list[int] = []
    values: list[Any] = []
    last = -1
    for index in changed:
        a, b = old[index], new[index]
        if type(a) is float:
            kind = type(b)
            if kind is int:
                return None
            if kind is float:
                if steps:
                    step = step_of(a, b)
                    if step is not None:
                        b = step
                elif b.is_integer() and -WHOLE < b < WHOLE:
                    b = int(b)
        skips.append(index - last - 1)
        values.append(b)
        last = index
    return [skips, values]


STEP_CACHE = 2048
"""Figures `_mantissa` and `_decimal` each remember. Both full at 8,192 held 3.2 MB (a
live dashboard fills them as its figures wander); at 2,048, 0.95 MB, for ~10 more misses
a frame at ~1 us each (`recording_size.py`'s demo fleet)."""


@functools.lru_cache(maxsize=STEP_CACHE)
def _mantissa(value: float) -> tuple[int, int]:
    """``value`` as ``m`` x 10 ** ``e``, ``m`` its first three significant digits."""
    digits, _, exponent = f"{value:.2e}".partition("e")
    return int(digits.replace(".", "")), int(exponent) - 2


@functools.lru_cache(maxsize=STEP_CACHE)
def _decimal(mantissa: int, exponent: int) -> float:
    """The float nearest ``mantissa`` x 10 ** ``exponent``."""
    return float(f"{mantissa}e{exponent}")


def stepped(old: float, step: int) -> float:
    """The figure ``step`` units of ``old``'s third significant digit away from it."""
    if not math.isfinite(old):
        raise ValueError(f"a step from {old!r}")
    mantissa, exponent = _mantissa(old)
    return _decimal(mantissa + step, exponent)


def step_of(old: float, new: float) -> int | None:
    """How many units of ``old``'s third significant digit ``new`` is away from it, when
    it has the same decimal exponent and `stepped` gives it back exactly; else None.
    (Its parts are cached by value, not by pair: figures at three digits take the same
    few values, but which two meet changes with every frame.)"""
    if not (math.isfinite(old) and math.isfinite(new)):
        return None
    (a, exponent), (b, other) = _mantissa(old), _mantissa(new)
    if exponent != other:
        return None
    return b - a if _decimal(b, exponent) == new else None


def leaf_paths(value: Any) -> list[tuple[Any, ...]]:
    """Where each leaf of ``value`` is (keys and list indexes), in `flatten`'s order."""
    out: list[tuple[Any, ...]] = []
    _paths(value, (), out)
    return out


def _paths(value: Any, here: tuple[Any, ...], out: list[tuple[Any, ...]]) -> None:
    kind = type(value)
    if kind is dict:
        for key in sorted(value):
            _paths(value[key], (*here, key), out)
    elif kind is list:
        for i, item in enumerate(value):
            _paths(item, (*here, i), out)
    else:
        out.append(here)


def apply_leaf_changes(
    old: Any,
    changes: Sequence[Any],
    paths: Sequence[tuple[Any, ...]] | None = None,
    *,
    steps: bool = False,
) -> Any:
    """``old`` with the leaves `leaf_changes` wrote replaced: a new value; ``old`` is left
    as it was (only the objects and lists on the way to a changed leaf are copied).
    ``paths``: `leaf_paths` of ``old``, when the caller keeps them (the same shape);
    ``steps``: as `leaf_changes` was told (an integer for a float is a step)."""
    skips, values = changes
    if len(skips) != len(values):
        raise ValueError("leaf changes: as many skips as values")
    if paths is None:
        paths = leaf_paths(old)
    root: Any = _copy(old)
    copied: dict[tuple[Any, ...], Any] = {(): root}
    index = -1
    for skip, value in zip(skips, values, strict=True):
        index += int(skip) + 1
        if index >= len(paths):
            raise ValueError("leaf changes past the last leaf")
        path = paths[index]
        if not path:  # the value is a leaf itself
            return _as_before(value, old, steps)
        node = root
        for depth in range(len(path) - 1):
            prefix = path[: depth + 1]
            child = copied.get(prefix)
            if child is None:
                child = copied[prefix] = _copy(node[path[depth]])
                node[path[depth]] = child
            node = child
        node[path[-1]] = _as_before(value, node[path[-1]], steps)
    return root


def _copy(value: Any) -> Any:
    kind = type(value)
    return dict(value) if kind is dict else list(value) if kind is list else value


def _as_before(new: Any, old: Any, steps: bool) -> Any:
    if type(new) is int and type(old) is float:
        if steps:
            return stepped(old, new)  # its third digit moved by this many
        return float(new)  # a whole figure, written without its ".0"
    return new
