"""The dashboard on a recording: every screen, REPLAY and the recorded time in the header,
a timeline with the events, keys that step, jump and play — and nothing can act."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.app.outside import screen_text
from tests.recorded import FAULT_AT, ROLLBACK_AT, record_demo
from tui.app import SCREENS, InferdeckApp
from tui.config import Config
from tui.judging import Judging
from tui.ops.alerts.local_acks import AckStore, LocalAlerting
from tui.ops.audit import AuditLog
from tui.ops.build import operations_for
from tui.ops.context import Operations
from tui.recording.reader import open_recording
from tui.recording.replay import ReplayHub
from tui.screens.confirm import ConfirmScreen
from widgets.header import FleetHeader
from widgets.timeline import ReplayTimeline


@pytest.fixture(scope="module")
def recording_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, _ = record_demo(tmp_path_factory.mktemp("rec"))
    return path


def replay_app(
    path: Path, index: int, *, ops: Operations | None = None
) -> tuple[InferdeckApp, ReplayHub]:
    hub = ReplayHub(open_recording(path), index)
    app = InferdeckApp(hub, clock=hub.clock, replay=hub, ops=ops,
                       judging=Judging(Config(), read_local=None))  # fmt: skip
    return app, hub


def header_text(app: InferdeckApp) -> str:
    return str(app.screen.query_one(FleetHeader).render_line(0).text)


def backend_health(app: InferdeckApp, name: str) -> str:
    snapshot = app.latest
    assert snapshot is not None
    return next(b.health.value for b in snapshot.backends if b.name == name)


async def settle(pilot: Pilot[str | None], hub: ReplayHub, index: int | None = None) -> None:
    """Wait until the replay thread has published the frame at the position."""
    app = pilot.app
    assert isinstance(app, InferdeckApp)
    for _ in range(100):
        await pilot.pause(0.02)
        latest = app.latest
        shown = latest is not None and latest.taken_at == hub.recorded_time()
        if shown and (index is None or hub.index == index):
            return
    raise AssertionError(f"frame {hub.index} never shown")


async def test_the_header_says_replay_and_the_recorded_time_on_every_screen(
    recording_file: Path,
) -> None:
    app, hub = replay_app(recording_file, 10)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, hub)
        recorded = hub.recorded_time()
        import time

        clock = time.strftime("%H:%M:%S", time.localtime(recorded))
        day = time.strftime("%Y-%m-%d", time.localtime(recorded))
        for key in ("1", "2", "3", "c", "4", "5", "6", "i", "7", "8", "9"):
            await pilot.press(key)
            await pilot.pause()
            text = header_text(app)
            assert text.index("REPLAY") < text.index("env"), (key, text)  # first, not last
            assert f"REPLAY {day}" in text and f"recorded {clock}" in text, (key, text)
            timeline = app.screen.query_one(ReplayTimeline)
            assert timeline.state is not None and timeline.state.frame == 10, key
        assert {type(app.get_screen(n)).__name__ for n in SCREENS} >= {"OverviewScreen"}


async def test_the_fault_shows_at_its_second_and_not_before(recording_file: Path) -> None:
    app, hub = replay_app(recording_file, FAULT_AT - 2)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, hub)
        assert backend_health(app, "blue-0") == "up"
        await pilot.press("full_stop")  # a frame on: still the second before
        await settle(pilot, hub, FAULT_AT - 1)
        assert backend_health(app, "blue-0") == "up"
        assert "DOWN connection refused" not in str(app.screen.query_one("#backends").render())
        await pilot.press("full_stop")
        await settle(pilot, hub, FAULT_AT)
        assert backend_health(app, "blue-0") == "down"
        assert "blue-0 down" in str(app.screen.query_one(FleetHeader).render_line(1).text)
        await pilot.press("comma")  # and back
        await settle(pilot, hub, FAULT_AT - 1)
        assert backend_health(app, "blue-0") == "up"


async def test_keys_jump_ten_seconds_a_minute_and_to_the_next_event(recording_file: Path) -> None:
    app, hub = replay_app(recording_file, 0)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, hub)
        await pilot.press("right_square_bracket")
        await settle(pilot, hub, 10)
        await pilot.press("left_square_bracket")
        await settle(pilot, hub, 0)
        await pilot.press("right_curly_bracket")
        await settle(pilot, hub, 59)  # a minute on is past the end: the last frame
        await pilot.press("left_curly_bracket")
        await settle(pilot, hub, 0)
        await pilot.press("m")  # the first event: the alert the crash raised
        await settle(pilot, hub, FAULT_AT)
        await pilot.press("m")  # the queue backing up on the pool left
        await settle(pilot, hub)
        assert FAULT_AT < hub.index < ROLLBACK_AT
        await pilot.press("m")  # the rollback (audited) half a second before this frame
        await settle(pilot, hub, ROLLBACK_AT)
        await pilot.press("M")
        await settle(pilot, hub)
        assert FAULT_AT < hub.index < ROLLBACK_AT
        timeline = app.screen.query_one(ReplayTimeline)
        assert timeline.state is not None
        assert {k for _, k in timeline.state.marks} == {"alert", "action"}
        rendered = str(timeline.render())
        assert "!" in rendered and "◆" in rendered and "REPLAY" in rendered


async def test_play_moves_on_by_itself_and_pause_stops_it(recording_file: Path) -> None:
    app, hub = replay_app(recording_file, 0)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, hub)
        await pilot.press("f", "f")  # 1x -> 2x -> 5x
        assert hub.speed == 5.0
        await pilot.press("p")  # plays a replay (pauses a live view)
        for _ in range(200):
            await pilot.pause(0.05)
            if hub.index > 1:
                break
        assert 1 < hub.index < 59 and "▶ 5x" in header_text(app)
        await pilot.press("p")
        await settle(pilot, hub)
        stopped = hub.index
        await pilot.pause(0.5)
        assert hub.index == stopped and "❚❚" in header_text(app)
        for _ in range(3):
            await pilot.press("f")
        assert hub.speed == 60.0
        await pilot.press("p")  # at 60x it runs to the last frame and stops there
        for _ in range(200):
            await pilot.pause(0.05)
            if not hub.playing:
                break
        await settle(pilot, hub, 59)
        assert "❚❚" in header_text(app)


ACTING_KEYS = [
    ("1", "R", "rollback"),
    ("4", "a", "acknowledg"),
    ("4", "A", "un-acknowledg"),
    ("5", "left", "split"),
    ("5", "right", "split"),
    ("5", "enter", "split"),
    ("5", "o", "rollout"),
    ("c", "e", "container"),
    ("c", "s", "container"),
    ("c", "S", "container"),
    ("6", "enter", "runbook"),
    ("i", "n", "note"),
    ("i", "v", "SEV"),
    ("i", "z", "resolv"),
    ("1", "P", "autopilot"),
]


async def test_replay_refuses_every_acting_key_and_command(
    recording_file: Path, tmp_path: Path
) -> None:
    """Even with every operation configured (as a live dashboard has them), a replay acts
    on nothing: each acting key says why, no confirmation opens, nothing is audited."""
    config = Config(path=None, environment="demo", state_dir=str(tmp_path))
    ops = operations_for(config)
    app, hub = replay_app(recording_file, FAULT_AT + 2, ops=ops)
    hub.alerts_hook = LocalAlerting(AckStore(tmp_path / "acks.json"))
    notices: list[str] = []
    notify = app.notify

    def record(message: str, **kwargs: object) -> None:
        notices.append(str(message))
        notify(message, **kwargs)  # type: ignore[arg-type]

    app.notify = record  # type: ignore[method-assign]
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, hub)
        for screen_key, key, what in ACTING_KEYS:
            await pilot.press(screen_key)
            await pilot.pause()
            notices.clear()
            await pilot.press(key)
            await pilot.pause()
            assert any(
                n.startswith("replay of a recording (nothing can act): ") and what in n
                for n in notices
            ), (screen_key, key, notices)
            assert not isinstance(app.screen, ConfirmScreen), key
        # however an action is reached (the palette, a dialog): refused before the executor
        notices.clear()
        assert ops.incidents is not None
        app.execute(ops.incidents.note(1, "from a replay"))  # a real action, as the app makes it
        await pilot.pause()
        assert any("replay of a recording" in n and "refused" in n for n in notices)
        notices.clear()
        app.start_loadtest("baseline")  # real requests: refused before anything starts
        await pilot.pause()
        assert any("replay of a recording" in n and "load test" in n for n in notices)
        assert app._drill_stop is None
        # the palette offers no action
        from tui.screens.palette import InferdeckCommands

        provider = InferdeckCommands(app.screen)
        offered = [text for text, _, _ in provider._commands()]
        acting = ("Roll back", "Acknowledge", "Un-ack", "Apply:", "Load test:")
        assert not [t for t in offered if t.startswith(acting)]
    assert AuditLog(tmp_path / "audit.jsonl").tail(50) == []


async def test_in_a_replay_the_footer_keeps_play_pause_and_the_replay_keys(
    recording_file: Path,
) -> None:
    app, _ = replay_app(recording_file, 0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        footer = " ".join(screen_text(app).splitlines()[-1].split())
        for wanted in ("p Pause", ". Frame", "] +10s", "} +1m", "m Next event", "? Keys"):
            assert wanted in footer, footer
