"""The base of every screen that shows live snapshots."""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.screen import Screen

from tui.model import FleetSnapshot
from widgets.header import FleetHeader


class LiveScreen(Screen[None]):
    """A screen fed whole snapshots by the app; it catches up whenever it comes back."""

    def __init__(self, clock: object, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock

    def on_screen_resume(self) -> None:
        """Show the app's newest snapshot and pause state whenever this screen comes up."""
        latest = getattr(self.app, "latest", None)
        try:
            if isinstance(latest, FleetSnapshot):
                self.show(latest)
            self.set_paused(bool(getattr(self.app, "paused", False)))
            if getattr(self.app, "replay", None) is not None:
                self.app.show_replay_position()  # type: ignore[attr-defined]
        except NoMatches:  # resumed before its widgets are mounted: the next snapshot shows
            pass

    def on_mount(self) -> None:
        """Badge the header READ-ONLY when no action may run; in a replay, add the
        timeline above the footer."""
        self.query_one(FleetHeader).read_only = getattr(self.app, "read_only", None) is not None
        if getattr(self.app, "replay", None) is not None:
            from textual.widgets import Footer

            from widgets.timeline import ReplayTimeline

            footers = self.query(Footer)
            self.mount(ReplayTimeline(), before=footers.first() if footers else None)
            self.call_after_refresh(self.app.show_replay_position)  # type: ignore[attr-defined]

    def show(self, snapshot: FleetSnapshot) -> None:
        """Hand the snapshot to this screen's widgets."""
        raise NotImplementedError

    def show_header(self, snapshot: FleetSnapshot) -> None:
        """Hand the snapshot to the header only (the view is paused, the state is not)."""
        self.query_one(FleetHeader).snapshot = snapshot

    def set_paused(self, paused: bool) -> None:
        """Show or hide the PAUSED badge."""
        self.query_one(FleetHeader).paused = paused
