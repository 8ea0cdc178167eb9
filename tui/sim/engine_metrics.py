"""The simulated backend as another engine: SGLang, TGI or llama.cpp server metrics.

Each collector renders the same simulated engine (`tui.sim.engine.Engine`) under that
engine's real names, types, labels, HELP texts and bucket bounds, read from its source
(cited per class; ``tui.sources.engines`` has the reading side). Histograms use the
engine's own bucket layouts through `Hist.twin`, so the collectors must read the bounds
from the data as they would from the real server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tui.sim.engine import Engine
from tui.sim.metrics import _counter, _gauge, _histogram
from tui.sim.stats import Hist, HttpStats

# --- SGLang (sgl-project/sglang python/sglang/srt/metrics/collector.py, v0.5.x) ---------

SGLANG_TTFT_BUCKETS = (0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400)
SGLANG_E2E_BUCKETS = (
    0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200,
    1800, 2400,
)  # fmt: skip
SGLANG_ITL_BUCKETS = (
    0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.060,
    0.080, 0.100, 0.200, 0.400, 0.600, 0.800, 1.000, 2.000, 4.000, 6.000, 8.000,
)  # fmt: skip
SGLANG_QUEUE_BUCKETS = (
    0.0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300,
    400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000,
)  # fmt: skip
SGLANG_TP_RANKS = 2
"""Scheduler ranks served: as ``--tp 2 --enable-metrics-for-all-schedulers`` (each rank
reports the same batch, which a reader must not add up)."""


class SglangCollector(Collector):
    """One SGLang server (``--enable-metrics``): scheduler gauges per TP rank, tokenizer
    counters and histograms."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        http: Callable[[], HttpStats],
        model: str,
        created: Callable[[], float],
    ) -> None:
        self._engine = engine
        self._http = http
        self.model = model
        self._created = created
        self._hists: dict[str, Hist] = {}

    def attach(self, engine: Engine) -> None:
        """Record the (new) engine's observations in SGLang's bucket layouts."""
        s = engine.stats
        self._hists = {
            "ttft": s.ttft.twin(SGLANG_TTFT_BUCKETS),
            "itl": s.inter_token.twin(SGLANG_ITL_BUCKETS),
            "e2e": s.e2e.twin(SGLANG_E2E_BUCKETS),
            "queue": s.queue.twin(SGLANG_QUEUE_BUCKETS),
        }

    def collect(self) -> Iterator[Metric]:
        """Yield SGLang's families."""
        engine = self._engine()
        stats = engine.stats
        created = self._created()
        token = {"model_name": self.model}
        ranks = [
            {
                "model_name": self.model,
                "engine_type": "unified",
                "tp_rank": str(r),
                "pp_rank": "0",
                "moe_ep_rank": "0",
            }
            for r in range(SGLANG_TP_RANKS)
        ]
        total = engine.capacity_blocks * engine.params.block_size

        def per_rank(value: float) -> list[tuple[dict[str, str], float]]:
            return [(dict(r), value) for r in ranks]

        gauges = [
            ("num_running_reqs", "The number of running requests.", float(engine.num_running)),
            ("num_used_tokens", "The number of used tokens.", engine.kv_usage * total),
            ("token_usage", "The token usage.", engine.kv_usage),
            ("gen_throughput", "The generation throughput (token/s).", 0.0),
            ("num_queue_reqs", "The number of requests in the waiting queue.",
             float(engine.num_waiting)),
            ("cache_hit_rate", "The prefix cache hit rate.",
             stats.prefix_hits / stats.prefix_queries if stats.prefix_queries else 0.0),
            ("max_total_num_tokens", "Maximum total number of tokens in the KV cache pool.",
             float(total)),
        ]  # fmt: skip
        for name, doc, value in gauges:
            yield _gauge("sglang:" + name, doc, per_rank(value))
        yield _counter(
            "sglang:num_retracted_requests",
            "Total number of retracted requests.",
            created,
            per_rank(float(stats.preemptions)),
        )
        counters = [
            ("prompt_tokens", "Number of prefill tokens processed.", stats.prompt_tokens),
            ("generation_tokens", "Number of generation tokens processed.",
             stats.generation_tokens),
            ("cached_tokens", "Number of cached prompt tokens.", stats.prefix_hits),
            ("num_requests", "Number of requests processed.", sum(stats.success.values())),
            ("num_aborted_requests", "Number of requests aborted.", stats.success.get("abort", 0)),
        ]  # fmt: skip
        for name, doc, value in counters:
            yield _counter("sglang:" + name, doc, created, [(dict(token), float(value))])
        h = self._hists
        yield _histogram(
            "sglang:queue_time_seconds",
            "Histogram of queueing time in seconds.",
            created,
            [(dict(r), h["queue"]) for r in ranks],
        )
        for name, doc, key in (
            ("time_to_first_token_seconds", "Histogram of time to first token in seconds.", "ttft"),
            ("inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", "itl"),
            ("e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds",
             "e2e"),
        ):  # fmt: skip
            yield _histogram("sglang:" + name, doc, created, [(dict(token), h[key])])


