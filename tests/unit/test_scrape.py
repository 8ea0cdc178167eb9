"""The scrape source: exposition text → backends, pools, fleet and GPUs; bad targets."""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tui.analysis.quantiles import histogram_quantile
from tui.model import Backend, Collected, Health
from tui.sources.base import Source
from tui.sources.scrape import ScrapeSource, ScrapeState, ScrapeTarget

TTFT_BOUNDS = (0.1, 0.25, 0.5, 1.0, 2.5, math.inf)
BLUE1 = ScrapeTarget("blue-1", "blue", "http://127.0.0.1:18001")
BLUE2 = ScrapeTarget("blue-2", "blue", "http://127.0.0.1:18002")
GREEN1 = ScrapeTarget("green-1", "green", "http://127.0.0.1:18003", model="m-v2")


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(bound)


def vllm_text(
    *,
    prompt: float = 0.0,
    generation: float = 0.0,
    success: Mapping[str, float] | None = None,
    ttft: Sequence[float] = (0, 0, 0, 0, 0, 0),
    ttft_sum: float = 0.0,
    http: Mapping[str, float] | None = None,
    running: float = 2.0,
    waiting: float = 1.0,
    kv: float = 0.25,
    preemptions: float = 0.0,
    old_names: bool = False,
    escaped: bool = False,
    model: str = "m-v1",
) -> str:
    """A vLLM /metrics page (classic text format) with the given cumulative values."""
    labels = f'engine="0",model_name="{model}"'
    kv_name = "vllm:gpu_cache_usage_perc" if old_names else "vllm:kv_cache_usage_perc"
    itl_name = (
        "vllm:time_per_output_token_seconds" if old_names else ("vllm:inter_token_latency_seconds")
    )
    lines = [
        "# HELP vllm:num_requests_running Number of requests in model execution batches.",
        "# TYPE vllm:num_requests_running gauge",
        f"vllm:num_requests_running{{{labels}}} {running}",
        "# TYPE vllm:num_requests_waiting gauge",
        f"vllm:num_requests_waiting{{{labels}}} {waiting}",
        f"# TYPE {kv_name} gauge",
        f"{kv_name}{{{labels}}} {kv}",
        "# TYPE vllm:prompt_tokens_total counter",
        f"vllm:prompt_tokens_total{{{labels}}} {prompt}",
        "# TYPE vllm:generation_tokens_total counter",
        f"vllm:generation_tokens_total{{{labels}}} {generation}",
        "# TYPE vllm:num_preemptions_total counter",
        f"vllm:num_preemptions_total{{{labels}}} {preemptions}",
        "# TYPE vllm:request_success_total counter",
    ]
    for reason, value in (success or {"stop": 0.0, "length": 0.0}).items():
        lines.append(f'vllm:request_success_total{{{labels},finished_reason="{reason}"}} {value}')
    lines.append("# TYPE vllm:time_to_first_token_seconds histogram")
    for bound, count in zip(TTFT_BOUNDS, ttft, strict=True):
        lines.append(
            f'vllm:time_to_first_token_seconds_bucket{{{labels},le="{_le(bound)}"}} {count}'
        )
    lines += [
        f"vllm:time_to_first_token_seconds_count{{{labels}}} {ttft[-1]}",
        f"vllm:time_to_first_token_seconds_sum{{{labels}}} {ttft_sum}",
        f"# TYPE {itl_name} histogram",
        f'{itl_name}_bucket{{{labels},le="0.05"}} 0.0',
        f'{itl_name}_bucket{{{labels},le="+Inf"}} 0.0',
        f"{itl_name}_count{{{labels}}} 0.0",
        f"{itl_name}_sum{{{labels}}} 0.0",
        "# TYPE http_requests_total counter",
    ]
    for key, value in (http or {}).items():
        handler, status = key.split(" ")
        lines.append(
            f'http_requests_total{{handler="{handler}",method="POST",status="{status}"}} {value}'
        )
    text = "\n".join(lines) + "\n"
    if escaped:  # recent prometheus_client in OpenMetrics mode: colons escaped on sample lines
        text = "\n".join(
            ln if ln.startswith("#") else ln.replace("vllm:", "vllm_", 1)
            for ln in text.splitlines()
        )
        text += "\n# EOF\n"
    return text


