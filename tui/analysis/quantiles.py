"""Quantiles from cumulative histogram buckets, exactly as Prometheus computes them.

`histogram_quantile` follows Prometheus's ``bucketQuantile`` (promql/quantile.go) step by
step so that a quantile computed here from scraped buckets equals the figure a Prometheus
server shows for ``histogram_quantile(q, sum by (le) (rate(x_bucket[w])))`` on the same
data. Where Prometheus yields NaN ("no answer") this module yields ``None``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence

#: Relative difference below which neighbouring bucket counts are treated as equal
#: (Prometheus's ``correctPrecisionErrors`` tolerance).
PRECISION_TOLERANCE = 1e-12


def _coalesce(buckets: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge buckets that share an upper bound (input sorted by bound)."""
    merged: list[tuple[float, float]] = []
    for bound, count in buckets:
        if merged and merged[-1][0] == bound:
            merged[-1] = (bound, merged[-1][1] + count)
        else:
            merged.append((bound, count))
    return merged


def _correct_precision_errors(counts: list[float]) -> None:
    """Flatten differences between neighbours that are mere float noise (in place)."""
    prev = counts[0]
    for i in range(1, len(counts)):
        curr = counts[i]
        delta = abs(curr - prev)
        if delta == 0:
            continue
        eps = delta / curr if curr != 0 else math.inf
        if eps <= PRECISION_TOLERANCE:
            counts[i] = prev
        else:
            prev = curr


def _ensure_monotonic(counts: list[float]) -> None:
    """Replace each count by the running maximum, removing decreases (in place)."""
    highest = counts[0]
    for i in range(1, len(counts)):
        if counts[i] > highest:
            highest = counts[i]
        elif counts[i] < highest:
            counts[i] = highest


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """The ``q``-quantile of a classic histogram given as cumulative ``(le, count)`` pairs.

    Follows Prometheus's ``histogram_quantile`` exactly:

    * ``q`` NaN → None; ``q < 0`` → ``-inf``; ``q > 1`` → ``+inf``;
    * buckets are sorted by bound and buckets with equal bounds merged; the highest bound
      must be ``+Inf``, else None;
    * counts that differ by a relative 1e-12 are treated as equal, and any remaining
      decrease between successive buckets is removed (Prometheus's monotonicity fix);
    * fewer than 2 buckets, or a total (``+Inf`` count) of 0 → None;
    * the rank ``q * total`` falling into the ``+Inf`` bucket → the highest finite bound;
    * falling into the first bucket → interpolated from 0 (or, when that bucket's bound
      is ≤ 0, that bound itself); elsewhere linear interpolation inside the bucket.

    Counts may be rates or window increases as well as raw cumulative counts.
    """
    return histogram_quantiles((q,), buckets)[0]


def histogram_quantiles(
    qs: Sequence[float], buckets: Iterable[tuple[float, float]]
) -> list[float | None]:
    """`histogram_quantile` of each of ``qs`` over the same buckets, which are sorted,
    merged and corrected once (a dashboard wants p50, p95 and p99 of every histogram)."""
    prepared = _prepare(buckets) if any(_in_unit(q) for q in qs) else None
    return [_quantile(q, prepared) for q in qs]


def _in_unit(q: float) -> bool:
    """True for a ``q`` that needs the buckets (not NaN, within [0, 1])."""
    return q is not None and not math.isnan(q) and 0 <= q <= 1


def _prepare(buckets: Iterable[tuple[float, float]]) -> tuple[list[float], list[float]] | None:
    """(bounds, cumulative counts) ready for ranks; None when no quantile can be had."""
    pairs = sorted((float(b), float(c)) for b, c in buckets)
    if not pairs or not math.isinf(pairs[-1][0]) or pairs[-1][0] < 0:
        return None
    pairs = _coalesce(pairs)
    bounds = [b for b, _ in pairs]
    counts = [c for _, c in pairs]
    _correct_precision_errors(counts)
    _ensure_monotonic(counts)
    if len(counts) < 2:
        return None
    total = counts[-1]
    if total == 0 or math.isnan(total):
        return None
    return bounds, counts


def _quantile(q: float, prepared: tuple[list[float], list[float]] | None) -> float | None:
    """One quantile of prepared buckets (Prometheus's ``bucketQuantile`` after its fixes)."""
    if q is None or math.isnan(q):
        return None
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    if prepared is None:
        return None
    bounds, counts = prepared
    rank = q * counts[-1]
    # First bucket (excluding +Inf) whose cumulative count reaches the rank.
    b = bisect.bisect_left(counts, rank, 0, len(counts) - 1)
    if b == len(counts) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start = 0.0
    end = bounds[b]
    count = counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    if count == 0:
        return None  # only when q == 0 and the first bucket is empty: Prometheus gives NaN
    return start + (end - start) * (rank / count)


def histogram_mean(total_sum: float | None, count: float | None) -> float | None:
    """The mean observation, ``sum / count``; None when there were no observations."""
    if total_sum is None or count is None or count <= 0:
        return None
    mean = total_sum / count
    return None if math.isnan(mean) else mean
