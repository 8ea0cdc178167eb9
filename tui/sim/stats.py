"""Cumulative statistics an engine keeps, in vLLM's bucket layouts.

The engine records into these plain objects (cheap, deterministic, and able to observe one
value many times at once, which per-iteration token accounting needs); ``tui.sim.metrics``
renders them through a prometheus_client registry at scrape time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence

TTFT_BUCKETS: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
    2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
"""Bucket bounds of ``vllm:time_to_first_token_seconds``."""

ITL_BUCKETS: tuple[float, ...] = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0,
    2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
)  # fmt: skip
"""Bucket bounds of ``vllm:inter_token_latency_seconds`` (and the deprecated TPOT name)."""

REQUEST_LATENCY_BUCKETS: tuple[float, ...] = (
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
    60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0,
)  # fmt: skip
"""Bucket bounds of the e2e / queue / inference / prefill / decode request histograms."""

ITERATION_TOKENS_BUCKETS: tuple[float, ...] = (
    1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
)  # fmt: skip
"""Bucket bounds of ``vllm:iteration_tokens_total``."""

PARAMS_N_BUCKETS: tuple[float, ...] = (1, 2, 5, 10, 20)
"""Bucket bounds of ``vllm:request_params_n``."""

NUM_PREEMPTIONS_BUCKETS: tuple[float, ...] = (1, 2, 3, 4, 5, 10, 20)
"""Bucket bounds of ``vllm:request_num_preemptions`` (vLLM 0.33, ``vllm/v1/metrics/buckets.py``)."""

HTTP_DURATION_BUCKETS: tuple[float, ...] = (0.1, 0.5, 1.0)
"""Bucket bounds of ``http_request_duration_seconds`` (the instrumentator's default)."""

HTTP_HIGHR_BUCKETS: tuple[float, ...] = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5,
    10, 30, 60,
)  # fmt: skip
"""Bucket bounds of ``http_request_duration_highr_seconds`` (prometheus-fastapi-instrumentator
8.x ``metrics.default``: no labels, many buckets)."""


def buckets_1_2_5(max_value: int) -> tuple[float, ...]:
    """vLLM's 1-2-5 series: 1, 2, 5, 10, 20, 50, ... up to the largest value <= max_value."""
    out: list[float] = []
    magnitude = 1
    while True:
        for mantissa in (1, 2, 5):
            value = mantissa * magnitude
            if value > max_value:
                return tuple(out)
            out.append(float(value))
        magnitude *= 10


def family_buckets(
    family: str, max_model_len: int, overrides: Mapping[str, Sequence[float]] | None = None
) -> tuple[float, ...]:
    """The bounds of one of vLLM's bucket families, as ``histogram_buckets`` picks them.

    vLLM 0.33 (``vllm/v1/metrics/buckets.py``) draws every engine histogram's bounds from a
    family (``request_latency``, ``time_to_first_token``, ``inter_token_latency``,
    ``iteration_tokens``, ``request_params_n``, ``request_num_preemptions``,
    ``request_tokens``); ``--custom-histogram-buckets`` replaces a family's list verbatim.
    ``request_tokens`` defaults to the 1-2-5 series up to ``max_model_len``.
    """
    if overrides is not None and family in overrides:
        return tuple(float(b) for b in overrides[family])
    if family == "request_tokens":
        return buckets_1_2_5(max_model_len)
    return DEFAULT_FAMILY_BUCKETS[family]


DEFAULT_FAMILY_BUCKETS: dict[str, tuple[float, ...]] = {
    "request_latency": REQUEST_LATENCY_BUCKETS,
    "time_to_first_token": TTFT_BUCKETS,
    "inter_token_latency": ITL_BUCKETS,
    "iteration_tokens": ITERATION_TOKENS_BUCKETS,
    "request_params_n": PARAMS_N_BUCKETS,
    "request_num_preemptions": NUM_PREEMPTIONS_BUCKETS,
}
"""vLLM's default bounds per bucket family (``request_tokens`` depends on the model)."""


