"""The post-incident document with what the dashboard showed: text charts of the key
figures against the SLO for the incident's duration, the recording segment linked, and
``--with-recording DIR`` writing that segment beside the document."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.recorded import FAULT_AT, ROLLBACK_AT, record_demo
from tui.analysis.textchart import buckets, text_chart
from tui.commands.main import main
from tui.incidents.model import Sev
from tui.incidents.store import Store
from tui.recording.reader import open_recording


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture
def incident_on_record(tmp_path: Path) -> tuple[Path, float]:
    """A config whose state folder holds a recording of the demo and an incident from the
    crash at `FAULT_AT` to the rollback at `ROLLBACK_AT`; the config and the crash time."""
    state = tmp_path / "state"
    _, shown = record_demo(state / "recordings")
    start = shown[0].taken_at
    store = Store(state / "incidents.sqlite3")
    with store.batch() as batch:
        incident = batch.open_incident('["LLMServiceDown"]', "blue-0 down", Sev.SEV1,
                                       start + FAULT_AT, start + FAULT_AT + 900, "demo",
                                       "standard")  # fmt: skip
        assert incident == 1
        batch.resolve(1, start + ROLLBACK_AT, "ana@box", "rolled back")
    store.close()
    config = tmp_path / "inferdeck.yaml"
    config.write_text(f"state_dir: {state}\n")
    return config, start + FAULT_AT


def test_a_text_chart_draws_bars_and_the_limit() -> None:
    lines = text_chart([0.0, 1.0, 2.0, None, 4.0], rows=4, limit=2.0)
    assert lines[0].startswith("4 ┤") and lines[-1].startswith("0 ┤")
    assert [line[-5:] for line in lines] == ["    █", "┄┄┄┄█", "  █ █", " ██ █"]
    assert buckets([(0, 1.0), (0.4, 3.0), (9, None), (10, 2.0)], 0, 10, 2) == [3.0, 2.0]
    # a column without a frame shows the one before (it stayed on screen); a gap is a gap
    assert buckets([(0, 1.0), (5, None), (9, 4.0)], 0, 10, 5) == [1.0, 1.0, None, None, 4.0]


def test_the_export_charts_the_key_figures_and_links_the_recording(
    incident_on_record: tuple[Path, float], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = incident_on_record
    assert main(["incident", "export", "1", "-c", str(config)]) == 0
    text = capsys.readouterr().out
    section = text.split("## What the dashboard showed")[1].split("## Timeline")[0]
    for title in ("TTFT p95", "E2E p95", "Error rate", "Queue: requests waiting", "GPU"):
        assert f"**Latency: {title}**" in section or f"**{title}" in section, title
    assert section.count("```text") == 5 and "┤" in section and "SLO < 2.00s (┄)" in section
    assert "(11 frames)" in section  # seconds 30..40 of the recording
    assert "Recording: [" in section and ".idrec" in section


def test_with_recording_writes_the_segment_beside_the_document(
    incident_on_record: tuple[Path, float], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, crashed = incident_on_record
    out = tmp_path / "postmortem"
    assert main(["incident", "export", "1", "-c", str(config), "--with-recording", str(out)]) == 0
    document = (out / "incident-1.md").read_text()
    assert "[incident-1.idrec](incident-1.idrec)" in document
    assert "`inferdeck replay incident-1.idrec`" in document
    segment = open_recording(out / "incident-1.idrec")
    # a minute either side of the incident, as far as the recording goes
    assert segment.start == crashed - FAULT_AT and segment.end == crashed + 29
    assert any(e.text == "rollback green done (ana@box)" for e in segment.events)
    capsys.readouterr()
    assert main(["replay", str(out / "incident-1.idrec"), "--at", "+30s", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert next(b["health"] for b in data["backends"] if b["name"] == "blue-0") == "down"


def test_without_a_recording_the_document_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    store = Store(state / "incidents.sqlite3")
    with store.batch() as batch:
        batch.open_incident('["X"]', "x", Sev.SEV3, 1000.0, 2000.0, "demo", "standard")
    store.close()
    config = tmp_path / "inferdeck.yaml"
    config.write_text(f"state_dir: {state}\n")
    assert main(["incident", "export", "1", "-c", str(config)]) == 0
    assert "No recording covers this incident" in capsys.readouterr().out
    out = tmp_path / "pm"
    assert main(["incident", "export", "1", "-c", str(config), "--with-recording", str(out)]) == 1
    assert "no recording covers incident #1" in capsys.readouterr().err
    assert (out / "incident-1.md").exists() and not (out / "incident-1.idrec").exists()


def test_replay_of_an_incident_starts_a_minute_before_it_opened(
    incident_on_record: tuple[Path, float], capsys: pytest.CaptureFixture[str]
) -> None:
    config, crashed = incident_on_record
    capsys.readouterr()
    assert main(["replay", "--incident", "1", "--json", "-c", str(config)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["taken_at"] == crashed - FAULT_AT  # a minute before is before the recording
    assert main(["replay", "--incident", "7", "--json", "-c", str(config)]) == 2
    assert "7" in capsys.readouterr().err
