"""The NOC wall's widgets: headline figures in big digits, and the banner of what interrupts.

Read from across a room: each figure is a tile with its name on the border, its value in
Textual's `Digits`, and its unit with the level's symbol and word underneath (never colour
alone). Nothing here fetches; the wall screen hands over whole snapshots.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Digits, Label

from tui.analysis.slo import TIERS
from tui.analysis.thresholds import GPU_LIMITS
from tui.model import Alert, FleetSnapshot, Health
from widgets.format import DASH, age, known, number, percent, safe, seconds
from widgets.levels import MARK, level
from widgets.panel import Panel

WORD = {"ok": "within SLO", "warn": "near limit", "breach": "OVER LIMIT", "dim": "no data"}
"""What a tile says under its figure, beside the level's symbol."""

UNIT_WORDS = {"s": "seconds", "ms": "ms", "%": "percent", "k": "thousand",
              "M": "million", "°C": "°C"}  # fmt: skip
"""Units spelled out under the digits, where a room reads them."""

_SPLIT = re.compile(r"^([0-9.,:+\-/]+)(.*)$")


@dataclass(frozen=True, slots=True)
class Headline:
    """One headline figure: its name, value as shown, unit, level and the limit it is held to."""

    key: str
    label: str
    value: str
    unit: str
    level: str
    limit: str = ""  # what it is held to: "SLO < 2.00s", "all up"


def split_unit(shown: str) -> tuple[str, str]:
    """``"33.8s"`` -> ``("33.8", "s")``; a dash or words stay whole as the value."""
    match = _SPLIT.match(shown)
    return (match.group(1), match.group(2)) if match else (shown, "")


def headlines(snapshot: FleetSnapshot) -> tuple[Headline, ...]:
    """The figures a wall shows, in reading order: is it up, is it fast, is it failing,
    is it keeping up."""
    tier = TIERS[snapshot.slo_tier]
    fleet = snapshot.fleet
    up = sum(1 for b in snapshot.backends if b.health is Health.UP)
    total = len(snapshot.backends)
    up_level = "dim" if not total else "ok" if up == total else "warn" if up else "breach"
    found = [Headline("up", "Backends up", f"{up}/{total}", "", up_level, "all up")]

    def timed(key: str, label: str, value: float | None, limit: float) -> Headline:
        shown, unit = split_unit(seconds(value))
        return Headline(key, label, shown, unit, level(value, limit), f"SLO < {seconds(limit)}")

    ttft = fleet.ttft.p95 if fleet else None
    e2e = fleet.e2e.p95 if fleet else None
    found.append(timed("ttft", "TTFT p95", ttft, tier.ttft_p95_s))
    found.append(timed("e2e", "E2E p95", e2e, tier.e2e_p95_s))
    errors = fleet.traffic.error_rate if fleet else None
    shown, unit = split_unit(percent(errors, 1))
    found.append(Headline("errors", "Error rate", shown, unit,
                          level(errors, tier.error_rate_max),
                          f"SLO < {percent(tier.error_rate_max, 1)}"))  # fmt: skip
    waiting = fleet.waiting if fleet else None
    found.append(Headline("waiting", "Queue waiting", number(waiting), "",
                          level(waiting, tier.queue_depth_max),
                          f"SLO < {number(tier.queue_depth_max)}"))  # fmt: skip
    tokens = fleet.traffic.generation_tokens_per_s if fleet else None
    shown, unit = split_unit(number(tokens))
    found.append(Headline("tokens", "Tokens out /s", shown, unit,
                          level(tokens, tier.tokens_per_s_p50_min, minimum=True),
                          f"SLO > {number(tier.tokens_per_s_p50_min)}"))  # fmt: skip
    critical = sum(1 for a in snapshot.alerts if a.severity.value == "critical")
    alerts_level = "breach" if critical else "warn" if snapshot.alerts else "ok"
    temps = [g.temp_c for g in snapshot.gpus if g.temp_c is not None and known(g.temp_c)]
    hottest = max(temps) if temps else None
    found.append(Headline("gpu-temp", "Hottest GPU", number(hottest), "°C",
                          level(hottest, GPU_LIMITS.temperature_c),
                          f"limit {GPU_LIMITS.temperature_c:g} °C"))  # fmt: skip
    found.append(Headline("alerts", "Alerts firing", str(len(snapshot.alerts)),
                          f" {critical} critical" if critical else "", alerts_level))  # fmt: skip
    return tuple(found)


