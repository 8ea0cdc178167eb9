"""The flight recorder's format and store: what is written is what is read back, frame by
frame; a torn tail costs one frame; rotation keeps the folder within its limits."""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.recorded import as_recorded
from tui.demo_data import warmed_hub
from tui.model import FleetSnapshot, Severity
from tui.model_json import snapshot_from_jsonable, to_jsonable
from tui.recording.config import Limits
from tui.recording.format import SAME, diff, flatten, patch
from tui.recording.history import sample_of_body
from tui.recording.leaves import SamplePlan, body_of, flat_body
from tui.recording.reader import Recording, RecordingError, open_recording, parse_time
from tui.recording.writer import RecordingWriter

ROOT = Path(__file__).resolve().parents[2]


def printed(snapshot: FleetSnapshot) -> str:
    """What ``inferdeck snapshot --json`` prints for a snapshot."""
    return json.dumps(to_jsonable(snapshot), indent=2, sort_keys=True)


def replayed(recording: Recording, index: int) -> str:
    """What ``inferdeck replay --at ... --json`` prints for a recorded frame."""
    return json.dumps(recording.snapshot_json(index), indent=2, sort_keys=True)


@functools.cache
def demo_snapshots(count: int, *, fault_at: int | None = None) -> list[FleetSnapshot]:
    """``count`` snapshots of the simulated demo fleet, one a second of virtual time;
    blue-0 crashes just before snapshot ``fault_at``."""
    hub, source = warmed_hub(seconds=5)
    out = []
    for second in range(count):
        if second == fault_at:
            source.fleet.set_fault("blue-0", "crash")
        out.append(hub.record(source, source.poll()))
    return out


# --- the model's JSON, both ways ----------------------------------------------------------


def test_a_demo_snapshot_reads_back_from_its_json() -> None:
    for snapshot in demo_snapshots(25)[:3]:
        data = json.loads(printed(snapshot))
        again = snapshot_from_jsonable(data)
        assert printed(again) == printed(snapshot)
        assert again.backends == snapshot.backends and again.gpus == snapshot.gpus
        assert math.isnan(min(v for v in again.history["fleet.ttft_p95"]) + math.nan)


def test_json_that_is_not_a_snapshot_is_refused_in_one_line() -> None:
    from tui.model_json import JsonError

    with pytest.raises(JsonError, match="backends"):
        snapshot_from_jsonable({"taken_at": 1.0, "environment": "x", "slo_tier": "standard",
                                "backends": "oops"})  # fmt: skip


def _hinted(hint: object) -> st.SearchStrategy[object]:
    """A strategy for any field type of the model (JSON-representable values)."""
    import dataclasses
    import enum
    import types
    import typing
    from collections.abc import Mapping

    from tui import model

    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[_hinted(a) for a in typing.get_args(hint)])
    if hint is type(None):
        return st.none()
    if origin is tuple:
        return st.lists(_hinted(typing.get_args(hint)[0]), max_size=3).map(tuple)
    if origin is frozenset:
        return st.frozensets(_hinted(typing.get_args(hint)[0]), max_size=3)
    if origin in (Mapping, dict):
        args = typing.get_args(hint)
        values = _hinted(args[1]) if args and args[1] is not typing.Any else st.integers()
        return st.dictionaries(st.text(max_size=5), values, max_size=3).map(types.MappingProxyType)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint, vars(model))
        fields = {f.name: _hinted(hints[f.name]) for f in dataclasses.fields(hint)}
        return st.builds(hint, **fields)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if hint is int:
        return st.integers(-(2**53), 2**53)
    if hint is str:
        return st.text(max_size=8)
    if hint is bool:
        return st.booleans()
    raise AssertionError(f"no strategy for {hint!r}")


@settings(max_examples=60, deadline=None)
@given(_hinted(FleetSnapshot))
def test_any_snapshot_survives_json_and_back(snapshot: FleetSnapshot) -> None:
    text = printed(snapshot)
    again = snapshot_from_jsonable(json.loads(text))
    assert again == snapshot
    assert printed(again) == text


