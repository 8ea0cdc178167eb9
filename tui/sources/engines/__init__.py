"""Inference engines and their metric names: one name map per engine, and detection.

inferdeck reads the same figures from every engine — requests running and waiting, KV
cache, TTFT / end-to-end / queue / inter-token latency, tokens/s, requests, errors,
preemptions — under *canonical ids*. The ids are vLLM's current metric names (vLLM was
the first engine read, and its names are what the rest of the code was written
against); each engine's map (`vllm`, `sglang`, `tgi`, `llamacpp`) says under which of
its own names each figure is exposed, and leaves out what the engine does not expose.

`detect` tells an engine by the prefix of the names on its ``/metrics`` (``vllm:``,
``sglang:``, ``tgi_``, ``llamacpp:``, each also with the colon escaped to ``_``, as a
recent prometheus_client writes it in OpenMetrics). `wanted_families` is the union of
every engine's sample names: the scrape core parses only those lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from tui.model import Backend
from tui.sources.engines import llamacpp, sglang, tgi, vllm
from tui.sources.engines._base import (
    E2E,
    FAILED,
    FIGURES,
    GENERATION_TOKENS,
    HTTP_REQUESTS,
    ITL,
    KV_CACHE,
    PREEMPTIONS,
    PREFIX_HITS,
    PREFIX_QUERIES,
    PROMPT_TOKENS,
    QUEUE,
    REQUESTS,
    RUNNING,
    TTFT,
    WAITING,
    EngineMap,
    spellings,
)
from tui.sources.promtext import PromSample

__all__ = [
    "COUNTERS",
    "E2E",
    "ENGINES",
    "ENGINE_NAMES",
    "FAILED",
    "FIGURES",
    "GAUGES",
    "GENERATION_TOKENS",
    "HISTOGRAMS",
    "HTTP_REQUESTS",
    "ITL",
    "KV_CACHE",
    "MEANS",
    "NO_ENGINE",
    "PREEMPTIONS",
    "PREFIX_HITS",
    "PREFIX_QUERIES",
    "PROMPT_TOKENS",
    "QUEUE",
    "REQUESTS",
    "REQUEST_COUNTERS",
    "RUNNING",
    "TTFT",
    "UNKNOWN",
    "WAITING",
    "EngineMap",
    "detect",
    "engine_named",
    "histogram_parts",
    "is_5xx",
    "is_answer",
    "is_completion_handler",
    "page_names",
    "probes",
    "request_series",
    "resolve",
    "spellings",
    "unexposed_in",
    "wanted_families",
]

ENGINES: Mapping[str, EngineMap] = MappingProxyType(
    {m.name: m for m in (vllm.MAP, sglang.MAP, tgi.MAP, llamacpp.MAP)}
)
"""Every known engine by name (``vllm``, ``sglang``, ``tgi``, ``llamacpp``)."""

ENGINE_NAMES: tuple[str, ...] = tuple(ENGINES)
UNKNOWN = "unknown"
"""The engine of a target whose ``/metrics`` matches no known engine."""
NO_ENGINE = "no known engine's metrics on /metrics (not vLLM, SGLang, TGI or llama.cpp)"
"""Why a backend whose ``/metrics`` reads fine but matches no engine is not shown as up."""


def _union(attr: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for engine in ENGINES.values():
        for canonical, names in getattr(engine, attr).items():
            out[canonical] = (*out.get(canonical, ()), *names)
    return out


GAUGES: Mapping[str, tuple[str, ...]] = MappingProxyType(_union("gauges"))
"""Gauges: canonical id → every engine's names (vLLM's first)."""
HISTOGRAMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {c: _union("histograms").get(c, ()) for c in (TTFT, E2E, QUEUE, ITL)}
)
"""Latency histograms: canonical id → every engine's base names (empty where none has one)."""
COUNTERS: Mapping[str, tuple[str, ...]] = MappingProxyType(_union("counters"))
"""Counters: canonical id → every engine's sample names."""
MEANS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        c: tuple(e.means[c] for e in ENGINES.values() if c in e.means)
        for c in {c for e in ENGINES.values() for c in e.means}
    }
)
"""Latencies some engine only totals: canonical id → (sum, count) counter pairs."""
REQUEST_COUNTERS: tuple[str, ...] = tuple(
    dict.fromkeys(n for e in ENGINES.values() for n in (*e.answered, *e.failed))
)
"""Every engine's answered/failed request counters (vLLM's ``http_requests_total`` first)."""


def probes(canonical: str, part: str = "") -> list[str]:
    """Wire names of one figure, best first, every engine and spelling.

    ``part`` is ``""`` for gauges and counters, and ``_bucket``, ``_sum`` or ``_count``
    for a latency (``_sum``/``_count`` include the totals of engines that only have a mean).
    """
    if canonical in HISTOGRAMS or canonical in MEANS:
        names = [b + part for b in HISTOGRAMS.get(canonical, ())] if part else []
        if part in ("_sum", "_count"):
            names += [pair[0 if part == "_sum" else 1] for pair in MEANS.get(canonical, ())]
        return [s for n in names for s in spellings(n)]
    known = GAUGES.get(canonical) or COUNTERS.get(canonical) or (canonical,)
    return [s for n in known for s in spellings(n)]


def _all_sample_names() -> frozenset[str]:
    names: set[str] = set()
    for canonical in (*GAUGES, *COUNTERS):
        names.update(probes(canonical))
    for canonical in {*HISTOGRAMS, *MEANS}:
        for part in ("_bucket", "_sum", "_count"):
            names.update(probes(canonical, part))
    for n in REQUEST_COUNTERS:
        names.update(spellings(n))
    return frozenset(names)


