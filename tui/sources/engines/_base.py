"""What every engine's name map is made of: inferdeck's figure ids and `EngineMap`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from tui.sources.promtext import PromSample

# --- canonical ids (inferdeck's figures) -------------------------------------------------

RUNNING = "vllm:num_requests_running"
WAITING = "vllm:num_requests_waiting"
KV_CACHE = "vllm:kv_cache_usage_perc"
TTFT = "vllm:time_to_first_token_seconds"
E2E = "vllm:e2e_request_latency_seconds"
QUEUE = "vllm:request_queue_time_seconds"
ITL = "vllm:inter_token_latency_seconds"
PROMPT_TOKENS = "vllm:prompt_tokens_total"
GENERATION_TOKENS = "vllm:generation_tokens_total"
REQUESTS = "vllm:request_success_total"
PREEMPTIONS = "vllm:num_preemptions_total"
PREFIX_QUERIES = "vllm:prefix_cache_queries_total"
PREFIX_HITS = "vllm:prefix_cache_hits_total"
HTTP_REQUESTS = "http_requests_total"
"""Answered requests (with the failed ones among them): the error-rate figure."""

FIGURES: Mapping[str, str] = MappingProxyType(
    {
        RUNNING: "running",
        WAITING: "waiting",
        KV_CACHE: "kv_cache",
        TTFT: "ttft",
        E2E: "e2e",
        QUEUE: "queue_time",
        ITL: "inter_token",
        PROMPT_TOKENS: "prompt_tokens",
        GENERATION_TOKENS: "generation_tokens",
        REQUESTS: "requests",
        HTTP_REQUESTS: "errors",
        PREEMPTIONS: "preemptions",
    }
)
"""Canonical id → the figure's name in the operator's words (as `Backend.unexposed` lists)."""

FAILED = "inferdeck_failed"
"""Label set on request series that count failures (see `EngineMap.request_series`)."""


@dataclass(frozen=True, slots=True)
class EngineMap:
    """How one engine exposes inferdeck's figures.

    ``gauges``, ``counters``: canonical id → the engine's names, current first.
    ``histograms``: canonical id → histogram base names (``_bucket``/``_sum``/``_count``
    series). ``means``: canonical id → (sum counter, count counter) for a latency the
    engine only totals (no buckets: a mean, no quantiles). ``answered`` / ``failed``:
    counters of answered and failed requests, with ``not_errors`` the ``err`` label
    values that are the client's fault (not counted as errors). ``replica_labels``:
    labels of ranks that report the same batch (their gauges are not added up), and
    ``group_label`` the label of ranks that each hold their own (added up).
    ``model_label``: the label naming the served model ("" when there is none: the
    model then comes from the config). ``source``: where the names were read.
    ``serves_named_samples``: its ``/metrics`` is prometheus_client's exposition over
    metrics that describe themselves, which serves only the samples a scraper names
    (``/metrics?name[]=...``): a fifth of vLLM's page, read at a fifth of the cost.
    """

    name: str
    title: str
    prefixes: tuple[str, ...]
    gauges: Mapping[str, tuple[str, ...]]
    histograms: Mapping[str, tuple[str, ...]]
    counters: Mapping[str, tuple[str, ...]]
    means: Mapping[str, tuple[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    answered: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    not_errors: frozenset[str] = frozenset()
    replica_labels: tuple[str, ...] = ()
    group_label: str = ""
    model_label: str = "model_name"
    source: str = ""
    serves_named_samples: bool = False

    @property
    def exposed(self) -> frozenset[str]:
        """Canonical ids of the figures this engine exposes."""
        ids = {*self.gauges, *self.histograms, *self.counters, *self.means}
        if self.answered:
            ids.add(HTTP_REQUESTS)
        return frozenset(ids)

    @property
    def unexposed(self) -> frozenset[str]:
        """Figure names (`FIGURES` values) this engine does not expose at all."""
        return frozenset(f for c, f in FIGURES.items() if c not in self.exposed)

    def missing(self, found: Iterable[str]) -> frozenset[str]:
        """`unexposed`, plus gauges this build does not serve (``found``: canonical ids read).

        Only gauges: they are served from the start, while counters and histograms of a
        figure the engine has may appear only with the first request.
        """
        present = set(found)
        return self.unexposed | {FIGURES[c] for c in self.gauges if c not in present}

    def combine(self, samples: Iterable[PromSample]) -> list[float]:
        """One gauge's values, one per independent part of the server.

        Ranks that only replicate a figure (SGLang's tensor/pipeline ranks with
        ``--enable-metrics-for-all-schedulers``) count once: the largest value of each
        ``group_label`` group is kept. Callers sum the result (requests) or average it
        (cache usage).
        """
        if not self.replica_labels:
            return [s.value for s in samples]
        groups: dict[str, float] = {}
        for s in samples:
            key = s.labels.get(self.group_label, "") if self.group_label else ""
            groups[key] = max(groups.get(key, s.value), s.value)
        return list(groups.values())


def spellings(name: str) -> tuple[str, ...]:
    """``name`` as written, plus the colon-escaped form (``vllm_x`` for ``vllm:x``)."""
    if ":" in name:
        return (name, name.replace(":", "_"))
    return (name,)