@settings(max_examples=60, deadline=None)
@given(_hinted(FleetSnapshot))
def test_the_recorders_fast_read_of_a_snapshot_is_its_recorded_body(
    snapshot: FleetSnapshot,
) -> None:
    """The writer reads a frame's leaves, and the chart sample among them, straight from
    the snapshot; both must be exactly what the written body gives a reader."""
    body = body_of(snapshot)
    shape, leaves = flat_body(snapshot)
    assert (shape, leaves) == flatten(body)
    assert [type(leaf) for leaf in leaves] == [type(leaf) for leaf in flatten(body)[1]]
    plan = SamplePlan.of(body, shape)
    assert plan.holds(shape, leaves)
    assert plan.sample(leaves) == sample_of_body(body)


@pytest.mark.parametrize(
    "odd",
    [
        Severity.CRITICAL,  # an enum where a figure should be
        (1.5, 2.5),  # a tuple: hashable, not a leaf
        [1.5, float("nan")],  # a list: not even hashable
        {"x": 0.123456},  # a mapping
        True,  # a boolean is a leaf, not the figure 1
    ],
    ids=["enum", "tuple", "list", "mapping", "bool"],
)
def test_a_value_that_breaks_the_models_type_hints_is_read_exactly(odd: object) -> None:
    """The fast read goes by the model's type hints (a figure field holds a number);
    a value that breaks them must still give exactly the body a reader gets."""
    (snapshot,) = demo_snapshots(1)
    gpu = replace(snapshot.gpus[0], util_pct=odd)  # type: ignore[arg-type]
    odd_one = replace(snapshot, gpus=(gpu, *snapshot.gpus[1:]))
    shape, leaves = flat_body(odd_one)
    assert (shape, leaves) == flatten(body_of(odd_one))
    assert [type(v) for v in leaves] == [type(v) for v in flatten(body_of(odd_one))[1]]


def test_a_sample_plan_is_made_again_when_a_name_changes_in_the_same_shape() -> None:
    """A backend renamed keeps the frame's shape; its chart series' names change, so
    the plan that read the old names must not be used."""
    (snapshot,) = demo_snapshots(1)
    plan = SamplePlan.of(body_of(snapshot), flat_body(snapshot)[0])
    renamed = replace(
        snapshot, backends=(replace(snapshot.backends[0], name="renamed"), *snapshot.backends[1:])
    )
    shape, leaves = flat_body(renamed)
    assert shape == plan.shape
    assert not plan.holds(shape, leaves)
    again = SamplePlan.of(body_of(renamed), shape)
    assert again.sample(leaves) == sample_of_body(body_of(renamed))
    assert any(name.startswith("backend.renamed.") for name in again.sample(leaves))


# --- what changed between frames -------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_a_patch_turns_the_old_frame_into_the_new(old: object, new: object) -> None:
    change = diff(old, new)
    assert (patch(old, change) if change is not SAME else old) == new


def test_a_moving_chart_series_is_written_as_what_was_appended() -> None:
    assert diff([1, 2, 3, 4], [3, 4, 5]) == ["S", 2, [5]]
    assert diff({"a": [1, 2]}, {"a": [1, 2]}) is SAME


# --- writing and reading ---------------------------------------------------------------------


def test_every_frame_reads_back_as_the_snapshot_shown(tmp_path: Path) -> None:
    snapshots = demo_snapshots(25)
    writer = RecordingWriter(tmp_path, Limits(keyframe_every=10), environment="demo")
    for snapshot in snapshots:
        writer.frame(snapshot)
    writer.close()
    recording = open_recording(tmp_path)
    assert len(recording) == 25
    heads = recording.segments[0].heads
    assert [h.kind for h in heads].count(b"K") == 3  # frames 0, 10, 20
    for index in (24, 3, 0, 11, 12, 19, 20):  # backwards and forwards, across keyframes
        assert replayed(recording, index) == as_recorded(snapshots[index])
    assert recording.snapshot_at(snapshots[7].taken_at + 0.5) == recording.snapshot(7)


def test_a_delta_frame_is_much_smaller_than_a_keyframe(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path, Limits(keyframe_every=1000))
    for snapshot in demo_snapshots(25)[:12]:
        writer.frame(snapshot)
    writer.close()
    heads = open_recording(tmp_path).segments[0].heads
    assert heads[0].kind == b"K"
    assert max(h.length for h in heads[1:]) < heads[0].length / 2


