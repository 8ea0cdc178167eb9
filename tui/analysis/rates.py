"""Counter arithmetic over windows of ``(timestamp, value)`` samples, Prometheus-style.

Counter resets: a sample lower than the one before it means the counter restarted from
0 (the process restarted), so the previous value is added back, as Prometheus does.

Extrapolation — the decision:

* ``increase(samples)`` / ``rate(samples)`` without a range are the plain reset-aware
  difference between the first and last sample, and that difference divided by the
  samples' span. No extrapolation.
* Given ``range_start``/``range_end`` (the window ``[end - w, end]`` a PromQL
  ``rate(x[w])`` evaluated at ``end`` looks at), they reproduce Prometheus's
  ``extrapolatedRate`` exactly: the difference is extrapolated towards the range
  boundaries when the first/last samples lie within 1.1 average sample intervals of
  them (else by half an interval), never back past the counter's zero point, and
  ``rate`` divides by the whole range. For regularly scraped series covering the
  range the two agree (extrapolating one interval over ``w`` of range is ``Δ/span``).

Samples are selected with a closed interval ``[range_start, range_end]`` (Prometheus 2.x;
3.x opens the left end, which only differs for a sample exactly on the boundary).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence

Sample = tuple[float, float]
"""One observation: ``(epoch seconds, value)``."""

#: Prometheus extrapolates to a range boundary closer than this many average intervals.
EXTRAPOLATION_THRESHOLD = 1.1


def in_range(samples: Iterable[Sample], start: float, end: float) -> list[Sample]:
    """The samples whose timestamp lies in ``[start, end]``, in the given order."""
    return [s for s in samples if start <= s[0] <= end]


def _raw_increase(samples: Sequence[Sample]) -> float:
    """Last minus first, plus the value before every drop (a counter reset)."""
    result = samples[-1][1] - samples[0][1]
    previous = 0.0
    for _, value in samples:
        if value < previous:
            result += previous
        previous = value
    return result


def _extrapolated(samples: Sequence[Sample], range_start: float, range_end: float) -> float:
    """Prometheus's ``increase()`` over ``[range_start, range_end]`` (≥ 2 samples)."""
    first_t, first_v = samples[0]
    return extrapolate(
        _raw_increase(samples),
        first_t,
        first_v,
        samples[-1][0],
        len(samples),
        range_start,
        range_end,
    )


def extrapolate(
    delta: float,
    first_t: float,
    first_v: float,
    last_t: float,
    count: int,
    range_start: float,
    range_end: float,
) -> float:
    """Prometheus's extrapolation of a reset-corrected ``delta`` seen by ``count`` samples.

    ``first_t``/``first_v``: the first sample in the range; ``last_t``: the last one's time.
    """
    sampled = last_t - first_t
    if sampled <= 0:
        return delta
    average = sampled / (count - 1)
    threshold = average * EXTRAPOLATION_THRESHOLD
    to_start = first_t - range_start
    to_end = range_end - last_t
    if to_start >= threshold:
        to_start = average / 2
    if delta > 0 and first_v >= 0:
        # A counter cannot go below zero: do not extrapolate past its zero point.
        to_zero = sampled * (first_v / delta)
        to_start = min(to_start, to_zero)
    if to_end >= threshold:
        to_end = average / 2
    return delta * (sampled + to_start + to_end) / sampled


def increase(
    samples: Sequence[Sample],
    *,
    range_start: float | None = None,
    range_end: float | None = None,
) -> float | None:
    """How much a counter grew over the samples, resets handled; None for < 2 samples.

    With both ``range_start`` and ``range_end`` it is PromQL's ``increase()`` over that
    range (samples outside it ignored, Prometheus's extrapolation applied); otherwise the
    plain difference between the first and last sample.
    """
    if range_start is not None and range_end is not None:
        samples = in_range(samples, range_start, range_end)
        if len(samples) < 2:
            return None
        return _extrapolated(samples, range_start, range_end)
    if len(samples) < 2:
        return None
    return _raw_increase(samples)


