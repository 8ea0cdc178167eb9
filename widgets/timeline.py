"""The replay's timeline: where in the recording the dashboard is, and what happened when.

One line: the recorded time and play state, then a bar from the recording's first frame to
its last with a cursor at the frame shown and a mark at each event — ``!`` an alert fired
or resolved, ``◆`` something people did (an action, an ack, a note), ``●`` another
incident event — and the span of an incident, when replaying one, underlined.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

MARKS = {"alert": "!", "action": "◆", "incident": "●"}
"""The character each kind of event is marked with (later kinds win a shared cell)."""
PRIORITY = {"incident": 0, "action": 1, "alert": 2}


@dataclass(frozen=True, slots=True)
class TimelineState:
    """What the timeline shows: the recording's span, the frame shown, events, play state."""

    start: float
    end: float
    at: float
    frame: int
    frames: int
    marks: tuple[tuple[float, str], ...] = ()  # (time, "alert" | "action" | "incident")
    playing: bool = False
    speed: float = 1.0
    span: tuple[float, float] | None = None  # an incident's, underlined


def bar(state: TimelineState, width: int) -> tuple[list[str], int, set[int]]:
    """The bar's cells, the cursor's cell and the cells inside ``span``."""
    width = max(width, 1)
    length = max(state.end - state.start, 1e-9)

    def cell(at: float) -> int:
        return max(0, min(width - 1, int((at - state.start) / length * (width - 1) + 0.5)))

    cells = ["─"] * width
    ranks = [-1] * width
    for at, kind in state.marks:
        if state.start <= at <= state.end + 1 and kind in MARKS:
            i = cell(at)
            if PRIORITY[kind] > ranks[i]:
                cells[i], ranks[i] = MARKS[kind], PRIORITY[kind]
    inside: set[int] = set()
    if state.span is not None:
        inside = set(range(cell(state.span[0]), cell(state.span[1]) + 1))
    return cells, cell(state.at), inside


class ReplayTimeline(Widget):
    """The replay's timeline bar (see the module).

    | Component class | Used for |
    |---|---|
    | `replay-timeline--label` | the REPLAY label and time |
    | `replay-timeline--cursor` | the frame shown |
    | `replay-timeline--alert`, `--action`, `--incident` | event marks |
    """

    COMPONENT_CLASSES = {
        "replay-timeline--label",
        "replay-timeline--cursor",
        "replay-timeline--alert",
        "replay-timeline--action",
        "replay-timeline--incident",
        "replay-timeline--dim",
    }

    DEFAULT_CSS = """
    ReplayTimeline {
        height: 1;
        background: $panel;
        padding: 0 1;
        & > .replay-timeline--label { background: $accent; color: $background; text-style: bold; }
        & > .replay-timeline--cursor { background: $foreground; color: $background; }
        & > .replay-timeline--alert { color: $slo-breach; text-style: bold; }
        & > .replay-timeline--action { color: $warning; text-style: bold; }
        & > .replay-timeline--incident { color: $primary; }
        & > .replay-timeline--dim { color: $muted; }
    }
    """

    state: reactive[TimelineState | None] = reactive(None)
    """What to show; None until the first frame."""

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"replay-timeline--{name}", partial=True)

    def render(self) -> RenderableType:
        """The label, the bar, the frame count."""
        state = self.state
        line = Text(no_wrap=True, overflow="ellipsis")
        if state is None:
            line.append(" REPLAY ", self._style("label"))
            return line
        play = f"▶ {state.speed:g}x" if state.playing else "❚❚"
        label = f" REPLAY {time.strftime('%H:%M:%S', time.localtime(state.at))} {play} "
        line.append(label, self._style("label"))
        count = f" {state.frame + 1}/{state.frames}"
        width = (self.content_region.width or self.size.width or 80) - len(label) - len(count) - 1
        cells, cursor, inside = bar(state, max(width, 10))
        line.append(" ")
        kinds = {v: k for k, v in MARKS.items()}
        for i, ch in enumerate(cells):
            style = self._style(kinds[ch]) if ch in kinds else self._style("dim")
            if i in inside:
                style += Style(underline=True)
            if i == cursor:
                style = self._style("cursor")
                ch = "┃" if ch == "─" else ch
            line.append(ch, style)
        line.append(count, self._style("dim"))
        return line


def state_of(
    *,
    times: Sequence[float],
    index: int,
    marks: Sequence[tuple[float, str]],
    playing: bool,
    speed: float,
    span: tuple[float, float] | None = None,
) -> TimelineState:
    """A `TimelineState` from a recording's frame times and the position in them."""
    return TimelineState(
        start=times[0] if times else 0.0,
        end=times[-1] if times else 0.0,
        at=times[index] if times else 0.0,
        frame=index,
        frames=len(times),
        marks=tuple(marks),
        playing=playing,
        speed=speed,
        span=span,
    )
