"""Recording format 2: figures at the precision the screens show, chart history derived
from the frames, only the figures that moved written — and a replay gives back exactly
what was recorded at that precision."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.recorded import as_recorded
from tui.demo_data import warmed_hub
from tui.hub import history_sample
from tui.model import FleetSnapshot
from tui.recording.config import Limits
from tui.recording.format import (
    CONTINUES,
    Decompressor,
    apply_leaf_changes,
    flatten,
    leaf_changes,
)
from tui.recording.history import advance, advance_many, advanced_by, sample_of_body
from tui.recording.leaves import body_of
from tui.recording.precision import figure, frame_time, moment_at, offset_from, stored
from tui.recording.reader import open_recording
from tui.recording.writer import RecordingWriter

DEMO_DELTA_BYTES = 230
"""A frame after a keyframe, head included, for the demo fleet (3 backends, 4 GPUs) at
most, on average: 230 B a second is 19.9 MB a day, the issue's bound (measured: about
200; benchmarks/recording_size.py prints it)."""


@functools.cache
def demo(count: int, warmup: int = 20) -> tuple[FleetSnapshot, ...]:
    """``count`` snapshots of the seeded demo fleet, one a second, after ``warmup``."""
    hub, source = warmed_hub(seconds=warmup)
    return tuple(hub.record(source, source.poll()) for _ in range(count))


def records(path: Path) -> list[tuple[bytes, dict[str, Any]]]:
    """Every frame record of a segment, decoded, with its block's kind."""
    recording = open_recording(path)
    segment = recording.segments[0]
    stream = Decompressor()
    out = []
    for head in segment.heads:
        payload = segment.payload(head)
        assert payload is not None
        if head.kind != b"E":
            out.append((head.kind, stream.feed(head.kind, payload)["frame"]))
    recording.close()
    return out


def write(folder: Path, snapshots: list[FleetSnapshot] | tuple[FleetSnapshot, ...]) -> Path:
    writer = RecordingWriter(folder, Limits(keyframe_every=1000), environment="demo")
    for snapshot in snapshots:
        writer.frame(snapshot)
    writer.close()
    assert writer.path is not None
    return writer.path


# --- the precision -----------------------------------------------------------------------


def test_figures_keep_three_significant_digits_and_times_the_millisecond() -> None:
    assert figure(0.053228571428571396) == 0.0532
    assert figure(4.882843137254902) == 4.88
    assert figure(2764.3333333333335) == 2760.0
    assert figure(0.0) == 0.0
    assert stored("taken_at", 1_795_000_040.123456) == 1_795_000_040.123
    assert stored("duration_s", 0.0123456) == 0.012
    assert stored("p95", 0.0123456) == 0.0123


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_stored_figure_is_within_half_a_unit_of_its_third_digit_and_stays_put(
    value: float,
) -> None:
    kept = figure(value)
    assert figure(kept) == kept  # a replay recorded again (an incident's cut) keeps it
    assert abs(kept - value) <= abs(value) * 5e-3  # 3 significant digits, rounded


def test_a_replay_prints_the_figures_at_the_stored_precision(tmp_path: Path) -> None:
    shown = demo(3)
    recording = open_recording(write(tmp_path, shown))
    replayed = recording.snapshot_json(2)
    full = shown[2].backends[0].ttft.p95
    assert full is not None and full != figure(full)  # the test means something
    assert replayed["backends"][0]["ttft"]["p95"] == figure(full)
    assert replayed["taken_at"] == round(shown[2].taken_at, 3)
    series = replayed["history"]["fleet.ttft_p95"]
    assert series[-1] == figure(shown[2].history["fleet.ttft_p95"][-1])
    recording.close()


def test_a_figure_that_moved_below_the_stored_precision_records_no_change(
    tmp_path: Path,
) -> None:
    first = demo(1)[0]
    backend = first.backends[0]
    assert backend.ttft.p95 is not None
    nudged = replace(backend, ttft=replace(backend.ttft, p95=backend.ttft.p95 * (1 + 1e-6)))
    second = replace(first, backends=(nudged, *first.backends[1:]))
    frames = records(write(tmp_path, [first, second]))
    assert frames[1] == (CONTINUES, {})  # nothing changed that a screen could show


