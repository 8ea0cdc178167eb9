"""``inferdeck replay FILE --at TIME --json``: the snapshot recorded then, as
``inferdeck snapshot --json`` printed it, at the recording's precision; a fault at a known
second shows from that second on; a recording written by an older version keeps opening."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.recorded import FAULT_AT, as_recorded, record_demo
from tui.commands.main import main
from tui.model import FleetSnapshot
from tui.recording.reader import open_recording

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[FleetSnapshot]]:
    return record_demo(tmp_path_factory.mktemp("rec"))


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def replay_json(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(["replay", *argv, "--json"]) == 0
    return capsys.readouterr().out


def test_at_json_prints_what_snapshot_showed_then(
    recorded: tuple[Path, list[FleetSnapshot]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, shown = recorded
    start = shown[0].taken_at
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 17))
    clock = time.strftime("%H:%M:%S", time.gmtime(start + 45))
    for at, index in (("+0s", 0), ("+17s", 17), ("+17.5s", 17), (iso, 17), (clock, 45),
                      ("+59s", 59), ("+1m", 59)):  # fmt: skip
        assert replay_json(capsys, str(path), "--at", at) == as_recorded(shown[index]) + "\n", at


def test_a_fault_at_a_known_second_shows_then_and_not_before(
    recorded: tuple[Path, list[FleetSnapshot]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = recorded

    def health(at: str) -> str:
        data = json.loads(replay_json(capsys, str(path), "--at", at))
        return next(b["health"] for b in data["backends"] if b["name"] == "blue-0")

    for second in range(0, FAULT_AT, 3):
        assert health(f"+{second}s") == "up", second
    assert health(f"+{FAULT_AT - 1}.9s") == "up"
    assert health(f"+{FAULT_AT}s") == "down"
    assert health(f"+{FAULT_AT + 10}s") == "down"


def test_a_folder_replays_its_newest_recording(
    recorded: tuple[Path, list[FleetSnapshot]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, shown = recorded
    assert replay_json(capsys, str(path.parent), "--at", "+5s") == as_recorded(shown[5]) + "\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--at", "+90s", "--json"], "after the recording ends"),
        (["--at", "2020-01-01T00:00:00Z", "--json"], "before the recording starts"),
        (["--at", "soon", "--json"], "ISO 8601"),
        (["--json"], "give --at TIME"),
    ],
)
def test_a_time_outside_the_recording_is_one_clear_line(
    recorded: tuple[Path, list[FleetSnapshot]],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    path, _ = recorded
    capsys.readouterr()
    assert main(["replay", str(path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_no_such_recording_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "nope.idrec"), "--at", "+1s", "--json"]) == 2
    assert "no such recording" in capsys.readouterr().err
    not_one = tmp_path / "notes.txt"
    not_one.write_text("hello")
    assert main(["replay", str(not_one), "--at", "+1s", "--json"]) == 2
    assert "not an inferdeck recording" in capsys.readouterr().err
    assert main(["replay", str(tmp_path), "--at", "+1s", "--json"]) == 2
    assert "no recordings in" in capsys.readouterr().err


def test_a_recording_from_format_version_1_keeps_opening(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """tests/fixtures/recording-v1.idrec was written by the first version of the format
    (12 s of the demo, blue-0 crashing at second 8). Never regenerate it: a newer
    inferdeck must read what an older one recorded."""
    fixture = FIXTURES / "recording-v1.idrec"
    recording = open_recording(fixture)
    assert recording.header.format == 1 and len(recording) == 12
    healths = [
        next(b.health.value for b in recording.snapshot(i).backends if b.name == "blue-0")
        for i in range(12)
    ]
    assert healths == ["up"] * 8 + ["down"] * 4
    assert [e.text for e in recording.events][:1] == ["LLMServiceDown firing"]
    expected = (FIXTURES / "recording-v1.frame10.json").read_text()
    assert replay_json(capsys, str(fixture), "--at", "+10s") == expected


def test_a_recording_from_format_version_2_keeps_opening(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """tests/fixtures/recording-v2.idrec: the same 12 s of the demo (blue-0 crashing at
    second 8) in format version 2 (figures to 3 significant digits, chart history
    derived). Never regenerate it either."""
    fixture = FIXTURES / "recording-v2.idrec"
    recording = open_recording(fixture)
    assert recording.header.format == 2 and len(recording) == 12
    healths = [
        next(b.health.value for b in recording.snapshot(i).backends if b.name == "blue-0")
        for i in range(12)
    ]
    assert healths == ["up"] * 8 + ["down"] * 4
    assert [e.text for e in recording.events][:1] == ["LLMServiceDown firing"]
    expected = (FIXTURES / "recording-v2.frame10.json").read_text()
    assert replay_json(capsys, str(fixture), "--at", "+10s") == expected


def test_a_recording_from_format_version_3_keeps_opening(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """tests/fixtures/recording-v3.idrec: the same 12 s of the demo (blue-0 crashing at
    second 8) in format version 3 (moments that move with the frames stored relative to
    the frame's time, a figure's change as the steps of its third digit). Never
    regenerate it either."""
    fixture = FIXTURES / "recording-v3.idrec"
    recording = open_recording(fixture)
    assert recording.header.format == 3 and len(recording) == 12
    healths = [
        next(b.health.value for b in recording.snapshot(i).backends if b.name == "blue-0")
        for i in range(12)
    ]
    assert healths == ["up"] * 8 + ["down"] * 4
    assert [e.text for e in recording.events][:1] == ["LLMServiceDown firing"]
    expected = (FIXTURES / "recording-v3.frame10.json").read_text()
    assert replay_json(capsys, str(fixture), "--at", "+10s") == expected