_WANTED = _all_sample_names()


def wanted_families() -> frozenset[str]:
    """Every sample name any engine's map reads: the scrape core parses only these lines."""
    return _WANTED


def page_names(engine: EngineMap) -> tuple[str, ...]:
    """Every sample name the scrape core reads from one engine's page, in every spelling:
    what a backend whose engine `serves_named_samples` is asked for."""
    own = {n for n in _WANTED if n.startswith(engine.prefixes)}
    answers = {s for n in (*engine.answered, *engine.failed) for s in spellings(n)}
    return tuple(sorted(own | answers))


def detect(names: Iterable[str]) -> EngineMap | None:
    """The engine whose metric names are on a page, by their prefix; None when none is."""
    found: dict[str, int] = {}
    for name in names:
        for engine in ENGINES.values():
            if name.startswith(engine.prefixes):
                found[engine.name] = found.get(engine.name, 0) + 1
    if not found:
        return None
    return ENGINES[max(found, key=lambda n: found[n])]


def engine_named(name: str) -> EngineMap | None:
    """The engine called ``name`` (as in the config's ``engine:``), or None."""
    return ENGINES.get(name.strip().lower())


def resolve(present: Iterable[str], engine: EngineMap | None = None) -> dict[str, str]:
    """Canonical id → the sample name found on the wire, for each figure present.

    A histogram's value is its ``_bucket`` sample name; a mean-only latency's is its
    sum counter. With ``engine`` only that engine's names count.
    """
    names = set(present)
    allowed = None if engine is None else {s for n in _engine_names(engine) for s in spellings(n)}
    found: dict[str, str] = {}
    for canonical in (*GAUGES, *HISTOGRAMS, *COUNTERS):
        first = "_bucket" if canonical in HISTOGRAMS else ""
        candidates = probes(canonical, first) if first else probes(canonical)
        if canonical in MEANS:
            candidates += probes(canonical, "_sum")[len(probes(canonical, "_bucket")) :]
        hit = next(
            (p for p in candidates if p in names and (allowed is None or p in allowed)), None
        )
        if hit is not None:
            found[canonical] = hit
    hit = next((s for n in REQUEST_COUNTERS for s in spellings(n) if s in names), None)
    if hit is not None:
        found[HTTP_REQUESTS] = hit
    return found


def _engine_names(engine: EngineMap) -> list[str]:
    """Every name in one engine's map (histograms by ``_bucket`` series)."""
    out = [n for ns in (*engine.gauges.values(), *engine.counters.values()) for n in ns]
    out += [b + "_bucket" for bs in engine.histograms.values() for b in bs]
    out += [pair[0] for pair in engine.means.values()]
    return [*out, *engine.answered, *engine.failed]


def histogram_parts(wire: str) -> dict[str, str]:
    """The sample names of one latency found as ``wire`` (from `resolve`): part → name.

    A histogram has ``_bucket``, ``_sum``, ``_count``; a mean-only latency ``_sum`` and
    ``_count`` (its two counters, in the same spelling).
    """
    if wire.endswith("_bucket"):
        base = wire.removesuffix("_bucket")
        return {p: base + p for p in ("_bucket", "_sum", "_count")}
    for pairs in MEANS.values():
        for total, count in pairs:
            for a, b in zip(spellings(total), spellings(count), strict=False):
                if wire == a:
                    return {"_sum": a, "_count": b}
    return {}


def request_series(by_name: Mapping[str, list[PromSample]]) -> list[PromSample]:
    """Every engine's answered and failed request samples, with failures marked.

    vLLM: ``http_requests_total`` of the completion endpoints, failed when ``status`` is
    5xx. TGI: ``tgi_request_count`` answered, ``tgi_request_failure`` failed unless its
    ``err`` is the client's fault (validation). A failure sample carries the `FAILED`
    label and is not an answer of its own (it is already in the answered count).
    """
    out: list[PromSample] = []
    for engine in ENGINES.values():
        for name in (s for n in engine.answered for s in spellings(n)):
            for s in by_name.get(name, ()):
                if engine.name == "vllm" and not is_completion_handler(s.labels):
                    continue
                out.append(s)
        for name in (s for n in engine.failed for s in spellings(n)):
            for s in by_name.get(name, ()):
                if s.labels.get("err", "") in engine.not_errors:
                    continue
                out.append(PromSample(s.name, {**s.labels, FAILED: "1"}, s.value))
    return out


def is_completion_handler(labels: Mapping[str, str]) -> bool:
    """True for the OpenAI completion endpoints (``/v1/chat/completions``, ``/v1/completions``)."""
    return labels.get("handler", "").rstrip("/").endswith("completions")


def is_answer(labels: Iterable[tuple[str, str]]) -> bool:
    """True for a series counting answered requests (not a TGI-style failure count)."""
    return all(k != FAILED for k, _ in labels)


def is_5xx(labels: Iterable[tuple[str, str]]) -> bool:
    """True for a failed answer: ``status`` 5xx (``5xx``, ``503``) or a failure count."""
    listed = dict(labels)
    return FAILED in listed or listed.get("status", "").startswith("5")


def unexposed_in(members: Iterable[Backend]) -> Mapping[str, str]:
    """Figure → the engines (comma-joined, sorted) of ``members`` that do not expose it."""
    missing: dict[str, set[str]] = {}
    for b in members:
        for figure in b.unexposed:
            missing.setdefault(figure, set()).add(b.engine)
    return MappingProxyType({f: ", ".join(sorted(e)) for f, e in sorted(missing.items())})