# --- what a frame holds --------------------------------------------------------------------


def test_a_frame_holds_only_the_figures_that_moved_and_no_chart_history(
    tmp_path: Path,
) -> None:
    frames = records(write(tmp_path, demo(12)))
    assert "h" in frames[0][1] and "s" in frames[0][1]  # the keyframe: everything
    for _kind, frame in frames[1:]:
        assert set(frame) <= {"n", "a"}, frame.keys()  # figures, and "advance the charts"
        _skips, values = frame["n"]
        assert len(values) < len(flatten(frames[0][1]["s"])[1]) / 2


def test_the_chart_history_the_recording_derives_is_the_one_the_dashboard_had(
    tmp_path: Path,
) -> None:
    shown = demo(12)
    recording = open_recording(write(tmp_path, shown))
    for index in (11, 5, 1):
        assert json.dumps(recording.snapshot_json(index), indent=2, sort_keys=True) == (
            as_recorded(shown[index])
        )
    recording.close()


def test_a_history_the_frames_do_not_explain_is_stored_and_replays(tmp_path: Path) -> None:
    hub, source = warmed_hub(seconds=10)
    shown = [hub.record(source, source.poll()) for _ in range(3)]
    hub.history.prepend({"fleet.ttft_p95": [0.5] * 40})  # as a Prometheus prefill does
    shown += [hub.record(source, source.poll()) for _ in range(3)]
    path = write(tmp_path, shown)
    frames = records(path)
    assert "h" in frames[3][1] and "a" not in frames[3][1]
    assert "a" in frames[4][1]  # and then the frames explain it again
    recording = open_recording(path)
    for index in range(6):
        assert json.dumps(recording.snapshot_json(index), indent=2, sort_keys=True) == (
            as_recorded(shown[index])
        )
    recording.close()


def test_the_sample_a_reader_derives_is_the_one_the_hub_charts() -> None:
    for snapshot in demo(3):
        expected = {
            name: None if value is None or value != value else figure(value)
            for name, value in history_sample(snapshot).items()
        }
        assert sample_of_body(body_of(snapshot)) == expected


def test_a_chart_advance_is_seen_whether_or_not_the_series_share_their_points() -> None:
    """The hub's series share their points from one sample to the next and compare by
    reference; series read back or copied (new float objects, gaps that are NaN and so
    never equal as floats) are compared as the doubles they are: the same answer."""
    nan = float("nan")
    before = {"fleet.waiting": (1.0, nan, 3.0), "fleet.running": (2.0, 2.0, 2.0)}
    after = {"fleet.waiting": (*before["fleet.waiting"][1:], 4.0), "fleet.running": (2.0, 2.0, 5.0)}
    sample = {"fleet.waiting": 4.0, "fleet.running": 5.0}
    copied = {name: tuple(float(str(v)) for v in values) for name, values in after.items()}
    assert advanced_by(before, after, sample) == 3
    assert advanced_by(before, copied, sample) == 3
    moved = dict(copied, **{"fleet.running": (2.0, 2.5, 5.0)})  # an older point changed
    assert advanced_by(before, moved, sample) is None
    filled = dict(copied, **{"fleet.waiting": (0.0, 3.0, 4.0)})  # the gap filled in
    assert advanced_by(before, filled, sample) is None
    assert advanced_by(before, after, dict(sample, **{"fleet.running": 6.0})) is None


