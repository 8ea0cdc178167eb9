"""Counter increases and rates over windows: resets, Prometheus extrapolation, buckets."""

from __future__ import annotations

import math
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.analysis.quantiles import histogram_quantile
from tui.analysis.rates import (
    CounterWindow,
    SampleWindow,
    bucket_increases,
    bucket_rates,
    in_range,
    increase,
    rate,
    sum_buckets,
)


def test_plain_increase_and_rate() -> None:
    samples = [(0.0, 0.0), (10.0, 10.0), (20.0, 25.0)]
    assert increase(samples) == 25.0
    assert rate(samples) == 1.25


def test_fewer_than_two_samples_is_none() -> None:
    assert increase([]) is None
    assert increase([(0.0, 5.0)]) is None
    assert rate([(0.0, 5.0)]) is None
    assert rate([(1.0, 5.0), (1.0, 6.0)]) is None  # zero span


def test_counter_reset_adds_the_value_before_the_drop() -> None:
    # 10 -> 20 (+10), restart, 0 -> 5 (+5), 5 -> 15 (+10)
    samples = [(0.0, 10.0), (10.0, 20.0), (20.0, 5.0), (30.0, 15.0)]
    assert increase(samples) == 25.0
    assert rate(samples) == pytest.approx(25.0 / 30.0)


def test_two_resets() -> None:
    samples = [(0.0, 100.0), (1.0, 3.0), (2.0, 1.0), (3.0, 4.0)]
    # +3 (reset from 100), +1 (reset from 3), +3
    assert increase(samples) == 7.0


def test_regular_samples_filling_the_range_match_plain_rate() -> None:
    samples = [(float(t), float(t)) for t in range(10, 61, 10)]  # 1/s, range [0, 60]
    assert increase(samples, range_start=0.0, range_end=60.0) == pytest.approx(60.0)
    assert rate(samples, range_start=0.0, range_end=60.0) == pytest.approx(1.0)


def test_series_starting_mid_range_extrapolates_half_an_interval() -> None:
    samples = [(30.0, 100.0), (40.0, 110.0), (50.0, 120.0), (60.0, 130.0)]
    # 30 s gap to the range start > 1.1 x 10 s: only 5 s extrapolated: 30 * 35/30.
    assert increase(samples, range_start=0.0, range_end=60.0) == pytest.approx(35.0)
    assert rate(samples, range_start=0.0, range_end=60.0) == pytest.approx(35.0 / 60.0)


def test_extrapolation_stops_at_the_counter_zero_point() -> None:
    samples = [(30.0, 0.0), (40.0, 10.0), (50.0, 20.0), (60.0, 30.0)]
    assert increase(samples, range_start=0.0, range_end=60.0) == pytest.approx(30.0)


def test_gap_before_range_end_extrapolates_half_an_interval() -> None:
    samples = [(0.0, 0.0), (10.0, 10.0), (20.0, 20.0)]
    assert increase(samples, range_start=0.0, range_end=60.0) == pytest.approx(25.0)


def test_samples_outside_the_range_are_ignored() -> None:
    samples = [(0.0, 0.0), (50.0, 500.0), (55.0, 550.0), (60.0, 600.0)]
    assert in_range(samples, 50.0, 60.0) == samples[1:]
    assert rate(samples, range_start=50.0, range_end=60.0) == pytest.approx(10.0)
    assert rate(samples[:1], range_start=50.0, range_end=60.0) is None


def test_per_bucket_increases_handle_resets_per_bucket() -> None:
    buckets = {
        0.5: [(0.0, 4.0), (10.0, 6.0), (20.0, 1.0)],  # +2, reset, +1 -> 3
        1.0: [(0.0, 5.0), (10.0, 9.0), (20.0, 2.0)],  # +4, reset, +2 -> 6
        math.inf: [(0.0, 5.0), (10.0, 10.0), (20.0, 3.0)],  # +5, +3 -> 8
        2.0: [(20.0, 1.0)],  # one sample: left out
    }
    assert bucket_increases(buckets) == {0.5: 3.0, 1.0: 6.0, math.inf: 8.0}
    assert bucket_rates(buckets) == {0.5: 0.15, 1.0: 0.3, math.inf: 0.4}


