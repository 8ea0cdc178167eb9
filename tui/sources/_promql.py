"""PromQL for the prometheus source: one batch of instant queries, and the history queries.

Every vLLM metric is read under each name it has had (current name first, then
deprecated ones) and each spelling (``vllm:x`` and the colon-escaped ``vllm_x``), using
PromQL's ``or``: ``rate(a[1m]) or rate(b[1m])`` keeps ``b``'s series only where ``a`` has
none with the same labels (``rate`` drops the metric name), so a backend exposing both
generations is counted once and a fleet mid-upgrade is read whole. Which name each
backend actually exposes comes from a separate ``count by (__name__, instance)`` query.

Several figures share one query by tagging each branch with a ``stat`` label
(``label_replace(..., "inferdeck_stat", "p95", "", "")``) and joining the branches with
``or``. Nothing here does I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from tui.sources._vllm_names import COUNTERS, GAUGES, HISTOGRAMS, HTTP_REQUESTS, MEANS, spellings
from tui.sources.engines import ENGINES, REQUEST_COUNTERS
from tui.sources.engines import probes as probes

#: The label that tags a branch of a combined query.
STAT = "inferdeck_stat"

#: Name prefixes with a colon, whose escaped form (``vllm_``) is the other spelling.
_COLON_PREFIXES = tuple(p for e in ENGINES.values() for p in e.prefixes if p.endswith(":"))

TTFT = "vllm:time_to_first_token_seconds"
E2E = "vllm:e2e_request_latency_seconds"
QUEUE = "vllm:request_queue_time_seconds"
ITL = "vllm:inter_token_latency_seconds"

#: Histograms read per backend, and those also read per pool and for the fleet.
BACKEND_HISTOGRAMS = (TTFT, E2E, QUEUE, ITL)
POOL_HISTOGRAMS = (TTFT, E2E)

#: Counters read per backend (rates per second).
RATE_COUNTERS = (
    "vllm:prompt_tokens_total",
    "vllm:generation_tokens_total",
    "vllm:request_success_total",
    "vllm:num_preemptions_total",
)

QUANTILES: Mapping[str, float] = MappingProxyType({"p50": 0.5, "p95": 0.95, "p99": 0.99})

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_DURATION = re.compile(r"(\d+(ms|s|m|h|d|w|y))+")
#: The API server's completion endpoints (the scrape source counts only these too).
_COMPLETIONS = 'handler=~".*completions/*"'


def check_label_name(name: str) -> str:
    """``name`` if it is a valid Prometheus label name, else ValueError."""
    if not _LABEL_NAME.fullmatch(name):
        raise ValueError(f"not a Prometheus label name: {name!r}")
    return name


def check_duration(text: str) -> str:
    """``text`` if it is a PromQL duration (``1m``, ``90s``), else ValueError."""
    if not _DURATION.fullmatch(text):
        raise ValueError(f"not a PromQL duration: {text!r} (e.g. 1m, 90s)")
    return text


def quote(value: str) -> str:
    """A PromQL string literal holding ``value`` exactly."""
    return json.dumps(value, ensure_ascii=False)


def job_matcher(jobs: Iterable[str] | None) -> str:
    """``job=~"a|b"`` matching exactly the given jobs, or "" for all jobs."""
    if jobs is None:
        return ""
    listed = sorted(set(jobs))
    if not listed:
        return ""
    return "job=~" + quote("|".join(re.escape(j) for j in listed))


def _selector(name: str, matchers: Iterable[str]) -> str:
    """``name{m1,m2}`` (or just ``name``)."""
    inner = ",".join(m for m in matchers if m)
    return f"{name}{{{inner}}}" if inner else name


def name_regex(names: Iterable[str]) -> str:
    """A ``__name__=~"..."`` matcher for exactly these metric names."""
    return "__name__=~" + quote("|".join(re.escape(n) for n in sorted(set(names))))


SPELLING = "inferdeck_spelling"
"""Label that keeps a name's two spellings apart inside a rate chain (summed away after)."""


