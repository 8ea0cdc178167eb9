"""What the dashboard starts just after its first frame (`tui.wiring.AfterFirstFrame`):
the flight recorder and the incident tracker. Their config sections still stop start-up
when wrong; a database that cannot be opened leaves the dashboard running with a reason;
nothing published before they started is missed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tui.config import Config, ConfigError, parse_config
from tui.demo_data import warmed_hub
from tui.recording.config import recordings_dir
from tui.recording.reader import open_recording
from tui.wiring import AfterFirstFrame


def config_in(tmp_path: Path, extra: str = "") -> Config:
    text = f"state_dir: {tmp_path}\naudit_log: {tmp_path / 'audit.jsonl'}\n{extra}"
    path = tmp_path / "inferdeck.yaml"
    path.write_text(text)
    return parse_config(text, str(path))


@pytest.mark.parametrize(
    ("section", "said"),
    [
        ("recording:\n  keep_mb: 1\n  segment_mb: 1\n", "inferdeck.yaml:4: recording: keep_mb"),
        ("incidents:\n  resolve_after_s: -5\n", "inferdeck.yaml:4: .resolve_after_s. must be 0"),
    ],
)
def test_a_bad_section_stops_start_up_before_anything_runs(
    tmp_path: Path, section: str, said: str
) -> None:
    hub, _ = warmed_hub(seconds=2)
    with pytest.raises(ConfigError, match=said):
        AfterFirstFrame(config_in(tmp_path, section), hub)


def test_what_was_published_before_the_start_is_recorded_and_tracked(tmp_path: Path) -> None:
    hub, source = warmed_hub(seconds=3)
    later = AfterFirstFrame(config_in(tmp_path), hub)
    before = [hub.record(source, source.poll()) for _ in range(2)]  # the first frames
    assert later.start() == []
    hub.record(source, source.poll())
    time.sleep(0.1)
    later.stop()
    recording = open_recording(recordings_dir(config_in(tmp_path)))
    assert len(recording) == 3
    assert recording.times[0] == pytest.approx(before[0].taken_at, abs=1e-3)
    assert later.tracker is not None and later.tracker.tracker.store.path.exists()


def test_a_dashboard_closed_before_they_started_still_records_what_was_published(
    tmp_path: Path,
) -> None:
    # a terminal hung up within moments of the first frame: the app ended before its
    # timer started them; what the hub published is written all the same
    hub, source = warmed_hub(seconds=3)
    config = config_in(tmp_path)
    later = AfterFirstFrame(config, hub)
    for _ in range(2):
        hub.record(source, source.poll())
    later.stop()
    assert len(open_recording(recordings_dir(config))) == 2
    assert later.tracker is None  # nothing left to track for: the dashboard is gone


def test_an_incidents_database_that_cannot_be_opened_leaves_the_rest_running(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    config = config_in(tmp_path, f"incidents:\n  db: {tmp_path / 'a-file' / 'incidents.db'}\n")
    hub, source = warmed_hub(seconds=3)
    later = AfterFirstFrame(config, hub)
    trouble = later.start()
    assert len(trouble) == 1 and trouble[0].startswith("incident tracking not started: ")
    assert "a-file" in trouble[0] and "\n" not in trouble[0]
    hub.record(source, source.poll())
    time.sleep(0.1)
    later.stop()  # the recorder ran all the same
    assert len(open_recording(recordings_dir(config))) == 1


def test_with_recording_off_only_the_tracker_starts(tmp_path: Path) -> None:
    config = config_in(tmp_path, "recording:\n  enabled: false\n")
    hub, _ = warmed_hub(seconds=2)
    later = AfterFirstFrame(config, hub)
    assert later.start() == []
    assert later.recorder is None and later.tracker is not None
    later.stop()
