"""SLO objectives, the error budget and burn rates against hand-computed cases."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.analysis.budget import (
    BURN_ALERT_RULES,
    BurnRate,
    ErrorBudget,
    Series,
    TimeoutRate,
    allowed_minutes,
    bad_fraction,
    duration,
    error_budget,
    evaluate_alerts,
    handbook_state,
    objectives,
    series_from_history,
)
from tui.analysis.slo import ENHANCED, PREMIUM, STANDARD
from tui.model import (
    Backend,
    FleetSnapshot,
    Health,
    OverallState,
    Pool,
    Quantiles,
    Traffic,
)

NOW = 1_000_000.0


def minute_series(bad: Sequence[float | None], step_s: float = 60.0) -> Series:
    """Shares one per step, the newest ending at NOW."""
    n = len(bad)
    return Series(step_s, tuple((NOW - (n - 1 - i) * step_s, v) for i, v in enumerate(bad)))


def burn_over(budget: ErrorBudget, window_s: float) -> BurnRate:
    """The budget's burn rate over ``window_s``, which it must have computed."""
    burn = budget.burn(window_s)
    assert burn is not None, f"no burn rate over {window_s} s"
    return burn


@pytest.mark.parametrize(
    ("tier", "minutes"), [(STANDARD, 216.0), (ENHANCED, 43.0), (PREMIUM, 22.0)]
)
def test_the_handbooks_monthly_budgets(tier, minutes) -> None:
    assert allowed_minutes(tier) == minutes


def test_a_week_is_a_quarter_of_the_month_pro_rata() -> None:
    assert allowed_minutes(STANDARD, 7 * 86400) == pytest.approx(216 * 7 / 30)


def test_ten_bad_minutes_in_the_last_hour() -> None:
    # 50 good minutes, then 10 minutes where every request failed (an outage).
    budget = error_budget(minute_series([0.0] * 50 + [1.0] * 10), now=NOW, tier=STANDARD)
    assert budget.used_min == pytest.approx(10.0)
    assert budget.remaining_min == pytest.approx(206.0)
    assert budget.remaining_pct == pytest.approx(100 * 206 / 216)
    assert budget.covered_s == 3600
    # Allowed share 0.5%: the last 5 minutes burn at 1 / 0.005 = 200x.
    assert burn_over(budget, 300).rate == pytest.approx(200.0)
    assert burn_over(budget, 1800).rate == pytest.approx((10 / 30) / 0.005)
    assert burn_over(budget, 3600).rate == pytest.approx((10 / 60) / 0.005)
    six_hours = burn_over(budget, 21600)
    assert six_hours.partial and six_hours.covered_s == 3600
    firing = {a.rule.name for a in budget.alerts if a.firing}
    # Longer windows judge on the hour there is, as Prometheus would: all four fire.
    assert firing == {"fast burn", "slow burn", "steady burn", "slow leak"}
    assert budget.availability == pytest.approx(1 - 10 / 60)


def test_a_quiet_month_burns_nothing() -> None:
    budget = error_budget(minute_series([0.0] * 120), now=NOW, tier=PREMIUM)
    assert budget.used_min == 0.0 and budget.remaining_pct == 100.0
    assert all(b.rate == 0.0 for b in budget.burn_rates)
    assert not any(a.firing for a in budget.alerts)


def test_one_percent_errors_all_month_overspends_standard_twice() -> None:
    hourly = minute_series([0.01] * 720, step_s=3600.0)  # 30 days of hours
    budget = error_budget(hourly, now=NOW, tier=STANDARD)
    assert budget.used_min == pytest.approx(0.01 * 43200)  # 432 minutes
    assert budget.remaining_min == pytest.approx(-216.0)
    assert budget.remaining_pct == pytest.approx(-100.0)
    assert burn_over(budget, 259200).rate == pytest.approx(2.0)
    assert [a.firing for a in budget.alerts] == [False, False, False, True]  # the slow leak


def test_unknown_steps_neither_spend_nor_save() -> None:
    budget = error_budget(minute_series([None, math.nan, 1.0, 0.0]), now=NOW, tier=STANDARD)
    assert budget.used_min == pytest.approx(1.0)
    assert budget.covered_s == 120
    assert budget.bad_share == pytest.approx(0.5)