def rate(
    samples: Sequence[Sample],
    *,
    range_start: float | None = None,
    range_end: float | None = None,
) -> float | None:
    """Per-second growth of a counter; None for < 2 samples or a zero-length span.

    With a range it is PromQL's ``rate()`` (extrapolated increase / range length);
    otherwise the reset-aware increase divided by the samples' own span.
    """
    if range_start is not None and range_end is not None:
        length = range_end - range_start
        if length <= 0:
            return None
        grown = increase(samples, range_start=range_start, range_end=range_end)
        return None if grown is None else grown / length
    if len(samples) < 2:
        return None
    span = samples[-1][0] - samples[0][0]
    if span <= 0:
        return None
    return _raw_increase(samples) / span


def bucket_rates(
    buckets: Mapping[float, Sequence[Sample]],
    *,
    range_start: float | None = None,
    range_end: float | None = None,
) -> dict[float, float]:
    """Per-bucket ``rate`` of a histogram's cumulative bucket series, keyed by ``le``.

    Each bucket is its own counter (resets handled per bucket), as in PromQL's
    ``rate(x_bucket[w])``; buckets with fewer than 2 samples in range are left out.
    """
    out: dict[float, float] = {}
    for le, samples in buckets.items():
        value = rate(samples, range_start=range_start, range_end=range_end)
        if value is not None:
            out[le] = value
    return out


def bucket_increases(
    buckets: Mapping[float, Sequence[Sample]],
    *,
    range_start: float | None = None,
    range_end: float | None = None,
) -> dict[float, float]:
    """Per-bucket ``increase`` of a histogram's bucket series over a window, keyed by ``le``.

    Feed the result (or a `sum_buckets` of several) to ``histogram_quantile`` to get the
    quantile of the observations made during the window.
    """
    out: dict[float, float] = {}
    for le, samples in buckets.items():
        value = increase(samples, range_start=range_start, range_end=range_end)
        if value is not None:
            out[le] = value
    return out


def sum_buckets(histograms: Iterable[Mapping[float, float]]) -> dict[float, float]:
    """Add bucket maps by ``le`` — PromQL's ``sum by (le)`` across series or backends."""
    total: dict[float, float] = {}
    for histogram in histograms:
        for le, value in histogram.items():
            total[le] = total.get(le, 0.0) + value
    return total


class SampleWindow:
    """A bounded, time-ordered buffer of samples for one series.

    Samples older than ``keep_s`` before the newest one are dropped on every append, so
    memory stays bounded however long the dashboard runs.
    """

    __slots__ = ("_samples", "keep_s")

    def __init__(self, keep_s: float) -> None:
        """Keep samples up to ``keep_s`` seconds older than the newest."""
        self.keep_s = keep_s
        self._samples: deque[Sample] = deque()

    def append(self, at: float, value: float) -> None:
        """Add a sample; one not newer than the last is ignored (clock went backwards)."""
        if self._samples and at <= self._samples[-1][0]:
            return
        self._samples.append((at, value))
        self.prune(at - self.keep_s)

    def prune(self, before: float) -> None:
        """Drop samples older than ``before``."""
        while self._samples and self._samples[0][0] < before:
            self._samples.popleft()

    @property
    def newest(self) -> Sample | None:
        """The most recent sample, if any."""
        return self._samples[-1] if self._samples else None

    def __len__(self) -> int:
        """How many samples are held."""
        return len(self._samples)

    def __iter__(self) -> Iterator[Sample]:
        """Samples, oldest first."""
        return iter(self._samples)

    def samples(self) -> list[Sample]:
        """A copy of the samples, oldest first."""
        return list(self._samples)