class HeadlineTile(Widget):
    """One headline figure: name on the border, value in big digits, unit and level below.

    | Class | Meaning |
    |---|---|
    | `-ok`, `-warn`, `-breach`, `-dim` | the figure's level (colour; the symbol and word are
    | | written too) |
    """

    DEFAULT_CSS = """
    HeadlineTile {
        border: round $primary 60%;
        border-title-color: $foreground;
        border-title-style: bold;
        height: 1fr;
        min-height: 7;
        padding: 0 1;
        align: center middle;
        Digits { width: 1fr; text-align: center; color: $foreground; text-style: bold; }
        Label { width: 1fr; text-align: center; }
        #unit { color: $muted; }
        &.-ok Digits { color: $slo-ok; }
        &.-warn { border: heavy $slo-warn; }
        &.-warn Digits, &.-warn #state { color: $slo-warn; text-style: bold; }
        &.-breach { border: heavy $slo-breach; }
        &.-breach Digits, &.-breach #state { color: $slo-breach; text-style: bold; }
        &.-dim Digits { color: $muted; }
    }
    """

    headline: reactive[Headline | None] = reactive(None)
    """The figure shown; a new one replaces the digits and the level line."""

    def compose(self) -> ComposeResult:
        """The digits, the level in a word, the unit and the limit."""
        yield Digits(DASH)
        yield Label("", id="state")
        yield Label("", id="unit")

    def watch_headline(self, headline: Headline | None) -> None:
        """Show a new figure (only what changed is redrawn by the children)."""
        if headline is None or not self.is_mounted:
            return
        self.border_title = headline.label
        for lvl in WORD:
            self.set_class(headline.level == lvl, f"-{lvl}")
        self.query_one(Digits).update(headline.value)
        mark = MARK.get(headline.level, "✓" if headline.level == "ok" else "")
        self.query_one("#state", Label).update(Text(f"{mark} {WORD[headline.level]}".strip()))
        unit = UNIT_WORDS.get(headline.unit.strip(), headline.unit.strip())
        shown = " · ".join(part for part in (unit, headline.limit) if part)
        self.query_one("#unit", Label).update(Text(shown))


class HeadlineGrid(Grid):
    """The headline figures as a grid of tiles; columns follow the width."""

    DEFAULT_CSS = """
    HeadlineGrid {
        grid-size: 4;
        grid-gutter: 0 1;
        height: 1fr;
        grid-rows: 1fr;
        min-height: 14;
    }
    HeadlineGrid.-narrow { grid-size: 3; min-height: 21; }
    """

    snapshot: reactive[FleetSnapshot | None] = reactive(None, always_update=True)
    """The snapshot whose headline figures are shown."""

    COUNT = 8
    """How many tiles: `headlines` returns this many figures."""

    def compose(self) -> ComposeResult:
        """One tile per headline figure."""
        for index in range(self.COUNT):
            yield HeadlineTile(id=f"headline-{index}")

    def on_resize(self) -> None:
        """Three columns (three rows) on a narrow terminal, four (two rows) on a wide one."""
        self.set_class(self.size.width < 100, "-narrow")

    def watch_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        """Give each tile its figure; an unchanged figure does not repaint its tile."""
        if snapshot is None:
            return
        for tile, headline in zip(self.query(HeadlineTile), headlines(snapshot), strict=False):
            if tile.headline != headline:
                tile.headline = headline


class InterruptBanner(Panel):
    """What holds the wall: each firing SEV1/SEV2 incident's alert or critical alert,
    in large type, with its SEV, where it fires and for how long."""

    TITLE = "INCIDENT: the cycle is held until it resolves"
    SOURCES = ("alertmanager", "prometheus", "local")
    DEFAULT_CSS = """
    InterruptBanner { border: heavy $slo-breach; border-title-color: $slo-breach; }
    """

    held: reactive[tuple[tuple[str, Alert], ...]] = reactive((), always_update=True)
    """(SEV or severity word, alert) of everything holding the wall, worst first."""

    def shape(self, snapshot: FleetSnapshot) -> object:
        """The banner grows with what it holds."""
        return len(self.held)

    def render(self) -> RenderableType:
        """One line per alert: ``✗ SEV1  LLMServiceDown backend=blue-0  firing 44s``."""
        snapshot = self.snapshot
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, ratio=1, overflow="ellipsis")
        table.add_column(no_wrap=True, justify="right")
        for sev, alert in self.held:
            where = " ".join(f"{k}={v}" for k, v in alert.labels.items()
                             if k in ("backend", "pool", "gpu", "instance"))  # fmt: skip
            name = Text(safe(alert.name), self.style("breach"))
            if where:
                name.append("  " + safe(where))
            if alert.summary:
                name.append("  — " + safe(alert.summary), self.style("dim"))
            since = age(snapshot.taken_at - alert.starts_at) if snapshot else DASH
            table.add_row(Text(f"✗ {sev}", self.style("breach")), name, Text(f"firing {since}"))
        return table


def sev_words(held: Sequence[tuple[str, Alert]]) -> str:
    """``SEV1 LLMServiceDown, critical QueueBacklog``: the held alerts in one line."""
    return ", ".join(f"{sev} {safe(alert.name)}" for sev, alert in held)