FIRST = vllm_text(
    prompt=5000,
    generation=20000,
    success={"stop": 100, "length": 20},
    ttft=(5, 10, 20, 25, 30, 30),
    ttft_sum=10.0,
    http={"/v1/chat/completions 2xx": 100, "/v1/chat/completions 5xx": 1, "/metrics 2xx": 50},
)
SECOND = vllm_text(
    prompt=6000,  # +1000 in 10 s
    generation=22500,  # +2500
    success={"stop": 115, "length": 25},  # +20 requests
    ttft=(7, 14, 30, 40, 48, 48),  # +2, +4, +10, +15, +18, +18
    ttft_sum=25.0,  # +15 s over 18 requests
    http={"/v1/chat/completions 2xx": 118, "/v1/chat/completions 5xx": 3, "/metrics 2xx": 150},
    preemptions=1,
)


def first_backend(collected: Collected) -> Backend:
    """The first backend of a result that must have backends."""
    assert collected.backends is not None
    return collected.backends[0]


def two_scrapes(state: ScrapeState, target: ScrapeTarget, first: str, second: str) -> None:
    state.ingest_backend(target, first, True, None, 1000.0)
    state.ingest_backend(target, second, True, None, 1010.0)


def test_figures_from_two_scrapes_are_computed_like_prometheus() -> None:
    state = ScrapeState([BLUE1], window_s=60.0)
    two_scrapes(state, BLUE1, FIRST, SECOND)
    (b,) = state.result(1010.0).backends or ()
    assert b.health is Health.UP and b.reason == ""
    assert (b.running, b.waiting, b.kv_cache_usage) == (2.0, 1.0, 0.25)
    assert b.model == "m-v1"
    assert b.last_scrape == 1010.0
    t = b.traffic
    assert t.prompt_tokens_per_s == pytest.approx(100.0)
    assert t.generation_tokens_per_s == pytest.approx(250.0)
    assert t.requests_per_min == pytest.approx(120.0)  # 20 per 10 s
    # completion handlers only: 2 of 20 answers were 5xx; /metrics scrapes do not count
    assert t.error_rate == pytest.approx(0.1)
    assert t.errors_per_min == pytest.approx(12.0)
    assert b.preemptions_per_min == pytest.approx(6.0)
    # window deltas 2, 4, 10, 15, 18 | 18: p95 rank 17.1 lies 2.1 of 3 into (1.0, 2.5]
    assert b.ttft.p95 == pytest.approx(1.0 + 1.5 * 2.1 / 3)
    assert b.ttft.p50 == pytest.approx(0.25 + 0.25 * 5 / 6)
    assert b.ttft.p99 == pytest.approx(1.0 + 1.5 * 2.82 / 3)
    assert b.ttft.mean == pytest.approx(15.0 / 18.0)
    assert b.inter_token.p50 is None  # nothing observed in the window


def test_one_scrape_gives_no_rates_two_idle_scrapes_give_zero() -> None:
    state = ScrapeState([BLUE1])
    state.ingest_backend(BLUE1, FIRST, True, None, 1000.0)
    t = first_backend(state.result(1000.0)).traffic
    assert t.prompt_tokens_per_s is None and t.requests_per_min is None and t.error_rate is None
    state.ingest_backend(BLUE1, FIRST, True, None, 1001.0)
    b = first_backend(state.result(1001.0))
    assert b.traffic.prompt_tokens_per_s == 0.0
    assert b.traffic.requests_per_min == 0.0
    assert b.traffic.error_rate == 0.0 and b.traffic.errors_per_min == 0.0
    assert b.ttft.p50 is None and b.ttft.p95 is None and b.ttft.mean is None


def test_restarted_backend_counter_reset() -> None:
    state = ScrapeState([BLUE1])
    two_scrapes(state, BLUE1, vllm_text(prompt=5000), vllm_text(prompt=300))
    b = first_backend(state.result(1010.0))
    assert b.traffic.prompt_tokens_per_s == pytest.approx(30.0)


def test_window_slides() -> None:
    state = ScrapeState([BLUE1], window_s=30.0)
    for i, t in enumerate(range(1000, 1101, 10)):
        # 100 tokens/s for the first 50 s, then 10 tokens/s
        prompt = 100 * min(t - 1000, 50) + 10 * max(t - 1050, 0)
        state.ingest_backend(BLUE1, vllm_text(prompt=prompt), True, None, float(t))
        assert i < 11
    b = first_backend(state.result(1100.0))
    assert b.traffic.prompt_tokens_per_s == pytest.approx(10.0)


def test_a_series_gone_from_the_page_is_forgotten_after_the_window() -> None:
    """A backend whose label values churn (finish reasons, handlers) does not grow the
    dashboard's memory: a series no longer scraped is dropped once out of the window."""
    state = ScrapeState([BLUE1], window_s=30.0)

    def windows() -> int:
        return sum(len(s) for s in state._backends[BLUE1.name].series.values())

    with_abort = vllm_text(success={"stop": 1.0, "length": 1.0, "abort": 1.0})
    state.ingest_backend(BLUE1, with_abort, True, None, 1000.0)
    held = windows()
    for t in range(1001, 1050):  # the "abort" series is gone from every later page
        state.ingest_backend(BLUE1, vllm_text(success={"stop": 1.0, "length": 1.0}), True, None, t)
    assert windows() == held - 1


