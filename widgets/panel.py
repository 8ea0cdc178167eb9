"""The base of every dashboard panel: a bordered box that renders one `FleetSnapshot`."""

from __future__ import annotations

from rich.style import Style
from textual.reactive import reactive
from textual.widget import Widget

from tui.model import FleetSnapshot, SourceState
from widgets.sources import describe_status, worst_status

LEVELS = ("ok", "warn", "breach")


class Panel(Widget):
    """A bordered panel fed whole snapshots; its border tells its sources' state.

    | Class | Meaning |
    |---|---|
    | `-stale` | the panel's source failed or has not delivered for a while: figures dimmed |
    | `-error` | the panel's source failed; the border subtitle says why |

    | Component class | Used for |
    |---|---|
    | `panel--ok`, `panel--warn`, `panel--breach` | a figure within, near, or past its SLO |
    | | (without colour, `NO_COLOR`: plain, bold underlined, bold reversed) |
    | `panel--dim` | labels and units |
    | `panel--blue`, `panel--green`, `panel--other` | pool colours |
    """

    COMPONENT_CLASSES = {
        "panel--ok",
        "panel--warn",
        "panel--breach",
        "panel--dim",
        "panel--blue",
        "panel--green",
        "panel--other",
        "panel--empty",
    }

    DEFAULT_CSS = """
    Panel {
        border: round $primary 40%;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        height: auto;
        &.-stale { opacity: 70%; border: round $stale; border-subtitle-color: $stale; }
        &.-error { border: round $slo-breach; border-subtitle-color: $slo-breach; }
        & > .panel--ok { color: $slo-ok; }
        & > .panel--warn { color: $slo-warn; text-style: bold; }
        & > .panel--breach { color: $slo-breach; text-style: bold; }
        & > .panel--dim { color: $muted; }
        & > .panel--blue { color: $pool-blue; }
        & > .panel--green { color: $pool-green; }
        & > .panel--other { color: $pool-other; }
        & > .panel--empty { color: $gauge-empty; }
        &:nocolor {
            & > .panel--ok { color: $foreground; }
            & > .panel--warn { color: $foreground; text-style: bold underline; }
            & > .panel--breach { color: $foreground; text-style: bold reverse; }
        }
    }
    """

    snapshot: reactive[FleetSnapshot | None] = reactive(None, always_update=True)
    """The snapshot to render; assigning a new one repaints the panel."""

    TITLE = "panel"
    _shape: object = None
    SOURCES: tuple[str, ...] = ("scrape",)
    """Names of the sources this panel's figures come from."""

    def on_mount(self) -> None:
        """Show the title before the first snapshot arrives."""
        self.border_title = self.TITLE

    def watch_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        """Reflect the sources' state on the border, then repaint."""
        if snapshot is None:
            return
        statuses = [s for s in snapshot.sources if s.name in self.SOURCES]
        worst = worst_status(statuses)
        # Figures of a failing source are its last ones (for at most 3 intervals): dim
        # them as well as stale ones, so nothing old looks live.
        self.set_class(
            worst is not None and worst.state in (SourceState.STALE, SourceState.ERROR), "-stale"
        )
        self.set_class(
            worst is not None and worst.state in (SourceState.ERROR, SourceState.UNAVAILABLE),
            "-error",
        )
        self.border_subtitle = describe_status(worst, snapshot.taken_at)
        shape = self.shape(snapshot)
        # A layout pass costs far more than a repaint: ask for one only when the number of
        # rows this panel draws has changed.
        self.refresh(layout=shape != self._shape)
        self._shape = shape

    def shape(self, snapshot: FleetSnapshot) -> object:
        """What decides this panel's height (rows drawn); a change asks for a new layout."""
        return (len(snapshot.gpus), len(snapshot.pools), snapshot.fleet is None)

    def style(self, name: str) -> Style:
        """The Rich style of one of this panel's component classes (``ok``, ``dim``, ...)."""
        return self.get_component_rich_style(f"panel--{name}", partial=True)

    def pool_style(self, pool: str) -> Style:
        """The colour of a pool: blue and green by name, others alike."""
        return self.style(pool if pool in ("blue", "green") else "other")