def test_the_hubs_word_on_its_series_writes_the_same_frames(tmp_path: Path) -> None:
    """Told by the hub which copies of its series moved on by one point, the writer
    compares only the new points: the frames are exactly those it writes comparing
    every point, chart advances included, and a frame whose shown figure is not what
    the hub charted (a stale source: shown, charted as a gap) is still no advance."""
    hub, source = warmed_hub(seconds=20)
    vouched = RecordingWriter(tmp_path / "vouched", Limits(keyframe_every=1000))
    told: list[bool] = []

    def moved_on(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
        told.append(hub.history.advanced(before, after))
        return told[-1]

    vouched.history_moved_on = moved_on
    snapshots = []
    for _ in range(30):  # each written as it is made, as the recorder's thread keeps up
        snapshots.append(hub.record(source, source.poll()))
        vouched.frame(snapshots[-1])
    vouched.close()
    assert vouched.path is not None
    plain = write(tmp_path / "plain", snapshots)
    assert records(vouched.path) == records(plain)
    assert sum(told) >= 28  # the hub vouched for (nearly) every frame
    assert sum("a" in frame for _, frame in records(plain)) >= 28
    # the figure shown is not the one charted: the hub's word does not make it an advance
    last = snapshots[-1]
    held = replace(
        last, history={**last.history, "fleet.waiting": (*last.history["fleet.waiting"][:-1], 9e9)}
    )
    assert advanced_by(snapshots[-2].history, held.history, sample_of_body(body_of(last)),
                       moved_on=True) is None  # fmt: skip


def test_a_demo_frame_costs_under_the_daily_bound(tmp_path: Path) -> None:
    path = write(tmp_path, demo(60, warmup=30))
    heads = open_recording(path).segments[0].heads
    deltas = [h.length + 17 for h in heads if h.kind == CONTINUES]
    assert len(deltas) == 59
    assert sum(deltas) / len(deltas) < DEMO_DELTA_BYTES


# --- the figures that moved, as leaves ---------------------------------------------------------

leaves = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3)
)
shapes = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)


def _refill(value: Any, new: list[Any]) -> Any:
    """``value`` with its leaves taken in order from ``new`` (the same shape)."""
    if isinstance(value, dict):
        filled = {k: _refill(value[k], new) for k in sorted(value)}
        return {k: filled[k] for k in reversed(filled)}  # built in another order
    if isinstance(value, list):
        return [_refill(v, new) for v in value]
    return new.pop(0)


@settings(max_examples=150, deadline=None)
@given(shapes, st.data(), st.booleans())
def test_leaf_changes_turn_the_old_frame_into_the_new(
    old: Any, data: st.DataObject, steps: bool
) -> None:
    _, old_leaves = flatten(old)
    near = st.sampled_from([1.01, 0.99, 1.2, 10.0]).map(  # a figure that moved a little
        lambda f: lambda a: figure(a * f) if type(a) is float else a
    )
    moved = data.draw(near)
    new_leaves = [data.draw(leaves | st.just(moved(leaf)) | st.just(leaf)) for leaf in old_leaves]
    new = _refill(old, list(new_leaves))
    assert flatten(new) == (flatten(old)[0], new_leaves)
    changes = leaf_changes(old_leaves, new_leaves, steps=steps)
    if changes is None:  # a float became an integer: the writer writes a diff instead
        assert any(
            type(a) is float and type(b) is int for a, b in zip(old_leaves, new_leaves, strict=True)
        )
        return
    changes = json.loads(json.dumps(changes))  # as a recording holds them
    again = apply_leaf_changes(old, changes, steps=steps)
    assert again == new
    assert [type(v) for v in flatten(again)[1]] == [type(v) for v in new_leaves]


names = st.sampled_from(["fleet.kv", "gpu.h/0.util", "pool.blue.rpm"])
points = st.none() | st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(names, st.lists(points, max_size=6)),
    st.lists(st.dictionaries(names, points), max_size=8),
    st.integers(1, 7),
)
def test_a_seek_appends_many_samples_at_once_as_one_by_one(
    history: dict[str, list[float | None]], samples: list[dict[str, float | None]], keep: int
) -> None:
    history = {name: values[-keep:] for name, values in history.items()}
    one_by_one = history
    for sample in samples:
        one_by_one = advance(one_by_one, sample, keep)
    assert advance_many(history, samples, keep) == one_by_one