# --- TGI (huggingface/text-generation-inference router/src/server.rs, v3.3.7) -----------


def _tgi_duration_buckets() -> tuple[float, ...]:
    """35 bounds, 0.0001 x 1.5ⁿ (n = 1..35): TGI's buckets for every ``*duration``."""
    out: list[float] = []
    value = 0.0001
    for _ in range(35):
        value *= 1.5
        out.append(value)
    return tuple(out)


TGI_DURATION_BUCKETS = _tgi_duration_buckets()
TGI_MAX_INPUT_TOKENS = 4095
TGI_MAX_TOTAL_TOKENS = 4096


def _rust_float(value: float) -> str:
    """A float as Rust's ``Display`` writes it: shortest round trip, never an exponent."""
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    return text


class TextCollector:
    """A server that writes its exposition itself (not through prometheus_client)."""

    def attach(self, engine: Engine) -> None:
        """Record the (new) engine's observations in this engine's layouts."""

    def exposition(self) -> bytes:
        """The ``/metrics`` body."""
        raise NotImplementedError


class TgiCollector(TextCollector):
    """One TGI router: metrics-exporter-prometheus output (no ``_total``, no ``_created``,
    no model label, ``*_duration`` histograms in seconds)."""

    def __init__(
        self, engine: Callable[[], Engine], http: Callable[[], HttpStats], model: str
    ) -> None:
        self._engine = engine
        self._http = http
        self.model = model
        self._hists: dict[str, Hist] = {}

    def attach(self, engine: Engine) -> None:
        """Twins in TGI's layouts (durations, and token counts per 1/100 of the maximum)."""
        s = engine.stats
        inputs = [TGI_MAX_INPUT_TOKENS / 100 * (x + 1) for x in range(100)]
        generated = [TGI_MAX_TOTAL_TOKENS / 100 * (x + 1) for x in range(100)]
        self._hists = {
            "tgi_request_duration": s.e2e.twin(TGI_DURATION_BUCKETS),
            "tgi_request_queue_duration": s.queue.twin(TGI_DURATION_BUCKETS),
            "tgi_request_inference_duration": s.inference.twin(TGI_DURATION_BUCKETS),
            "tgi_request_mean_time_per_token_duration": s.time_per_output_token_request.twin(
                TGI_DURATION_BUCKETS
            ),
            "tgi_request_input_length": s.request_prompt_tokens.twin(inputs),
            "tgi_request_generated_tokens": s.request_generation_tokens.twin(generated),
        }

    def exposition(self) -> bytes:
        """TGI's ``/metrics`` body."""
        engine = self._engine()
        http = self._http()
        stats = engine.stats
        answered = sum(n for (h, _m, _s), n in http.requests.items() if h.endswith("completions"))
        failed = http.count("5xx", "/v1/chat/completions") + http.count("5xx", "/v1/completions")
        out: list[str] = []

        def family(name: str, kind: str, help_text: str, lines: Iterable[str]) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")
            out.extend(lines)
            out.append("")

        family("tgi_request_count", "counter", "Total number of requests", [
            f"tgi_request_count {answered}"
        ])  # fmt: skip
        family("tgi_request_success", "counter", "Number of successful requests", [
            f"tgi_request_success {max(answered - failed, 0)}"
        ])  # fmt: skip
        if failed:
            out += ["# TYPE tgi_request_failure counter",
                    f'tgi_request_failure{{err="generation"}} {failed}', ""]  # fmt: skip
        family("tgi_queue_size", "gauge", "Current queue size", [
            f"tgi_queue_size {engine.num_waiting}"
        ])  # fmt: skip
        family("tgi_batch_current_size", "gauge", "Current batch size", [
            f"tgi_batch_current_size {engine.num_running}"
        ])  # fmt: skip
        helps = {
            "tgi_request_duration": "Total time spent processing the request",
            "tgi_request_queue_duration": "Time spent in the queue per request",
            "tgi_request_inference_duration": "Request inference duration",
            "tgi_request_mean_time_per_token_duration": "Mean time per token per request",
            "tgi_request_input_length": "Input token length per request",
            "tgi_request_generated_tokens": "Generated tokens per request",
        }
        for name, hist in self._hists.items():
            bounds = [_rust_float(b) for b in hist.bounds] + ["+Inf"]
            lines = [
                f'{name}_bucket{{le="{le}"}} {c}'
                for le, c in zip(bounds, hist.cumulative(), strict=True)
            ]
            lines += [f"{name}_sum {_rust_float(hist.sum)}", f"{name}_count {hist.count}"]
            family(name, "histogram", helps[name], lines)
        del stats
        return ("\n".join(out) + "\n").encode()


