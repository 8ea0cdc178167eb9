"""The simulator's ``/metrics`` plumbing: metric families, the API server's HTTP metrics,
the registry and the wire formats.

Custom collectors (vLLM's in `tui.sim.vllm_metrics`, other engines' in
`tui.sim.engine_metrics`) read the engine's cumulative statistics at scrape time and build
families with the helpers here, so the exposition is prometheus_client's own.

``render`` writes the classic text format (what ``generate_latest`` writes), or OpenMetrics;
with ``escaped=True`` the OpenMetrics sample lines carry ``_`` instead of ``:`` while
``# HELP``/``# TYPE`` keep the colon (prometheus_client issue #1177).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector, RestrictedRegistry
from prometheus_client.utils import floatToGoString

from tui.sim.stats import Hist, HttpStats

CONTENT_TYPE_TEXT = "text/plain; version=0.0.4; charset=utf-8"
"""Content type of the classic text exposition."""
CONTENT_TYPE_OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
"""Content type of OpenMetrics 1.0 (escaped mode adds ``; escaping=underscores``)."""

HTTP_HANDLERS: tuple[tuple[str, str], ...] = (
    ("/v1/chat/completions", "POST"),
    ("/v1/completions", "POST"),
    ("/v1/models", "GET"),
)
"""Handlers the API server instruments (``/metrics`` and ``/health`` are excluded)."""


def _counter(
    name: str, doc: str, created: float, rows: Iterable[tuple[dict[str, str], float]]
) -> Metric:
    metric = Metric(name, doc, "counter")
    for labels, value in rows:
        metric.add_sample(name + "_total", labels, value)
        metric.add_sample(name + "_created", labels, created)
    return metric


def _gauge(name: str, doc: str, rows: Iterable[tuple[dict[str, str], float]]) -> Metric:
    metric = Metric(name, doc, "gauge")
    for labels, value in rows:
        metric.add_sample(name, labels, value)
    return metric


def _histogram(
    name: str, doc: str, created: float, rows: Iterable[tuple[dict[str, str], Hist]]
) -> Metric:
    metric = Metric(name, doc, "histogram")
    for labels, hist in rows:
        bounds = [floatToGoString(b) for b in hist.bounds] + ["+Inf"]
        for le, count in zip(bounds, hist.cumulative(), strict=True):
            metric.add_sample(name + "_bucket", {**labels, "le": le}, float(count))
        metric.add_sample(name + "_count", labels, float(hist.count))
        metric.add_sample(name + "_sum", labels, hist.sum)
        metric.add_sample(name + "_created", labels, created)
    return metric


def http_metrics(http: HttpStats, created: float) -> Iterator[Metric]:
    """prometheus-fastapi-instrumentator's ``metrics.default()`` (the same in 7.1.0 and
    8.1.0), as vLLM's API server registers it (``Instrumentator(...).add()`` with no
    instrumentation, in 0.10.2's ``api_server.py`` and 0.33.0's
    ``serve/instrumentator/metrics.py``): names, labels, HELP texts (trailing space
    included), buckets."""
    rows: list[tuple[dict[str, str], float]] = []
    durations: list[tuple[dict[str, str], Hist]] = []
    handlers = [h for h, _ in HTTP_HANDLERS]
    for handler, method in HTTP_HANDLERS:
        for (h, m, status), n in sorted(http.requests.items()):
            if (h, m) == (handler, method):
                rows.append(({"method": m, "status": status, "handler": h}, float(n)))
        if (handler, method) in http.durations:
            labels = {"method": method, "handler": handler}
            durations.append((labels, http.durations[(handler, method)]))
    yield _counter("http_requests", "Total number of requests by method, status and"
                   " handler.", created, rows)  # fmt: skip
    for name, sizes, what in (
        ("http_request_size_bytes", http.request_sizes, "incoming requests"),
        ("http_response_size_bytes", http.response_sizes, "outgoing responses"),
    ):
        summary = Metric(
            name,
            f"Content length of {what} by handler. Only value of header is respected."
            " Otherwise ignored. No percentile calculated. ",
            "summary",
        )
        for handler in handlers:
            if handler in sizes:
                count, total = sizes[handler]
                summary.add_sample(name + "_count", {"handler": handler}, float(count))
                summary.add_sample(name + "_sum", {"handler": handler}, total)
                summary.add_sample(name + "_created", {"handler": handler}, created)
        yield summary
    yield _histogram(
        "http_request_duration_highr_seconds",
        "Latency with many buckets but no API specific labels. Made for more accurate"
        " percentile calculations. ",
        created,
        [({}, http.highr)],
    )
    yield _histogram(
        "http_request_duration_seconds",
        "Latency with only few buckets by handler. Made to be only used if aggregation by"
        " handler is important. ",
        created,
        durations,
    )


def build_registry(collector: Collector, *, process: bool = True) -> CollectorRegistry:
    """A fresh registry holding ``collector`` (one per backend process).

    With ``process``, also prometheus_client's default collectors (``process_*``,
    ``python_gc_*``, ``python_info``), which vLLM's registry serves beside its own.
    """
    registry = CollectorRegistry(auto_describe=False)
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    registry.register(collector)
    return registry


def wants_openmetrics(accept: str | None) -> bool:
    """Whether an Accept header asks for OpenMetrics (as Prometheus 2.x does first)."""
    if not accept:
        return False
    return any(
        part.split(";")[0].strip() == "application/openmetrics-text" for part in accept.split(",")
    )


def render(
    registry: CollectorRegistry | RestrictedRegistry, openmetrics_format: bool, escaped: bool
) -> tuple[bytes, str]:
    """The exposition and its content type.

    Classic text unless ``openmetrics_format``; OpenMetrics sample names keep their colons
    unless ``escaped`` (then ``:`` becomes ``_`` in sample lines only, as in issue #1177).
    """
    if not openmetrics_format:
        return generate_latest(registry), CONTENT_TYPE_TEXT
    body = openmetrics.generate_latest(registry, escaping=openmetrics.ALLOWUTF8)
    if not escaped:
        return body, CONTENT_TYPE_OPENMETRICS
    lines = []
    for line in body.decode("utf-8").splitlines(keepends=True):
        if not line.startswith("#"):
            cut = min((i for i in (line.find("{"), line.find(" ")) if i >= 0), default=len(line))
            line = line[:cut].replace(":", "_") + line[cut:]
        lines.append(line)
    return "".join(lines).encode("utf-8"), CONTENT_TYPE_OPENMETRICS + "; escaping=underscores"
