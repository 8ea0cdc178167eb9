"""PromQL construction and result parsing of the prometheus source, and its failure modes."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tui.analysis.fingerprint import fingerprint
from tui.model import Health, Severity
from tui.sources import _promql
from tui.sources._alerting import parse_rfc3339, severity_of
from tui.sources._prom_parse import AlertInfo, TargetInfo, collected
from tui.sources._promql import STAT, batch, history_queries, probes
from tui.sources.prometheus import PrometheusError, PrometheusSource

AT = 1_700_000_000.0


def vec(value: float | str, **labels: str) -> dict[str, Any]:
    """One instant-vector item as Prometheus's JSON has it."""
    return {"metric": labels, "value": [AT, str(value)]}


# --- query construction -------------------------------------------------------------------


def test_every_vllm_metric_is_queried_under_both_spellings_and_both_generations() -> None:
    queries = batch("pool", None, "1m")
    names = queries["names"]
    for wire in (
        "vllm:kv_cache_usage_perc",
        "vllm_kv_cache_usage_perc",
        "vllm:gpu_cache_usage_perc",
        "vllm_gpu_cache_usage_perc",
        "vllm:time_per_output_token_seconds_bucket",
        "vllm_inter_token_latency_seconds_bucket",
        "vllm_gpu_prefix_cache_hits_total",
    ):
        assert wire in names
    itl = queries["hist:instance:vllm:inter_token_latency_seconds"]
    # the current name first (with every engine's, in one selector per spelling), then the
    # deprecated one, each spelling tagged apart, joined by `or`
    order = [
        itl.index(n)
        for n in (
            "vllm:inter_token_latency_seconds_bucket",
            "vllm_inter_token_latency_seconds_bucket",
            "rate(vllm:time_per_output_token_seconds_bucket[1m])",
            "rate(vllm_time_per_output_token_seconds_bucket[1m])",
        )
    ]
    assert order == sorted(order)
    # vLLM's four come first; the other engines' names follow (each instance has one engine)
    itl_names = probes("vllm:inter_token_latency_seconds", "_bucket")
    assert [n.split("_")[0].split(":")[0] for n in itl_names[:4]] == ["vllm"] * 4
    assert "sglang:inter_token_latency_seconds_bucket" in itl_names[4:]
    assert "histogram_quantile(0.95, sum by (le, instance) (label_replace(rate(" in itl
    for stat in ("p50", "p95", "p99", "mean"):
        assert f'"{STAT}", "{stat}"' in itl
    assert "sum by (le, pool)" in queries["hist:pool:vllm:time_to_first_token_seconds"]
    assert (
        "histogram_quantile(0.5, sum by (le) ("
        in queries["hist:fleet:vllm:e2e_request_latency_seconds"]
    )
    assert queries["alerts"] == 'ALERTS{alertstate="firing"}'
    assert 'handler=~".*completions/*"' in queries["http"]


def test_job_filter_and_label_validation() -> None:
    queries = batch("team_pool", ["vllm", "a.b"], "90s")
    assert queries["up"] == 'up{job=~"a\\\\.b|vllm"}'
    assert 'job=~"a\\\\.b|vllm"' in queries["counters"]
    assert "[90s]" in queries["counters"]
    assert "sum by (le, team_pool)" in queries["hist:pool:vllm:time_to_first_token_seconds"]
    with pytest.raises(ValueError, match="label name"):
        _promql.check_label_name("pool-name")
    with pytest.raises(ValueError, match="duration"):
        _promql.check_duration("1 minute")
    with pytest.raises(ValueError):
        PrometheusSource("http://127.0.0.1:9", pool_label="bad label")


def test_history_queries_use_hub_keys_and_drop_names_before_or() -> None:
    queries = history_queries("pool", None, "1m")
    assert {"fleet.ttft_p95", "fleet.e2e_p95", "fleet.waiting", "fleet.rpm"} <= set(queries)
    assert "(vllm_num_requests_waiting + 0)" in queries["fleet.waiting"]
    assert "or vector(0)" in queries["fleet.error_rate"]


