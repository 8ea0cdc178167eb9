"""The base of the judging panels (SLO, capacity, models): a `Panel` that renders one report.

A report is an analysis object (objectives, an error budget, a scaling decision, ...),
never a config or a source. Assigning an equal report again repaints nothing; a report
that draws a different number of lines asks for a new layout.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from tui.analysis.budget import ObjectiveState
from widgets.panel import Panel

#: How a state is shown: a word and a symbol, so it never depends on colour alone.
MARKS: dict[str, tuple[str, str]] = {
    "met": ("✓", "ok"),
    "ok": ("✓", "ok"),
    "in target": ("✓", "ok"),
    "in band": ("✓", "ok"),
    "ample": ("✓", "ok"),
    "at risk": ("▲", "warn"),
    "warn": ("▲", "warn"),
    "below target": ("▽", "warn"),
    "above target": ("▲", "warn"),
    "idle": ("▽", "warn"),
    "short": ("▲", "breach"),
    "breached": ("✗", "breach"),
    "breach": ("✗", "breach"),
    "saturated": ("✗", "breach"),
    "unknown": ("?", "dim"),
}


def mark(state: ObjectiveState | str) -> tuple[str, str]:
    """(``"✓ met"``, style name) for a state word."""
    symbol, style = MARKS.get(state, ("·", "dim"))
    return f"{symbol} {state}", style


class ReportPanel(Panel):
    """A bordered panel that renders ``report`` (an analysis object) instead of a snapshot."""

    report: reactive[object | None] = reactive(None, always_update=True, repaint=False)
    """The analysis object to render; an equal one is not redrawn."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: object = None
        self._lines: object = None

    def watch_report(self, report: object | None) -> None:
        """Repaint only when the report changed; lay out again when its height did."""
        if report == self._shown and self._lines is not None:
            return
        self._shown = report
        lines = self.line_count(report)
        if lines != self._lines:
            self._lines = lines
            self._strips = None
            self.refresh(layout=True)
            return
        self.repaint_changed_lines()

    def line_count(self, report: object | None) -> object:
        """How many lines ``report`` draws, or what decides it (a change asks for a layout)."""
        return 0

    def render(self) -> RenderableType:
        """The report, or a waiting line before the first one."""
        if self._shown is None:
            return Text("waiting for data…", self.style("dim"))
        return self.render_report(self._shown)

    def render_report(self, report: object) -> RenderableType:
        """Subclasses draw their report here."""
        raise NotImplementedError

    def style(self, name: str) -> Style:
        """A component class's style (``ok``, ``dim``, ...); ``""`` is plain text."""
        return super().style(name) if name else Style()

    def state_text(self, state: str) -> Text:
        """A state as word and symbol, styled by its level."""
        word, style = mark(state)
        return Text(word, self.style(style))
