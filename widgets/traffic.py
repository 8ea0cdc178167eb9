"""The traffic split: a bar per pool now and as proposed, and each pool's health beside it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive

from tui.analysis.slo import TIERS
from tui.model import FleetSnapshot, Pool
from widgets.format import DASH, not_exposed, number, percent, safe, seconds
from widgets.levels import level
from widgets.panel import Panel
from widgets.table import SnapshotTable
from widgets.text import outside

BAR_CHARS = "█"


def unserved(pool: Pool, share: float | None) -> bool:
    """True when ``pool`` gets a share of the traffic and none of its backends is up."""
    return share is not None and share > 0 and pool.healthy == 0


class TrafficSplit(Panel):
    """The share of requests each pool gets, now and as proposed, as coloured bars."""

    TITLE = "Traffic split"
    SOURCES = ("sim-router", "router")

    proposed: reactive[dict[str, float] | None] = reactive(None, always_update=True)
    """The split the operator is composing (None: nothing proposed)."""

    def watch_proposed(self, proposed: dict[str, float] | None) -> None:
        """Repaint with the new proposal."""
        self.refresh()

    def render(self) -> RenderableType:
        """Two bars, now and proposed, and the numbers."""
        snapshot = self.snapshot
        current = dict(snapshot.weights) if snapshot else {}
        if not current:
            return Text("no router reports a split (traffic: in the config)", self.style("dim"))
        width = max(self.size.width - 14, 10)
        rows = [("now", current)]
        if self.proposed is not None and self.proposed != current:
            rows.append(("proposed", self.proposed))
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, width=9)
        table.add_column(no_wrap=True)
        for label, weights in rows:
            table.add_row(Text(label, self.style("dim")), self._bar(weights, width))
        legend = Text()
        for pool in sorted(set(current) | set(self.proposed or {})):
            now = current.get(pool, 0.0)
            legend.append(f"{safe(pool)} ", self.pool_style(pool))
            legend.append(f"{now:.0f}%")
            if self.proposed is not None and self.proposed.get(pool, 0.0) != now:
                legend.append(f" → {self.proposed.get(pool, 0.0):.0f}%", self.style("warn"))
            legend.append("   ")
        return Group(table, legend)

    def _bar(self, weights: Mapping[str, float], width: int) -> Text:
        bar = Text()
        total = sum(weights.values()) or 1.0
        used = 0
        pools = sorted(weights)
        for i, pool in enumerate(pools):
            cells = round(width * weights[pool] / total) if i < len(pools) - 1 else width - used
            used += cells
            bar.append(BAR_CHARS * max(cells, 0), self.pool_style(pool))
        return bar


class PoolTable(SnapshotTable):
    """Per pool side by side: the version it serves, its share, backends up, requests,
    errors and latency.

    ``versions`` (pool → what it serves, in words) is set by the screen before a snapshot.
    """

    TITLE = "Pools"
    COLUMNS = (
        ("pool", "Pool"),
        ("version", "Version"),
        ("share", "Share"),
        ("up", "Backends up"),
        ("rpm", "req/min"),
        ("errors", "Err%"),
        ("ttft", "TTFT p95"),
        ("e2e", "E2E p95"),
    )
    DROPPED_FIRST = ("version", "e2e", "rpm")
    """Given up in this order on a narrow terminal."""
    DEFAULT_CSS = """
    PoolTable { height: auto; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.versions: Mapping[str, str] = {}

    def subtitle(self, snapshot: FleetSnapshot) -> str:
        """The pools that get traffic with no backend up, if any."""
        bad = [p.name for p in snapshot.pools if unserved(p, snapshot.weights.get(p.name))]
        return f"traffic to {', '.join(safe(n) for n in bad)} with no backend up" if bad else ""

    def rows_of(self, snapshot: FleetSnapshot) -> Sequence[tuple[str, list[Text]]]:
        """A row per pool."""
        return [(p.name, self.cells(p, snapshot)) for p in snapshot.pools]

    def cells(self, pool: Pool, snapshot: FleetSnapshot) -> list[Text]:
        """The row of one pool, coloured against the tier."""
        tier = TIERS[snapshot.slo_tier]
        share = snapshot.weights.get(pool.name)
        traffic = pool.traffic

        def fig(text: str, lvl: str) -> Text:
            return Text(text, self.style("dim" if text == DASH else lvl))

        def na(text: str, figure: str) -> str:  # a figure the pool's engine(s) lack
            return not_exposed(text, figure, pool.unexposed)

        up = f"{pool.healthy}/{pool.backends}"
        if unserved(pool, share):  # requests routed here fail: say it where it is read
            share_cell = Text(f"{share or 0:.0f}%", self.style("breach"))
            up_cell = Text(f" {up} NONE UP ", self.style("down"))
        else:
            share_cell = Text(f"{share:.0f}%" if share is not None else DASH)
            up_cell = fig(up, "ok" if pool.healthy == pool.backends else "breach")
        return [
            Text(safe(pool.name), self.pool_style(pool.name)),
            outside(self.versions.get(pool.name, DASH), width=32),
            share_cell,
            up_cell,
            fig(na(number(traffic.requests_per_min), "requests"), "ok"),
            fig(
                na(percent(traffic.error_rate, 1), "errors"),
                level(traffic.error_rate, tier.error_rate_max),
            ),
            fig(na(seconds(pool.ttft.p95), "ttft"), level(pool.ttft.p95, tier.ttft_p95_s)),
            fig(na(seconds(pool.e2e.p95), "e2e"), level(pool.e2e.p95, tier.e2e_p95_s)),
        ]