def test_events_are_interleaved_at_their_time(tmp_path: Path) -> None:
    snapshots = demo_snapshots(25)[:4]
    writer = RecordingWriter(tmp_path)
    writer.frame(snapshots[0])
    writer.event("audit", snapshots[0].taken_at + 0.2, {"action": "rollback", "actor": "ana"})
    writer.frame(snapshots[1])
    writer.event("incident", snapshots[1].taken_at + 0.1, {"incident_id": 3, "kind": "note",
                                                           "text": "looking"})  # fmt: skip
    writer.close()
    recording = open_recording(tmp_path)
    assert [(e.source, e.kind) for e in recording.events] == [
        ("audit", "action"),
        ("incident", "action"),
    ]
    assert recording.events[0].at == snapshots[0].taken_at + 0.2
    assert "rollback" in recording.events[0].text and "ana" in recording.events[0].text


def test_a_frame_that_could_not_be_written_loses_no_event(tmp_path: Path) -> None:
    import resource

    snapshots = demo_snapshots(25)[:4]
    writer = RecordingWriter(tmp_path)
    writer.frame(snapshots[0])
    writer.event("audit", snapshots[0].taken_at + 0.5, {"action": "rollback", "actor": "ana"})
    assert writer.path is not None
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    ignored = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (writer.path.stat().st_size + 10, limit[1]))
    try:  # the file may grow 10 bytes more: as a disk filling up meets the writer
        with pytest.raises(OSError, match="File too large"):
            writer.frame(snapshots[1])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limit)
        signal.signal(signal.SIGXFSZ, ignored)
    writer.frame(snapshots[2])  # a new segment, with the event the failed frame held
    writer.close()
    recording = open_recording(tmp_path)
    assert [e.text for e in recording.events] == ["rollback (ana)"]
    assert len(recording) == 2  # frames 0 and 2: the torn one is skipped
    assert replayed(recording, 1) == as_recorded(snapshots[2])


def test_a_file_that_is_not_a_recording_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.idrec"
    bad.write_text("hello\n")
    with pytest.raises(RecordingError, match="not an inferdeck recording"):
        open_recording(bad)
    newer = tmp_path / "y.idrec"
    newer.write_bytes(b"inferdeck-recording 99\n{}\n")
    with pytest.raises(RecordingError, match="newer"):
        open_recording(newer)


# --- a torn tail ------------------------------------------------------------------------------


def _record(tmp_path: Path, count: int) -> tuple[Path, list[FleetSnapshot]]:
    snapshots = demo_snapshots(25)[:count]
    writer = RecordingWriter(tmp_path, Limits(keyframe_every=5))
    for snapshot in snapshots:
        writer.frame(snapshot)
    writer.close()
    assert writer.path is not None
    return writer.path, snapshots


def test_a_file_cut_anywhere_loses_at_most_the_frame_being_written(tmp_path: Path) -> None:
    path, snapshots = _record(tmp_path, 12)
    whole = path.read_bytes()
    heads = open_recording(path).segments[0].heads
    ends = [h.offset + h.length for h in heads]
    for cut in range(heads[0].offset, len(whole), 37):
        torn = tmp_path / "torn.idrec"
        torn.write_bytes(whole[:cut])
        recording = open_recording(torn)
        complete = sum(1 for end in ends if end <= cut)
        assert len(recording) == complete  # every whole frame, nothing torn
        if complete:
            assert replayed(recording, complete - 1) == as_recorded(snapshots[complete - 1])
        recording.close()


def test_garbage_after_a_torn_frame_is_not_read(tmp_path: Path) -> None:
    path, _ = _record(tmp_path, 6)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # the last frame's checksum fails
    path.write_bytes(bytes(data))
    recording = open_recording(path)
    assert len(recording) == 6  # its head is whole ...
    with pytest.raises(RecordingError, match="damaged"):
        recording.snapshot_json(5)  # ... but it is refused, and the ones before are fine
    assert recording.snapshot_json(4)["taken_at"] > 0


