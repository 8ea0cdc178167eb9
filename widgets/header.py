"""The header: environment, SLO tier, overall state, clock and the age of the freshest data."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive

from tui.model import FleetSnapshot, OverallState
from widgets.format import age, safe
from widgets.panel import ChangedLines

STATE_CLASS = {
    OverallState.OK: "ok",
    OverallState.WARNING: "warn",
    OverallState.DEGRADED: "warn",
    OverallState.DOWN: "breach",
    OverallState.NO_DATA: "breach",  # nothing answers: as loud as down
    OverallState.UNKNOWN: "dim",
}


def fit_reasons(reasons: Sequence[str], width: int) -> str:
    """As many reasons as fit in ``width`` cells, worst first, then ``+N more``.

    The first reason is always shown, cut with an ellipsis if it alone is too long (the
    ``+N more`` after it is kept), so a state other than OK never comes without a why.
    """
    parts = [safe(r) for r in reasons]
    for count in range(len(parts), 0, -1):
        rest = len(parts) - count
        more = f"; +{rest} more" if rest else ""
        text = "; ".join(parts[:count]) + more
        if cell_len(text) <= width:
            return text
    if not parts:
        return ""
    more = f"; +{len(parts) - 1} more" if len(parts) > 1 else ""
    room = max(width - cell_len(more) - 1, 1)
    first = parts[0]
    while cell_len(first) > room:
        first = first[:-1]
    return first + "…" + more


class FleetHeader(ChangedLines):
    """Answers "is the fleet healthy?" in one line, and says why not in a second.

    | Component class | Used for |
    |---|---|
    | `fleet-header--ok`, `--warn`, `--breach` | the overall state badge |
    | `fleet-header--dim` | labels |
    | `fleet-header--paused` | the PAUSED badge |
    | `fleet-header--read-only` | the READ-ONLY badge |
    | `fleet-header--drill` | what the autopilot proposes, a load test running |
    | `fleet-header--recording` | REC STOPPED: the flight recorder cannot write, and why |
    """

    STYLE_PREFIX = "fleet-header--"
    COMPONENT_CLASSES = {
        "fleet-header--ok",
        "fleet-header--warn",
        "fleet-header--breach",
        "fleet-header--dim",
        "fleet-header--paused",
        "fleet-header--read-only",
        "fleet-header--replay",
        "fleet-header--brand",
        "fleet-header--reasons",
        "fleet-header--drill",
        "fleet-header--recording",
    }

    DEFAULT_CSS = """
    FleetHeader {
        height: auto;
        max-height: 2;
        background: $panel;
        padding: 0 1;
        & > .fleet-header--ok { background: $slo-ok; color: $background; text-style: bold; }
        & > .fleet-header--warn { background: $slo-warn; color: $background; text-style: bold; }
        & > .fleet-header--breach { background: $slo-breach; color: $background; text-style: bold; }
        & > .fleet-header--dim { color: $muted; }
        & > .fleet-header--paused { background: $accent; color: $background; text-style: bold; }
        & > .fleet-header--read-only { background: $warning; color: $background; text-style: bold; }
        & > .fleet-header--replay { background: $accent; color: $background; text-style: bold; }
        & > .fleet-header--brand { color: $primary; text-style: bold; }
        & > .fleet-header--reasons { color: $slo-warn; }
        & > .fleet-header--drill { color: $accent; text-style: bold; }
        & > .fleet-header--recording { background: $error; color: $background; text-style: bold; }
        &:nocolor > .fleet-header--reasons { color: $foreground; text-style: underline; }
    }
    """

    snapshot: reactive[FleetSnapshot | None] = reactive(None, always_update=True, repaint=False)
    """The latest snapshot; only the characters it changes are repainted."""
    paused: reactive[bool] = reactive(False)
    """Whether live updates are paused (shown as a badge)."""
    read_only: reactive[bool] = reactive(False)
    """Whether actions are off (``--read-only``; shown as a badge)."""
    replay: reactive[str] = reactive("")
    """In a replay: the recorded day and play state (``2026-11-30 ▶ 10x``), shown first as
    a REPLAY badge; the clock then shows the recorded time (the app's clock is the
    recording's). Empty on a live fleet."""
    drill: reactive[str] = reactive("")
    """``proposed: restart green-0 (rule restart-on-oom)``, a load test's progress, or ""."""

    def __init__(self, clock: Callable[[], float] = time.time, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self._lines = 1  # lines drawn now: the state line, and the reasons when not OK

    def on_mount(self) -> None:
        """Tick the clock and the data age once a second, even when no data arrives."""
        self._painted_at = 0.0
        self.set_interval(1.0, self._tick)

    def watch_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        """Repaint; when the reason line comes or goes, lay the screen out again.

        ``height: auto`` is measured at layout time only: without a new layout the header
        would keep its old height, and a reason line appearing would stay cut off until
        something else (a resize) asked for one.
        """
        self._painted_at = time.monotonic()
        lines = 2 if snapshot is not None and snapshot.overall_reasons else 1
        if lines != self._lines:
            self._lines = lines
            self._strips = None
            self.refresh(layout=True)
            return
        self.repaint_changed_lines()

    def _tick(self) -> None:
        # Snapshots arrive every refresh and redraw the header: a tick in between would be
        # one more frame a second. Tick only when data has stopped coming, so the clock and
        # the data's age keep moving; only the header's changed characters are repainted.
        if time.monotonic() - self._painted_at >= 0.9:
            self.repaint_changed_lines()

    def lines(self, width: int) -> list[Text]:
        """The state line and, when not OK, the reasons, each cut to ``width`` with ``…``
        (drawn straight to strips: no Rich layout each second)."""
        snapshot = self.snapshot
        now = self.clock()
        dim = self.kept_style("dim")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("inferdeck ", self.kept_style("brand"))
        if self.replay:  # first, so a replay is never read as the fleet now
            line.append(f" REPLAY {self.replay} ", self.kept_style("replay"))
            line.append(" ")
        state = snapshot.overall if snapshot else OverallState.UNKNOWN
        line.append(f" {state.value} ", self.kept_style(STATE_CLASS[state]))
        if snapshot is not None:
            line.append("  env ", dim)
            line.append(safe(snapshot.environment))
            line.append(" · SLO ", dim)
            line.append(snapshot.slo_tier.capitalize())
        line.append(" · recorded " if self.replay else " · ", dim)
        line.append(time.strftime("%H:%M:%S", time.localtime(now)))
        fresh = snapshot.freshest_data_at if snapshot else None
        line.append(" · data ", dim)
        line.append(age(now - fresh) if fresh is not None else "none")
        if self.paused:
            line.append("  ")
            line.append(" PAUSED ", self.kept_style("paused"))
        if self.read_only:
            line.append("  ")
            line.append(" READ-ONLY ", self.kept_style("read-only"))
        if self.drill:
            line.append("  ")
            line.append(safe(self.drill), self.kept_style("drill"))
        stopped = getattr(self.app, "recording_stopped", None)  # why the recorder cannot write
        if stopped:
            line.append("  ")
            line.append(" REC STOPPED ", self.kept_style("recording"))
            line.append(" " + safe(stopped), self.kept_style("reasons"))
        if line.cell_len > width:
            line.truncate(width, overflow="ellipsis")
        if snapshot is None or not snapshot.overall_reasons:
            return [line]
        reasons = Text(
            fit_reasons(snapshot.overall_reasons, width),
            self.kept_style("reasons"),
            no_wrap=True,
            overflow="ellipsis",
        )
        if reasons.cell_len > width:
            reasons.truncate(width, overflow="ellipsis")
        return [line, reasons]