# --- parsing ------------------------------------------------------------------------------


def _results() -> dict[str, list[dict[str, Any]]]:
    """A batch's answers: one current-generation backend, one legacy `vllm_` one down."""
    a, b = "10.0.0.1:8000", "10.0.0.2:8000"
    hist = STAT
    return {
        "up": [
            vec(1, job="vllm", instance=a, pool="blue"),
            vec(0, job="vllm", instance=b, pool="green"),
            vec(1, job="dcgm", instance="10.0.0.9:9400"),
        ],
        "up_ts": [vec(AT - 0.5, job="vllm", instance=a, pool="blue")],
        "names": [
            vec(1, __name__="vllm:num_requests_running", instance=a, job="vllm"),
            vec(1, __name__="vllm:kv_cache_usage_perc", instance=a, job="vllm"),
            vec(1, __name__="vllm:time_to_first_token_seconds_bucket", instance=a, job="vllm"),
            vec(1, __name__="vllm_num_requests_running", instance=b, job="vllm"),
            vec(1, __name__="vllm_gpu_cache_usage_perc", instance=b, job="vllm"),
            vec(1, __name__="vllm_time_per_output_token_seconds_bucket", instance=b, job="vllm"),
        ],
        "gauges": [
            vec(3, __name__="vllm:num_requests_running", instance=a, model_name="m1", engine="0"),
            vec(2, __name__="vllm:num_requests_running", instance=a, model_name="m1", engine="1"),
            vec(4, __name__="vllm:num_requests_waiting", instance=a, model_name="m1"),
            vec(0.25, __name__="vllm:kv_cache_usage_perc", instance=a, model_name="m1"),
            vec(0.75, __name__="vllm:gpu_cache_usage_perc", instance=a, model_name="m1"),
            vec(7, __name__="vllm_num_requests_running", instance=b, model_name="m2"),
            vec(0.5, __name__="vllm_gpu_cache_usage_perc", instance=b, model_name="m2"),
        ],
        "counters": [
            vec(10, instance=a, **{hist: "vllm:prompt_tokens_total"}),
            vec(20, instance=a, **{hist: "vllm:generation_tokens_total"}),
            vec(0.5, instance=a, **{hist: "vllm:request_success_total"}),
            vec(0.1, instance=a, **{hist: "vllm:num_preemptions_total"}),
            vec(1, instance=b, **{hist: "vllm:request_success_total"}),
        ],
        "http": [
            vec(0.9, instance=a, status="2xx"),
            vec(0.1, instance=a, status="5xx"),
            vec(0.0, instance=b, status="2xx"),
        ],
        "hist:instance:vllm:time_to_first_token_seconds": [
            vec(0.1, instance=a, **{hist: "p50"}),
            vec(0.4, instance=a, **{hist: "p95"}),
            vec("NaN", instance=a, **{hist: "p99"}),
            vec(0.15, instance=a, **{hist: "mean"}),
        ],
        "hist:instance:vllm:inter_token_latency_seconds": [
            vec(0.02, instance=b, **{hist: "p95"}),
        ],
        "hist:pool:vllm:time_to_first_token_seconds": [vec(0.4, pool="blue", **{hist: "p95"})],
        "hist:fleet:vllm:e2e_request_latency_seconds": [vec(3.0, **{hist: "p95"})],
        "dcgm": [
            vec(55, __name__="DCGM_FI_DEV_GPU_UTIL", gpu="0", instance="10.0.0.9:9400"),
            vec(9223372036854775794, __name__="DCGM_FI_DEV_GPU_TEMP", gpu="0", instance="x"),
            vec(61, __name__="DCGM_FI_DEV_GPU_TEMP", gpu="0", instance="10.0.0.9:9400"),
            vec(100, __name__="DCGM_FI_DEV_FB_USED", gpu="0", instance="10.0.0.9:9400"),
            vec(900, __name__="DCGM_FI_DEV_FB_FREE", gpu="0", instance="10.0.0.9:9400"),
            vec(9223372036854775794, __name__="DCGM_FI_DEV_SM_CLOCK", gpu="0", Hostname="h1"),
        ],
        "alerts": [
            vec(
                1,
                __name__="ALERTS",
                alertname="KV",
                alertstate="firing",
                severity="page",
                evil="$(touch /tmp/x)",
            )
        ],
        "alerts_since": [
            vec(
                AT - 60,
                __name__="ALERTS_FOR_STATE",
                alertname="KV",
                severity="page",
                evil="$(touch /tmp/x)",
            )
        ],
    }