def test_pools_sum_buckets_before_taking_quantiles() -> None:
    state = ScrapeState([BLUE1, BLUE2, GREEN1])
    two_scrapes(state, BLUE1, FIRST, SECOND)
    # blue-2: 10 fast requests (all <= 0.1 s), 50 prompt tokens/s
    two_scrapes(
        state,
        BLUE2,
        vllm_text(ttft=(0, 0, 0, 0, 0, 0), prompt=0, waiting=4, kv=0.75),
        vllm_text(ttft=(10, 10, 10, 10, 10, 10), ttft_sum=0.5, prompt=500, waiting=4, kv=0.75),
    )
    state.ingest_backend(GREEN1, None, False, "connection refused", 1000.0)
    state.ingest_backend(GREEN1, None, False, "connection refused", 1010.0)
    got = state.result(1010.0)
    blue = next(p for p in got.pools or () if p.name == "blue")
    deltas = [(b, (c + 10) / 10) for b, c in zip(TTFT_BOUNDS, (2, 4, 10, 15, 18, 18), strict=True)]
    assert blue.ttft.p95 == pytest.approx(histogram_quantile(0.95, deltas))
    assert blue.ttft.p95 == pytest.approx(1.8)  # rank 26.6: 1.6 of 3 into (1.0, 2.5]
    assert blue.ttft.mean == pytest.approx(15.5 / 28)
    assert blue.traffic.prompt_tokens_per_s == pytest.approx(150.0)
    assert (blue.backends, blue.healthy, blue.running, blue.waiting) == (2, 2, 4.0, 5.0)
    assert blue.kv_cache_usage == pytest.approx(0.5)
    green = next(p for p in got.pools or () if p.name == "green")
    assert (green.backends, green.healthy, green.kv_cache_usage) == (1, 0, None)
    assert got.fleet is not None and got.fleet.name == "fleet"
    assert (got.fleet.backends, got.fleet.healthy) == (3, 2)
    assert got.fleet.ttft.p95 == pytest.approx(1.8)
    g = next(b for b in got.backends or () if b.name == "green-1")
    assert (g.health, g.reason, g.model) == (Health.DOWN, "connection refused", "m-v2")


def test_renamed_metrics_are_read_and_recorded() -> None:
    state = ScrapeState([BLUE1])
    state.ingest_backend(BLUE1, vllm_text(old_names=True, kv=0.4), True, None, 1000.0)
    b = first_backend(state.result(1000.0))
    assert b.kv_cache_usage == pytest.approx(0.4)
    assert b.metric_names["vllm:kv_cache_usage_perc"] == "vllm:gpu_cache_usage_perc"
    assert (
        b.metric_names["vllm:inter_token_latency_seconds"] == "vllm:time_per_output_token_seconds"
    )
    assert b.metric_names["vllm:num_requests_running"] == "vllm:num_requests_running"


def test_both_generations_present_prefers_the_current_name() -> None:
    text = vllm_text(kv=0.3) + 'vllm:gpu_cache_usage_perc{engine="0",model_name="m-v1"} 0.3\n'
    state = ScrapeState([BLUE1])
    state.ingest_backend(BLUE1, text, True, None, 1000.0)
    b = first_backend(state.result(1000.0))
    assert b.kv_cache_usage == pytest.approx(0.3)
    assert b.metric_names["vllm:kv_cache_usage_perc"] == "vllm:kv_cache_usage_perc"


def test_escaped_openmetrics_spelling_is_read_and_recorded() -> None:
    first = vllm_text(prompt=0, escaped=True, old_names=True)
    second = vllm_text(prompt=200, escaped=True, old_names=True)
    assert "vllm_num_requests_running{" in first and first.endswith("# EOF\n")
    state = ScrapeState([BLUE1])
    two_scrapes(state, BLUE1, first, second)
    b = first_backend(state.result(1010.0))
    assert b.health is Health.UP
    assert b.running == 2.0
    assert b.traffic.prompt_tokens_per_s == pytest.approx(20.0)
    assert b.metric_names["vllm:num_requests_running"] == "vllm_num_requests_running"
    assert b.metric_names["vllm:kv_cache_usage_perc"] == "vllm_gpu_cache_usage_perc"
    assert b.metric_names["vllm:time_to_first_token_seconds"] == "vllm_time_to_first_token_seconds"


