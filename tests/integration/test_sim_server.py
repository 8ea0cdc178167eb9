"""The simulator's HTTP servers answer like vLLM, follow faults, and leave no port behind."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.real_servers import free_port_block
from tui.commands.sim import run_fault
from tui.sim import PortInUse, SimConfig, SimFleet, SimRuntime, SimServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _ports(description: dict) -> list[int]:
    urls = [b["url"] for b in description["backends"]]
    urls += [description["gpu_exporter"], description["control"]]
    return [urlsplit(u).port or 0 for u in urls]


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return False
    except ConnectionRefusedError:
        return True


@pytest.fixture
def runtime() -> Iterator[SimRuntime]:
    rt = SimRuntime(SimConfig(port_base=0, rps=5.0))
    rt.start()
    try:
        yield rt
    finally:
        rt.stop()


def _url(rt: SimRuntime, backend: str = "blue-0") -> str:
    return next(b["url"] for b in rt.description["backends"] if b["name"] == backend)


def test_description_and_health_models_metrics(runtime: SimRuntime) -> None:
    d = runtime.description
    assert [b["name"] for b in d["backends"]] == ["blue-0", "blue-1", "green-0"]
    assert {b["pool"] for b in d["backends"]} == {"blue", "green"}
    assert all(b["url"].startswith("http://127.0.0.1:") for b in d["backends"])
    assert len(set(_ports(d))) == 5
    url = _url(runtime)
    health = httpx.get(url + "/health")
    assert health.status_code == 200 and health.content == b""
    models = httpx.get(url + "/v1/models").json()
    assert models["object"] == "list"
    assert models["data"][0]["id"] == d["backends"][0]["model"]
    assert models["data"][0]["object"] == "model"
    metrics = httpx.get(url + "/metrics")
    assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    names = {f.name for f in text_string_to_metric_families(metrics.text)}
    assert {"vllm:num_requests_running", "vllm:kv_cache_usage_perc", "http_requests"} <= names
    gpu = httpx.get(d["gpu_exporter"])
    assert gpu.status_code == 200 and 'DCGM_FI_DEV_GPU_UTIL{gpu="0"' in gpu.text


def test_completions_wait_for_the_engine_and_report_usage(runtime: SimRuntime) -> None:
    url = _url(runtime, "green-0")
    model = runtime.description["backends"][2]["model"]
    chat = httpx.post(
        url + "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "x" * 400}],
              "max_tokens": 20},
        timeout=10,
    )  # fmt: skip
    assert chat.status_code == 200
    body = chat.json()
    assert body["object"] == "chat.completion" and body["model"] == model
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert body["usage"] == {"prompt_tokens": 104, "completion_tokens": 20, "total_tokens": 124}
    comp = httpx.post(
        url + "/v1/completions", json={"prompt": "hello", "max_tokens": 5}, timeout=10
    )
    assert comp.json()["object"] == "text_completion"
    assert comp.json()["usage"]["completion_tokens"] == 5
    assert comp.json()["choices"][0]["text"]
    missing = httpx.post(url + "/v1/completions", json={"model": "nope", "prompt": "x"})
    assert missing.status_code == 404
    bad = httpx.post(url + "/v1/chat/completions", content=b"{not json")
    assert bad.status_code == 400
    families = text_string_to_metric_families(httpx.get(url + "/metrics").text)
    counts = {
        (s.labels["handler"], s.labels["status"]): s.value
        for f in families
        if f.name == "http_requests"
        for s in f.samples
        if s.name == "http_requests_total"
    }
    assert counts[("/v1/chat/completions", "2xx")] >= 1
    assert counts[("/v1/completions", "4xx")] >= 1
    assert counts[("/v1/chat/completions", "4xx")] >= 1


def test_streaming_sends_sse_chunks_then_done(runtime: SimRuntime) -> None:
    url = _url(runtime)
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 12, "stream": True,
            "stream_options": {"include_usage": True}}  # fmt: skip
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=10) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = resp.read().decode()
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e[len("data: ") :]) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = [c["choices"][0]["delta"]["content"] for c in chunks[1:] if c["choices"]]
    assert len(content) == 12
    finals = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finals[-1] == "length" and set(finals[:-1]) == {None}
    assert chunks[-1]["usage"]["completion_tokens"] == 12


def test_crash_refuses_connections_and_clear_reopens_the_same_port(runtime: SimRuntime) -> None:
    url = _url(runtime, "blue-1")
    port = urlsplit(url).port or 0
    runtime.set_fault("blue-1", "crash")
    assert _refused(port)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/health", timeout=2)
    assert runtime.state()["faults"] == {"blue-1": {"crash": 1.0}}
    runtime.set_fault("blue-1", "clear")
    assert httpx.get(url + "/health").status_code == 200
    assert runtime.state()["faults"] == {}


def test_hang_accepts_but_never_answers_until_cleared(runtime: SimRuntime) -> None:
    url = _url(runtime, "blue-0")
    runtime.set_fault("blue-0", "hang")
    for path in ("/health", "/metrics"):
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(url + path, timeout=httpx.Timeout(0.3, connect=2.0))
    runtime.set_fault("blue-0", "clear")
    assert httpx.get(url + "/health", timeout=5).status_code == 200
    assert httpx.get(url + "/metrics", timeout=5).status_code == 200


def test_openmetrics_escaping_is_negotiated_by_accept_header() -> None:
    with SimRuntime(SimConfig(port_base=0, openmetrics_escaped=True, load=False)) as rt:
        url = _url(rt) + "/metrics"
        om = httpx.get(url, headers={"Accept": "application/openmetrics-text; version=1.0.0,"
                                                " text/plain;version=0.0.4;q=0.5"})  # fmt: skip
        assert om.headers["content-type"].startswith("application/openmetrics-text")
        assert "# TYPE vllm:num_requests_running gauge" in om.text
        assert "\nvllm_num_requests_running{" in om.text
        classic = httpx.get(url)
        assert "\nvllm:num_requests_running{" in classic.text


@pytest.mark.parametrize("page", ["backend", "gpu_exporter"])
def test_metrics_are_gzipped_when_the_scraper_asks_as_vllm_and_dcgm_exporter_do(
    runtime: SimRuntime, page: str
) -> None:
    """prometheus_client (vLLM's /metrics) and Go's promhttp (dcgm-exporter) gzip a page
    for a scraper that accepts gzip, as Prometheus and aiohttp do; a scraper that does not
    gets it plain. So the scrape benchmarks pay for decompression as a real fleet makes
    them."""
    url = _url(runtime) + "/metrics" if page == "backend" else runtime.description[page]
    zipped = httpx.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers.get("content-encoding") == "gzip"
    assert "# TYPE" in zipped.text  # httpx undid the gzip
    plain = httpx.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert "# TYPE" in plain.text


def test_named_samples_are_served_as_prometheus_client_serves_them_behind_each_engine() -> None:
    """vLLM's /metrics (one API server) serves only the samples named in ?name[]=, as
    prometheus_client's exposition does; SGLang's (a multiprocess registry) answers such
    a request with nothing. The scrape source asks vLLM for what it reads, and falls back
    to the whole page on an empty answer, so the simulator must do both."""
    config = SimConfig(port_base=0, load=False, pools={"blue": 1, "green": 1},
                       engines={"green": "sglang"})  # fmt: skip
    with SimRuntime(config) as rt:
        asked = {"name[]": ["vllm:num_requests_running", "vllm:kv_cache_usage_perc"]}
        named = httpx.get(_url(rt, "blue-0") + "/metrics", params=asked)
        samples = {s.name for f in text_string_to_metric_families(named.text) for s in f.samples}
        assert samples == {"vllm:num_requests_running", "vllm:kv_cache_usage_perc"}
        whole = httpx.get(_url(rt, "blue-0") + "/metrics").text
        assert len(named.text) < len(whole) / 10
        sglang = httpx.get(
            _url(rt, "green-0") + "/metrics", params={"name[]": "sglang:num_running_reqs"}
        )
        assert sglang.status_code == 200 and sglang.text == ""


def test_control_endpoint_faults_and_weights(runtime: SimRuntime) -> None:
    control = runtime.description["control"]
    args = argparse.Namespace(backend="green-0", kind="latency", value=4.0, control=control)
    assert run_fault(args) == 0
    state = httpx.get(control + "/state").json()
    assert state["faults"] == {"green-0": {"latency": 4.0}}
    assert [b["name"] for b in state["backends"]] == ["blue-0", "blue-1", "green-0"]
    bad = argparse.Namespace(backend="red-9", kind="crash", value=None, control=control)
    assert run_fault(bad) == 2
    bad_value = argparse.Namespace(backend="blue-0", kind="errors", value=5.0, control=control)
    assert run_fault(bad_value) == 2
    put = httpx.put(control + "/weights", json={"blue": 50, "green": 50})
    assert put.status_code == 200 and put.json()["weights"] == {"blue": 50.0, "green": 50.0}
    assert httpx.put(control + "/weights", json={"red": 1}).status_code == 400
    assert httpx.get(control + "/state").json()["weights"] == {"blue": 50.0, "green": 50.0}


def test_run_fault_prints_one_line(runtime: SimRuntime, capsys: pytest.CaptureFixture[str]) -> None:
    control = runtime.description["control"]
    assert run_fault(argparse.Namespace(backend="blue-0", kind="errors", value=0.25,
                                        control=control)) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "blue-0" in out and "errors=0.25" in out


def test_run_fault_unreachable_control(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = argparse.Namespace(backend="blue-0", kind="crash", value=None,
                              control=f"http://127.0.0.1:{port}")  # fmt: skip
    assert run_fault(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("inferdeck: error:")


def test_port_in_use_names_the_port_and_leaves_nothing_listening() -> None:
    base = free_port_block()
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", base + 2))  # blue-1's port
        blocker.listen()
        rt = SimRuntime(SimConfig(port_base=base))
        with pytest.raises(PortInUse, match=f"port {base + 2} is already in use") as info:
            rt.start()
        assert info.value.port == base + 2
        assert all(_refused(base + off) for off in (0, 1, 3, 100))
    rt.stop()  # harmless after a failed start


def test_stop_closes_every_port() -> None:
    rt = SimRuntime(SimConfig(port_base=0))
    ports = _ports(rt.start())
    assert not any(_refused(p) for p in ports)
    rt.set_fault("blue-0", "hang")  # a hung backend must not keep stop() waiting
    rt.stop()
    assert all(_refused(p) for p in ports)


def test_cli_subprocess_prints_json_first_and_exits_cleanly_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui.commands",
            "sim",
            "--port-base",
            "0",
            "--seed",
            "3",
            "--rps",
            "5",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        description = json.loads(first)
        ports = _ports(description)
        assert httpx.get(description["backends"][0]["url"] + "/health").status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert all(_refused(p) for p in ports)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_subprocess_port_in_use_exits_2() -> None:
    port = free_port_block((0, 1, 2, 3, 100))
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        result = subprocess.run(
            [sys.executable, "-m", "tui.commands", "sim", "--port-base", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"inferdeck: error: port {port} is already in use"


def test_http_load_generator_sends_real_requests_to_the_target() -> None:
    with SimRuntime(SimConfig(port_base=0, load=False)) as target:
        url = _url(target, "green-0")
        config = SimConfig(port_base=0, rps=40.0, load_target=url)
        with SimRuntime(config) as loader:
            assert loader.server is not None and loader.server.load is not None
            counts = loader.server.load.counts
            deadline = time.monotonic() + 10
            while counts.ok < 2 and time.monotonic() < deadline:
                time.sleep(0.05)  # polling the condition, bounded by the deadline
            assert counts.ok >= 2 and counts.failed == 0
            assert loader.state()["load"]["http"]["sent"] >= 2
            # the loader's own engines get nothing: the target decides
            assert loader.state()["load"]["routed"] == 0
        text = httpx.get(url + "/metrics").text
        assert (
            'http_requests_total{handler="/v1/chat/completions",method="POST",status="2xx"}' in text
        )


async def test_sim_server_runs_inside_an_existing_loop() -> None:
    server = SimServer(SimFleet(SimConfig(port_base=0, load=False)))
    description = await server.start()
    try:
        async with httpx.AsyncClient() as client:
            url = description["backends"][0]["url"]
            assert (await client.get(url + "/health")).status_code == 200
            await server.apply_fault("blue-0", "crash")
            with pytest.raises(httpx.ConnectError):
                await client.get(url + "/health")
    finally:
        await server.stop()
    assert all(_refused(p) for p in _ports(description))