def test_each_window_is_read_from_the_finest_series_reaching_it() -> None:
    fine = minute_series([1.0] * 360)  # the last 6 hours, minute by minute, all bad
    coarse = minute_series([0.0] * 72, step_s=3600.0)  # 3 days, hourly, all good
    budget = error_budget([coarse, fine], now=NOW, tier=STANDARD, window_s=3 * 86400)
    assert burn_over(budget, 300).rate == pytest.approx(200.0)  # from the fine one
    assert burn_over(budget, 21600).rate == pytest.approx(200.0)
    assert burn_over(budget, 86400).rate == 0.0  # from the coarse one
    assert budget.used_min == 0.0  # the budget window is 3 days: the coarse series


def scanned(series: list[Series], now: float, window_s: float) -> tuple[float | None, float]:
    """A window's mean bad share and coverage read by scanning every sample (`Series.within`):
    what `error_budget` must give, however it finds the window."""

    def covered(s: Series) -> float:
        return min(len(s.within(now, window_s)) * s.step_s, window_s)

    listed = [s for s in series if s.samples]
    if not listed:
        return None, 0.0
    chosen = max(listed, key=lambda s: (covered(s), -s.step_s))
    known = chosen.within(now, window_s)
    return (sum(known) / len(known) if known else None), covered(chosen)


SHARES = st.one_of(st.none(), st.just(math.nan), st.floats(0.0, 1.0))
SERIES = st.builds(
    lambda step, shares, end: Series(
        step, tuple((NOW + end - (len(shares) - 1 - i) * step, v) for i, v in enumerate(shares))
    ),
    st.sampled_from([1.0, 60.0, 300.0, 3600.0]),
    st.lists(SHARES, max_size=400),
    st.sampled_from([0.0, -30.0, 90.0, -7200.0]),  # ending now, before it, or after it
)


@given(st.lists(SERIES, min_size=1, max_size=3))
def test_every_window_is_what_a_scan_of_the_samples_gives(series: list[Series]) -> None:
    budget = error_budget(series, now=NOW, tier=STANDARD, window_s=86400.0)
    share, covered = scanned(series, NOW, 86400.0)
    assert (budget.bad_share, budget.covered_s) == (share, covered)
    for burn in budget.burn_rates:
        share, covered = scanned(series, NOW, burn.window_s)
        rate = None if share is None else share / (1.0 - STANDARD.availability)
        assert (burn.rate, burn.covered_s) == (rate, covered)


@given(SERIES)
def test_samples_out_of_time_order_read_the_same_windows(series: Series) -> None:
    backwards = Series(series.step_s, series.samples[::-1])
    budget = error_budget(backwards, now=NOW, tier=STANDARD, window_s=86400.0)
    for burn in budget.burn_rates:
        share, covered = scanned([series], NOW, burn.window_s)
        rate = None if share is None else share / (1.0 - STANDARD.availability)
        assert burn.covered_s == covered
        assert burn.rate == (None if rate is None else pytest.approx(rate))


def test_no_samples_is_nothing_used_and_no_rates() -> None:
    budget = error_budget(Series(60.0, ()), now=NOW)
    assert budget.used_min == 0.0 and budget.covered_s == 0.0 and budget.bad_share is None
    assert all(b.rate is None for b in budget.burn_rates)


def test_alert_rules_are_the_sre_workbook_pairs() -> None:
    pairs = [(r.factor, r.long_s, r.short_s, r.severity) for r in BURN_ALERT_RULES]
    assert pairs == [
        (14.4, 3600, 300, "page"),
        (6.0, 21600, 1800, "page"),
        (3.0, 86400, 7200, "ticket"),
        (1.0, 259200, 21600, "ticket"),
    ]


def test_a_fast_burn_needs_both_windows() -> None:
    # The hour burns hot but the last 5 minutes have recovered: no page.
    quiet_now = evaluate_alerts({3600: 20.0, 300: 2.0})
    assert not quiet_now[0].firing
    assert evaluate_alerts({3600: 20.0, 300: 15.0})[0].firing
    assert (
        evaluate_alerts({3600: 20.0, 300: 15.0})[0].summary
    ) == "fast burn (page): 1h 20x & 5m 15x > 14.4x → firing"


def test_history_series_ends_now_one_refresh_apart() -> None:
    s = series_from_history([0.0, math.nan, 0.5], step_s=2.0, now=NOW)
    assert [t for t, _ in s.samples] == [NOW - 4, NOW - 2, NOW]
    assert s.span_s == 6.0


@pytest.mark.parametrize(
    ("seconds", "text"), [(300, "5m"), (3600, "1h"), (259200, "3d"), (90, "1m30s"), (5, "5s")]
)
def test_durations(seconds: float, text: str) -> None:
    assert duration(seconds) == text