def test_backends_pools_fleet_from_a_batch_with_both_spellings() -> None:
    targets = {"10.0.0.2:8000": TargetInfo("http://10.0.0.2:8000/metrics", "connection refused")}
    got = collected(_results(), pool_label="pool", at=AT, source="prometheus", targets=targets)
    assert got.backends is not None and got.pools is not None and got.fleet is not None
    a, b = got.backends
    assert (a.name, a.pool, a.model, a.health) == ("10.0.0.1:8000", "blue", "m1", Health.UP)
    assert a.running == 5 and a.waiting == 4
    assert a.kv_cache_usage == 0.25  # the current name wins over the deprecated one
    assert a.ttft.p50 == 0.1 and a.ttft.p95 == 0.4 and a.ttft.p99 is None and a.ttft.mean == 0.15
    assert a.traffic.prompt_tokens_per_s == 10 and a.traffic.requests_per_min == 30
    assert a.traffic.error_rate == pytest.approx(0.1) and a.preemptions_per_min == pytest.approx(6)
    assert a.last_scrape == AT - 0.5
    assert a.metric_names["vllm:time_to_first_token_seconds"] == "vllm:time_to_first_token_seconds"
    assert (b.health, b.reason, b.url) == (
        Health.DOWN,
        "connection refused",
        "http://10.0.0.2:8000",
    )
    assert b.kv_cache_usage == 0.5 and b.running == 7
    assert b.metric_names["vllm:kv_cache_usage_perc"] == "vllm_gpu_cache_usage_perc"
    assert b.metric_names["vllm:num_requests_running"] == "vllm_num_requests_running"
    assert (
        b.metric_names["vllm:inter_token_latency_seconds"] == "vllm_time_per_output_token_seconds"
    )
    assert b.inter_token.p95 == 0.02 and b.traffic.error_rate == 0.0
    blue, green = got.pools
    assert (blue.name, blue.backends, blue.healthy, blue.ttft.p95) == ("blue", 1, 1, 0.4)
    assert (green.healthy, green.running) == (0, 7)
    fleet = got.fleet
    assert (fleet.name, fleet.backends, fleet.healthy, fleet.running) == ("fleet", 2, 1, 12)
    assert fleet.e2e.p95 == 3.0 and fleet.traffic.requests_per_min == pytest.approx(90)
    assert fleet.kv_cache_usage == 0.25  # mean over healthy backends only


def test_dcgm_sentinels_dropped_and_hosts_kept() -> None:
    got = collected(_results(), pool_label="pool", at=AT, source="p")
    assert got.gpus is not None
    by_host = {g.host: g for g in got.gpus}
    gpu = by_host["10.0.0.9:9400"]
    assert (gpu.util_pct, gpu.temp_c, gpu.mem_used_mib, gpu.mem_total_mib) == (55, 61, 100, 1000)
    assert by_host["x"].temp_c is None and by_host["h1"].sm_clock_mhz is None


def test_alerts_from_ALERTS_keep_hostile_labels_verbatim() -> None:
    got = collected(_results(), pool_label="pool", at=AT, source="prometheus")
    assert got.alerts is not None
    (alert,) = got.alerts
    labels = {"alertname": "KV", "severity": "page", "evil": "$(touch /tmp/x)"}
    assert dict(alert.labels) == labels
    assert alert.severity is Severity.CRITICAL and alert.starts_at == AT - 60
    assert alert.fingerprint == fingerprint(labels) and alert.source == "prometheus"
    info = {fingerprint(labels): AlertInfo("[bold]KV[/] full", AT - 5)}
    got = collected(_results(), pool_label="pool", at=AT, source="p", alert_info=info)
    assert got.alerts is not None
    assert (got.alerts[0].summary, got.alerts[0].starts_at) == ("[bold]KV[/] full", AT - 5)


