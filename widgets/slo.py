"""The SLO screen's panels (objectives, error budget) and the overview's one-line summary."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive

from tui.analysis.budget import ErrorBudget, Objective, duration
from widgets.levels import marked
from widgets.panel import ChangedLines
from widgets.report import ReportPanel, mark
from widgets.text import outside

SUMMARY_BURN_S = 3600.0
"""The burn-rate window the overview's summary line quotes (1h)."""

SCREEN_BURN_S = (300.0, 3600.0, 21600.0, 259200.0)
"""The burn-rate windows the SLO screen lists: 5m, 1h, 6h, 3d."""


def burn_shown(rate: float | None) -> str:
    """A burn rate as the operator reads it: ``0.4x``, ``-`` when unknown."""
    return "-" if rate is None else f"{rate:.2g}x" if rate < 10 else f"{rate:.0f}x"


class ObjectivesPanel(ReportPanel):
    """Every objective of the tier: value, target, and met / at risk / breached.

    ``report`` is a tuple of `Objective`; states are words with a symbol, never colour alone.
    """

    TITLE = "Objectives"

    def line_count(self, report: object | None) -> int:
        """A heading and a row per objective."""
        return 1 + len(report) if isinstance(report, tuple) else 1

    def render_report(self, report: object) -> RenderableType:
        """The objectives as a table."""
        found: Sequence[Objective] = report  # type: ignore[assignment]
        dim = self.style("dim")
        wide = self.drawing_width >= 100  # narrower, the source column goes: the state stays whole
        table = Table.grid(padding=(0, 2 if wide else 1), expand=True)
        table.add_column(no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", no_wrap=True, overflow="ellipsis")
        table.add_column(no_wrap=True, min_width=10)
        heads = ["Objective", "Value", "Target", "State"]
        if wide:
            table.add_column(no_wrap=True, ratio=1, overflow="ellipsis")
            heads.append("Source")
        table.add_row(*(Text(h, dim) for h in heads))
        for o in found:
            word, style = mark(o.state)
            cells = [
                Text(o.label),
                Text(o.shown, self.style(style if o.state != "met" else "")),
                Text(o.shown_target, dim),
                Text(word, self.style(style)),
            ]
            if wide:
                cells.append(outside(o.note, dim))
            table.add_row(*cells)
        return table


class BudgetPanel(ReportPanel):
    """The error budget: allowed, used and left, where it comes from, burn rates and alerts.

    ``report`` is an `ErrorBudget`.
    """

    TITLE = "Error budget"

    def line_count(self, report: object | None) -> object:
        """Five lines (the source's detail may wrap), and one per burn-rate alert."""
        if not isinstance(report, ErrorBudget):
            return 1
        return 5 + len(report.alerts), len(report.source_detail)

    def render_report(self, report: object) -> RenderableType:
        """The budget's figures, then burn rates, then the multi-window alerts."""
        b: ErrorBudget = report  # type: ignore[assignment]
        dim = self.style("dim")
        left = b.remaining_pct
        state = "breached" if left <= 0 else "at risk" if left < 25 else "met"
        word, style = mark(state)
        figures = Text(no_wrap=True, overflow="ellipsis")
        figures.append("allowed ", dim).append(f"{b.allowed_min:.1f} min")
        figures.append(" · used ", dim).append(f"{b.used_min:.1f} min")
        figures.append(" · remaining ", dim)
        figures.append(f"{b.remaining_min:.1f} min ({left:.0f}%)", self.style(style))
        figures.append("  ").append(word, self.style(style))
        source = Text(no_wrap=True, overflow="ellipsis")
        source.append(f"period {duration(b.window_s)} · source ", dim)
        source.append(b.source, Style(bold=True))
        if b.source == "history":
            source.append(" (no Prometheus): covers ", dim)
            source.append(f"{duration(b.covered_s)} of the {duration(b.window_s)}")
        else:
            source.append(": covers ", dim).append(duration(b.covered_s))
        detail = outside(b.source_detail, dim)
        burns = Text(no_wrap=True, overflow="ellipsis")
        burns.append("burn rates ", dim)
        for window in SCREEN_BURN_S:
            burn = b.burn(window)
            rate = burn.rate if burn else None
            lvl = "dim" if rate is None else "breach" if rate > 6 else "warn" if rate > 1 else ""
            burns.append(f" {duration(window)} ", dim)
            shown = burn_shown(rate) + ("*" if burn and burn.partial else "")
            burns.append(marked(shown, lvl), self.style(lvl))
        burns.append("   (* less data than the window)", dim)
        lines: list[RenderableType] = [figures, source, detail, burns, Text("alerts", dim)]
        for alert in b.alerts:
            line = Text(no_wrap=True, overflow="ellipsis")
            word, style = mark("breached" if alert.firing else "met")
            line.append("  ")
            line.append("✗ FIRING" if alert.firing else "✓ quiet", self.style(style))
            line.append("  ")
            line.append(alert.summary.rsplit(" → ", 1)[0])
            lines.append(line)
        return Group(*lines)


def summary_line(found: Sequence[Objective], budget: ErrorBudget | None) -> list[tuple[str, str]]:
    """The overview's SLO line as (text, level) parts: budget left, 1h burn, objectives.

    ``budget 87% left · burn 1h 0.4x · 2 at risk``; levels are ok, warn, breach, dim.
    """
    parts: list[tuple[str, str]] = [("SLO ", "dim")]
    if budget is not None:
        left = budget.remaining_pct
        lvl = "breach" if left <= 0 else "warn" if left < 25 else "ok"
        parts += [("budget ", "dim"), (f"{left:.0f}% left", lvl)]
        burn = budget.burn(SUMMARY_BURN_S)
        rate = burn.rate if burn else None
        lvl = "dim" if rate is None else "breach" if rate > 6 else "warn" if rate > 1 else "ok"
        parts += [(" · burn 1h ", "dim"), (burn_shown(rate), lvl)]
        firing = [a.rule.name for a in budget.alerts if a.firing]
        if firing:
            parts += [(" · ", "dim"), (f"✗ {', '.join(firing)} alert", "breach")]
        parts.append((" · ", "dim"))
    breached = sum(o.state == "breached" for o in found)
    at_risk = sum(o.state == "at risk" for o in found)
    if breached:
        parts.append((f"✗ {breached} breached", "breach"))
    if at_risk:
        parts += [(", ", "dim")] if breached else []
        parts.append((f"▲ {at_risk} at risk", "warn"))
    if not breached and not at_risk:
        met = sum(o.state == "met" for o in found)
        parts.append((f"✓ {met} objectives met", "ok"))
    if budget is not None and budget.source == "history":
        parts.append((f" (budget from {duration(budget.covered_s)} of history)", "dim"))
    return parts


class SloSummary(ChangedLines):
    """The overview's one SLO line: budget left, burn over 1h, objectives at risk.

    | Component class | Used for |
    |---|---|
    | `slo-summary--ok`, `--warn`, `--breach` | figures within, near, past their limits |
    | `slo-summary--dim` | labels |
    """

    COMPONENT_CLASSES = {"slo-summary--ok", "slo-summary--warn", "slo-summary--breach",
                         "slo-summary--dim"}  # fmt: skip
    DEFAULT_CSS = """
    SloSummary {
        height: 1;
        padding: 0 1;
        & > .slo-summary--ok { color: $slo-ok; }
        & > .slo-summary--warn { color: $slo-warn; text-style: bold; }
        & > .slo-summary--breach { color: $slo-breach; text-style: bold; }
        & > .slo-summary--dim { color: $muted; }
        &:nocolor {
            & > .slo-summary--ok { color: $foreground; }
            & > .slo-summary--warn { color: $foreground; text-style: bold underline; }
            & > .slo-summary--breach { color: $foreground; text-style: bold reverse; }
        }
    }
    """

    STYLE_PREFIX = "slo-summary--"

    parts: reactive[tuple[tuple[str, str], ...]] = reactive((), repaint=False)
    """The line as (text, level) parts (`summary_line`); an equal line is not redrawn."""

    def watch_parts(self) -> None:
        """A changed line: repaint it (a whole-widget repaint would also look its styles
        up again, every second, as the budget's figures move)."""
        self.repaint_changed_lines()

    def lines(self, width: int) -> list[Text]:
        """The parts, styled by level, cut to ``width`` with ``…`` (drawn straight to
        strips: no Rich layout when the line changes)."""
        line = Text(no_wrap=True, overflow="ellipsis")
        parts = list(self.parts)
        room = width
        while (
            len(parts) > 1
            and parts[-1][1] == "dim"
            and room > 0
            and (sum(cell_len(text) for text, _ in parts) > room)
        ):
            parts.pop()  # a trailing note goes whole rather than be cut mid-word
        for text, lvl in parts:
            line.append(text, self.kept_style(lvl))
        if line.cell_len > width:
            line.truncate(width, overflow="ellipsis")
        return [line]
