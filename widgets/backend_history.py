"""Backends over time: each backend's TTFT p95, queue, running and KV cache across the window.

Shown on a big terminal (the overview at 200x60 and larger), where the room goes to more
history rather than bigger charts: one line per backend and measure, as wide as the panel,
on a fixed scale that holds the tier's limit, with the value now and the worst seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text

from tui.analysis.slo import TIERS
from tui.analysis.thresholds import KV_CACHE_LIMIT
from tui.model import Backend, FleetSnapshot
from widgets.format import DASH, known, number, percent, seconds, spark
from widgets.levels import level, marked
from widgets.panel import Panel
from widgets.text import outside

NAME_WIDTH = 12
"""Where a backend's name is cut with ``…`` (the Backends table has it whole)."""
LABEL_WIDTH = 9
Measure = tuple[str, Sequence[float], float | None, Callable[[float | None], str]]
"""(label, history, limit or None, how a value is written)."""
FIGURES_WIDTH = 24
"""``now 35.6s✗ · max 36.0s``: the figures after each line."""


class BackendHistoryPanel(Panel):
    """Per backend: TTFT p95, waiting, running and KV-cache lines, each against its limit.

    A figure past its limit is coloured and carries the level's mark; gaps (no answer)
    are blanks, never zeros.
    """

    TITLE = "Backends over time"

    def shape(self, snapshot: FleetSnapshot) -> object:
        """The panel grows with the number of backends."""
        return len(snapshot.backends)

    def lines(self, width: int) -> list[Text]:
        """Four lines per backend: TTFT p95, waiting, running, KV cache."""
        snapshot = self.snapshot
        if snapshot is None or not snapshot.backends:
            return [Text("no backend history yet", self.style("dim"))]
        tier = TIERS[snapshot.slo_tier]
        room = max(width - NAME_WIDTH - LABEL_WIDTH - FIGURES_WIDTH - 3, 8)
        lines: list[Text] = []
        for backend in snapshot.backends:
            history = snapshot.history
            key = f"backend.{backend.name}"
            measures: tuple[Measure, ...] = (
                ("TTFT p95", history.get(f"{key}.ttft_p95", ()), tier.ttft_p95_s, seconds),
                ("waiting", history.get(f"{key}.waiting", ()), tier.queue_depth_max, number),
                ("running", history.get(f"{key}.running", ()), None, number),
                ("KV cache", history.get(f"{key}.kv", ()), KV_CACHE_LIMIT, percent),
            )
            for at, (label, values, limit, fmt) in enumerate(measures):
                name = self._named(backend) if at == 0 else Text("")
                lines.append(self._line(name, label, values, limit, fmt, room))
        return lines

    def _named(self, backend: Backend) -> Text:
        return outside(backend.name, self.pool_style(backend.pool), width=NAME_WIDTH)

    def _line(self, name: Text, label: str, values: Sequence[float], limit: float | None,
              fmt: Callable[[float | None], str], room: int) -> Text:  # fmt: skip
        """``name  label  ▁▂▅▇  now 35.6s✗ · max 36.0s`` on a 0..max(limit, worst) scale
        (a measure without a limit is never coloured as a breach)."""
        seen = [v for v in values if known(v)]
        worst = max(seen) if seen else None
        now = values[-1] if values and known(values[-1]) else None
        lvl = "dim" if now is None else "ok" if limit is None else level(now, limit)
        high = max([limit or 0.0, *seen]) or 1.0
        line = Text()
        line.append_text(name)
        line.append(" " * (NAME_WIDTH + 1 - name.cell_len))
        line.append(label.ljust(LABEL_WIDTH), self.style("dim"))
        line.append(spark(values, room, 0, high), self.style(lvl))
        figures = f" now {marked(fmt(now), lvl) if now is not None else DASH}"
        if worst is not None:
            figures += f" · max {fmt(worst)}"
        line.append(figures, self.style("dim") if now is None else "")
        return line
