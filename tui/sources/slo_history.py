"""The error budget's and the growth projection's figures, from Prometheus range queries.

`budget_series` reads the share of failed requests (5xx answers, or 1 while no backend
is up) over the SLO window twice: coarsely over the whole window and finely over the
last six hours, so burn rates over 5 minutes are not read off 5-minute steps (see
`tui.analysis.budget.error_budget`). `timeout_rate` reads the gateway's 504 share when
the config gives a query for it, else the engine's aborted requests. `utilisation_points`
is the GPU utilisation history the growth rate is fitted to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from tui.analysis.budget import Series, TimeoutRate
from tui.sources._prom_parse import value_of
from tui.sources._promql import _COMPLETIONS, _selector, check_label_name, probes, rate_chain
from tui.sources._vllm_names import HTTP_REQUESTS

#: Most points one range query asks for (Prometheus refuses more than 11,000).
MAX_POINTS = 10_000
FINE_SPAN_S = 6 * 3600.0
FINE_STEP_S = 15.0

ABORTS_SOURCE = 'engine aborts (vllm:request_success_total{finished_reason="abort"})'
GATEWAY_SOURCE = "gateway 504s (slo.timeout_query)"


class PromQueries(Protocol):
    """What these functions need of `tui.sources.prometheus.PrometheusSource`."""

    def query(self, promql: str, at: float | None = None) -> list[Any]: ...

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> list[Any]: ...


def bad_share_expr(pool_label: str = "pool", window: str = "1m") -> str:
    """PromQL: the share of completion requests answered 5xx; 1 while no backend is up.

    Absent (no sample) when backends are up but nothing was asked: no traffic neither
    spends nor saves budget.
    """
    label = check_label_name(pool_label)
    answered = _selector(HTTP_REQUESTS, [_COMPLETIONS])
    failed = _selector(HTTP_REQUESTS, [_COMPLETIONS, 'status=~"5.*"'])
    backends_up = f'sum(up{{{label}!=""}})'
    return (
        f"((sum(rate({failed}[{window}])) or vector(0))"
        f" / (sum(rate({answered}[{window}])) > 0))"
        f" or on() (1 - clamp_max({backends_up}, 1))"
    )


def abort_share_expr(window: str = "5m") -> str:
    """PromQL: aborted requests / all finished requests, from the engine's counter."""
    # vLLM's finished_reason="abort" only: other engines' request counters have no reasons
    names = [n for n in probes("vllm:request_success_total") if n.startswith("vllm")]
    aborted = rate_chain(names, window, ['finished_reason="abort"'])
    return f"sum{aborted} / (sum{rate_chain(names, window)} > 0)"


def _seconds(step_s: float) -> str:
    return f"{max(round(step_s), 1)}s"


def _series(prom: PromQueries, expr: str, start: float, end: float, step_s: float) -> Series:
    """A range query as a `Series` on its full grid (None where Prometheus had nothing)."""
    answer = prom.query_range(expr, start, end, step_s)
    by_ts: dict[int, float] = {}
    for item in answer[:1]:  # the expression yields one series
        for pair in item.get("values", []):
            value = value_of({"value": pair})
            if value is not None and not math.isnan(value):
                by_ts[round(float(pair[0]) * 1000)] = min(max(value, 0.0), 1.0)
    count = math.floor((end - start) / step_s + 1e-9)
    grid = [start + i * step_s for i in range(count + 1)]
    return Series(step_s, tuple((t, by_ts.get(round(t * 1000))) for t in grid))


def budget_series(
    prom: PromQueries, *, now: float, window_s: float, pool_label: str = "pool"
) -> list[Series]:
    """The bad share over the SLO window (coarse) and over the last six hours (fine)."""
    coarse_step = max(60.0, math.ceil(window_s / MAX_POINTS / 60.0) * 60.0)
    now = float(math.floor(now))  # the client sends whole seconds; the grid must match
    coarse = _series(
        prom,
        bad_share_expr(pool_label, _seconds(coarse_step)),
        now - window_s + coarse_step,
        now,
        coarse_step,
    )
    fine_span = min(FINE_SPAN_S, window_s)
    fine = _series(
        prom, bad_share_expr(pool_label, "1m"), now - fine_span + FINE_STEP_S, now, FINE_STEP_S
    )
    return [fine, coarse]


def timeout_rate(prom: PromQueries, gateway_query: str | None = None) -> TimeoutRate:
    """The share of requests that timed out, from the gateway when configured, else aborts."""
    expr, source = (
        (gateway_query, GATEWAY_SOURCE) if gateway_query else (abort_share_expr(), ABORTS_SOURCE)
    )
    answer = prom.query(expr)
    value = value_of(answer[0]) if answer else None
    if value is not None and math.isnan(value):
        value = None
    return TimeoutRate(value, source if value is not None else f"{source}: no requests finished")


def utilisation_points(
    prom: PromQueries, *, now: float, days: float = 30.0
) -> Sequence[tuple[float, float]]:
    """Hourly mean GPU utilisation (DCGM exporter) over the last ``days``, for the growth fit."""
    step = 3600.0
    end = math.floor(now / step) * step
    answer = prom.query_range("avg(DCGM_FI_DEV_GPU_UTIL)", end - days * 86400, end, step)
    points: list[tuple[float, float]] = []
    for item in answer[:1]:
        for pair in item.get("values", []):
            value = value_of({"value": pair})
            if value is not None and not math.isnan(value):
                points.append((float(pair[0]), value))
    return points
