"""SLO tiers as data, threshold classification, and the header's overall state."""

from __future__ import annotations

import pytest

from tui.analysis.slo import (
    DEFAULT_TIER,
    ENHANCED,
    PREMIUM,
    STANDARD,
    TIERS,
    classify,
    get_tier,
    overall_state,
)
from tui.model import Backend, Health, OverallState, Pool, Quantiles, Traffic


def backend(
    name: str, health: Health = Health.UP, reason: str = "", waiting: float | None = None
) -> Backend:
    return Backend(
        name=name,
        pool=name.split("-")[0],
        url="http://x",
        health=health,
        reason=reason,
        waiting=waiting,
    )


def fleet(ttft_p95: float | None = 0.3, error_rate: float | None = 0.0) -> Pool:
    return Pool(
        name="fleet",
        backends=2,
        healthy=2,
        ttft=Quantiles(p50=0.1, p95=ttft_p95),
        e2e=Quantiles(p50=1.0, p95=4.0),
        traffic=Traffic(error_rate=error_rate),
    )


def test_tiers_match_the_handbook() -> None:
    assert DEFAULT_TIER is STANDARD
    assert set(TIERS) == {"standard", "enhanced", "premium"}
    assert (STANDARD.ttft_p50_s, STANDARD.ttft_p95_s) == (0.5, 2.0)
    assert (STANDARD.e2e_p50_s, STANDARD.e2e_p95_s) == (5.0, 15.0)
    assert (ENHANCED.ttft_p95_s, ENHANCED.e2e_p95_s, ENHANCED.queue_depth_max) == (1.0, 10.0, 10)
    assert (PREMIUM.ttft_p50_s, PREMIUM.ttft_p95_s, PREMIUM.e2e_p50_s) == (0.2, 0.5, 2.0)
    assert (STANDARD.tokens_per_s_p50_min, ENHANCED.tokens_per_s_p50_min) == (50, 100)
    assert (STANDARD.requests_per_min_min, PREMIUM.requests_per_min_min) == (10, 100)
    assert (STANDARD.error_rate_max, ENHANCED.error_rate_max, PREMIUM.error_rate_max) == (
        0.02,
        0.01,
        0.005,
    )
    assert (STANDARD.timeout_rate_max, PREMIUM.timeout_rate_max) == (0.05, 0.01)
    assert (STANDARD.availability, ENHANCED.availability, PREMIUM.availability) == (
        0.995,
        0.999,
        0.9995,
    )


def test_get_tier_by_name() -> None:
    assert get_tier("Premium") is PREMIUM
    with pytest.raises(ValueError, match="known: standard, enhanced, premium"):
        get_tier("gold")


@pytest.mark.parametrize(
    ("value", "level"),
    [(1.0, "ok"), (1.59, "ok"), (1.6, "warn"), (2.0, "warn"), (2.01, "breach"), (None, None)],
)
def test_classify_max_style(value: float | None, level: str | None) -> None:
    assert classify(value, 2.0) == level


@pytest.mark.parametrize(
    ("value", "level"),
    [(70.0, "ok"), (62.5, "ok"), (60.0, "warn"), (50.0, "warn"), (49.0, "breach")],
)
def test_classify_min_style(value: float, level: str) -> None:
    assert classify(value, 50.0, minimum=True) == level


def test_unknown_before_any_data() -> None:
    assert overall_state(None, None) == (OverallState.UNKNOWN, ("no data yet",))
    state, _ = overall_state([backend("blue-1", Health.UNKNOWN)], None)
    assert state is OverallState.UNKNOWN


def test_down_when_no_backend_known_or_up() -> None:
    assert overall_state([], None)[0] is OverallState.DOWN
    state, reasons = overall_state(
        [backend("blue-1", Health.DOWN, "connection refused"), backend("blue-2", Health.DOWN)],
        fleet(),
    )
    assert state is OverallState.DOWN
    assert reasons == ("blue-1 down: connection refused", "blue-2 down")


def test_degraded_when_one_backend_is_down() -> None:
    state, reasons = overall_state(
        [backend("blue-1", Health.DOWN, "connection refused"), backend("blue-2")], fleet()
    )
    assert state is OverallState.DEGRADED
    assert reasons == ("blue-1 down: connection refused",)


def test_degraded_when_a_fleet_figure_breaches() -> None:
    state, reasons = overall_state([backend("blue-1")], fleet(ttft_p95=2.4, error_rate=0.031))
    assert state is OverallState.DEGRADED
    assert reasons == ("TTFT p95 2.4s > 2s", "error rate 3.1% > 2%")


def test_tier_changes_the_verdict() -> None:
    figures = fleet(ttft_p95=0.8)
    assert overall_state([backend("blue-1")], figures, "standard")[0] is OverallState.OK
    state, reasons = overall_state([backend("blue-1")], figures, PREMIUM)
    assert state is OverallState.DEGRADED
    assert "TTFT p95 800ms > 500ms" in reasons


def test_queue_depth_is_judged_per_backend() -> None:
    state, reasons = overall_state(
        [backend("blue-1", waiting=25.0), backend("blue-2", waiting=3.0)], fleet()
    )
    assert state is OverallState.DEGRADED
    assert reasons == ("blue-1 queue 25 > 20",)


def test_ok_with_no_traffic() -> None:
    quiet = Pool(name="fleet", backends=1, healthy=1, traffic=Traffic(requests_per_min=0.0))
    assert overall_state([backend("blue-1")], quiet) == (OverallState.OK, ())
