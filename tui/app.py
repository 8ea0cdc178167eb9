"""The Textual application: routes hub snapshots to the screens and binds the keys."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import importlib
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from rich.console import RenderableType
from rich.segment import Segments
from rich.text import Text
from textual.actions import ActionParseResult
from textual.actions import parse as parse_action
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.keys import REPLACED_KEYS, Keys, key_to_character
from textual.message import Message
from textual.screen import Screen

from themes import NO_COLOR_THEME, SEMANTIC_DEFAULTS, THEMES
from tui.config import THEME_NAMES, Config, ConfigError, WallConfig
from tui.hub import Hub
from tui.model import FleetSnapshot, LogLine, SourceState
from tui.screens.drills import BINDINGS as DRILL_BINDINGS
from tui.screens.drills import DrillsMixin
from tui.screens.live import LiveScreen
from widgets.header import FleetHeader
from widgets.terminal_cells import TerminalCells
from widgets.text import clip, safe
from widgets.timers import never_negative_timers

if TYPE_CHECKING:  # imported where they are used: the first frame needs none of them
    from textual.command import Provider
    from textual.driver import Driver

    from tui.judging import Judging
    from tui.ops.context import Operations
    from tui.ops.executor import Action, Execution, Plan
    from tui.recording.recorder import RecorderThread
    from tui.recording.replay import ReplayHub
    from tui.terminal import TerminalGone

never_negative_timers()  # a toast raced past its notification's end froze the whole app

SCREENS: dict[str, str] = {
    "overview": "tui.screens.overview:OverviewScreen",
    "gpus": "tui.screens.tables:GpusScreen",
    "backends": "tui.screens.tables:BackendsScreen",
    "containers": "tui.screens.tables:ContainersScreen",
    "alerts": "tui.screens.alerts:AlertsScreen",
    "traffic": "tui.screens.traffic:TrafficScreen",
    "runbooks": "tui.screens.runbooks:RunbooksScreen",
    "incidents": "tui.screens.incidents:IncidentsScreen",
    "slo": "tui.screens.slo:SloScreen",
    "capacity": "tui.screens.capacity:CapacityScreen",
    "models": "tui.screens.models:ModelsScreen",
}
"""The screens the number keys switch between, by name: where each one's class is. A
screen's module is imported when the screen is first shown (`screen_class`), so start-up
loads only the overview's."""


def screen_class(name: str) -> type[Screen[Any]]:
    """The class behind a screen's name in `SCREENS` (or in `KEYMAP_SCREENS`), imported."""
    module, _, attribute = SCREENS.get(name, name).partition(":")
    found: type[Screen[Any]] = getattr(importlib.import_module(module), attribute)
    return found


def _palette() -> type[Provider]:
    """The command palette's entries, imported when the palette first opens."""
    from tui.screens.palette import InferdeckCommands

    return InferdeckCommands


FIRST_DATA_WAIT_S = 0.5
"""How long the dashboard holds its first frame for the hub's first collection, which
started before Textual loaded: the overview is drawn once, with the fleet on it, instead
of with dashes and again a moment later. A source slower than this shows as pending."""


def first_collection_in(snapshot: FleetSnapshot | None) -> bool:
    """Every source has finished its first poll (well or not) in ``snapshot``."""
    return snapshot is not None and all(
        s.state is not SourceState.PENDING for s in snapshot.sources
    )


COLLECT_AFTER_S = 2.0
"""Seconds after the first frame that the cycle collector comes back on."""


YOUNG_OBJECTS = 10_000
"""New container objects between two of the cycle collector's young collections (Python's
default: 700). A refresh makes thousands (the snapshot, its panels' lines and cells) that
refcounting frees within a second or two; at 700 the collector ran four times a second at
32 backends, promoting each snapshot still on screen to the older generations, which are
scanned again: measured in the dashboard over 60 s, collections took 3.7 ms a second at 32
backends and 0.85 at 3 (10,000: 1.3 and 0.49), the longest pause 30 ms (18 ms)."""


def collect_from_now_on() -> None:
    """Turn the cycle collector back on after start-up (`tui.commands.main.main` turns it
    off): collect once what start-up left behind, then keep everything still alive (the
    modules, the classes, the screens) out of every later collection, and collect young
    objects every `YOUNG_OBJECTS` instead of every 700."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    gc.enable()


LogReader = Callable[[str], Awaitable[list[LogLine]]]
"""Fetches a container's last log lines."""


class LaterOperations(NamedTuple):
    """Operations made when first needed, or just after the first frame: their modules
    (the executor, traffic, rollouts, alerts, incidents) are ~10 ms the first frame does
    without. Whether they are read-only is known before (the header shows it)."""

    read_only: str | None
    make: Callable[[], Operations]


class StartsLater(Protocol):
    """The helpers a dashboard starts just after its first frame (the flight recorder,
    the incident tracker: `tui.wiring.AfterFirstFrame`)."""

    recorder: RecorderThread | None

    def start(self) -> list[str]:
        """Start them; what could not start, one line each (outside text: the app
        escapes it)."""
        ...