def rate_chain(names: Iterable[str], window: str, matchers: Iterable[str] = ()) -> str:
    """The rates of a metric's names: the first *name* present wins, both *spellings* count.

    ``rate(a[w]) or rate(b[w])`` keeps ``b`` only where ``a`` has no series with the same
    labels (``rate`` drops the name): right between a current and a deprecated name,
    which vLLM serves side by side with the same values. Wrong between the two
    spellings of one name: a target that switches from ``vllm:x`` to ``vllm_x`` (an
    upgrade) has each for part of the window, and keeping one under-reads the rate. So
    each branch is tagged with its spelling (`SPELLING`): ``vllm:x`` and ``vllm_x`` both
    stay, and the caller's ``sum`` adds their parts of the window. Always wrap the
    result in an aggregation that drops the tag.
    """
    listed = list(matchers)
    # Different engines' names never meet on one target, so one regex selector reads a
    # rank (current, deprecated, ...) of every engine at once: a few branches, not one per
    # name (Prometheus evaluates each branch, present or not).
    groups: dict[tuple[int, str], list[str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for name in names:
        spelled = "escaped" if ":" not in name and _escaped(name) else "as-written"
        family = (_family(name), spelled)
        rank = seen.get(family, 0)
        seen[family] = rank + 1
        groups.setdefault((rank, spelled), []).append(name)

    def branch(listed_names: list[str], spelled: str) -> str:
        if len(listed_names) == 1:
            selector = _selector(listed_names[0], listed)
        else:
            selector = "{" + ",".join([name_regex(listed_names), *listed]) + "}"
        return tag_label(f"rate({selector}[{window}])", SPELLING, spelled)

    return "(" + " or ".join(branch(ns, sp) for (_, sp), ns in sorted(groups.items())) + ")"


def _family(name: str) -> str:
    """The engine prefix a name belongs to (``vllm``, ``sglang``, ``tgi``, ...), else itself."""
    for engine in ENGINES.values():
        if name.startswith(engine.prefixes):
            return engine.name
    return name


def _escaped(name: str) -> bool:
    """True when ``name`` is the colon-escaped spelling of a known ``prefix:`` name."""
    return any(name.startswith(p.replace(":", "_")) for p in _COLON_PREFIXES)


def tag_label(expr: str, label: str, value: str) -> str:
    """``expr`` with ``label`` set to ``value``."""
    return f"label_replace({expr}, {quote(label)}, {quote(value)}, {quote('')}, {quote('')})"


def tag(expr: str, value: str) -> str:
    """``expr`` with the `STAT` label set to ``value``."""
    return tag_label(expr, STAT, value)


def _sum(by: tuple[str, ...], expr: str) -> str:
    """``sum by (...) (expr)``; plain ``sum(expr)`` without grouping labels."""
    return f"sum by ({', '.join(by)}) {expr}" if by else f"sum{expr}"


def quantile_expr(
    canonical: str, q: float, by: tuple[str, ...], window: str, matchers: Iterable[str] = ()
) -> str:
    """``histogram_quantile(q, sum by (le, ...) (rate(<bucket>[w])))`` over every name."""
    buckets = rate_chain(probes(canonical, "_bucket"), window, matchers)
    return f"histogram_quantile({q}, {_sum(('le', *by), buckets)})"


def mean_expr(
    canonical: str, by: tuple[str, ...], window: str, matchers: Iterable[str] = ()
) -> str:
    """Mean over the window: ``sum(rate(_sum)) / sum(rate(_count))``."""
    listed = list(matchers)
    sums = _sum(by, rate_chain(probes(canonical, "_sum"), window, listed))
    counts = _sum(by, rate_chain(probes(canonical, "_count"), window, listed))
    return f"{sums} / {counts}"


def histogram_query(
    canonical: str, by: tuple[str, ...], window: str, matchers: Iterable[str] = ()
) -> str:
    """p50, p95, p99 and mean of one histogram grouped ``by``, tagged by `STAT`."""
    listed = list(matchers)
    branches = [
        tag(quantile_expr(canonical, q, by, window, listed), stat) for stat, q in QUANTILES.items()
    ]
    branches.append(tag(mean_expr(canonical, by, window, listed), "mean"))
    return " or ".join(branches)


def counters_query(window: str, matchers: Iterable[str] = ()) -> str:
    """Per-instance rates of `RATE_COUNTERS`, each tagged with its canonical name."""
    listed = list(matchers)
    return " or ".join(
        tag(_sum(("instance",), rate_chain(probes(c), window, listed)), c) for c in RATE_COUNTERS
    )


def http_query(window: str, matchers: Iterable[str] = ()) -> str:
    """Per instance and status class, the rate of completion requests answered."""
    selector = _selector(HTTP_REQUESTS, [*matchers, _COMPLETIONS])
    return f"sum by (instance, status) (rate({selector}[{window}]))"


def requests_query(window: str, matchers: Iterable[str] = ()) -> str:
    """Per instance, answered and failed requests of engines that count them so (TGI).

    Tagged ``answered`` and ``failed`` by `STAT`; a failure whose ``err`` is the
    client's request (validation) is not one.
    """
    listed = list(matchers)
    branches: list[str] = []
    for engine in ENGINES.values():
        if not engine.failed:
            continue
        answered = [s for n in engine.answered for s in spellings(n)]
        failed = [s for n in engine.failed for s in spellings(n)]
        ok = [f"err!~{quote('|'.join(sorted(engine.not_errors)))}"] if engine.not_errors else []
        branches.append(tag(_sum(("instance",), rate_chain(answered, window, listed)), "answered"))
        branches.append(
            tag(_sum(("instance",), rate_chain(failed, window, [*listed, *ok])), "failed")
        )
    return " or ".join(branches)


def all_vllm_names() -> list[str]:
    """Every wire name the collectors recognise, of every engine (histograms by ``_bucket``)."""
    names: list[str] = []
    for canonical in (*GAUGES, *COUNTERS):
        names += probes(canonical)
    for canonical in HISTOGRAMS:
        names += probes(canonical, "_bucket")
    for canonical in MEANS:
        names += probes(canonical, "_sum")
    return [*names, *(s for n in REQUEST_COUNTERS for s in spellings(n))]


def batch(pool_label: str, jobs: Iterable[str] | None, window: str) -> dict[str, str]:
    """The instant queries of one refresh, by key (see `tui.sources._prom_parse`)."""
    job = job_matcher(jobs)
    m = [job] if job else []
    gauge_names = [p for c in GAUGES for p in probes(c)]
    queries = {
        "up": _selector("up", m),
        "up_ts": f"timestamp({_selector('up', m)})",
        "names": "count by (__name__, instance, job) "
        f"({{{','.join([name_regex(all_vllm_names()), *m])}}})",
        "gauges": "{" + ",".join([name_regex(gauge_names), *m]) + "}",
        "counters": counters_query(window, m),
        "http": http_query(window, m),
        "requests": requests_query(window, m),
        "dcgm": '{__name__=~"DCGM_FI_DEV_.+"}',
        "alerts": 'ALERTS{alertstate="firing"}',
        "alerts_since": "ALERTS_FOR_STATE",
    }
    for h in BACKEND_HISTOGRAMS:
        queries[f"hist:instance:{h}"] = histogram_query(h, ("instance",), window, m)
    for h in POOL_HISTOGRAMS:
        queries[f"hist:pool:{h}"] = histogram_query(h, (pool_label,), window, m)
        queries[f"hist:fleet:{h}"] = histogram_query(h, (), window, m)
    return queries


def history_queries(pool_label: str, jobs: Iterable[str] | None, window: str) -> dict[str, str]:
    """Range queries for chart history: key prefix → PromQL.

    Keys ending in ``.`` are per-group (``pool.`` → one series per pool, ``gpu.`` → per
    GPU); the others give one fleet-wide series. Names match the hub's history keys.
    """
    job = job_matcher(jobs)
    m = [job] if job else []
    p = pool_label

    def gauge(canonical: str, agg: str, by: str = "") -> str:
        # ``x + 0`` drops the metric name, so ``or`` keeps one series per label set.
        chain = " or ".join(f"({_selector(n, m)} + 0)" for n in probes(canonical))
        return f"{agg}{f' by ({by})' if by else ''} ({chain})"

    def rate_sum(canonical: str, by: str = "") -> str:
        return f"sum{f' by ({by})' if by else ''} {rate_chain(probes(canonical), window, m)}"

    answered = _selector(HTTP_REQUESTS, [*m, _COMPLETIONS])
    failed = _selector(HTTP_REQUESTS, [*m, _COMPLETIONS, 'status=~"5.*"'])
    return {
        "fleet.ttft_p50": quantile_expr(TTFT, 0.5, (), window, m),
        "fleet.ttft_p95": quantile_expr(TTFT, 0.95, (), window, m),
        "fleet.e2e_p50": quantile_expr(E2E, 0.5, (), window, m),
        "fleet.e2e_p95": quantile_expr(E2E, 0.95, (), window, m),
        "fleet.waiting": gauge("vllm:num_requests_waiting", "sum"),
        "fleet.running": gauge("vllm:num_requests_running", "sum"),
        "fleet.kv": gauge("vllm:kv_cache_usage_perc", "avg"),
        "fleet.gen_tps": rate_sum("vllm:generation_tokens_total"),
        "fleet.prompt_tps": rate_sum("vllm:prompt_tokens_total"),
        "fleet.rpm": f"60 * {rate_sum('vllm:request_success_total')}",
        "fleet.error_rate": f"(sum(rate({failed}[{window}])) or vector(0))"
        f" / sum(rate({answered}[{window}]))",
        "pool.waiting.": gauge("vllm:num_requests_waiting", "sum", p),
        "pool.rpm.": f"60 * {rate_sum('vllm:request_success_total', p)}",
        "gpu.util.": "DCGM_FI_DEV_GPU_UTIL",
        "gpu.temp.": "DCGM_FI_DEV_GPU_TEMP",
    }