# --- llama.cpp server (ggml-org/llama.cpp tools/server/server-context.cpp, 2025-2026) ---


class LlamacppCollector(TextCollector):
    """One ``llama-server --metrics``: unlabelled counters and gauges, no histograms."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine

    def exposition(self) -> bytes:
        """llama.cpp's ``/metrics`` body."""
        engine = self._engine()
        s = engine.stats
        decode_s = s.inter_token.sum  # seconds spent generating, over every generated token
        prompt_s = s.prefill.sum
        n_decode = s.iteration_tokens.count
        items = [
            ("counter", "prompt_tokens_total", "Number of prompt tokens processed.",
             s.prompt_tokens),
            ("counter", "prompt_seconds_total", "Prompt process time", prompt_s),
            ("counter", "tokens_predicted_total", "Number of generation tokens processed.",
             s.generation_tokens),
            ("counter", "tokens_predicted_seconds_total", "Predict process time", decode_s),
            ("counter", "n_decode_total", "Total number of llama_decode() calls", n_decode),
            ("counter", "n_busy_slots_per_decode",
             "Average number of busy slots per llama_decode() call",
             s.batch_s / s.busy_s if s.busy_s else 0.0),
            ("gauge", "prompt_tokens_seconds", "Average prompt throughput in tokens/s.",
             s.prompt_tokens / prompt_s if prompt_s else 0.0),
            ("gauge", "predicted_tokens_seconds", "Average generation throughput in tokens/s.",
             s.generation_tokens / decode_s if decode_s else 0.0),
            ("gauge", "requests_processing", "Number of requests processing.",
             engine.num_running),
            ("gauge", "requests_deferred", "Number of requests deferred.", engine.num_waiting),
        ]  # fmt: skip
        out: list[str] = []
        for kind, name, help_text, value in items:
            out.append(f"# HELP llamacpp:{name} {help_text}")
            out.append(f"# TYPE llamacpp:{name} {kind}")
            number = float(value)
            shown = str(int(number)) if number.is_integer() else f"{number:g}"
            out.append(f"llamacpp:{name} {shown}")
        return ("\n".join(out) + "\n").encode()