class Hist:
    """A cumulative histogram with fixed upper bounds (``+Inf`` implied)."""

    __slots__ = ("bounds", "count", "counts", "sum", "twins")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds: tuple[float, ...] = tuple(float(b) for b in bounds)
        self.counts: list[int] = [0] * (len(self.bounds) + 1)  # per bucket, not cumulative
        self.sum = 0.0
        self.count = 0
        self.twins: list[Hist] = []  # same observations in other engines' bucket layouts

    def twin(self, bounds: Sequence[float]) -> Hist:
        """A histogram that records every later observation of this one, in ``bounds``.

        How the simulator serves another engine's buckets (SGLang's, TGI's) from the one
        model: same observations, that engine's layout. One twin per layout.
        """
        wanted = tuple(float(b) for b in bounds)
        for t in self.twins:
            if t.bounds == wanted:
                return t
        made = Hist(wanted)
        self.twins.append(made)
        return made

    def observe(self, value: float, n: int = 1) -> None:
        """Record ``value`` ``n`` times (bucket i holds values <= bounds[i])."""
        if n <= 0:
            return
        self.counts[bisect_left(self.bounds, value)] += n
        self.sum += value * n
        self.count += n
        for t in self.twins:
            t.observe(value, n)

    def cumulative(self) -> list[int]:
        """Cumulative counts per bound, the last one being ``+Inf`` (== count)."""
        out: list[int] = []
        running = 0
        for c in self.counts:
            running += c
            out.append(running)
        return out

    def quantile(self, q: float) -> float | None:
        """Prometheus-style ``histogram_quantile`` over everything recorded; None if empty."""
        if self.count == 0:
            return None
        rank = q * self.count
        cumulative = self.cumulative()
        for i, upto in enumerate(cumulative):
            if upto >= rank:
                if i == len(self.bounds):
                    return self.bounds[-1]
                lower = self.bounds[i - 1] if i > 0 else 0.0
                below = cumulative[i - 1] if i > 0 else 0
                in_bucket = upto - below
                if in_bucket == 0:
                    return self.bounds[i]
                return lower + (self.bounds[i] - lower) * (rank - below) / in_bucket
        return self.bounds[-1]


class HttpStats:
    """What the API server's HTTP instrumentation counts (not engine metrics).

    ``requests[(handler, method, status_class)]`` and a duration histogram per
    ``(handler, method)``, like prometheus-fastapi-instrumentator in vLLM's API server.
    """

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = {}
        self.durations: dict[tuple[str, str], Hist] = {}
        self.highr = Hist(HTTP_HIGHR_BUCKETS)
        # handler -> (count, bytes) of request and response bodies (Content-Length)
        self.request_sizes: dict[str, tuple[int, float]] = {}
        self.response_sizes: dict[str, tuple[int, float]] = {}

    def record(
        self,
        handler: str,
        method: str,
        status: int,
        duration_s: float,
        request_bytes: int = 0,
        response_bytes: int = 0,
    ) -> None:
        """Count one answered request (``status`` is the HTTP code, stored as its class)."""
        key = (handler, method, f"{status // 100}xx")
        self.requests[key] = self.requests.get(key, 0) + 1
        hist = self.durations.get((handler, method))
        if hist is None:
            hist = self.durations[(handler, method)] = Hist(HTTP_DURATION_BUCKETS)
        hist.observe(duration_s)
        self.highr.observe(duration_s)
        for sizes, size in (
            (self.request_sizes, request_bytes),
            (self.response_sizes, response_bytes),
        ):
            count, total = sizes.get(handler, (0, 0.0))
            sizes[handler] = (count + 1, total + max(size, 0))

    def count(self, status_class: str, handler: str | None = None) -> int:
        """Requests answered with ``status_class`` (e.g. ``"5xx"``), optionally per handler."""
        return sum(
            n
            for (h, _m, s), n in self.requests.items()
            if s == status_class and (handler is None or h == handler)
        )
