"""histogram_quantile must give exactly what Prometheus's histogram_quantile gives."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.analysis.quantiles import histogram_mean, histogram_quantile, histogram_quantiles

INF = math.inf
# 10 observations ≤ 0.1, 20 in (0.1, 0.5], 10 in (0.5, 1], 10 above 1.
BUCKETS = [(0.1, 10.0), (0.5, 30.0), (1.0, 40.0), (INF, 50.0)]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.0, 0.0),  # rank 0 lands in the first bucket, interpolated from 0
        (0.1, 0.05),  # rank 5 of 10 in [0, 0.1]
        (0.2, 0.1),  # rank 10: exactly the top of the first bucket
        (0.5, 0.4),  # rank 25: 15 of 20 into (0.1, 0.5]
        (0.8, 1.0),  # rank 40: top of (0.5, 1]
        (0.95, 1.0),  # rank 47.5 is in +Inf: the highest finite bound
        (1.0, 1.0),
    ],
)
def test_hand_computed_values(q: float, expected: float) -> None:
    assert histogram_quantile(q, BUCKETS) == pytest.approx(expected)


def test_unsorted_input_is_sorted_first() -> None:
    assert histogram_quantile(0.5, list(reversed(BUCKETS))) == pytest.approx(0.4)


def test_out_of_range_q() -> None:
    assert histogram_quantile(-0.1, BUCKETS) == -INF
    assert histogram_quantile(1.1, BUCKETS) == INF
    assert histogram_quantile(math.nan, BUCKETS) is None


@pytest.mark.parametrize(
    "buckets",
    [
        [],  # nothing
        [(0.1, 0.0), (INF, 0.0)],  # no observations
        [(INF, 5.0)],  # a single bucket
        [(0.1, 3.0), (1.0, 5.0)],  # no +Inf bucket
    ],
)
def test_no_answer_is_none(buckets: list[tuple[float, float]]) -> None:
    assert histogram_quantile(0.5, buckets) is None


def test_q0_with_empty_first_bucket_is_none_like_prometheus_nan() -> None:
    assert histogram_quantile(0.0, [(0.1, 0.0), (1.0, 10.0), (INF, 10.0)]) is None


def test_first_bucket_with_non_positive_bound_returns_that_bound() -> None:
    assert histogram_quantile(0.2, [(-1.0, 5.0), (1.0, 10.0), (INF, 10.0)]) == -1.0


def test_equal_bounds_are_merged() -> None:
    assert histogram_quantile(0.5, [(0.1, 5.0), (0.1, 5.0), (INF, 10.0)]) == pytest.approx(0.05)


def test_non_monotonic_counts_are_flattened() -> None:
    # 8 < 10 is impossible for cumulative counts; Prometheus treats it as 10.
    buckets = [(0.1, 10.0), (0.5, 8.0), (1.0, 20.0), (INF, 20.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert histogram_quantile(0.75, buckets) == pytest.approx(0.75)


def test_float_noise_between_buckets_is_ignored() -> None:
    buckets = [(0.1, 1.0), (0.5, 1.0 + 1e-15), (1.0, 2.0), (INF, 2.0)]
    # Without the precision fix the 1e-15 would form a bucket of its own.
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)


def test_rates_work_like_counts() -> None:
    scaled = [(b, c / 60.0) for b, c in BUCKETS]
    assert histogram_quantile(0.5, scaled) == pytest.approx(0.4)


def test_histogram_mean() -> None:
    assert histogram_mean(12.0, 4.0) == 3.0
    assert histogram_mean(0.0, 0.0) is None
    assert histogram_mean(None, 4.0) is None
    assert histogram_mean(1.0, None) is None


@st.composite
def histograms(draw: st.DrawFn) -> list[tuple[float, float]]:
    bounds = sorted(
        draw(
            st.sets(
                st.floats(min_value=0.001, max_value=1000, allow_nan=False), min_size=1, max_size=12
            )
        )
    )
    increments = draw(
        st.lists(
            st.floats(min_value=0, max_value=1e6, allow_nan=False),
            min_size=len(bounds) + 1,
            max_size=len(bounds) + 1,
        )
    )
    counts, total = [], 0.0
    for inc in increments:
        total += inc
        counts.append(total)
    return [*zip(bounds, counts, strict=False), (INF, counts[-1])]


@given(histograms(), st.floats(0, 1), st.floats(0, 1))
def test_monotonic_in_q_and_within_bounds(
    buckets: list[tuple[float, float]], q1: float, q2: float
) -> None:
    lo, hi = sorted((q1, q2))
    a = histogram_quantile(lo, buckets)
    b = histogram_quantile(hi, buckets)
    if buckets[-1][1] == 0:
        assert a is None and b is None
        return
    highest_finite = buckets[-2][0]
    for value in (a, b):
        if value is not None:  # None only for q == 0 with an empty first bucket
            assert 0.0 <= value <= highest_finite
    if a is not None and b is not None:
        assert a <= b + 1e-9 * max(1.0, abs(b))


@given(
    st.lists(st.tuples(st.sampled_from([0.1, 0.5, 1.0, 2.5, INF, -1.0]), st.floats(0, 100))),
    st.lists(st.sampled_from([0.0, 0.5, 0.95, 0.99, 1.0, -0.5, 1.5, math.nan]), max_size=4),
)
def test_several_quantiles_at_once_are_each_the_single_one(
    buckets: list[tuple[float, float]], qs: list[float]
) -> None:
    """p50, p95 and p99 of one histogram are read from buckets prepared once."""
    assert histogram_quantiles(qs, buckets) == [histogram_quantile(q, buckets) for q in qs]