class CounterWindow:
    """A counter's recent samples in flat float arrays, with PromQL ``rate`` in O(log n).

    Like `SampleWindow` (time-ordered, bounded to ``keep_s`` before the newest sample;
    a sample not newer than the last is ignored), but stored as three ``array('d')``
    (times, values, and the running sum of values lost to counter resets), so that a
    rate over any range needs two binary searches instead of a walk over the window,
    and a sample costs 24 bytes instead of a tuple of two float objects. Samples that
    left the span are dropped in batches (once they are `PRUNE_SLACK` of the span past
    it), not one per append; they are never counted, listed or used by a rate.
    """

    __slots__ = ("_drop_before", "_lost", "_times", "_values", "keep_s")

    #: How far past the span (a share of ``keep_s``) samples wait to be dropped together.
    PRUNE_SLACK = 0.1

    def __init__(self, keep_s: float) -> None:
        """Keep samples up to ``keep_s`` seconds older than the newest."""
        self.keep_s = keep_s
        self._drop_before = keep_s * (1.0 + self.PRUNE_SLACK)
        self._times = array("d")
        self._values = array("d")
        self._lost = array("d")  # values added back at resets, cumulative

    def append(self, at: float, value: float) -> None:
        """Add a sample; one not newer than the last is ignored (clock went backwards)."""
        times = self._times
        if times and at <= times[-1]:
            return
        lost = 0.0
        if times:
            previous = self._values[-1]
            lost = self._lost[-1] + (previous if value < previous else 0.0)
        times.append(at)
        self._values.append(value)
        self._lost.append(lost)
        if times[0] < at - self._drop_before:
            self.prune(at - self.keep_s)

    def prune(self, before: float) -> None:
        """Drop samples older than ``before``."""
        cut = bisect_left(self._times, before)
        if cut:
            del self._times[:cut]
            del self._values[:cut]
            del self._lost[:cut]

    @property
    def newest(self) -> Sample | None:
        """The most recent sample, if any."""
        return (self._times[-1], self._values[-1]) if self._times else None

    def _first_kept(self) -> int:
        """Index of the oldest sample within ``keep_s`` of the newest."""
        times = self._times
        return bisect_left(times, times[-1] - self.keep_s) if times else 0

    @property
    def newest_at(self) -> float:
        """When the most recent sample was taken; ``-inf`` when there is none."""
        return self._times[-1] if self._times else -math.inf

    def __len__(self) -> int:
        """How many samples are held (within ``keep_s`` of the newest)."""
        return len(self._times) - self._first_kept()

    def samples(self) -> list[Sample]:
        """A copy of the samples within ``keep_s`` of the newest, oldest first."""
        first = self._first_kept()
        return list(zip(self._times[first:], self._values[first:], strict=True))

    def rate(self, range_start: float, range_end: float) -> float | None:
        """PromQL ``rate()`` over ``[range_start, range_end]``: same as `rate` with a range
        (`rates` for one window)."""
        return CounterWindow.rates((self,), range_start, range_end)[0]

    @staticmethod
    def rates(
        windows: Iterable[CounterWindow], range_start: float, range_end: float
    ) -> list[float | None]:
        """PromQL ``rate()`` of each window over one range: `extrapolate` written out in
        place, with the same operations in the same order, so the same results as `rate`
        over the window's samples; the work that depends on sample times alone is done
        once for windows whose samples were taken at the same times.

        The series of one backend are read together, so their windows hold the same
        times: the search for the range's samples and the extrapolation's terms are
        shared (checked by comparing the times themselves, not assumed). A dashboard asks
        for ~100 rates per backend per refresh.
        """
        length = range_end - range_start
        if length <= 0:
            return [None for _ in windows]
        out: list[float | None] = []
        same_as = b""  # the times (as bytes) and keep_s the shared terms below were made for
        same_keep = math.nan
        first = last = 0
        first_t = range_start
        sampled = threshold = half = to_start_t = to_end = 0.0
        usable = False
        for window in windows:
            times = window._times
            if not times:
                out.append(None)
                continue
            stamp = times.tobytes()
            if stamp != same_as or window.keep_s != same_keep:
                same_as, same_keep = stamp, window.keep_s
                first = bisect_left(times, max(range_start, times[-1] - window.keep_s))
                last = bisect_right(times, range_end) - 1
                intervals = last - first
                usable = intervals >= 1
                if usable:
                    first_t, last_t = times[first], times[last]
                    sampled = last_t - first_t
                    if sampled > 0:
                        average = sampled / intervals
                        threshold = average * EXTRAPOLATION_THRESHOLD
                        half = average / 2
                        to_start_t = first_t - range_start
                        to_end = range_end - last_t
                        if to_start_t >= threshold:
                            to_start_t = half
                        if to_end >= threshold:
                            to_end = half
            if not usable:
                out.append(None)
                continue
            values, lost = window._values, window._lost
            first_v = values[first]
            delta = (values[last] - first_v) + (lost[last] - lost[first])
            if sampled <= 0:
                out.append(delta / length)
                continue
            to_start = to_start_t
            if delta > 0 and first_v >= 0:
                to_start = min(to_start, sampled * (first_v / delta))
            out.append(delta * (sampled + to_start + to_end) / sampled / length)
        return out