AFTER_FIRST_FRAME_S = 0.05
"""Seconds after the first frame went out that what it did without is started."""


class SnapshotReady(Message):
    """A new snapshot from the hub. A pending one is replaced, so a fast feed never floods."""

    def __init__(self, snapshot: FleetSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        """Only the newest snapshot matters."""
        return isinstance(message, SnapshotReady)


class InferdeckApp(DrillsMixin, App[str | None]):
    """The on-call console: live fleet panels, fed by a `Hub` running in its own thread."""

    TITLE = "inferdeck"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {_palette}

    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Stop inferdeck (and the demo fleet)"),
        Binding("ctrl+c", "quit", "Quit", id="quit-ctrl-c", show=False, priority=True),
        Binding("p", "toggle_pause", "Pause", id="pause", tooltip="Freeze or resume live updates"),
        Binding("t", "next_theme", "Theme", id="theme", tooltip="Cycle through the themes",
                show=False),
        Binding("question_mark", "toggle_keys", "Keys", id="help", tooltip="List every key"),
        Binding("1", "show_screen('overview')", "Overview", id="screen-overview",
                tooltip="Is the fleet healthy?"),
        Binding("2", "show_screen('gpus')", "GPUs", id="screen-gpus",
                tooltip="Every GPU with history and processes"),
        Binding("3", "show_screen('backends')", "Backends", id="screen-backends",
                tooltip="Every backend with every figure"),
        Binding("c", "show_screen('containers')", "Containers", id="screen-containers",
                tooltip="The stack's containers; enter shows logs", show=False),
        Binding("4", "show_screen('alerts')", "Alerts", id="screen-alerts",
                tooltip="Firing alerts; a acknowledges, A un-acknowledges"),
        Binding("5,w", "show_screen('traffic')", "Traffic", id="screen-traffic",
                tooltip="The split between pools; shift it, roll out, roll back"),
        Binding("6,r", "show_screen('runbooks')", "Runbooks", id="screen-runbooks",
                tooltip="Run the runbook for the problem at hand, step by step"),
        Binding("i", "show_screen('incidents')", "Incidents", id="screen-incidents",
                tooltip="Incidents, their response clocks and timelines"),
        Binding("7", "show_screen('slo')", "SLOs", id="screen-slo",
                tooltip="Every objective, the error budget and its burn rates"),
        Binding("8", "show_screen('capacity')", "Capacity", id="screen-capacity",
                tooltip="Hosts, GPU bands, the scaling decision, growth and cost"),
        Binding("9", "show_screen('models')", "Models", id="screen-models",
                tooltip="The model inventory, each pool's version, retention"),
        Binding("R", "rollback", "Roll back", id="rollback",
                tooltip="Send all traffic back to the stable pool (asks first)"),
        # replay only (hidden and off on a live fleet): move through the recording; `p`
        # (pause) plays and pauses it
        Binding("full_stop", "replay_step(1)", "Frame", id="replay-frame",
                tooltip="The next recorded frame"),
        Binding("comma", "replay_step(-1)", "Back", id="replay-frame-back", show=False,
                tooltip="The previous recorded frame"),
        Binding("right_square_bracket", "replay_jump(10)", "+10s", id="replay-10s",
                tooltip="10 seconds on"),
        Binding("left_square_bracket", "replay_jump(-10)", "-10s", id="replay-10s-back",
                show=False, tooltip="10 seconds back"),
        Binding("right_curly_bracket", "replay_jump(60)", "+1m", id="replay-minute",
                tooltip="A minute on"),
        Binding("left_curly_bracket", "replay_jump(-60)", "-1m", id="replay-minute-back",
                show=False, tooltip="A minute back"),
        Binding("m", "replay_event(1)", "Next event", id="replay-event",
                tooltip="The next alert, action or incident event"),
        Binding("M", "replay_event(-1)", "Prev event", id="replay-event-back", show=False,
                tooltip="The previous alert, action or incident event"),
        Binding("f", "replay_speed(1)", "Faster", id="replay-faster",
                tooltip="Play faster (1x, 2x, 5x, 10x, 30x, 60x)"),
        Binding("F", "replay_speed(-1)", "Slower", id="replay-slower", show=False,
                tooltip="Play slower"),
        *DRILL_BINDINGS,
        Binding("X", "switch_context", "Context", id="context-switch", show=False,
                tooltip="Watch another environment of the config (prod-us, staging, ...)"),
    ]  # fmt: skip

    REPLAY_ACTIONS = frozenset({"replay_step", "replay_jump", "replay_event", "replay_speed"})
    """Actions that move through a recording: off (and hidden) on a live fleet."""

    def __init__(
        self,
        hub: Hub,
        *,
        theme: str = "inferdeck-dark",
        clock: Callable[[], float] = time.time,
        start_hub: bool = True,
        keymap: Mapping[str, str] | None = None,
        subtitle: str = "",
        debug: bool = False,
        log_reader: LogReader | None = None,
        ops: Operations | LaterOperations | None = None,
        judging: Judging | None = None,
        replay: ReplayHub | None = None,
        replay_span: tuple[float, float] | None = None,
        control_help: str = "",
        production: bool = False,
        context: str | None = None,
        contexts: tuple[str, ...] = (),
        wall: WallConfig | None = None,
        after_first_frame: StartsLater | None = None,
    ) -> None:
        """``judging``: the config and readers the SLO, Capacity and Models screens use.

        ``replay``: the dashboard replays a recording (``hub`` is that `ReplayHub`):
        REPLAY and the recorded time in the header, a timeline, and nothing can act;
        ``replay_span`` underlines an incident's time on the timeline.
        ``control_help``: lines the help shows last (the demo's control URL and faults);
        ``production``: every action asks for a typed confirmation; ``context``: the
        config's context on screen, ``contexts``: every one (`X` switches).
        ``wall``: open the NOC wall (read-only, cycling views) instead of the overview.
        ``ops``: what the keys act through (None: nothing can act), or how to make them
        (`LaterOperations`). ``after_first_frame``: started once the first frame is out
        (what it did without); a notice for each helper that could not start.
        Its ``recorder`` attribute is the flight recorder, once started; when it cannot
        write, a notice says why (once) and the header says REC STOPPED until it can again.
        """
        super().__init__()
        self.recorder: RecorderThread | None = None
        self.recording_stopped: str | None = None  # why, while the recorder cannot write
        self._recording_told: set[str] = set()
        self.wall = wall
        self.replay = replay
        self.replay_span = replay_span
        if judging is None:
            from tui.judging import Judging

            judging = Judging()
        self.judging = judging
        self.show_tracebacks = debug
        self.log_reader = log_reader
        self._ops: Operations | None = None
        self._later_ops: LaterOperations | None = None
        self.ops = ops
        self._after_first_frame = after_first_frame
        self._first_frame_out = False
        self.hub = hub
        self.clock = clock
        self.start_hub = start_hub
        self.paused = False
        self.latest: FleetSnapshot | None = None
        self._keymap = dict(keymap or {})
        self._signals: list[signal.Signals] = []
        self._initial_theme = NO_COLOR_THEME if self.no_color else theme
        self.sub_title = subtitle
        self._terminal_cells = TerminalCells()
        self._collect_after_first_frame = not gc.isenabled()  # off for start-up
        self._live_screens: dict[str, LiveScreen] = {}  # the ones made so far, by name
        self.control_help = control_help
        self.production = production
        self.context = context
        self.contexts = contexts
        for t in THEMES:
            self.register_theme(t)

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, but on Linux and macOS one that exits when the terminal goes
        away under the dashboard (`tui.terminal`); browsers (`inferdeck serve`) and
        Windows keep Textual's own."""
        driver = super().get_driver_class()
        if sys.platform == "win32":
            return driver
        from textual.drivers.linux_driver import LinuxDriver

        from tui.terminal import TerminalDriver

        return TerminalDriver if driver is LinuxDriver else driver

    def _only_inferdecks_themes(self) -> None:
        """Drop Textual's own themes, which restyle only part of the app: neither the
        palette nor `t` offers them (once one of inferdeck's is on)."""
        for name in list(self.available_themes):
            if name not in THEME_NAMES:
                self.unregister_theme(name)

    def _fatal_error(self) -> None:
        """Exit on an unhandled error with one line (a full traceback only with --debug).

        Textual's own crash report prints every frame's local variables, which can hold
        tokens and URLs with credentials: not something to leave on a shared screen.
        """
        error = self._exception or sys.exc_info()[1]
        self.bell()
        if self.show_tracebacks:
            from rich.traceback import Traceback

            rendered: Traceback | Text = Traceback(show_locals=False, width=None)
        else:
            message = " ".join(str(error).split()) if error else "unknown error"
            rendered = Text(f"inferdeck: error: {type(error).__name__}: {safe(message)}")
        self._exit_renderables.append(Segments(self.console.render(rendered, self.console.options)))
        self._close_messages_no_wait()

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        """Write only the cells that changed since the last frame (see `TerminalCells`).

        Textual rewrites whole dirty regions; over SSH that is most of the bytes an idle
        dashboard sends. Inline mode and anything but a compositor update go out as they are
        (and make the next frame a full one).
        """
        driver = self._driver
        if renderable is not None and driver is not None and not driver.is_inline:
            width, height = screen.outer_size
            renderable = self._terminal_cells.diffed(renderable, width, height)  # type: ignore[arg-type,assignment]
        elif renderable is not None:
            self._terminal_cells.forget()
        super()._display(screen, renderable)
        if self._collect_after_first_frame and isinstance(screen, LiveScreen):
            self._collect_after_first_frame = False
            # not at once: the frame must reach the terminal first, and the first
            # refreshes go on drawing without collections for a moment more
            self.set_timer(COLLECT_AFTER_S, collect_from_now_on)
        if not self._first_frame_out and isinstance(screen, LiveScreen):
            self._first_frame_out = True
            self.set_timer(AFTER_FIRST_FRAME_S, self._start_after_first_frame)

    def _start_after_first_frame(self) -> None:
        """Start what the first frame did without: ``after_first_frame``, and the
        operations (made now rather than on the operator's first key)."""
        later = self._after_first_frame
        if later is not None:
            for trouble in later.start():  # an exception's text: a path, a reason
                self.notify(safe(trouble), title="inferdeck", severity="error", timeout=15,
                            markup=False)  # fmt: skip
            self.recorder = later.recorder  # its trouble shows in the header
        self._make_later_ops()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The app's semantic colours, for themes that do not set them."""
        return dict(SEMANTIC_DEFAULTS)

    async def on_mount(self) -> None:
        """Apply theme and keymap, open the overview, start listening to the hub."""
        self.theme = self._initial_theme
        self._only_inferdecks_themes()
        if self._keymap:
            self.set_keymap(self._keymap)
        self.hub.subscribe(self._from_hub)  # first, so no snapshot falls between the two
        await self._first_collection()
        self.latest = self.hub.latest  # the overview shows it as soon as it is mounted
        if self.wall is not None:
            from tui.incidents.config import incidents_config
            from tui.screens.wall import WallScreen

            incidents = incidents_config(self.judging.config)
            self.push_screen(WallScreen(clock=self.clock, wall=self.wall, incidents=incidents))
            self._start_listening()
            return
        for name in SCREENS:  # each made (and its module imported) when first shown
            self.install_screen(self._screen_maker(name), name=name)  # type: ignore[arg-type]
        self.push_screen("overview")
        if self.sub_title:
            self.notify(safe(self.sub_title), title="inferdeck", timeout=8, markup=False)
        if self._ops is not None:
            self._tell_about(self._ops)
        self._start_listening()

    @property
    def ops(self) -> Operations | None:
        """What the keys act through (`tui.ops.context.Operations`); None: nothing can
        act. Given as `LaterOperations`, they are made here the first time they are asked
        for (a key, or the moment after the first frame)."""
        self._make_later_ops()
        return self._ops

    @ops.setter
    def ops(self, ops: Operations | LaterOperations | None) -> None:
        if isinstance(ops, LaterOperations):
            self._ops, self._later_ops = None, ops
        else:
            self._ops, self._later_ops = ops, None

    @property
    def made_ops(self) -> Operations | None:
        """The operations if they were made (or given), never making them: what there is
        to close or stop at the end."""
        return self._ops

    def _make_later_ops(self) -> None:
        later, self._later_ops = self._later_ops, None
        if later is not None:
            self._ops = later.make()
            if self.is_running:
                self._tell_about(self._ops)

    def _tell_about(self, ops: Operations) -> None:
        """A notice when the action lock and audit log are this user's own."""
        if ops.executor.note:
            self.notify(safe(ops.executor.note), title="action lock and audit not shared",
                        severity="warning", timeout=12, markup=False)  # fmt: skip

    async def _first_collection(self) -> None:
        """Wait (at most `FIRST_DATA_WAIT_S`) for the running hub's first poll of every
        source. Nothing waits when this app starts the hub itself or replays a recording."""
        if self.start_hub or self.replay is not None:
            return
        deadline = time.monotonic() + FIRST_DATA_WAIT_S
        while not first_collection_in(self.hub.latest) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)  # the hub's thread has the interpreter meanwhile

    def _screen_maker(self, name: str) -> Callable[[], LiveScreen]:
        """Makes the screen ``name`` when Textual first asks for it, and keeps it."""

        def make() -> LiveScreen:
            live: type[Any] = screen_class(name)  # every screen in SCREENS is a LiveScreen
            screen = live(clock=self.clock, name=name)  # the footer tells it by its name
            assert isinstance(screen, LiveScreen)
            self._live_screens[name] = screen
            return screen

        return make

    def _start_listening(self) -> None:
        """Stop cleanly on a hangup or terminate; start the hub if this app owns it."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):  # tmux kill-session, an SSH drop, kill
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._ended, sig.name)
                self._signals.append(sig)
        if self.start_hub:
            self.hub.start()

    def _ended(self, name: str) -> None:
        """A hangup or terminate: stop a running action (a rollout puts back the split it
        started from and records its result), then exit."""
        if self._ops is not None:  # operations never made have nothing running
            self._ops.executor.interrupt(f"{name}: inferdeck was closed")
        self.exit()

    def on_terminal_gone(self, message: TerminalGone) -> None:
        """The terminal failed a write (closed with no SIGHUP reaching the app, which a
        shell in between may keep to itself): end as on a hangup."""
        self._ended(f"terminal gone ({message.why})")

    async def on_unmount(self) -> None:
        """Stop a running action the same way as a hangup, then stop polling."""
        if self._ops is not None:
            await self._ops.executor.stop_all("inferdeck quit while it ran")
        loop = asyncio.get_running_loop()
        while self._signals:
            loop.remove_signal_handler(self._signals.pop())
        if self.start_hub:
            self.hub.stop()

    # --- actions that change the world -------------------------------------------------

    ACTIONS_THAT_CHANGE = frozenset(
        {"rollback", "ack", "unack", "apply_weights", "container", "run_runbook", "rollout"}
        | {"apply_proposal"}
        | {"incident_note", "incident_sev", "incident_resolve"}
    )
    """Actions hidden (and refused by the executor) in read-only mode."""

    REFUSALS: Mapping[str, str] = {
        "rollback": "rollback is disabled",
        "ack": "acknowledging is disabled",
        "unack": "un-acknowledging is disabled",
        "shift": "changing the traffic split is disabled",
        "apply_weights": "changing the traffic split is disabled",
        "rollout": "rollout is disabled",
        "container": "container restart/stop/start is disabled",
        "run_runbook": "running runbooks is disabled (a dry run still works)",
        "incident_note": "adding incident notes is disabled",
        "incident_sev": "setting an incident's SEV is disabled",
        "incident_resolve": "resolving incidents is disabled",
        "apply_proposal": "applying the autopilot's proposals is disabled",
    }
    """What a pressed acting key says when it may not act, by action name."""

    @property
    def read_only(self) -> str | None:
        """Why the operator turned actions off (``--read-only``, the config), or None."""
        if self._later_ops is not None:  # known without making them
            return self._later_ops.read_only
        return self._ops.read_only if self._ops is not None else None

    @property
    def actions_off(self) -> str | None:
        """Why no action may run now (``read-only (--read-only)``), or None."""
        if self.replay is not None:  # a recording: what it shows is the past
            return "replay of a recording (nothing can act)"
        if self._ops is None and self._later_ops is None:
            return "no actions configured"
        return f"read-only ({self.read_only})" if self.read_only is not None else None

    WALL_ACTIONS = frozenset({"quit", "next_theme"})
    """All a key may do on the NOC wall: nobody drives it."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the keys that change the world when nothing may change it, the replay's
        keys on a live fleet (and ``P`` while the autopilot proposes nothing); on the wall
        every key but quit and theme."""
        if self.wall is not None:
            return action in self.WALL_ACTIONS
        if action in self.REPLAY_ACTIONS:
            return self.replay is not None
        if action == "apply_proposal" and not self.drill_line().startswith("proposed"):
            return False
        if action == "switch_context":
            return len(self.contexts) > 1
        return not (action in self.ACTIONS_THAT_CHANGE and self.actions_off is not None)

    def refuse(self, action: str) -> None:
        """Say why an acting key did nothing: ``read-only (--read-only): rollback is disabled``."""
        what = self.REFUSALS.get(action, f"{action} is disabled")
        self.notify(
            safe(f"{self.actions_off}: {what}"),
            title="not possible",
            severity="warning",
            markup=False,
        )

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Run an action; an acting key that may not act says why instead of nothing.

        `check_action` hides those bindings from the footer and the help, and Textual
        then drops their keys without a word; a key is never silently ignored here.
        """
        name = (action if isinstance(action, tuple) else parse_action(action))[1]
        if self.wall is not None and name not in self.WALL_ACTIONS:
            return True  # the wall is read-only and shows what it shows: keys do nothing
        if name in self.REFUSALS and self.actions_off is not None:
            self.refuse(name)
            return True  # handled: the key goes no further (no table cursor moves)
        return await super().run_action(action, default_namespace, namespaces)

    def execute(
        self,
        action: Action,
        then: Callable[[Execution], None] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Run an action through the executor in a worker: confirm, apply, report.

        ``progress`` gets the action's lines on the UI thread, as they come.
        """
        if self.replay is not None:  # however it was asked for (a palette entry, a dialog)
            self.notify(safe(f"{self.actions_off}: {action.kind} {action.target} refused"),
                        title="not possible", severity="warning", markup=False)  # fmt: skip
            return
        if self.ops is None:
            self.notify("No operations configured", severity="warning")
            return
        self.run_worker(self._execute(action, then, progress), group="mutation",
                        exit_on_error=False)  # fmt: skip

    async def _execute(
        self,
        action: Action,
        then: Callable[[Execution], None] | None,
        progress: Callable[[str], None] | None,
    ) -> None:
        assert self.ops is not None

        def from_thread(line: str) -> None:
            if progress is not None:
                self.call_from_thread(progress, line)

        from tui.ops.executor import Outcome

        execution = await self.ops.executor.execute(action, self._confirm, from_thread)
        severity = {Outcome.DONE: "information", Outcome.CANCELLED: "information"}.get(
            execution.outcome, "error"
        )
        self.notify(safe(execution.message), title=safe(f"{action.kind} {action.target}"),
                    severity=severity, timeout=8, markup=False)  # type: ignore[arg-type]  # fmt: skip
        if then is not None:
            then(execution)

    def offer(
        self,
        make: Callable[[], Action],
        then: Callable[[Execution], None] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Build an action (which may find the request invalid) and execute it.

        A factory that refuses (an unknown pool, weights not adding up) says why in a
        notice; it never takes the app down.
        """
        try:
            action = make()
        except Exception as exc:
            self.notify(safe(" ".join(str(exc).split())), title="not possible", severity="error",
                        markup=False)  # fmt: skip
            return
        self.execute(action, then=then, progress=progress)

    async def _confirm(self, action: Action, plan: Plan) -> bool:
        from tui.screens.confirm import ConfirmScreen

        if self.production:  # a production context: type the target's name, every time
            where = self.context or "production"
            plan = dataclasses.replace(
                plan, title=f"[{where}] {plan.title}", dangerous=True,
                confirm_text=plan.confirm_text or action.target or where,
            )  # fmt: skip
        expires = self.ops.executor.confirm_timeout_s if self.ops is not None else None
        screen = ConfirmScreen(plan, expires_s=expires)
        try:
            confirmed: bool = await self.push_screen_wait(screen)
        except asyncio.CancelledError:  # it expired (the executor cancels and audits)
            if self.screen is screen:
                screen.dismiss(False)
            raise
        return confirmed

    def action_rollback(self) -> None:
        """Roll back: the stable pool to 100% at once (confirm by typing its name)."""
        if self.ops is None or self.ops.rollback is None:
            self.notify("No traffic router configured (traffic: in the config)", severity="warning")
            return
        self.offer(self.ops.rollback)

    async def action_quit(self) -> None:
        """Quit; if an action is running, ask first (it would be cut off mid-way)."""
        running = self.ops.executor.running if self.ops is not None else None
        if running:
            from tui.ops.executor import Plan
            from tui.screens.confirm import ConfirmScreen

            plan = Plan(f"An action is running: {running}",
                        ("Quitting stops it: a rollout puts back the split it started from.",),
                        dangerous=True, confirm_text="quit")  # fmt: skip
            self.push_screen(ConfirmScreen(plan), lambda ok: self.exit() if ok else None)
            return
        self.exit()

    def _from_hub(self, snapshot: FleetSnapshot) -> None:
        # Called from the hub's thread: post_message is the one thread-safe way in.
        self.post_message(SnapshotReady(snapshot))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        """Show the newest snapshot; paused, only the header's state keeps up.

        Pausing freezes the panels for reading, never the truth: a crash while paused
        still turns the header DEGRADED or DOWN, with its reason.
        """
        self.latest = message.snapshot
        self.autopilot_seen(message.snapshot)
        self._check_recording()
        if not self.paused:
            self._show(message.snapshot)
            return
        screen = self.live_screen()
        if screen is not None:
            with contextlib.suppress(NoMatches):
                screen.show_header(message.snapshot)

    def _check_recording(self) -> None:
        """REC STOPPED in the header while the recorder cannot write; a notice the
        first time each reason comes up (outside text: a path, escaped)."""
        error = self.recorder.last_error if self.recorder is not None else None
        why = error.removeprefix("recording: ") if error else None
        if why == self.recording_stopped:
            return
        self.recording_stopped = why  # the header reads it as it repaints
        if why is not None and why not in self._recording_told:
            self._recording_told.add(why)
            self.notify(safe(why), title="recording stopped", severity="error", timeout=15,
                        markup=False)  # fmt: skip

    def live_screen(self) -> LiveScreen | None:
        """The top live screen: the one on show, or the one under a dialog or the palette.

        A screen that is closing (the app shutting down) is none: its widgets are being
        removed, and a widget fed a snapshot then has no styles left to draw it with.
        """
        return next(
            (s for s in reversed(self.screen_stack) if isinstance(s, LiveScreen) and s.is_running),
            None,
        )

    def _show(self, snapshot: FleetSnapshot) -> None:
        screen = self.live_screen()
        if screen is not None:
            # still composing: it shows app.latest when it comes up
            with contextlib.suppress(NoMatches):
                screen.show(snapshot)
            if self.replay is not None:
                self.show_replay_position()

    # --- replaying a recording -----------------------------------------------------------

    def show_replay_position(self) -> None:
        """The recorded time and play state in the header, the position on the timeline."""
        replay, screen = self.replay, self.screen
        if replay is None or not isinstance(screen, LiveScreen):
            return
        from widgets.timeline import ReplayTimeline, state_of

        at = replay.recorded_time()
        play = f"▶ {replay.speed:g}x" if replay.playing else "❚❚"
        with contextlib.suppress(NoMatches):
            screen.query_one(FleetHeader).replay = (
                time.strftime("%Y-%m-%d", time.localtime(at)) + f" {play}"
            )
        marks = [(e.at, e.kind) for e in replay.events]
        with contextlib.suppress(NoMatches):
            screen.query_one(ReplayTimeline).state = state_of(
                times=replay.recording.times, index=replay.index, marks=marks,
                playing=replay.playing, speed=replay.speed, span=self.replay_span,
            )  # fmt: skip

    def start_loadtest(self, name: str) -> None:
        """A load test sends real requests: never from a replay (however it is asked for)."""
        if self.replay is not None:
            self.notify(safe(f"{self.actions_off}: load test {name} refused"),
                        title="not possible", severity="warning", markup=False)  # fmt: skip
            return
        super().start_loadtest(name)

    def action_replay_step(self, frames: int) -> None:
        """A frame on (or back)."""
        if self.replay is not None:
            self.replay.step(frames)

    def action_replay_jump(self, seconds: float) -> None:
        """Seconds on (or back) in recorded time."""
        if self.replay is not None:
            self.replay.jump(seconds)

    def action_replay_event(self, direction: int) -> None:
        """To the next (or previous) alert, action or incident event, and say what it was."""
        if self.replay is None:
            return
        event = self.replay.next_event(direction)
        if event is None:
            self.notify("No more events that way", timeout=2)
            return
        when = time.strftime("%H:%M:%S", time.localtime(event.at))
        self.notify(safe(f"{when} {event.kind}: {event.text}"), title="event", timeout=4,
                    markup=False)  # fmt: skip

    def action_replay_speed(self, direction: int) -> None:
        """Play faster (or slower): 1x, 2x, 5x, 10x, 30x, 60x."""
        if self.replay is not None:
            speed = self.replay.faster(direction)
            self.notify(f"Replay speed {speed:g}x", timeout=2)
            self.show_replay_position()

    def action_show_screen(self, name: str) -> None:
        """Switch to one of the installed screens (overview, gpus, backends, containers)."""
        if name in SCREENS and self.screen is not self.get_screen(name):
            self.switch_screen(name)

    def action_toggle_pause(self) -> None:
        """Freeze the view (data keeps being collected) or resume it with the newest data;
        in a replay: play or pause the recording."""
        if self.replay is not None:
            playing = self.replay.toggle()
            self.notify(f"Playing at {self.replay.speed:g}x" if playing else "Replay paused",
                        timeout=2)  # fmt: skip
            self.show_replay_position()
            return
        self.paused = not self.paused
        for screen in self._live_screens.values():  # one not made yet learns it when shown
            if screen.is_mounted:
                screen.set_paused(self.paused)
        if not self.paused and self.latest is not None:
            self._show(self.latest)
        self.notify("Updates paused" if self.paused else "Updates resumed", timeout=2)

    def show_logs(self, container: str) -> None:
        """Fetch a container's last log lines in a worker, then show them."""
        if self.log_reader is None:
            self.notify("No container engine configured", severity="warning")
            return
        # made when the worker starts: one replaced before it ran leaves no coroutine behind
        fetch = partial(self._fetch_logs, container)
        # mypy cannot pick WorkType's member for an async callable (it infers Never)
        self.run_worker(fetch, group="logs", exclusive=True, exit_on_error=False)  # type: ignore[arg-type]

    async def _fetch_logs(self, container: str) -> None:
        assert self.log_reader is not None
        try:
            lines = await self.log_reader(container)
        except Exception as exc:
            self.notify(f"Logs of {safe(container)}: {safe(exc)}", severity="error", markup=False)
            return
        from tui.screens.logs import LogsScreen

        self.push_screen(LogsScreen(container, lines))

    def copy_text(self, text: str) -> None:
        """Put ``text`` on the operator's clipboard through OSC 52 (the terminal's own
        clipboard, so it works over SSH and inside tmux); control characters are made
        visible first, so a pasted label can never carry a terminal command."""
        text = safe(text)
        self.copy_to_clipboard(text)
        self.notify(clip(text, 200), title="copied (OSC 52)", timeout=3, markup=False)

    def action_switch_context(self) -> None:
        """Pick another context of the config; the dashboard restarts on it."""
        from tui.screens.context_picker import ContextPicker

        self.push_screen(ContextPicker(self.contexts, self.context), self.switch_context)

    def switch_context(self, name: str | None) -> None:
        """Leave this context for ``name`` (the caller starts the dashboard again on it)."""
        if name is not None and name != self.context and name in self.contexts:
            self.exit(result=name)

    def open_detail(self, kind: str, key: str) -> None:
        """Open the detail of a backend, GPU, alert or container (by name, ``host/index``
        or fingerprint); `esc` comes back."""
        from tui.screens.detail import DetailScreen

        self.push_screen(DetailScreen(kind, key, clock=self.clock))

    def action_next_theme(self) -> None:
        """Switch to the next shipped theme."""
        names = [t.name for t in THEMES]
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"Theme: {safe(self.theme)}", timeout=2, markup=False)

    def action_toggle_keys(self) -> None:
        """Show the keys of the current screen (its own first), or close them."""
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(HelpScreen(self.screen, about=self.help_about))

    @property
    def help_about(self) -> str:
        """What the help says last: the demo's control URL and fault commands, if any."""
        return self.control_help


