"""The NOC wall (``--wall``): read-only, big figures, cycles views by itself, holds on trouble.

An unattended terminal on a wall, read from across a room: the header (state, reasons,
clock, age of the data) is always on top; under it a line names the view on screen; the
views (headline figures, backends, GPUs, alerts) take turns every ``wall.cycle_s``
seconds. A firing SEV1/SEV2 incident, or any critical alert, interrupts the cycle: the
wall shows what fires and stays there until it resolves. No footer: nobody types here.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Static

from tui.config import WallConfig
from tui.incidents.config import IncidentsConfig
from tui.incidents.model import Sev
from tui.incidents.rules import is_firing, sev_of
from tui.model import Alert, FleetSnapshot, Severity
from tui.screens.live import LiveScreen
from widgets.alerts import AlertsPanel
from widgets.backends import BackendsTable
from widgets.gpu_table import GpuTable
from widgets.header import FleetHeader
from widgets.wall import HeadlineGrid, InterruptBanner, sev_words

VIEW_NAMES = {"fleet": "Fleet", "backends": "Backends", "gpus": "GPUs", "alerts": "Alerts"}
"""Each view's name as the wall shows it."""

INTERRUPTING_SEVS = frozenset({Sev.SEV1, Sev.SEV2})
"""Incident severities that hold the wall."""


def holding(snapshot: FleetSnapshot, incidents: IncidentsConfig) -> tuple[tuple[str, Alert], ...]:
    """What holds the wall: every firing alert that opens a SEV1/SEV2 incident, and every
    firing critical alert, as (its SEV, or ``critical``; the alert), worst first."""
    held: list[tuple[int, str, Alert]] = []
    for alert in snapshot.alerts:
        if not is_firing(alert):
            continue
        sev = sev_of(alert, incidents, snapshot)
        if sev in INTERRUPTING_SEVS:
            held.append((int(sev.value[-1]) if sev.value[-1].isdigit() else 0, sev.value, alert))
        elif alert.severity is Severity.CRITICAL:
            held.append((3, "critical", alert))
    held.sort(key=lambda item: (item[0], -item[2].starts_at))
    return tuple((label.upper(), alert) for _, label, alert in held)


class ViewBar(Static):
    """The line under the header: which view is on screen, and what comes next."""

    DEFAULT_CSS = """
    ViewBar { height: 1; padding: 0 1; background: $panel; color: $foreground; }
    ViewBar.-held { background: $slo-breach; color: $background; text-style: bold; }
    """


class WallScreen(LiveScreen):
    """The wall: header, view bar, and one view at a time; no footer, no keys but quit."""

    DEFAULT_CSS = """
    WallScreen {
        layout: vertical;
        ContentSwitcher { height: 1fr; }
        #view-fleet, #view-incident { height: 1fr; }
        #view-incident HeadlineGrid { height: 1fr; min-height: 7; }
        #view-backends BackendsTable { height: 1fr; max-height: 100%; }
        #view-alerts AlertsPanel { height: 1fr; }
        InterruptBanner { height: auto; min-height: 4; }
    }
    """

    view: reactive[str] = reactive("fleet")
    """The view of the cycle on screen (an interruption shows over it)."""

    def __init__(
        self,
        clock: Callable[[], float],
        wall: WallConfig,
        incidents: IncidentsConfig,
        **kwargs: object,
    ) -> None:
        super().__init__(clock=clock, **kwargs)
        self.wall = wall
        self.incidents = incidents
        self.views = tuple(wall.views)
        self.set_reactive(WallScreen.view, self.views[0])
        self.held: tuple[tuple[str, Alert], ...] = ()
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """Header, view bar, the views (only the chosen ones are built)."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        yield ViewBar(id="view-bar")
        with ContentSwitcher(initial=f"view-{self.view}"):
            if "fleet" in self.views:
                with Vertical(id="view-fleet"):
                    yield HeadlineGrid()
            if "backends" in self.views:
                with Vertical(id="view-backends"):
                    yield BackendsTable()
            if "gpus" in self.views:
                with Vertical(id="view-gpus"):
                    yield GpuTable()
            if "alerts" in self.views:
                with Vertical(id="view-alerts"):
                    yield AlertsPanel()
            with Vertical(id="view-incident"):
                yield InterruptBanner()
                yield HeadlineGrid(id="incident-figures")

    def on_mount(self) -> None:
        """Read-only badge, the first view's name, and the cycle's timer."""
        super().on_mount()
        self._show_bar()
        if len(self.views) > 1:
            self._timer = self.set_interval(self.wall.cycle_s, self.next_view)

    def next_view(self) -> None:
        """The cycle's next view (the view under an interruption moves on too)."""
        self.view = self.views[(self.views.index(self.view) + 1) % len(self.views)]

    def watch_view(self, view: str) -> None:
        """Switch to ``view`` unless something holds the wall."""
        if not self.held:
            self.query_one(ContentSwitcher).current = f"view-{view}"
        self._show_bar()

    def _show_bar(self) -> None:
        bar = self.query_one(ViewBar)
        bar.set_class(bool(self.held), "-held")
        if self.held:
            text = f"✗ INCIDENT · {sev_words(self.held)} · held until it resolves"
        else:
            position = f"{self.views.index(self.view) + 1}/{len(self.views)}"
            every = f" · next every {self.wall.cycle_s:g}s" if len(self.views) > 1 else ""
            text = f"VIEW {VIEW_NAMES[self.view]} ({position}){every} · read-only wall"
        bar.update(Text(text, no_wrap=True, overflow="ellipsis"))

    def show(self, snapshot: FleetSnapshot) -> None:
        """Hand the snapshot to the header and every view; hold on trouble, release after."""
        self.query_one(FleetHeader).snapshot = snapshot
        held = holding(snapshot, self.incidents)
        if held != self.held:
            self.held = held
            banner = self.query_one(InterruptBanner)
            banner.held = held
            switcher = self.query_one(ContentSwitcher)
            switcher.current = "view-incident" if held else f"view-{self.view}"
            self._show_bar()
        for widget in self.query("HeadlineGrid, BackendsTable, GpuTable, AlertsPanel"):
            widget.snapshot = snapshot  # type: ignore[attr-defined]
        self.query_one(InterruptBanner).snapshot = snapshot
