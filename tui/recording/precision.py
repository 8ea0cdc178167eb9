"""The precision a recording keeps (format version 3): what the screens show, and no more.

A measured figure is stored to `FIGURE_DIGITS` significant digits (the screens show at
most three: ``52ms``, ``4.88s``, ``71%``, ``2.8k``), a moment or a duration in seconds
(`TIME_KEYS`) to the millisecond. Whole numbers written as JSON integers (a GPU's index,
a count) and text are kept as they are. So a figure that only moved in digits no screen
shows makes no change to record, and a replay shows what the screens showed.

A moment that moves on with the frames (`RELATIVE_KEYS`: when a backend was last scraped,
a source last answered, the freshest data) is stored as its age relative to the frame's
own time (``taken_at``, to the millisecond), to `AGE_DIGITS` decimals: the screens show
these only as an age (``0.8s``, ``12s``: `widgets.format.age`). So a source scraped
every frame at about the same point stops changing, where its epoch time to the
millisecond changed in every frame (version 2: ~20 B of a live frame's ~237 B, as
benchmarks/recording_size.py measures it). ``taken_at`` itself is stored as 0 (its
offset from the frame's time, which the block's head holds).

A figure's change is written as the steps of its third significant digit
(`tui.recording.format.leaf_changes`), which changes no precision.

`recorded_json(snapshot)` is the snapshot exactly as a version-3 recording gives it back
(what ``inferdeck replay --at T --json`` prints): ``snapshot --json`` at this precision.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from tui.model import FleetSnapshot
from tui.model_json import Precision, to_jsonable

FIGURE_DIGITS = 3
"""Significant digits of a measured figure (latency, rate, percent, ratio, temperature)."""

TIME_DIGITS = 3
"""Decimal places of a time in seconds (`TIME_KEYS`): a millisecond."""

TIME_KEYS = frozenset(
    {"taken_at", "last_ok", "last_scrape", "starts_at", "acknowledged_until",
     "last_known_at", "started_at", "created_at", "freshest_data_at", "duration_s"}
)  # fmt: skip
"""The fields that hold epoch seconds or a duration: kept to the millisecond, never to
three significant digits (which would move a moment by minutes)."""


AGE_DIGITS = 1
"""Decimal places of a moment's age (`RELATIVE_KEYS`): a tenth of a second, as
`widgets.format.age` shows an age under 10 s."""

RELATIVE_KEYS = frozenset({"taken_at", "last_scrape", "last_ok", "freshest_data_at"})
"""The moments stored relative to the frame's time (`offset_from`), to `AGE_DIGITS`: those
that move on with the frames while the fleet answers. (Those fixed once set — an
alert's ``starts_at``, ``last_known_at`` — stay epoch seconds: relative, they would
change in every frame.)"""


_FIGURE_FORMAT = f".{FIGURE_DIGITS}g"


def figure_of(value: float) -> float:
    """A measured figure at the stored precision (`FIGURE_DIGITS` significant digits);
    NaN and infinities as they are. Not cached: where most values are new (a frame's
    figures), a cache costs more than the rounding; `figure` is the cached one."""
    if value - value != 0.0:  # NaN or an infinity
        return value
    kept = float(format(value, _FIGURE_FORMAT))
    return kept if kept - kept == 0.0 else value  # 1.795e308 would round up to inf


figure = functools.lru_cache(maxsize=1024)(figure_of)
"""`figure_of`, cached: for the points of the chart series, which repeat from frame to
frame (the series share them). 1,024 values: 8,192 held 1.4 MB more once full (a live
dashboard fills it in minutes) for 2.6% more hits (`recording_size.py`'s demo: 9,303
against 8,697 of 22,964 calls)."""


def stored(key: str, value: float) -> float:
    """A float at the stored precision, ``key`` the field it is the value of (a time
    field keeps milliseconds); `tui.model_json.Precision`."""
    if key in TIME_KEYS:
        return round(value, TIME_DIGITS)
    return figure(value)


def frame_time(taken_at: float) -> float:
    """A frame's time as stored: its snapshot's ``taken_at`` to the millisecond."""
    return round(taken_at, TIME_DIGITS)


def offset_from(base: float, value: float) -> float:
    """How a moment (`RELATIVE_KEYS`) is stored: its offset from the frame's time
    ``base`` (`frame_time`), to `AGE_DIGITS` decimals (negative: before the frame)."""
    return round(value - base, AGE_DIGITS) + 0.0  # never -0.0


def moment_at(base: float, offset: float) -> float:
    """The moment a stored offset (`offset_from`) gives back, to the millisecond."""
    return round(base + offset, TIME_DIGITS)


def relative_to(taken_at: float) -> Precision:
    """The precision a version-3 body is stored at, in the frame taken at ``taken_at``:
    `stored`, and `RELATIVE_KEYS` as offsets from its time."""
    base = frame_time(taken_at)

    def keep(key: str, value: float) -> float:  # `stored`, inlined: called for every float
        if key in RELATIVE_KEYS:
            return offset_from(base, value)
        if key in TIME_KEYS:
            return round(value, TIME_DIGITS)
        return figure(value)

    return keep


def as_replayed(taken_at: float) -> Precision:
    """The precision a replay gives back a float at, in the frame taken at ``taken_at``:
    `stored`, and `RELATIVE_KEYS` as the moment their stored offset says."""
    base = frame_time(taken_at)

    def keep(key: str, value: float) -> float:
        if key in RELATIVE_KEYS:
            return moment_at(base, offset_from(base, value))
        return stored(key, value)

    return keep


def rounded(value: Any, key: str = "") -> Any:
    """A JSON value (from `tui.model_json.to_jsonable`) at the stored precision."""
    kind = type(value)
    if kind is float:
        return stored(key, value)
    if kind is dict:
        return {k: rounded(v, k) for k, v in value.items()}
    if kind is list:
        return [rounded(v, key) for v in value]
    return value


def rounded_series(values: tuple[float, ...] | list[float | None]) -> list[float | None]:
    """A chart series at the stored precision, a gap (NaN) as null."""
    return [None if v is None or v != v else figure(v) for v in values]


def rounded_history(history: Mapping[str, tuple[float, ...]]) -> dict[str, list[float | None]]:
    """Every chart series at the stored precision."""
    return {name: rounded_series(values) for name, values in history.items()}


def recorded_json(snapshot: FleetSnapshot) -> dict[str, Any]:
    """``snapshot --json`` at the stored precision: what its replay prints."""
    history = snapshot.history
    out: dict[str, Any] = to_jsonable(snapshot, as_replayed(snapshot.taken_at))
    out["history"] = rounded_history(history)
    return out