def test_backend_selection_without_job_filter() -> None:
    results = {
        "up": [
            vec(1, job="node", instance="n:9100"),  # no pool label, no vLLM metrics: not one
            vec(0, job="llm", instance="x:1"),  # down, but its job serves vLLM
            vec(1, job="llm", instance="y:1"),
        ],
        "names": [vec(1, __name__="vllm:num_requests_running", instance="y:1", job="llm")],
    }
    got = collected(results, pool_label="pool", at=AT, source="p")
    assert got.backends is not None
    assert [b.name for b in got.backends] == ["x:1", "y:1"]
    assert "up=0" in got.backends[0].reason
    only = collected(results, pool_label="pool", at=AT, source="p", jobs=frozenset({"node"}))
    assert only.backends is not None and [b.name for b in only.backends] == ["n:9100"]


def test_alerting_helpers() -> None:
    assert fingerprint({}) == "cbf29ce484222325"  # FNV-1a 64 offset basis, as Alertmanager
    assert severity_of("CRITICAL") is Severity.CRITICAL
    assert severity_of("bogus") is Severity.WARNING and severity_of(None) is Severity.WARNING
    assert parse_rfc3339("2026-11-26T21:43:15.123456789Z") == pytest.approx(1795729395.123456789)
    assert parse_rfc3339("2026-11-26T22:43:15+01:00") == pytest.approx(1795729395.0)
    assert parse_rfc3339("0001-01-01T00:00:00Z") is None and parse_rfc3339("yesterday") is None


# --- failure modes against loopback servers ----------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    mode = "ok"

    def do_GET(self) -> None:
        if self.mode == "500":
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b'{"status":"error","error":"overloaded"}')
        elif self.mode == "html":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>login</html>")
        else:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"status":"success","data":{"resultType":"vector","result":[]}}')
            type(self).seen.append(self.headers.get("Authorization", ""))

    seen: list[str] = []

    def do_POST(self) -> None:
        """Queries may come as a form (Prometheus's API takes both)."""
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_prometheus() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("H", (_Handler,), {"mode": "ok", "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("mode", "message"), [("500", "HTTP 503: overloaded"), ("html", "bad answer")]
)
async def test_http_errors_raise_one_line(fake_prometheus: Any, mode: str, message: str) -> None:
    url, handler = fake_prometheus
    handler.mode = mode
    source = PrometheusSource(url, timeout_s=2)
    with pytest.raises(PrometheusError) as info:
        await source.collect()
    assert message in str(info.value) and url in str(info.value) and "\n" not in str(info.value)
    await source.aclose()


async def test_bearer_token_from_env_and_missing_env(
    fake_prometheus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = fake_prometheus
    monkeypatch.setenv("INFERDECK_TEST_TOKEN", "s3cret")
    source = PrometheusSource(url, token_env="INFERDECK_TEST_TOKEN")
    got = await source.collect()
    assert got.backends == () and handler.seen and set(handler.seen) == {"Bearer s3cret"}
    monkeypatch.delenv("INFERDECK_TEST_TOKEN")
    with pytest.raises(PrometheusError, match="INFERDECK_TEST_TOKEN is not set"):
        await source.collect()
    await source.aclose()


async def test_refused_and_hanging_prometheus_fail_fast() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    refused = PrometheusSource(f"http://127.0.0.1:{port}", timeout_s=2)
    started = time.monotonic()
    with pytest.raises(PrometheusError, match="connection refused"):
        await refused.collect()
    assert time.monotonic() - started < 2
    await refused.aclose()
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        hung = PrometheusSource(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(PrometheusError, match=r"timeout after 0\.5s"):
            await asyncio.wait_for(hung.collect(), 5)
        assert time.monotonic() - started < 1.5
        await hung.aclose()