# --- a real clock (format 3) -------------------------------------------------------------


def on_a_real_clock(snapshot: FleetSnapshot, millis: float, scraped: float = 0.2) -> FleetSnapshot:
    """``snapshot`` as a dashboard on the real clock has it: taken ``millis`` past its
    second, its backends scraped and its sources answering about ``scraped`` s before
    (each a few milliseconds apart), so every moment carries its own milliseconds."""
    taken = snapshot.taken_at + millis
    backends = tuple(
        replace(b, last_scrape=taken - scraped - 0.0013 * i)
        for i, b in enumerate(snapshot.backends)
    )
    sources = tuple(
        replace(s, last_ok=taken - scraped - 0.0021 * i) for i, s in enumerate(snapshot.sources)
    )
    return replace(snapshot, taken_at=taken, backends=backends, sources=sources,
                   freshest_data_at=taken - scraped)  # fmt: skip


def test_a_frame_whose_only_change_is_the_clock_moving_on_records_nothing(
    tmp_path: Path,
) -> None:
    """Version 2 wrote every moment's new milliseconds in every frame (~20 B of a live
    frame's ~237); version 3 stores them relative to the frame's time, to 0.1 s."""
    first = on_a_real_clock(demo(1)[0], 0.437)
    assert first.sources and first.backends  # the test means something
    second = on_a_real_clock(replace(first, taken_at=first.taken_at + 1.0 - 0.437), 0.452,
                             scraped=0.203)  # fmt: skip
    frames = records(write(tmp_path, [first, second]))
    assert frames[1] == (CONTINUES, {})


def test_a_replay_gives_back_the_moments_at_the_stored_precision(tmp_path: Path) -> None:
    shown = [on_a_real_clock(s, 0.001 * (137 * i % 997), 0.05 + 0.31 * i)
             for i, s in enumerate(demo(6))]  # fmt: skip
    recording = open_recording(write(tmp_path, shown))
    for index in (5, 2, 0):
        replayed = recording.snapshot_json(index)
        assert json.dumps(replayed, indent=2, sort_keys=True) == as_recorded(shown[index])
        taken = shown[index].taken_at
        assert replayed["taken_at"] == round(taken, 3)
        scraped = shown[index].backends[1].last_scrape
        assert scraped is not None
        # what the screens show: the age, to a tenth of a second
        age = replayed["taken_at"] - replayed["backends"][1]["last_scrape"]
        assert f"{age:.1f}" == f"{taken - scraped:.1f}"
    recording.close()


def test_a_figure_that_moved_is_written_as_the_steps_of_its_third_digit(
    tmp_path: Path,
) -> None:
    shown = demo(6)
    frames = records(write(tmp_path, shown))
    written = []  # what was written for each figure (a float) that changed
    for (_kind, frame), before in zip(frames[1:], shown, strict=False):
        old = flatten(body_of(before))[1]
        index = -1
        for skip, value in zip(*frame["n"], strict=True):
            index += skip + 1
            if type(old[index]) is float:
                written.append(value)
    steps = [v for v in written if type(v) is int]
    assert len(written) > 50 and len(steps) > 0.9 * len(written)  # not all its digits
    assert all(abs(v) < 1000 for v in steps)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(1.7e9, 1.9e9),  # a frame's time, epoch seconds
    st.floats(-86400.0, 5.0),  # a moment's offset from it
)
def test_a_moment_kept_relative_is_within_a_twentieth_of_a_second_and_stays_put(
    taken_at: float, offset: float
) -> None:
    base = frame_time(taken_at)
    moment = taken_at + offset
    kept = moment_at(base, offset_from(base, moment))
    assert abs(kept - moment) <= 0.05 + 0.001  # 0.1 s, around a frame time to the ms
    # a replay recorded again (an incident's cut) keeps it
    assert moment_at(base, offset_from(base, kept)) == kept