KILLED_WRITER = """
import sys
from tui.demo_data import warmed_hub
from tui.recording.leaves import body_of
from tui.recording.config import Limits
from tui.recording.writer import RecordingWriter
hub, source = warmed_hub(seconds=5)
writer = RecordingWriter(sys.argv[1], Limits(keyframe_every=7))
count = 0
while True:
    writer.frame(hub.record(source, source.poll()))
    count += 1
    print(count, flush=True)
"""


def test_sigkill_while_recording_loses_at_most_the_last_frame(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    written = 0
    for line in process.stdout:  # kill it while it writes, after 40 frames
        written = int(line)
        if written >= 40:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait(10)
    reported = written + sum(1 for _ in process.stdout)  # lines already in the pipe
    recording = open_recording(tmp_path)
    assert reported <= len(recording) <= reported + 1
    # every frame that is there is whole: the last one decodes, and so does the first
    assert recording.snapshot_json(len(recording) - 1)["environment"] == "demo"
    assert recording.snapshot_json(0)["environment"] == "demo"


# --- rotation -------------------------------------------------------------------------------


def test_rotation_keeps_the_folder_within_its_limits(tmp_path: Path) -> None:
    base = demo_snapshots(25)  # 120 frames: the demo's 25 seconds over and over
    snapshots = [replace(base[i % 25], taken_at=base[0].taken_at + i) for i in range(120)]
    limits = Limits(keyframe_every=20, segment_bytes=8_000, keep_bytes=24_000)
    writer = RecordingWriter(tmp_path, limits)
    for snapshot in snapshots:
        writer.frame(snapshot)
        sizes = [p.stat().st_size for p in tmp_path.glob("*.idrec")]
        assert sum(sizes) <= limits.keep_bytes
        assert max(sizes) <= limits.segment_bytes
    writer.close()
    assert len(list(tmp_path.glob("*.idrec"))) >= 2
    recording = open_recording(tmp_path)  # what is left is one readable session, up to now
    assert recording.end == snapshots[-1].taken_at
    assert len(recording) < 120  # the oldest went
    first = recording.index_at(recording.start)
    assert recording.snapshot_json(first)["taken_at"] == recording.start


def test_segments_older_than_the_age_limit_go(tmp_path: Path) -> None:
    import time

    now = [time.time()]
    limits = Limits(keyframe_every=5, segment_s=60, keep_s=300)
    writer = RecordingWriter(tmp_path, limits, clock=lambda: now[0])
    for snapshot in demo_snapshots(25) + demo_snapshots(25)[:15]:
        writer.frame(snapshot)
        now[0] += 30  # a segment every two frames; the files' mtimes stay at "now"
    writer.close()
    # by the writer's clock the files are up to 20 minutes old: those past 5 minutes went
    files = list(tmp_path.glob("*.idrec"))
    assert 1 <= len(files) <= 2


# --- times for --at ----------------------------------------------------------------------


def test_times_are_iso_clock_or_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    start = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC
    assert parse_time("+90s", start) == start + 90
    assert parse_time("+1h30m", start) == start + 5400
    assert parse_time("2026-11-18T11:07:00Z", start) == start + 20
    assert parse_time("2026-11-18T12:07:00+01:00", start) == start + 20
    assert parse_time("11:07:00", start) == start + 20
    assert parse_time("11:00:00", start) == start - 400 + 86400  # the next day
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday", start)


def test_the_recorder_thread_carries_its_name_to_the_os(tmp_path: Path) -> None:
    """``top -H`` and the idle benchmark find the recorder's own CPU by its thread name,
    and it still writes what it is given."""
    from tui.recording.recorder import OS_THREAD_NAME, RecorderThread

    hub, _source = warmed_hub(seconds=2)
    assert hub.latest is not None
    recorder = RecorderThread(RecordingWriter(tmp_path, environment="demo")).start()
    try:
        recorder.submit(hub.latest)
        for _ in range(500):  # the thread names itself before its first frame
            if recorder.frames:
                break
            time.sleep(0.01)
        names = {
            (task / "comm").read_text().strip()
            for task in Path(f"/proc/{os.getpid()}/task").iterdir()
            if (task / "comm").exists()
        }
    finally:
        recorder.stop()
    assert OS_THREAD_NAME in names
    assert recorder.frames == 1
    assert list(tmp_path.glob("*.idrec"))
