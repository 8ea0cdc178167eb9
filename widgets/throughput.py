"""The Throughput and errors panel: tokens/s in and out, requests/min, error rate."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from tui.analysis.slo import TIERS, SloTier
from tui.model import Pool
from widgets.format import number, percent, safe
from widgets.levels import level, marked
from widgets.panel import Panel


class ThroughputPanel(Panel):
    """Fleet and per-pool flow, coloured against the tier's minimums and error budget.

    The tier's throughput minimums are fleet-wide, so only the fleet row is coloured by
    them; every row is coloured by the error-rate limit.
    """

    TITLE = "Throughput & errors"

    def render(self) -> RenderableType:
        """Draw one row per pool (and the fleet) of tokens/s, requests/min and errors."""
        snapshot = self.snapshot
        if snapshot is None or snapshot.fleet is None:
            return Text("no traffic data yet", self.style("dim"))
        tier = TIERS[snapshot.slo_tier]
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True, min_width=5)
        for _ in range(4):
            table.add_column(justify="right", no_wrap=True)
        table.add_row(
            Text(""),
            *(Text(h, self.style("dim")) for h in self._headings()),
        )
        table.add_row(*self._row(snapshot.fleet, tier, is_fleet=True))
        if len(snapshot.pools) > 1:
            for pool in snapshot.pools:
                table.add_row(*self._row(pool, tier, is_fleet=False))
        return table

    def _headings(self) -> tuple[str, ...]:
        if self.size.width >= 50:
            return ("tok in/s", "tok out/s", "req/min", "err%")
        return ("in/s", "out/s", "req/m", "err%")

    def _row(self, pool: Pool, tier: SloTier, *, is_fleet: bool) -> list[Text]:
        traffic = pool.traffic
        name_style = self.style("dim") if is_fleet else self.pool_style(pool.name)
        out_level, rpm_level = "ok", "ok"
        err_level = level(traffic.error_rate, tier.error_rate_max)
        if is_fleet:
            out_level = level(
                traffic.generation_tokens_per_s, tier.tokens_per_s_p50_min, minimum=True
            )
            rpm_level = level(traffic.requests_per_min, tier.requests_per_min_min, minimum=True)
        return [
            Text("fleet" if is_fleet else safe(pool.name), name_style),
            Text(number(traffic.prompt_tokens_per_s)),
            Text(marked(number(traffic.generation_tokens_per_s), out_level), self.style(out_level)),
            Text(marked(number(traffic.requests_per_min), rpm_level), self.style(rpm_level)),
            Text(marked(percent(traffic.error_rate, 1), err_level), self.style(err_level)),
        ]