# --- objectives -------------------------------------------------------------------------


def backend(name: str, *, waiting: float = 0.0, itl_p50: float | None = 0.01,
            health: Health = Health.UP) -> Backend:  # fmt: skip
    return Backend(name=name, pool="blue", url=f"http://{name}", health=health,
                   waiting=waiting, inter_token=Quantiles(p50=itl_p50))  # fmt: skip


def snapshot(*backends: Backend, rpm: float = 60.0, error_rate: float = 0.001,
             ttft_p95: float = 0.4) -> FleetSnapshot:  # fmt: skip
    fleet = Pool(
        name="fleet", backends=len(backends), healthy=len(backends),
        waiting=sum(b.waiting or 0 for b in backends),
        ttft=Quantiles(p50=0.1, p95=ttft_p95), e2e=Quantiles(p50=2.0, p95=13.0),
        traffic=Traffic(requests_per_min=rpm, error_rate=error_rate),
    )  # fmt: skip
    return FleetSnapshot(taken_at=NOW, environment="t", slo_tier="standard",
                         backends=backends, fleet=fleet, overall=OverallState.OK)  # fmt: skip


def by_key(found):
    return {o.key: o for o in found}


def test_every_objective_of_the_tier_with_its_state() -> None:
    found = by_key(
        objectives(
            snapshot(backend("a", itl_p50=0.01), backend("b", itl_p50=0.02, waiting=3)),
            timeout_rate=TimeoutRate(0.045, "engine aborts"),
            availability=0.999,
        )
    )
    assert list(found) == [
        "ttft_p50", "ttft_p95", "e2e_p50", "e2e_p95", "tokens_per_s", "requests_per_min",
        "queue_depth", "error_rate", "timeout_rate", "availability",
    ]  # fmt: skip
    assert found["ttft_p95"].state == "met"  # 0.4 s < 80% of 2 s
    assert found["e2e_p95"].state == "at risk"  # 13 s ≥ 12 s (80% of 15 s)
    assert found["tokens_per_s"].value == pytest.approx(75.0)  # median of 100 and 50
    assert found["tokens_per_s"].state == "met"  # 75 x 0.8 = 60 ≥ 50
    assert found["queue_depth"].value == 3
    assert found["timeout_rate"].state == "at risk" and found["timeout_rate"].note == (
        "engine aborts"
    )
    assert found["availability"].state == "met"
    assert found["availability"].shown_target == "≥ 99.5%"
    assert found["ttft_p95"].shown == "400ms" and found["ttft_p95"].shown_target == "< 2s"


def test_too_few_requests_breach_only_while_requests_wait() -> None:
    busy = by_key(objectives(snapshot(backend("a", waiting=4), rpm=5.0)))
    quiet = by_key(objectives(snapshot(backend("a", waiting=0), rpm=5.0)))
    assert busy["requests_per_min"].state == "breached"
    assert quiet["requests_per_min"].state == "at risk"
    assert quiet["requests_per_min"].note == "low demand: nothing queued"


def test_unknown_figures_are_unknown() -> None:
    found = by_key(objectives(snapshot(backend("a", itl_p50=None))))
    assert found["tokens_per_s"].state == "unknown"
    assert found["timeout_rate"].state == "unknown"
    assert found["availability"].state == "unknown"


def test_throughput_and_timeouts_move_the_header() -> None:
    found = objectives(
        snapshot(backend("a", itl_p50=0.05, waiting=2), rpm=5.0),  # 20 tokens/s, queued
        timeout_rate=TimeoutRate(0.08, "gateway 504s"),
    )
    state, reasons = handbook_state(OverallState.OK, (), found)
    assert state is OverallState.DEGRADED
    assert reasons == (
        "Tokens/s per request (p50) 20 tokens/s < 50 tokens/s",
        "Requests/min 5 requests/min < 10 requests/min",
        "Timeout rate 8% > 5%",
    )
    assert handbook_state(OverallState.DOWN, ("a down",), found) == (
        OverallState.DOWN,
        ("a down",),
    )


def test_bad_fraction_is_one_when_nothing_is_up() -> None:
    down = snapshot(backend("a", health=Health.DOWN), error_rate=0.0)
    assert bad_fraction(down) == 1.0
    assert bad_fraction(snapshot(backend("a"), error_rate=0.02)) == 0.02
    assert bad_fraction(FleetSnapshot(taken_at=NOW, environment="t", slo_tier="standard")) is None