# --- the operator's keymap (`keys:` in the config) --------------------------------------

KEYMAP_SCREENS: tuple[str, ...] = (
    *SCREENS,
    "tui.screens.confirm:ConfirmScreen",
    "tui.screens.runbooks:StepConfirmScreen",
    "tui.screens.runbooks:BackendPicker",
    "tui.screens.logs:LogsScreen",
    "tui.screens.help:HelpScreen",
    "tui.screens.context_picker:ContextPicker",
    "tui.screens.detail:DetailScreen",
    "tui.screens.filtering:FilteredScreen",
    "tui.screens.tables:TableScreen",
    "tui.screens.incident_dialogs:TextPrompt",
    "tui.screens.incident_dialogs:SevPicker",
)
"""Every screen whose bindings may be remapped (names in `SCREENS`, or where the class
is); the app's own bindings apply on each. `keymap_screens` imports them."""


def keymap_screens() -> tuple[type[Screen[Any]], ...]:
    """The classes of `KEYMAP_SCREENS` (imported: only when a keymap is checked)."""
    return tuple(screen_class(name) for name in KEYMAP_SCREENS)


MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
"""What may come before ``+`` in a key name."""

NAMED_KEYS = frozenset(k.value for k in Keys if "+" not in k.value and not k.value.startswith("<"))
"""Keys without a character: enter, escape, tab, up, f5, pageup, ..."""


