"""A recording that cannot be written shows on the dashboard — a notice once and REC
STOPPED with the reason in the header — and never stops it; the dashboard records again
as soon as it can."""

from __future__ import annotations

import shutil
from pathlib import Path

from tui.app import InferdeckApp
from tui.demo_data import warmed_hub
from tui.recording.reader import open_recording
from tui.recording.recorder import RecorderThread
from tui.recording.writer import RecordingWriter
from tui.sources.simulated import VirtualFleetSource
from widgets.header import FleetHeader


def recording_app(
    folder: Path, name: str | None = None
) -> tuple[InferdeckApp, VirtualFleetSource, RecorderThread]:
    """The dashboard on the demo fleet, recording into ``folder`` (or the one file
    ``name``) as it is published (synchronously: the recorder's thread would do the same,
    a moment later)."""
    hub, source = warmed_hub(seconds=10)
    recorder = RecorderThread(RecordingWriter(folder, environment="demo", name=name))
    hub.subscribe(recorder.record)
    app = InferdeckApp(hub, clock=source.clock, start_hub=False)
    app.recorder = recorder  # as the wiring sets it once the recorder started
    return app, source, recorder


def header_text(app: InferdeckApp) -> str:
    return str(app.screen.query_one(FleetHeader).render_line(0).text)


def notices(app: InferdeckApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_a_folder_that_cannot_be_made_shows_once_and_the_dashboard_goes_on(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be\n")
    app, source, recorder = recording_app(blocker / "recordings")
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        for _ in range(4):  # every frame fails; the dashboard keeps showing the fleet
            app.hub.record(source, source.poll())
            await pilot.pause()
        assert recorder.last_error is not None
        header = header_text(app)
        assert "REC STOPPED" in header and "Not a directory" in header
        told = [n for n in notices(app) if n.startswith("recording stopped")]
        assert len(told) == 1, told  # once, not once a frame
        assert str(blocker) in told[0]
        assert app.latest is not None and app.latest.backends  # still live


async def test_a_folder_removed_under_the_recorder_is_said_and_recording_resumes(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "recordings"
    app, source, recorder = recording_app(folder)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        for _ in range(3):
            app.hub.record(source, source.poll())
            await pilot.pause()
        assert "REC STOPPED" not in header_text(app) and recorder.last_error is None
        shutil.rmtree(folder)  # a clean-up job, an operator freeing space
        app.hub.record(source, source.poll())
        await pilot.pause()
        assert "REC STOPPED" in header_text(app)
        assert "its file was removed" in header_text(app)
        assert any(n.startswith("recording stopped") for n in notices(app))
        for _ in range(3):  # the next frames start a new segment: recording again
            app.hub.record(source, source.poll())
            await pilot.pause()
        assert recorder.last_error is None
        assert "REC STOPPED" not in header_text(app)
    recorder.writer.close()
    assert len(open_recording(folder)) == 3


async def test_the_reason_is_shown_literally(tmp_path: Path) -> None:
    blocker = tmp_path / "[bold]state\x1b[2J"
    blocker.write_text("x\n")
    app, source, _ = recording_app(blocker / "recordings")
    async with app.run_test(size=(200, 40), notifications=True) as pilot:
        app.hub.record(source, source.poll())
        await pilot.pause()
        header = header_text(app)
        assert "[bold]state" in header and "\x1b" not in header
        assert any("[bold]state" in n for n in notices(app))


async def test_a_full_disk_is_said_and_a_recording_of_one_file_stops_there() -> None:
    app, source, recorder = recording_app(Path("/dev"), name="/dev/full")  # always full
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        for _ in range(3):
            app.hub.record(source, source.poll())
            await pilot.pause()
        assert "No space left on device: /dev/full" in header_text(app)
        assert len([n for n in notices(app) if n.startswith("recording stopped")]) == 1
    assert recorder.frames == 3 and recorder.writer.frames_written == 0
