"""Random markup, terminal escapes, controls and bidi overrides through every rendering path.

Each example opens the app once and drives one hostile string through the overview,
the Alerts table (its runbook column, and `enter`'s "no runbook" notice) and the Backends
table, the palette, the ack confirmation and its notice, a failing nginx reload's notice,
a container's log, the runbook log, the Incidents screen (the incident table, the
timeline and its border title, the note and SEV questions), and the SLO, Capacity,
Models and Traffic screens (hostnames, mounts, model names, versions, paths), the notice
for a helper that could not start (a path in its reason); and the NOC
wall (`--wall`): held by the hostile critical alert (banner, view bar, header), then each
of its views (headline tiles, backends, GPUs, alerts). Nothing may raise, the app keeps
running, the string is shown as typed (made visible), and no raw escape or bidi character
reaches the screen.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.content import Content
from textual.widgets import RichLog

from tests.app.outside import (
    FINGERPRINT,
    FailingReload,
    hostile_snapshot,
    log_reader,
    raw_controls,
    screen_text,
    toast_texts,
)
from tests.app.test_operations import demo_ops
from tui.analysis.capacity import HostMetrics
from tui.analysis.models import Inventory, InventoryModel, ModelVersion
from tui.app import InferdeckApp, SnapshotReady
from tui.config import Config, WallConfig
from tui.config_judgement import ModelsConfig
from tui.demo_data import warmed_hub
from tui.judging import Judging, demo_judging
from tui.model import FleetSnapshot, Severity
from tui.ops.incidents import tracker_for
from tui.screens.alerts import AlertsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.incident_dialogs import SevPicker, TextPrompt
from tui.screens.incidents import IncidentsScreen
from tui.screens.logs import LogView
from tui.screens.runbooks import RunbooksScreen
from tui.screens.wall import ViewBar, WallScreen
from tui.wiring import AfterFirstFrame
from widgets.alert_table import AlertTable
from widgets.backend_history import BackendHistoryPanel
from widgets.backends import BackendsDetailTable
from widgets.incidents import IncidentTable, TimelineTable
from widgets.text import clip, safe

MARKUP = st.sampled_from(
    ["[", "]", "[/x]", "[/]", "[bold", "[bold]", "[/bold]", "[link=https://evil.example]",
     "[/link]", "\\[", "\\", "[emerg]", "[$var]", "[@click=app.quit]", "[B]", "[on red]"]
)  # fmt: skip
ESCAPES = st.sampled_from(
    ["\x1b[2J", "\x1b]52;c;SGVsbG8=\x07", "\x1b[31m", "\x9b2J", "\x07", "\r", "\n", "\t",
     "\x00", "\x7f", "\u202e", "\u2066", "\u200f", "\u2028", "\ufeff"]
)  # fmt: skip
HOSTILE = st.lists(
    st.one_of(MARKUP, ESCAPES, st.text(st.characters(codec="ascii"), min_size=1, max_size=3)),
    min_size=1,
    max_size=5,
).map(lambda parts: "x" + "".join(parts))  # a printable start: a cell never begins blank


def visible(value: str) -> str:
    """How a value is shown, whitespace squeezed (wrapping and padding move spaces)."""
    return "".join(safe(value).split())


def squeezed(text: str) -> str:
    return "".join(text.split())


class Told(AfterFirstFrame):
    """The helpers started after the first frame, keeping the lines of what could not
    start (the app shows each as a notice)."""

    def start(self) -> list[str]:
        self.trouble = super().start()
        return self.trouble


async def drive(value: str, folder: Path) -> None:
    hub, source = warmed_hub(seconds=5)
    # a state folder under a regular file, with the hostile string in its name: the
    # incident tracker cannot start, and its notice quotes the path
    (folder / "a-file").write_text("not a folder\n")
    state = Config(path=None, environment="demo", state_dir=str(folder / "a-file" / value))
    helpers = Told(state, hub)
    app = InferdeckApp(hub, clock=source.clock, start_hub=False, after_first_frame=helpers)
    app.ops = demo_ops(folder)
    app.log_reader = log_reader(value)
    shown = visible(value)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        assert hub.latest is not None
        hostile = hostile_snapshot(hub.latest, value)
        tracker_for(Config(path=None, environment="demo", state_dir=str(folder))).observe(hostile)
        app.post_message(SnapshotReady(hostile))
        await pilot.pause()
        overview = screen_text(app)
        assert not raw_controls(overview)
        assert squeezed(clip(safe(value), 40)) in squeezed(overview)  # header, panel, table

        await pilot.pause(0.2)  # the helpers start just after the first frame
        assert any(line.startswith("incident tracking not started: ") for line in helpers.trouble)
        notices = squeezed(toast_texts(app))
        assert all(visible(line) in notices for line in helpers.trouble)
        assert not raw_controls(screen_text(app))

        await pilot.resize_terminal(200, 60)  # the room for each backend's history
        app.post_message(SnapshotReady(hostile))
        await pilot.pause()
        history = app.screen.query_one(BackendHistoryPanel)
        assert history.display
        lines = "".join(history.render_line(y).text for y in range(history.size.height))
        assert squeezed(clip(safe(value), 8)).rstrip("…") in squeezed(lines)
        assert not raw_controls(screen_text(app))
        await pilot.resize_terminal(160, 40)
        await pilot.pause()

        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        table = app.screen.query_one(AlertTable)
        keys = [k.value for k in table.columns]  # a long value may leave columns out
        row = table.get_row(FINGERPRINT)
        assert squeezed(row[keys.index("name")].plain) == squeezed(clip(safe(value), 40))
        if "runbook" in keys:
            assert row[keys.index("runbook")].plain == "—"  # no runbook answers this alert
        assert not raw_controls(screen_text(app))
        table.move_cursor(row=table.get_row_index(FINGERPRINT))
        app.clear_notifications()
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        notices = squeezed(toast_texts(app))
        assert shown in notices
        assert not raw_controls(screen_text(app))

        await pilot.press("3")
        await pilot.pause()
        backends = app.screen.query_one(BackendsDetailTable)
        row = backends.get_row(value)
        assert squeezed(row[0].plain) == squeezed(clip(safe(value), 40))
        assert not raw_controls(screen_text(app))

        app.open_detail("backend", value)  # the detail screen names it in its title and lines
        await pilot.pause()
        detail = screen_text(app)
        assert not raw_controls(detail)
        assert squeezed(clip(safe(value), 20)).rstrip("…")[:10] in squeezed(detail)
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        from textual.command import CommandList

        prompts = [o.prompt for o in app.screen.query_one(CommandList).options]
        plain = "".join(p.plain for p in prompts if isinstance(p, Content))
        assert squeezed(clip(safe(value), 60)) in squeezed(plain)
        assert not raw_controls(screen_text(app))
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one(AlertTable)
        table.move_cursor(row=table.get_row_index(FINGERPRINT))
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert not raw_controls(screen_text(app))
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()

        app.execute(FailingReload(f"nginx: [emerg] {value}"))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert shown in squeezed(str(app.screen.query_one("#plan-lines").render()))
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        notices = squeezed(toast_texts(app))
        assert shown in notices and "[emerg]" in notices
        assert not raw_controls(screen_text(app))

        app.show_logs(value)
        await app.workers.wait_for_complete()
        await pilot.pause()
        log_lines = [s.text for s in app.screen.query_one(LogView).lines]
        assert shown in squeezed("".join(log_lines))
        assert not raw_controls(screen_text(app))
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("i")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert isinstance(app.screen, IncidentsScreen)
        incidents = app.screen.query_one(IncidentTable)
        titles = [squeezed(incidents.get_row_at(i)[2].plain) for i in range(incidents.row_count)]
        title = value.strip()  # the tracker trims the title it makes from the alert's name
        hostile_row = titles.index(squeezed(clip(safe(title), 40)))
        incidents.move_cursor(row=hostile_row)
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        timeline = app.screen.query_one(TimelineTable)
        events = squeezed(" ".join(c.plain for r in range(timeline.row_count)
                                   for c in timeline.get_row_at(r)))  # fmt: skip
        assert visible(f"opened: {title}") in events
        assert not raw_controls(screen_text(app))
        for key, question in (("n", TextPrompt), ("v", SevPicker)):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, question)
            assert not raw_controls(screen_text(app))
            await pilot.press("escape")
            await pilot.pause()

        await pilot.press("6")
        await pilot.pause()
        assert isinstance(app.screen, RunbooksScreen)
        app.screen._log(value)  # where a step's output lines go
        await pilot.pause()
        log = app.screen.query_one("#runbook-log", RichLog)
        assert shown in squeezed("".join(s.text for s in log.lines))
        assert not raw_controls(screen_text(app))

        # the judging screens: a hostile hostname and mount, model name, version, path
        app.judging = hostile_judging(app.hub.latest, value)
        app.post_message(SnapshotReady(hostile_snapshot(hub.latest, value)))
        for key in ("7", "8", "9", "5"):
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            text = screen_text(app)
            assert not raw_controls(text), key
            if key in "89":
                assert shown[:6] in squeezed(text), key
        assert app.is_running
    helpers.stop()
    assert app.return_code in (None, 0)


def hostile_judging(snapshot: FleetSnapshot | None, value: str) -> Judging:
    """The demo's judging with ``value`` as this host's name and a mount, and as a model's
    name, version, served name and path."""
    assert snapshot is not None
    host = HostMetrics(value, "psutil", cpu_pct=95.0, disk_used_pct={value: 50.0})
    base = demo_judging(snapshot, read_local=lambda: host)
    version = ModelVersion(value, "active", path=value, served_as=value)
    inventory = Inventory((InventoryModel(value, (version,)),), value)
    return replace(base, config=replace(base.config, models=ModelsConfig(inventory)))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE)
def test_hostile_text_is_shown_literally_on_every_path(value: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(drive(value, Path(folder)))


WALL_VIEWS = ("fleet", "backends", "gpus", "alerts")


async def drive_wall(value: str) -> None:
    """The wall held by a hostile critical alert, then calm and cycled through its views."""
    hub, source = warmed_hub(seconds=5)
    app = InferdeckApp(hub, clock=source.clock, start_hub=False,
                       wall=WallConfig(views=WALL_VIEWS, cycle_s=3600))  # fmt: skip
    start = squeezed(safe(value))[:8]  # long values end in "…" where the room ends
    async with app.run_test(size=(160, 40)) as pilot:
        assert hub.latest is not None
        hostile = hostile_snapshot(hub.latest, value)
        app.post_message(SnapshotReady(hostile))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WallScreen) and screen.held  # a critical alert holds it
        text = screen_text(app)
        assert not raw_controls(text)
        assert squeezed(str(screen.query_one(ViewBar).render())).count(start) >= 1
        assert squeezed(text).count(start) >= 3  # the header, the view bar, the banner

        # the alert a warning: nothing holds the wall; every view shows the hostile names
        calm = tuple(replace(a, severity=Severity.WARNING) if a.name == value else a
                     for a in hostile.alerts)  # fmt: skip
        app.post_message(SnapshotReady(replace(hostile, alerts=calm)))
        await pilot.pause()
        assert not screen.held
        for view in WALL_VIEWS:
            screen.view = view
            await pilot.pause()
            text = screen_text(app)
            assert not raw_controls(text), view
            assert start in squeezed(text), view  # at least the environment in the header
            if view in ("backends", "alerts"):
                assert squeezed(text).count(start) >= 2, view  # and the backend or alert
        assert app.is_running


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE)
def test_hostile_text_is_shown_literally_on_the_wall(value: str) -> None:
    asyncio.run(drive_wall(value))
