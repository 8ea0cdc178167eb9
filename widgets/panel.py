"""The base of every dashboard panel: a bordered box that renders one `FleetSnapshot`."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from itertools import pairwise
from typing import Self

from rich.console import Console, Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

from tui.model import FleetSnapshot, SourceState
from widgets.sources import describe_status, worst_status

LEVELS = ("ok", "warn", "breach")


def text_segments(text: Text, base: Style, console: Console) -> list[Segment]:
    """The segments of a one-line `Text` over ``base``, without Rich's per-span style stack.

    Lines built by appending (`widgets.lines.grid`) have spans that do not overlap; each
    span is one segment. Where spans overlap (a cell with a style of its own and spans
    inside it), each run between span edges gets the styles over it, as Rich combines them.
    """
    plain = text.plain
    if text.style:
        own = text.style if isinstance(text.style, Style) else console.get_style(text.style)
        base = base + own
    segments: list[Segment] = []
    position = 0
    for span in text.spans:
        start, end, style = span
        if start < position:
            return [Segment(plain[a:b], base + style) for a, b, style in styled_runs(text, console)]
        if start > position:
            segments.append(Segment(plain[position:start], base))
        if end > start:
            span_style = style if isinstance(style, Style) else console.get_style(style)
            segments.append(Segment(plain[start:end], base + span_style))
        position = max(position, end)
    if position < len(plain):
        segments.append(Segment(plain[position:], base))
    return segments


def styled_runs(text: Text, console: Console) -> list[tuple[int, int, Style]]:
    """(start, end, style) of each run of ``text`` whose style is the same, as Rich's
    ``Text.render`` styles it: the text's own style, then the spans over the run in the
    order they were added."""
    get = partial(console.get_style, default=Style.null())
    length = len(text.plain)
    spans = [(max(s.start, 0), min(s.end, length), get(s.style)) for s in text.spans]
    spans = [span for span in spans if span[0] < span[1]]
    own = get(text.style) if text.style else Style.null()
    if not spans:
        return [(0, length, own)] if length else []
    cuts = sorted({0, length, *(s[0] for s in spans), *(s[1] for s in spans)})
    runs = []
    for start, end in pairwise(cuts):
        styles = [style for s, e, style in spans if s <= start and end <= e]
        runs.append((start, end, Style.combine([own, *styles])))
    return runs


class ChangedLines(Widget):
    """A widget drawn from ``render()`` that repaints only the lines whose content changed.

    Call `repaint_changed_lines` instead of ``refresh()`` when the data changed; a theme or
    state-class change, or a new width, draws every line afresh.
    """

    _strips: list[Strip] | None = None
    """The lines drawn now (``render()`` at the content width), or None to draw afresh."""
    _strips_width = 0

    def repaint_changed_lines(self) -> None:
        """Draw the panel again and repaint only the lines that differ from what it shows.

        Textual repaints a widget's whole region on ``refresh()``; a live panel changes a
        few figures a second, so only those lines are handed to the compositor.
        """
        old = self._strips
        if not self.size.width:  # not shown (display: none): drawn afresh once it is
            self._strips = None
            return
        if old is None or not self.is_mounted:
            self._strips = None
            self.refresh()
            return
        new = self._strips = self._draw()
        refresh_changed_rows(self, old, new)

    def lines(self, width: int) -> list[Text] | None:
        """The content as one `Text` per line at ``width`` (cheap: no Rich layout), or None
        to draw ``render()`` through Rich instead."""
        return None

    def render(self) -> RenderableType:
        """The content as Rich renders it (Textual measures heights with it; tests read it)."""
        lines = self.lines(self.drawing_width or 80)
        return Group(*lines) if lines else ""

    _measured_width: int | None = None

    @property
    def drawing_width(self) -> int:
        """The content width to draw for: the one being measured during a layout (before
        the first one, ``size`` is still 0), else the widget's own."""
        return self._measured_width or self.size.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The height at ``width``: content that depends on the width (columns given up,
        lines wrapped) is measured as it will be drawn. Textual keeps the result per width
        until the next repaint, so a wrong first measure would stay."""
        self._measured_width = width
        try:
            return super().get_content_height(container, viewport, width)
        finally:
            self._measured_width = None

    def _draw(self) -> list[Strip]:
        """The content lines at the current width: `lines` when given, else ``render()``."""
        self._strips_width = width = self.size.width
        texts = self.lines(width)
        if texts is None:
            visual = visualize(self, self.render())
            return Visual.to_strips(self, visual, width, None, self.visual_style)
        console = self.app.console
        base = self.visual_style.rich_style
        # A Strip is costly to make (it carries caches): lines whose text did not change
        # keep theirs. The memo lives as long as the width and the styles do.
        memo = self._memo if self._memo_for == (width, base) else {}
        strips: list[Strip] = []
        kept: dict[object, Strip] = {}
        for text in texts:
            key = (text.plain, tuple(text.spans), text.style)
            strip = memo.get(key)
            if strip is None:
                strip = Strip(text_segments(text, base, console)).crop(0, width)
            strips.append(kept.setdefault(key, strip))
        self._memo, self._memo_for = kept, (width, base)
        return strips

    _memo: dict[object, Strip] = {}  # replaced, never mutated
    _memo_for: object = None

    STYLE_PREFIX = ""
    """The prefix of this widget's component classes (``panel--``): `kept_style` names
    them without it."""

    _styles_kept: dict[str, Style] = {}  # replaced, never mutated

    def kept_style(self, name: str) -> Style:
        """The Rich style of one of this widget's component classes (``ok``, ``dim``, ...).

        Kept until the styles change: Textual forgets its own copy on every repaint, and a
        panel or the header asks for dozens of these each refresh.
        """
        style = self._styles_kept.get(name)
        if style is None:
            style = self.get_component_rich_style(f"{self.STYLE_PREFIX}{name}", partial=True)
            self._styles_kept = {**self._styles_kept, name: style}
        return style

    def refresh(self, *regions: Region, **kwargs: bool) -> Self:
        """A repaint of the whole widget (a badge, a title, a theme) draws every line afresh
        and looks the component styles up again (Textual asks for one when they change)."""
        if not regions:
            self._styles_kept = {}
            if kwargs.get("repaint", True):
                self._strips = None
        return super().refresh(*regions, **kwargs)

    def notify_style_update(self) -> None:
        """Styles changed (a theme, a state class): draw every line afresh."""
        self._strips = None
        self._memo_for = None
        self._styles_kept = {}
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        """One content line, from the lines drawn last (drawn now if the size changed)."""
        strips = self._strips
        if strips is None or self._strips_width != self.size.width:
            strips = self._strips = self._draw()
        if y < len(strips):
            return strips[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)


class Panel(ChangedLines):
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

    STYLE_PREFIX = "panel--"
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

    snapshot: reactive[FleetSnapshot | None] = reactive(None, always_update=True, repaint=False)
    """The snapshot to render; only the lines it changes are repainted."""

    TITLE = "panel"
    _shape: object = None
    _subtitle: str | None = None
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
        self.set_subtitle(describe_status(worst, snapshot.taken_at))
        shape = self.shape(snapshot)
        # A layout pass costs far more than a repaint: ask for one only when the number of
        # rows this panel draws has changed.
        if shape != self._shape:
            self._shape = shape
            self._strips = None
            self.refresh(layout=True)
            return
        self.repaint_changed_lines()

    def set_subtitle(self, subtitle: str) -> None:
        """Set the border subtitle; an equal one is left alone (setting it repaints it all)."""
        if subtitle != self._subtitle:
            self._subtitle = subtitle
            self.border_subtitle = subtitle

    def shape(self, snapshot: FleetSnapshot) -> object:
        """What decides this panel's height (rows drawn); a change asks for a new layout."""
        return (len(snapshot.gpus), len(snapshot.pools), snapshot.fleet is None)

    def style(self, name: str) -> Style:
        """The Rich style of one of this panel's component classes (`kept_style`)."""
        return self.kept_style(name)

    def pool_style(self, pool: str) -> Style:
        """The colour of a pool: blue and green by name, others alike."""
        return self.style(pool if pool in ("blue", "green") else "other")


def refresh_changed_rows(widget: Widget, old: Sequence[object], new: Sequence[object]) -> None:
    """Repaint only the rows of ``widget`` whose drawing differs between ``old`` and ``new``
    (the whole widget when the number of rows changed)."""
    if len(new) != len(old):
        widget.refresh()
        return
    width = widget.size.width
    changed = [
        Region(0, y, width, 1) for y, (a, b) in enumerate(zip(old, new, strict=True)) if a != b
    ]
    if changed:
        widget.refresh(*changed)
