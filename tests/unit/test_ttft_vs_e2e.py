"""Why a TTFT p95 can read above the E2E p95 of the very same requests (issue 8)."""

from __future__ import annotations

from tui.analysis.quantiles import histogram_quantile
from tui.model import Quantiles
from tui.sim.stats import REQUEST_LATENCY_BUCKETS, TTFT_BUCKETS
from widgets.backends import inverted


def cumulative(bounds: tuple[float, ...], value: float, n: float) -> list[tuple[float, float]]:
    """``n`` observations of ``value`` as cumulative buckets over ``bounds`` (+Inf added)."""
    return [(b, n if value <= b else 0.0) for b in bounds] + [(float("inf"), n)]


def test_coarser_ttft_buckets_put_ttft_p95_above_e2e_p95() -> None:
    # every request: first token after 12 s, done after 13 s
    ttft = histogram_quantile(0.95, cumulative(TTFT_BUCKETS, 12.0, 100))
    e2e = histogram_quantile(0.95, cumulative(REQUEST_LATENCY_BUCKETS, 13.0, 100))
    assert ttft == 19.5 and e2e == 14.75  # 10-20 s bucket against 10-15 s
    assert inverted(Quantiles(p95=ttft), Quantiles(p95=e2e))
    assert not inverted(Quantiles(p95=1.0), Quantiles(p95=2.0))
    assert not inverted(Quantiles(), Quantiles(p95=2.0))
