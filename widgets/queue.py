"""The Queue panel: waiting and running requests, fleet and per pool, KV-cache use, history."""

from __future__ import annotations

from rich.text import Text

from tui.analysis.slo import TIERS
from tui.analysis.thresholds import KV_CACHE_LIMIT
from tui.model import Pool
from widgets.format import DASH, known, not_exposed, number, percent, safe, spark
from widgets.levels import level, marked
from widgets.lines import grid
from widgets.panel import Panel


class QueuePanel(Panel):
    """Waiting (the queue) against the tier's maximum depth, running, and KV-cache use."""

    TITLE = "Queue"

    def lines(self, width: int) -> list[Text]:
        """Fleet and per-pool queue figures, then the waiting and KV history lines."""
        snapshot = self.snapshot
        if snapshot is None or snapshot.fleet is None:
            return [Text("no queue data yet", self.style("dim"))]
        tier = TIERS[snapshot.slo_tier]
        dim = self.style("dim")
        rows: list[list[Text]] = [
            [Text(""), Text("waiting", dim), Text("running", dim), Text("KV", dim)]
        ]
        pools = [snapshot.fleet, *snapshot.pools] if len(snapshot.pools) > 1 else [snapshot.fleet]
        rows += [self._row(pool, tier.queue_depth_max) for pool in pools]
        lines = grid(rows, ("left", "right", "right", "right"), width, expand=True)
        room = max(width - 12, 8)
        waiting = snapshot.history.get("fleet.waiting", ())
        kv = snapshot.history.get("fleet.kv", ())
        high = max([tier.queue_depth_max, *[v for v in waiting if known(v)]])
        last = waiting[-1] if waiting else None
        lines.append(Text.assemble(("waiting ", dim), (spark(waiting, room, 0, high),
                                   self.style(level(last, tier.queue_depth_max)))))  # fmt: skip
        lines.append(Text.assemble(("KV      ", dim), (spark(kv, room, 0, 1), self.style("ok"))))
        return lines

    def _row(self, pool: Pool, queue_max: float) -> list[Text]:
        name = "fleet" if pool.name == "fleet" else safe(pool.name)
        name_style = self.style("dim") if pool.name == "fleet" else self.pool_style(pool.name)
        wait_level = level(pool.waiting, queue_max)
        waiting = Text(marked(number(pool.waiting), wait_level), self.style(wait_level))
        kv_level = level(pool.kv_cache_usage, KV_CACHE_LIMIT)
        kv = (
            Text(marked(percent(pool.kv_cache_usage), kv_level), self.style(kv_level))
            if known(pool.kv_cache_usage)
            else Text(not_exposed(DASH, "kv_cache", pool.unexposed), self.style("dim"))
        )
        return [Text(name, name_style), waiting, Text(number(pool.running)), kv]