def test_first_errors_count_when_the_5xx_series_appears() -> None:
    state = ScrapeState([BLUE1])
    two_scrapes(
        state,
        BLUE1,
        vllm_text(http={"/v1/completions 2xx": 10}),
        vllm_text(http={"/v1/completions 2xx": 18, "/v1/completions 5xx": 2}),
    )
    t = first_backend(state.result(1010.0)).traffic
    assert t.error_rate == pytest.approx(0.2)
    assert t.errors_per_min == pytest.approx(12.0)


_GPU0 = 'gpu="0",UUID="GPU-a",device="nvidia0",modelName="NVIDIA H100",Hostname="node1"'
_GPU1 = 'gpu="1",UUID="GPU-b",device="nvidia1",modelName="NVIDIA H100",Hostname="node1"'
_DCGM_VALUES = {  # field: (GPU 0, GPU 1); GPU 1 reports DCGM's blank sentinels
    "DCGM_FI_DEV_GPU_UTIL": ("87", "9223372036854775794"),
    "DCGM_FI_DEV_FB_USED": ("60000", "1000"),
    "DCGM_FI_DEV_FB_FREE": ("20900", "80000"),
    "DCGM_FI_DEV_FB_RESERVED": ("459", None),
    "DCGM_FI_DEV_GPU_TEMP": ("64", "2147483632"),
    "DCGM_FI_DEV_POWER_USAGE": ("512.5", "140737488355328"),
    "DCGM_FI_DEV_SM_CLOCK": ("1980", "9223372036854775792"),
}
DCGM = "".join(
    f"# TYPE {field} gauge\n{field}{{{_GPU0}}} {v0}\n"
    + (f"{field}{{{_GPU1}}} {v1}\n" if v1 is not None else "")
    for field, (v0, v1) in _DCGM_VALUES.items()
)


def test_dcgm_figures_and_sentinels_dropped() -> None:
    state = ScrapeState()
    state.ingest_gpus("http://10.0.0.5:9400/metrics", DCGM, None, 1000.0)
    gpus = state.result(1000.0).gpus
    assert gpus is not None and len(gpus) == 2
    g0, g1 = gpus
    assert (g0.key, g0.name, g0.uuid) == ("node1/0", "NVIDIA H100", "GPU-a")
    assert (g0.util_pct, g0.temp_c, g0.power_w, g0.sm_clock_mhz) == (87.0, 64.0, 512.5, 1980.0)
    assert (g0.mem_used_mib, g0.mem_total_mib) == (60000.0, 81359.0)  # used + free + reserved
    assert g1.key == "node1/1"
    assert (g1.util_pct, g1.temp_c, g1.power_w, g1.sm_clock_mhz) == (None, None, None, None)
    assert (g1.mem_used_mib, g1.mem_total_mib) == (1000.0, 81000.0)


def test_gpu_host_falls_back_to_the_exporter_address() -> None:
    text = 'DCGM_FI_DEV_GPU_UTIL{gpu="2",hostname=""} 5\n'
    state = ScrapeState()
    state.ingest_gpus("http://10.0.0.7:9400/metrics", text, None, 0.0)
    state.ingest_gpus("http://10.0.0.8:9400/metrics", None, "connection refused", 0.0)
    (gpu,) = state.result(0.0).gpus or ()
    assert gpu.key == "10.0.0.7:9400/2"
    assert state.gpu_errors == {"http://10.0.0.8:9400/metrics": "connection refused"}


def test_no_exporters_means_no_gpu_figures() -> None:
    assert ScrapeState([BLUE1]).result(0.0).gpus is None