def _bindings(owner: type) -> dict[str, str]:
    """Binding id → its default keys (``"5,w"``) on a class, inherited ones included."""
    found: dict[str, str] = {}
    for klass in reversed(owner.__mro__):
        for binding in klass.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                found[binding.id] = binding.key
    return found


def binding_ids() -> set[str]:
    """Every binding id that ``keys:`` in the config may remap."""
    ids = set(_bindings(InferdeckApp))
    for screen in keymap_screens():
        ids |= set(_bindings(screen))
    return ids


def _key(name: str) -> str | None:
    """One key as Textual matches it (``?`` and ``question_mark`` alike); None if no key."""
    modifiers, plus, base = name.strip().rpartition("+")
    if plus and not (modifiers and set(modifiers.split("+")) <= MODIFIERS):
        return None
    if len(base) == 1 and base.isprintable():
        key = base
    elif character := key_to_character(REPLACED_KEYS.get(base, base)):
        key = character
    elif base in NAMED_KEYS:
        key = base
    else:
        return None
    return f"{modifiers}+{key}" if plus else key


def check_keymap(keymap: Mapping[str, str]) -> list[tuple[str, str]]:
    """What is wrong with a keymap, as (binding id, problem): unknown ids, bad key names,
    and two bindings on one key on one screen (where at least one of them was remapped).
    """
    known = binding_ids()
    problems: list[tuple[str, str]] = []
    for binding_id, keys in keymap.items():
        bad = [k.strip() for k in keys.split(",") if _key(k) is None]
        if binding_id not in known:
            known_ids = ", ".join(sorted(known))
            problems.append((binding_id, f"unknown binding id {binding_id!r} (known: {known_ids})"))
        elif bad:
            problems.append((binding_id, f"{bad[0]!r} is not a key name (like p, R, ctrl+p,"
                                         " space, enter, f5, question_mark)"))  # fmt: skip
    if problems:
        return problems
    app_bindings = _bindings(InferdeckApp)
    reported: set[frozenset[str]] = set()
    for screen in keymap_screens():
        owners: dict[str | None, str] = {}
        for binding_id, default in {**app_bindings, **_bindings(screen)}.items():
            for key in keymap.get(binding_id, default).split(","):
                other = owners.setdefault(_key(key), binding_id)
                pair = frozenset((binding_id, other))
                if other == binding_id or pair in reported or not pair & keymap.keys():
                    continue
                reported.add(pair)
                moved, kept = (binding_id, other) if binding_id in keymap else (other, binding_id)
                where = screen.__name__.removesuffix("Screen").lower()
                problems.append(
                    (moved, f"{moved} and {kept} are both on {key.strip()!r} ({where} screen)")
                )
    return problems


def validate_keys(config: Config) -> None:
    """Refuse the config's ``keys:`` at its FILE:LINE if `check_keymap` finds a problem."""
    if not config.keys:  # nothing remapped, nothing to check (and no screen to import)
        return
    for binding_id, problem in check_keymap(config.keys):
        where = config.key_lines.get(binding_id, f"{config.path}:0")
        raise ConfigError(f"{where}: {problem}")