def test_window_quantile_over_summed_backends() -> None:
    a = {0.1: 2.0, 1.0: 4.0, math.inf: 4.0}
    b = {0.1: 0.0, 1.0: 4.0, math.inf: 6.0}
    pooled = sum_buckets([a, b])
    assert pooled == {0.1: 2.0, 1.0: 8.0, math.inf: 10.0}
    # rank 5 of 10: 3 of 6 into (0.1, 1.0]
    assert histogram_quantile(0.5, pooled.items()) == pytest.approx(0.55)


def test_sample_window_keeps_only_its_span() -> None:
    window = SampleWindow(keep_s=10.0)
    for t in range(0, 30, 5):
        window.append(float(t), float(t))
    assert [t for t, _ in window] == [15.0, 20.0, 25.0]
    window.append(25.0, 99.0)  # not newer: ignored
    assert window.newest == (25.0, 25.0)
    assert len(window) == 3


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.1, 5.0), st.floats(-10.0, 1e6, allow_nan=False)),
        min_size=0,
        max_size=40,
    ),
    st.floats(0.0, 150.0),
    st.floats(1.0, 90.0),
)
def test_counter_window_rate_is_the_promql_rate_of_its_samples(
    steps: list[tuple[float, float]], end: float, length: float
) -> None:
    """The array window answers exactly what `rate` over its samples would, resets and all."""
    window = CounterWindow(keep_s=60.0)
    at = 0.0
    for gap, value in steps:
        at += gap
        window.append(at, value)
        window.append(at, value + 1.0)  # not newer: ignored, as SampleWindow does
    samples = window.samples()
    assert all(s[0] >= at - 60.0 for s in samples)
    got = window.rate(end - length, end)
    want = rate(samples, range_start=end - length, range_end=end)
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(0.1, 5.0), min_size=0, max_size=40),
    st.lists(
        st.tuples(
            st.lists(st.floats(-10.0, 1e6, allow_nan=False), min_size=40, max_size=40),
            st.integers(0, 3),
            st.sets(st.integers(0, 39), max_size=3),
        ),
        min_size=1,
        max_size=6,
    ),
    st.floats(0.0, 150.0),
    st.floats(-5.0, 90.0),
)
def test_rates_of_many_windows_are_each_windows_rate(
    gaps: list[float],
    series: list[tuple[list[float], int, set[int]]],
    end: float,
    length: float,
) -> None:
    """Windows read at the same times share the work on times; each answer is the PromQL
    `rate` of that window's own samples, whether it shares the times, joined late or
    skipped a read."""
    windows = []
    for values, joined, missed in series:
        window = CounterWindow(keep_s=60.0)
        at = 0.0
        for i, gap in enumerate(gaps):
            at += gap
            if i >= joined and i not in missed:
                window.append(at, values[i])
        windows.append(window)
    got = CounterWindow.rates(windows, end - length, end)
    for window, value in zip(windows, got, strict=True):
        want = rate(window.samples(), range_start=end - length, range_end=end)
        if want is None:
            assert value is None
        else:
            assert value == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_counter_window_memory_is_about_24_bytes_a_sample() -> None:
    """A long-running dashboard holds one window per series (thousands at 32 backends)."""
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    windows = [CounterWindow(keep_s=60.0) for _ in range(300)]
    for t in range(200):
        for w in windows:
            w.append(float(t), float(t) * 1.5)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    # Only what this test and the rates module hold: a thread left by another test
    # allocating meanwhile must not count against the windows.
    ours = [
        tracemalloc.Filter(inclusive=True, filename_pattern="*/tui/analysis/rates.py"),
        tracemalloc.Filter(inclusive=True, filename_pattern=__file__),
    ]
    grown = after.filter_traces(ours).compare_to(before.filter_traces(ours), "filename")
    held = sum(stat.size_diff for stat in grown)
    assert all(len(w) == 61 for w in windows)
    assert windows[0].newest == (199.0, 298.5)
    # 300 x 61 samples: 24 bytes each plus array slack; tuples of floats would be ~100.
    assert held < 300 * 61 * 48
