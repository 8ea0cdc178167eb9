"""What the SLO, Capacity and Models screens share: the app's `Judging`, a worker's result.

Figures that need I/O (Prometheus range queries, psutil's half-second sample, node
exporter) are read in a thread worker — one per screen at a time (an exclusive group),
every ``Judging.poll_s`` seconds while the screen is shown — and come back as a
`Polled` message; everything else is computed from each snapshot on the main thread.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.screen import Screen

from tui.judging import Judging, Observation, dashboard_observation, prometheus_of
from tui.model import FleetSnapshot
from tui.screens.live import LiveScreen
from tui.sources.prometheus import PrometheusSource


def judging_of(screen: Screen[Any]) -> Judging:
    """The app's `Judging` (the defaults when the app was given none)."""
    found = getattr(screen.app, "judging", None)
    return found if isinstance(found, Judging) else Judging()


class Polled(Message):
    """A worker's figures, or the one-line reason it could not read them."""

    def __init__(self, result: object, error: str = "") -> None:
        super().__init__()
        self.result = result
        self.error = error


class JudgedScreen(LiveScreen):
    """A live screen that also polls slow figures in a thread worker (see the module)."""

    WORKER_GROUP = "judging"

    def __init__(self, clock: object, **kwargs: object) -> None:
        super().__init__(clock, **kwargs)
        self._polling = False

    @property
    def judging(self) -> Judging:
        """The app's config and readers for judging."""
        return judging_of(self)

    def prometheus(self) -> PrometheusSource | None:
        """The hub's Prometheus source, when one is configured."""
        hub = getattr(self.app, "hub", None)
        return prometheus_of(hub.sources) if hub is not None else None

    def observation(self, snapshot: FleetSnapshot, *, with_prometheus: bool) -> Observation:
        """The dashboard's observation of ``snapshot`` (Prometheus only for workers)."""
        hub = getattr(self.app, "hub", None)
        step = getattr(hub, "refresh_s", 1.0)
        prom = self.prometheus() if with_prometheus else None
        return dashboard_observation(self.judging.config, snapshot, step, prom)

    def on_mount(self) -> None:
        """Arm the poll timer."""
        super().on_mount()
        if self.needs_worker():
            self.set_interval(self.judging.poll_s, self._poll_if_shown)

    def on_screen_resume(self) -> None:
        """Poll at once when the screen comes up (figures may be old), then as timed."""
        super().on_screen_resume()
        self._poll_if_shown()

    def needs_worker(self) -> bool:
        """Whether this screen has figures that only a worker may read."""
        return False

    def _poll_if_shown(self) -> None:
        latest = getattr(self.app, "latest", None)
        if self._polling or not self.is_current or not isinstance(latest, FleetSnapshot):
            return
        if not self.needs_worker():
            return
        self._polling = True  # polls never overlap: the next waits until this one is done
        self.run_worker(
            lambda: self._poll(latest),
            thread=True,
            group=self.WORKER_GROUP,
            exclusive=True,
            exit_on_error=False,
        )

    def _poll(self, snapshot: FleetSnapshot) -> None:
        try:
            result = self.read(snapshot)
        except Exception as exc:  # one line for the operator; the app goes on
            self.post_message(Polled(None, " ".join(f"{type(exc).__name__}: {exc}".split())))
        else:
            self.post_message(Polled(result))

    def read(self, snapshot: FleetSnapshot) -> object:
        """The slow figures (runs in a thread: no widget may be touched here)."""
        raise NotImplementedError

    def on_polled(self, message: Polled) -> None:
        """Keep the worker's figures and show them with the newest snapshot."""
        self._polling = False
        self.polled(message.result, message.error)
        latest = getattr(self.app, "latest", None)
        if isinstance(latest, FleetSnapshot) and not getattr(self.app, "paused", False):
            self.show(latest)

    def polled(self, result: object, error: str) -> None:
        """Store a worker's result (main thread)."""
