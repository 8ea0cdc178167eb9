"""The recorder beside a hub: every snapshot published is recorded, off the hub's thread,
with the audit records and incident events of the time interleaved; the config's
``recording:`` section turns it off or sets its limits, with FILE:LINE errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.recorded import as_recorded
from tui.config import ConfigError, parse_config
from tui.demo_data import warmed_hub
from tui.incidents.model import Sev
from tui.incidents.store import Store
from tui.ops.audit import AuditLog
from tui.ops.incidents import db_path_for
from tui.recording import recorder as recorder_module
from tui.recording.config import recording_config, recordings_dir
from tui.recording.reader import open_recording
from tui.recording.recorder import start_recorder
from tui.subscriber import Backlog


def config_in(tmp_path: Path, extra: str = "") -> object:
    text = f"state_dir: {tmp_path}\naudit_log: {tmp_path / 'audit.jsonl'}\n{extra}"
    path = tmp_path / "inferdeck.yaml"
    path.write_text(text)
    return parse_config(text, str(path))


def test_every_published_snapshot_is_recorded_with_the_events_between(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "INCIDENTS_EVERY_S", 0.0)
    config = config_in(tmp_path)
    store = Store(db_path_for(config))  # type: ignore[arg-type]
    with store.batch() as batch:  # an incident open before recording starts
        incident_id = batch.open_incident(
            '["LLMServiceDown"]',
            "blue-0 down",
            Sev.SEV1,
            time.time(),
            time.time() + 900,
            "demo",
            "standard",
        )
    assert incident_id is not None
    hub, source = warmed_hub(seconds=3)
    recorder = start_recorder(config, hub)  # type: ignore[arg-type]
    assert recorder is not None
    shown = []
    for second in range(6):
        if second == 2:
            AuditLog(tmp_path / "audit.jsonl").append(
                {
                    "event": "result",
                    "action": "rollback",
                    "target": "green",
                    "outcome": "done",
                    "actor": "ana@box",
                }
            )
        if second == 4:
            store.add_note(incident_id, "looking at blue-0", "ana@box")
        shown.append(hub.record(source, source.poll()))
        time.sleep(0.05)  # the recorder's thread takes each in turn
    recorder.stop()
    store.close()
    folder = recordings_dir(config)  # type: ignore[arg-type]
    assert folder == tmp_path / "recordings"
    recording = open_recording(folder)
    assert len(recording) == 6
    for index in range(6):
        snapshot_json = json.dumps(recording.snapshot_json(index), indent=2, sort_keys=True)
        assert snapshot_json == as_recorded(shown[index])
    sources = [(e.source, e.text) for e in recording.events]
    assert ("audit", "rollback green done (ana@box)") in sources
    assert any(s == "incident" and "looking at blue-0" in t for s, t in sources)
    note = next(e for e in recording.events if e.source == "incident")
    assert shown[3].taken_at <= recording.times[4] and note.kind == "action"


def test_a_recorder_started_late_records_first_what_was_published_before_it(
    tmp_path: Path,
) -> None:
    # the dashboard starts its recorder just after the first frame: the snapshots
    # published meanwhile are held for it, and the recording still has every one
    config = config_in(tmp_path)
    hub, source = warmed_hub(seconds=3)
    held = Backlog()
    hub.subscribe(held)
    shown = [hub.record(source, source.poll()) for _ in range(2)]
    recorder = start_recorder(config, hub, held=held)  # type: ignore[arg-type]
    assert recorder is not None
    for _ in range(2):
        shown.append(hub.record(source, source.poll()))
        time.sleep(0.05)
    recorder.stop()
    recording = open_recording(recordings_dir(config))  # type: ignore[arg-type]
    assert len(recording) == 4
    for index, snapshot in enumerate(shown):
        snapshot_json = json.dumps(recording.snapshot_json(index), indent=2, sort_keys=True)
        assert snapshot_json == as_recorded(snapshot)


def test_recording_can_be_turned_off(tmp_path: Path) -> None:
    config = config_in(tmp_path, "recording:\n  enabled: false\n")
    hub, _ = warmed_hub(seconds=2)
    assert start_recorder(config, hub) is None  # type: ignore[arg-type]


def test_the_section_sets_the_limits_and_the_folder(tmp_path: Path) -> None:
    config = config_in(
        tmp_path,
        "recording:\n  dir: recs\n  segment_mb: 2\n  keep_mb: 10\n  keep_days: 1\n"
        "  segment_minutes: 10\n  keyframe_every: 60\n",
    )
    section = recording_config(config)  # type: ignore[arg-type]
    assert section.limits.segment_bytes == 2 << 20 and section.limits.keep_bytes == 10 << 20
    assert section.limits.keep_s == 86400 and section.limits.segment_s == 600
    assert section.limits.keyframe_every == 60
    assert recordings_dir(config) == tmp_path / "recs"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("recording:\n  keep_mb: 1\n  segment_mb: 1\n", ":4: recording: keep_mb must be"),
        ("recording:\n  segment_mb: -1\n", ":4: 'segment_mb' must be greater than 0"),
        ("recording:\n  every: 3\n", ":4: unknown key 'every' in recording"),
        ("recording:\n  keyframe_every: 0\n", ":4: 'keyframe_every' must be 1..100000"),
    ],
)
def test_a_bad_section_is_refused_at_its_line(tmp_path: Path, section: str, message: str) -> None:
    config = config_in(tmp_path, section)
    with pytest.raises(ConfigError, match=message):
        recording_config(config)  # type: ignore[arg-type]