@pytest.mark.parametrize(
    ("text", "health_ok", "error", "health", "reason"),
    [
        (
            "<html><body>Welcome</body></html>",
            True,
            None,
            Health.UNKNOWN,
            "unparseable metrics: line 1: invalid metric name:<html><body>Welcome</body></html>",
        ),
        (
            '# TYPE x gauge\nx 1\nx{a="b" nope\n',
            True,
            None,
            Health.UNKNOWN,
            "unparseable metrics: line 3:",
        ),
        (None, True, "HTTP 404 from /metrics", Health.UNKNOWN, "HTTP 404 from /metrics"),
        (FIRST, False, "HTTP 503 from /health", Health.DOWN, "HTTP 503 from /health"),
        (None, False, "timeout after 2s", Health.DOWN, "timeout after 2s"),
        (None, None, None, Health.UNKNOWN, "no metrics"),
        (FIRST, None, None, Health.UP, ""),
    ],
)
def test_health_and_reason(
    text: str | None, health_ok: bool | None, error: str | None, health: Health, reason: str
) -> None:
    state = ScrapeState([BLUE1, BLUE2])
    state.ingest_backend(BLUE1, text, health_ok, error, 1000.0)
    state.ingest_backend(BLUE2, FIRST, True, None, 1000.0)
    b1, b2 = state.result(1000.0).backends or ()
    assert b1.health is health
    assert b1.reason.startswith(reason)
    assert "\n" not in b1.reason
    assert b2.health is Health.UP  # the neighbour is unaffected


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(), st.sampled_from(["", FIRST, FIRST[: len(FIRST) // 2]]))
def test_arbitrary_text_never_makes_ingest_raise(junk: str, prefix: str) -> None:
    state = ScrapeState([BLUE1])
    state.ingest_backend(BLUE1, prefix + junk, True, None, 1000.0)
    state.ingest_backend(BLUE1, junk + prefix, True, None, 1010.0)
    state.ingest_gpus("http://h:9400/metrics", junk, None, 1010.0)
    got = state.result(1010.0)
    assert got.backends is not None and got.backends[0].health in (Health.UP, Health.UNKNOWN)


# --- over HTTP ---------------------------------------------------------------------------


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _response(status: str, body: bytes, content_type: str = "text/plain") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


async def _request_path(reader: asyncio.StreamReader) -> str:
    head = await reader.readuntil(b"\r\n\r\n")
    return head.split(b" ")[1].decode()


def serving(metrics: bytes, health: bytes) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        path = await _request_path(reader)
        writer.write(metrics if path == "/metrics" else health)
        await writer.drain()
        writer.close()

    return handle


async def half_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    path = await _request_path(reader)
    if path == "/health":
        writer.write(_response("200 OK", b""))
    else:
        body = FIRST.encode()
        writer.write(_response("200 OK", body)[: -len(body) // 2])  # promise all, send half
    await writer.drain()
    writer.close()


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client gives up and closes
    writer.close()


async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n")
    await writer.drain()
    writer.close()


OK = _response("200 OK", b"")
BEHAVIOURS: dict[str, Handler] = {
    "good": serving(_response("200 OK", FIRST.encode()), OK),
    "html": serving(
        _response("200 OK", b"<!DOCTYPE html><html><body>nginx</body></html>", "text/html"),
        _response("200 OK", b"<html></html>", "text/html"),
    ),
    "html-as-text": serving(
        _response("200 OK", b"\n<!doctype html>\n<html><body>Sign in</body></html>"), OK
    ),
    "not-found": serving(_response("404 Not Found", b"nope"), _response("404 Not Found", b"")),
    "metrics-500": serving(_response("500 Internal Server Error", b"boom"), OK),
    "health-503": serving(
        _response("200 OK", FIRST.encode()), _response("503 Service Unavailable", b"")
    ),
    "partial": half_body,
    "hang": never_answers,
    "not-http": not_http,
}


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, str]]:
    """One real loopback server per behaviour, plus a port where nothing listens."""
    started = []
    urls: dict[str, str] = {}
    for name, handler in BEHAVIOURS.items():
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        started.append(server)
        urls[name] = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        urls["refused"] = f"http://127.0.0.1:{s.getsockname()[1]}"
    yield urls
    for server in started:
        server.close()


async def test_source_protocol_and_two_collects_over_http() -> None:
    pages = [FIRST, SECOND]

    async def vllm(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        path = await _request_path(reader)
        body = pages.pop(0).encode() if path == "/metrics" else b""
        writer.write(_response("200 OK", body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(vllm, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    clock = iter([1000.0, 1010.0])
    source = ScrapeSource([ScrapeTarget("blue-1", "blue", url)], clock=lambda: next(clock))
    assert isinstance(source, Source)
    assert (source.name, source.interval) == ("scrape", 1.0)
    await source.collect()
    got = await source.collect()
    b = first_backend(got)
    assert b.health is Health.UP
    assert b.traffic.requests_per_min == pytest.approx(120.0)
    assert got.fleet is not None and got.fleet.traffic.error_rate == pytest.approx(0.1)
    await source.aclose()
    server.close()
    with pytest.raises(RuntimeError):
        await source.collect()


class CountingVllm:
    """A loopback vLLM whose /health the test can fail; counts the paths asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.healthy = True
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        path = await _request_path(reader)
        self.asked.append(path)
        if path == "/metrics":
            writer.write(_response("200 OK", FIRST.encode()))
        else:
            writer.write(_response("200 OK" if self.healthy else "503 Service Unavailable", b""))
        await writer.drain()
        writer.close()


async def test_health_is_asked_every_few_seconds_while_metrics_answer() -> None:
    vllm = CountingVllm()
    now = [1000.0]
    async with vllm as url:
        source = ScrapeSource([ScrapeTarget("b", "p", url)], clock=lambda: now[0])
        for _ in range(10):  # ten scrapes, one a second
            got = await source.collect()
            assert got.backends is not None and got.backends[0].health is Health.UP
            now[0] += 1.0
        await source.aclose()
    assert vllm.asked.count("/metrics") == 10
    assert vllm.asked.count("/health") == 2  # at 0 s and 5 s: every HEALTH_EVERY_S


async def test_health_checks_of_a_fleet_are_spread_over_the_scrapes() -> None:
    """With every backend up, each scrape asks /health of a fifth of them, not all of them
    every fifth scrape (a round's cost stays even), and each is still asked every 5 s."""
    servers = [CountingVllm() for _ in range(10)]
    urls = [await server.__aenter__() for server in servers]
    now = [1000.0]
    source = ScrapeSource(
        [ScrapeTarget(f"b{i}", "p", url) for i, url in enumerate(urls)], clock=lambda: now[0]
    )
    asked_at: list[list[float]] = [[] for _ in servers]
    per_scrape = []
    for _ in range(16):
        before = [server.asked.count("/health") for server in servers]
        await source.collect()
        after = [server.asked.count("/health") for server in servers]
        per_scrape.append(sum(after) - sum(before))
        for i, (was, now_asked) in enumerate(zip(before, after, strict=True)):
            if now_asked > was:
                asked_at[i].append(now[0])
        now[0] += 1.0
    await source.aclose()
    for server in servers:
        await server.__aexit__()
    assert per_scrape[0] == 10  # none is known to be up yet
    assert max(per_scrape[1:]) <= 2
    for times in asked_at:  # asked at the first scrape, then never more than 5 s apart
        ends = [*times, now[0]]  # (the scrape after the last is at now[0])
        assert times[0] == 1000.0 and max(b - a for a, b in pairwise(ends)) <= 5.0, times


async def test_a_failing_health_check_shows_within_five_seconds_and_recovery_at_once() -> None:
    vllm = CountingVllm()
    now = [1000.0]
    async with vllm as url:
        source = ScrapeSource([ScrapeTarget("b", "p", url)], clock=lambda: now[0])

        async def health() -> tuple[Health, str]:
            got = await source.collect()
            now[0] += 1.0
            assert got.backends is not None
            return got.backends[0].health, got.backends[0].reason

        assert await health() == (Health.UP, "")
        vllm.healthy = False  # vLLM's engine died: /metrics still answers, /health 503
        seen = [await health() for _ in range(5)]
        assert seen[-1] == (Health.DOWN, "HTTP 503 from /health")
        assert await health() == (Health.DOWN, "HTTP 503 from /health")  # asked again
        vllm.healthy = True
        assert await health() == (Health.UP, "")  # the next scrape, not 5 s later
        await source.aclose()


async def test_a_backend_that_stops_answering_between_health_checks_is_down() -> None:
    vllm = CountingVllm()
    now = [1000.0]
    async with vllm as url:
        source = ScrapeSource([ScrapeTarget("b", "p", url)], clock=lambda: now[0])
        await source.collect()
        now[0] += 1.0
        assert vllm.server is not None
        vllm.server.close()
        await vllm.server.wait_closed()
        got = await source.collect()  # /health is not due: /metrics is refused
        assert got.backends is not None
        assert (got.backends[0].health, got.backends[0].reason) == (
            Health.DOWN,
            "connection refused",
        )
        await source.aclose()


async def test_bad_targets_mark_only_themselves(servers: dict[str, str]) -> None:
    targets = [ScrapeTarget(name, "pool", url) for name, url in servers.items()]
    source = ScrapeSource(targets, ["http://127.0.0.1:1/metrics"], timeout_s=0.5)
    started = time.monotonic()
    got = await source.collect()
    elapsed = time.monotonic() - started
    await source.aclose()
    assert elapsed < 2.0  # the hanging target is cut off at the timeout
    by_name = {b.name: b for b in got.backends or ()}
    expected = {
        "good": (Health.UP, ""),
        "html": (Health.DOWN, "not Prometheus metrics (text/html) from /metrics"),
        "html-as-text": (Health.DOWN, "not Prometheus metrics (an HTML page) from /metrics"),
        "not-found": (Health.DOWN, "HTTP 404 from /metrics"),
        "metrics-500": (Health.DOWN, "HTTP 500 from /metrics"),
        "health-503": (Health.DOWN, "HTTP 503 from /health"),
        "partial": (Health.UNKNOWN, "truncated answer from /metrics"),
        "hang": (Health.DOWN, "timeout after 0.5s"),
        "not-http": (Health.DOWN, "bad HTTP answer from /health"),
        "refused": (Health.DOWN, "connection refused"),
    }
    for name, (health, reason) in expected.items():
        b = by_name[name]
        assert (b.health, b.reason[: len(reason)]) == (health, reason), name
        assert "\n" not in b.reason
    assert by_name["good"].running == 2.0
    assert by_name["health-503"].running == 2.0  # metrics still read while unhealthy
    assert got.gpus == ()
    assert source.state.gpu_errors["http://127.0.0.1:1/metrics"] == "connection refused"
    assert got.gpu_problems == ("GPU exporter 127.0.0.1:1: connection refused",)


async def test_connections_are_kept_alive_between_collects() -> None:
    """Each target is one TCP connection for the whole session, not two new ones a second."""
    accepted = 0

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # the client closed the connection
            path = head.split(b" ", 2)[1].decode()
            body = FIRST.encode() if path == "/metrics" else b""
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()

    # 12 targets, 24 connections: more than httpx keeps alive unless told to.
    servers = [await asyncio.start_server(keep_alive, "127.0.0.1", 0) for _ in range(12)]
    targets = [
        ScrapeTarget(f"b{i}", "p", f"http://127.0.0.1:{s.sockets[0].getsockname()[1]}")
        for i, s in enumerate(servers)
    ]
    source = ScrapeSource(targets)
    for _ in range(5):
        got = await source.collect()
        assert {b.health for b in got.backends or ()} == {Health.UP}
    await source.aclose()
    for server in servers:
        server.close()
    # /metrics and /health go out together: at most two connections per target, ever.
    assert accepted <= 2 * len(targets)


def test_a_fleet_read_page_after_page_gives_what_reading_each_page_afresh_gives() -> None:
    """Steady state takes the short ways (pages read from their shape's layout, samples
    sent where the last page's went); every refresh's
    backends, pools, fleet and GPUs are exactly those of a core that reads every page in
    full, as if seen for the first time."""
    from tui.sim.config import SimConfig
    from tui.sim.fleet import SimFleet
    from tui.sources.promtext import PageShape

    fleet = SimFleet(SimConfig(pools={"blue": 2, "green": 2}, gpus=4, rps=24.0, port_base=0))
    targets = [ScrapeTarget(b.name, b.pool, f"sim://{b.name}") for b in fleet.backends]
    steady, afresh = ScrapeState(targets, window_s=15), ScrapeState(targets, window_s=15)
    at = 1_795_000_000.0
    for _ in range(30):  # past the window, so windows slide and old samples drop
        fleet.advance(1.0)
        at += 1.0
        texts = [fleet.metrics_text(t.name).decode() for t in targets]
        gpus = fleet.gpu_metrics_text().decode()
        for state in (steady, afresh):
            for target, text in zip(targets, texts, strict=True):
                if state is afresh:  # no shape: read in full
                    state._backends[target.name].page = PageShape()
                    state._backends[target.name].plan = None
                    state._gpu_pages.clear()
                state.ingest_backend(target, text, True, None, at)
            state.ingest_gpus("sim://gpus", gpus, None, at)
        assert steady.result(at) == afresh.result(at)
    pages = [s.page for s in steady._backends.values()] + [steady._gpu_pages["sim://gpus"]]
    assert all(page.reused and page.layout is not None for page in pages)


class PrometheusClientVllm:
    """vLLM's ``/metrics`` as it is served: prometheus_client's own exposition (its WSGI
    app, which reads ``name[]`` as make_asgi_app does) over a registry, on loopback; it
    notes each ``/metrics`` query string. ``described``: the registry knows its metrics'
    names (one API server: vLLM's metric objects) or not (several API servers: a
    multiprocess collector, which does not describe itself)."""

    def __init__(self, described: bool) -> None:
        self.queries: list[str] = []
        self.running = 3.0
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self._Families(self, described))
        self._app = make_wsgi_app(registry)
        self._server: Any = None

    class _Families(Collector):
        def __init__(self, owner: PrometheusClientVllm, described: bool) -> None:
            self.owner = owner
            if described:
                self.describe = self.collect

        def collect(self) -> Iterator[Metric]:
            running = GaugeMetricFamily(
                "vllm:num_requests_running", "running", labels=["model_name"]
            )
            running.add_metric(["m"], self.owner.running)
            waiting = GaugeMetricFamily(
                "vllm:num_requests_waiting", "waiting", labels=["model_name"]
            )
            waiting.add_metric(["m"], 1.0)
            unread = GaugeMetricFamily("vllm:something_inferdeck_never_reads", "x")
            unread.add_metric([], 42.0)
            yield from (running, waiting, unread)

    def _noted(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/metrics":
            self.queries.append(environ.get("QUERY_STRING", ""))
        return self._app(environ, start_response)

    def __enter__(self) -> str:
        self._server = make_server("127.0.0.1", 0, self._noted, handler_class=_QuietHandler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


async def test_a_vllm_backend_is_asked_only_for_the_samples_it_is_read_for() -> None:
    # vLLM's page is 59 kB, of which inferdeck reads 13: prometheus_client serves only the
    # samples named in ?name[]=, so only those are asked for, from the first scrape (the
    # engine not configured: vLLM is the first guess), and the figures are the same.
    vllm = PrometheusClientVllm(described=True)
    with vllm as url:
        source = ScrapeSource([ScrapeTarget("b", "p", url)], timeout_s=5.0)
        seen = []
        for running in (3.0, 5.0, 7.0):
            vllm.running = running
            seen.append(first_backend(await source.collect()).running)
        await source.aclose()
    assert seen == [3.0, 5.0, 7.0]
    asked = [set(parse_qs(q)["name[]"]) for q in vllm.queries]
    assert len(asked) == 3
    assert all({"vllm:num_requests_running", "vllm:num_requests_waiting"} <= a for a in asked)
    assert all("vllm:something_inferdeck_never_reads" not in a for a in asked)


async def test_a_vllm_that_cannot_serve_named_samples_is_asked_for_its_whole_page() -> None:
    # With several API servers vLLM's registry is a multiprocess one: asked for named
    # samples it answers with nothing. That scrape asks again for the whole page (no
    # scrape goes without figures), and so do all after it.
    vllm = PrometheusClientVllm(described=False)
    with vllm as url:
        source = ScrapeSource([ScrapeTarget("b", "p", url)], timeout_s=5.0)
        seen = []
        for running in (3.0, 5.0, 7.0, 9.0):
            vllm.running = running
            got = first_backend(await source.collect())
            seen.append((got.health, got.running))
        await source.aclose()
    assert seen == [(Health.UP, 3.0), (Health.UP, 5.0), (Health.UP, 7.0), (Health.UP, 9.0)]
    assert [bool(q) for q in vllm.queries] == [True, False, False, False, False]


@pytest.mark.parametrize(
    ("engine", "named"), [("vllm", [True, True]), ("sglang", [False, False]), ("", [True, True])]
)
async def test_a_configured_engine_says_from_the_first_scrape_how_its_page_is_asked_for(
    engine: str, named: list[bool]
) -> None:
    # SGLang's exporter is always a multiprocess registry: named, it answers nothing, so a
    # backend configured as SGLang is never asked so; one configured as vLLM always is.
    vllm = PrometheusClientVllm(described=True)
    with vllm as url:
        source = ScrapeSource([ScrapeTarget("b", "p", url, engine=engine)], timeout_s=5.0)
        healths = [first_backend(await source.collect()).health for _ in named]
        await source.aclose()
    assert healths == [Health.UP, Health.UP]
    assert [bool(q) for q in vllm.queries] == named


@pytest.mark.parametrize(
    "named_answer",
    [
        _response("200 OK", b"ok"),
        _response("400 Bad Request", b"bad query"),
        _response("200 OK", b"# HELP vllm:num_requests_running only comments\n"),
    ],
    ids=["another page", "an error", "comments only"],
)
async def test_a_server_that_answers_named_samples_with_anything_else_gets_asked_for_all(
    named_answer: bytes,
) -> None:
    # A vLLM-like server that is not prometheus_client's exposition (a proxy, an older
    # build) may answer ?name[]= with a page of its own or an error: that scrape asks
    # again for the whole page, and so do the ones after it.
    paths: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        path = await _request_path(reader)
        paths.append(path)
        if path == "/metrics":
            writer.write(_response("200 OK", FIRST.encode()))
        elif path.startswith("/metrics?"):
            writer.write(named_answer)
        else:
            writer.write(_response("200 OK", b""))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    source = ScrapeSource([ScrapeTarget("b", "p", url)], timeout_s=5.0)
    healths = [first_backend(await source.collect()).health for _ in range(4)]
    await source.aclose()
    server.close()
    assert healths == [Health.UP] * 4
    metrics = [p for p in paths if p.startswith("/metrics")]
    assert [p != "/metrics" for p in metrics] == [True, False, False, False, False]
