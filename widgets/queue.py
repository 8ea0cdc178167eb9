"""The Queue panel: waiting and running requests, fleet and per pool, KV-cache use, history."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui.analysis.slo import TIERS
from tui.analysis.thresholds import KV_CACHE_LIMIT
from tui.model import Pool
from widgets.format import DASH, known, number, percent, safe, spark
from widgets.levels import level, marked
from widgets.panel import Panel


class QueuePanel(Panel):
    """Waiting (the queue) against the tier's maximum depth, running, and KV-cache use."""

    TITLE = "Queue"

    def render(self) -> RenderableType:
        """Draw fleet and per-pool queue figures, and the waiting/KV history."""
        snapshot = self.snapshot
        if snapshot is None or snapshot.fleet is None:
            return Text("no queue data yet", self.style("dim"))
        tier = TIERS[snapshot.slo_tier]
        table = Table.grid(padding=(0, 1), expand=True)
        for name, justify in (
            ("", "left"),
            ("waiting", "right"),
            ("running", "right"),
            ("KV", "right"),
        ):
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        table.add_row(
            Text(""),
            Text("waiting", self.style("dim")),
            Text("running", self.style("dim")),
            Text("KV", self.style("dim")),
        )
        rows = [snapshot.fleet, *snapshot.pools] if len(snapshot.pools) > 1 else [snapshot.fleet]
        for pool in rows:
            table.add_row(*self._row(pool, tier.queue_depth_max))
        width = max(self.size.width - 12, 8)
        waiting = snapshot.history.get("fleet.waiting", ())
        kv = snapshot.history.get("fleet.kv", ())
        high = max([tier.queue_depth_max, *[v for v in waiting if known(v)]])
        charts = Table.grid(padding=(0, 1))
        charts.add_column(no_wrap=True)
        charts.add_column(no_wrap=True)
        charts.add_row(
            Text("waiting", self.style("dim")),
            Text(
                spark(waiting, width, 0, high),
                self.style(level(waiting[-1] if waiting else None, tier.queue_depth_max)),
            ),
        )
        charts.add_row(
            Text("KV     ", self.style("dim")), Text(spark(kv, width, 0, 1), self.style("ok"))
        )
        return Group(table, charts)

    def _row(self, pool: Pool, queue_max: float) -> list[RenderableType]:
        name = "fleet" if pool.name == "fleet" else safe(pool.name)
        name_style = self.style("dim") if pool.name == "fleet" else self.pool_style(pool.name)
        wait_level = level(pool.waiting, queue_max)
        waiting = Text(marked(number(pool.waiting), wait_level), self.style(wait_level))
        kv_level = level(pool.kv_cache_usage, KV_CACHE_LIMIT)
        kv = (
            Text(marked(percent(pool.kv_cache_usage), kv_level), self.style(kv_level))
            if known(pool.kv_cache_usage)
            else Text(DASH, self.style("dim"))
        )
        return [Text(name, name_style), waiting, Text(number(pool.running)), kv]
