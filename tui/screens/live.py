"""The base of every screen that shows live snapshots."""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual.css.query import NoMatches
from textual.geometry import Size
from textual.screen import Screen
from textual.types import NoActiveAppError
from textual.widgets import Static

from tui.model import FleetSnapshot
from widgets.header import FleetHeader


class LiveScreen(Screen[None]):
    """A screen fed whole snapshots by the app; it catches up whenever it comes back."""

    def __init__(self, clock: object, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        # made outside a running app, the first resize sets them
        with contextlib.suppress(NoActiveAppError):
            self.update_classes(self.breakpoint_classes(self.app.size), update=False)

    def breakpoint_classes(self, size: Size) -> dict[str, bool]:
        """Which of this screen's breakpoint classes a terminal of ``size`` has on, by
        Textual's own rule (textual is pinned, so its private helper is safe to call).

        Set when the screen is made, as Textual sets them on its first resize: there, a
        change restyles every widget on the screen once more after each was styled at
        mount (26 ms of the first frame on the overview).
        """
        horizontal = self.HORIZONTAL_BREAKPOINTS
        vertical = self.VERTICAL_BREAKPOINTS
        horizontal = (self.app.HORIZONTAL_BREAKPOINTS if horizontal is None else horizontal) or []
        vertical = (self.app.VERTICAL_BREAKPOINTS if vertical is None else vertical) or []
        on = self._get_breakpoint_classes(size.width, horizontal)
        on |= self._get_breakpoint_classes(size.height, vertical)
        return {name: name in on for _, name in [*horizontal, *vertical]}

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


def show_line(line: Static, content: Text | None) -> None:
    """Show ``content`` in ``line`` (hidden when None); an equal content is left alone.

    ``Static.update`` lays the screen out again each time: a snapshot a second must not
    cause one when the line did not change.
    """
    shown = content if content is not None else ""
    if getattr(line, "_inferdeck_shown", None) != shown:
        line._inferdeck_shown = shown  # type: ignore[attr-defined]
        line.update(shown)
    line.display = content is not None
