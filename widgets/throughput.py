"""The Throughput and errors panel: tokens/s in and out, requests/min, error rate."""

from __future__ import annotations

from rich.text import Text

from tui.analysis.slo import TIERS, SloTier
from tui.model import Pool
from widgets.format import not_exposed, number, percent, safe
from widgets.levels import level, marked
from widgets.lines import grid
from widgets.panel import Panel


class ThroughputPanel(Panel):
    """Fleet and per-pool flow, coloured against the tier's minimums and error budget.

    The tier's throughput minimums are fleet-wide, so only the fleet row is coloured by
    them; every row is coloured by the error-rate limit.
    """

    TITLE = "Throughput & errors"

    def lines(self, width: int) -> list[Text]:
        """One row per pool (and the fleet) of tokens/s, requests/min and errors."""
        snapshot = self.snapshot
        if snapshot is None or snapshot.fleet is None:
            return [Text("no traffic data yet", self.style("dim"))]
        tier = TIERS[snapshot.slo_tier]
        rows = [[Text(""), *(Text(h, self.style("dim")) for h in self._headings(width))]]
        rows.append(self._row(snapshot.fleet, tier, is_fleet=True))
        if len(snapshot.pools) > 1:
            rows += [self._row(pool, tier, is_fleet=False) for pool in snapshot.pools]
        return grid(rows, ("left", "right", "right", "right", "right"), width, expand=True,
                    min_widths=(5,))  # fmt: skip

    def _headings(self, width: int) -> tuple[str, ...]:
        if width >= 50:
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
            Text(
                marked(
                    not_exposed(number(traffic.requests_per_min), "requests", pool.unexposed),
                    rpm_level,
                ),
                self.style(rpm_level),
            ),
            Text(
                marked(
                    not_exposed(percent(traffic.error_rate, 1), "errors", pool.unexposed), err_level
                ),
                self.style(err_level),
            ),
        ]
