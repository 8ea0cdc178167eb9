"""Prometheus query results (JSON, as the HTTP API gives them) → inferdeck's model objects.

Pure functions over the ``data.result`` lists of the queries in `tui.sources._promql`:
per backend (one per ``instance`` of a backend target), per pool (the configured pool
label) and for the fleet, the same figures the scrape source computes, plus DCGM GPUs
(sentinels dropped by `tui.sources._dcgm`) and firing alerts from ``ALERTS``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tui.model import (
    NO_QUANTILES,
    Alert,
    Backend,
    Collected,
    Gpu,
    Health,
    Pool,
    Quantiles,
    Traffic,
)
from tui.sources._alerting import fingerprint, severity_of
from tui.sources._dcgm import gpus_from_samples
from tui.sources._promql import BACKEND_HISTOGRAMS, POOL_HISTOGRAMS, RATE_COUNTERS, STAT
from tui.sources._scrape_window import add_known
from tui.sources._traffic import traffic_from
from tui.sources._vllm_names import GAUGES, HISTOGRAMS, detect, is_5xx, resolve
from tui.sources.engines import NO_ENGINE, UNKNOWN, EngineMap, unexposed_in
from tui.sources.promtext import PromSample, one_line

Vector = list[dict[str, Any]]
"""An instant-vector result: ``[{"metric": {...}, "value": [ts, "1.5"]}, ...]``."""

_CANONICAL_FIELD = {
    "vllm:time_to_first_token_seconds": "ttft",
    "vllm:e2e_request_latency_seconds": "e2e",
    "vllm:request_queue_time_seconds": "queue_time",
    "vllm:inter_token_latency_seconds": "inter_token",
}


@dataclass(frozen=True, slots=True)
class TargetInfo:
    """What ``/api/v1/targets`` says of one target: its scrape URL and last error."""

    scrape_url: str = ""
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """What ``/api/v1/alerts`` adds to an ``ALERTS`` series: annotations and start."""

    summary: str = ""
    active_at: float | None = None


def value_of(item: Mapping[str, Any]) -> float | None:
    """The float of an instant-vector item; None for NaN, ±Inf or anything unreadable."""
    try:
        value = float(item["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def labels_of(item: Mapping[str, Any]) -> dict[str, str]:
    """The label set of a result item, as ``str → str``."""
    metric = item.get("metric")
    if not isinstance(metric, Mapping):
        return {}
    return {str(k): str(v) for k, v in metric.items()}


def stats_by(vector: Vector, key: str) -> dict[str, dict[str, float | None]]:
    """``{label value of key: {stat: value}}`` from a query tagged with `STAT`."""
    out: dict[str, dict[str, float | None]] = {}
    for item in vector:
        labels = labels_of(item)
        stat = labels.get(STAT)
        if stat is not None:
            out.setdefault(labels.get(key, ""), {})[stat] = value_of(item)
    return out


def to_quantiles(stats: Mapping[str, float | None] | None) -> Quantiles:
    """`Quantiles` from a ``{"p50": .., "p95": .., "p99": .., "mean": ..}`` mapping."""
    if not stats:
        return NO_QUANTILES
    return Quantiles(
        p50=stats.get("p50"), p95=stats.get("p95"), p99=stats.get("p99"), mean=stats.get("mean")
    )


@dataclass(slots=True)
class _Rates:
    """Per-second rates of one backend or a sum of several."""

    counters: dict[str, float | None] = field(default_factory=dict)
    http_all: float | None = None
    http_5xx: float | None = None

    @classmethod
    def merge(cls, many: Iterable[_Rates]) -> _Rates:
        """PromQL ``sum`` of several backends' rates."""
        listed = list(many)
        return cls(
            counters={c: add_known(r.counters.get(c) for r in listed) for c in RATE_COUNTERS},
            http_all=add_known(r.http_all for r in listed),
            http_5xx=add_known(r.http_5xx for r in listed),
        )

    def traffic(self) -> Traffic:
        """Token and request flow and the 5xx share, as the scrape source reports them."""
        return traffic_from(self.counters, self.http_all, self.http_5xx)


def _gauges(items: Vector, engine: EngineMap | None) -> tuple[dict[str, float], str]:
    """One instance's gauge series → ``{canonical: value}`` and the model name.

    The first known name present wins (current before deprecated); the engine combines
    its series (SGLang's replicated ranks count once), then they are summed, KV-cache
    usage averaged, as the scrape source does.
    """
    if engine is None:
        return {}, ""
    by_name: dict[str, list[PromSample]] = {}
    model = ""
    for item in items:
        labels = labels_of(item)
        if engine.model_label:
            model = model or labels.get(engine.model_label, "")
        value = value_of(item)
        if value is not None:
            name = labels.pop("__name__", "")
            by_name.setdefault(name, []).append(PromSample(name, labels, value))
    out: dict[str, float] = {}
    for canonical, wire in resolve(by_name, engine).items():
        if canonical in GAUGES:
            values = engine.combine(by_name[wire])
            total = sum(values)
            out[canonical] = total / len(values) if "kv_cache" in canonical else total
    return out, model


def _wire_names(names: Iterable[str]) -> dict[str, str]:
    """Canonical → wire name found (histograms by base name), as `Backend.metric_names`."""
    return {
        c: w.removesuffix("_bucket") if c in HISTOGRAMS else w for c, w in resolve(names).items()
    }


@dataclass(slots=True)
class _Target:
    """A backend target as the ``up`` query shows it."""

    instance: str
    job: str
    pool: str
    up: bool
    last_scrape: float | None = None
    display: str = ""  # the name label's value, when the target has one


def _backend_targets(
    results: Mapping[str, Vector],
    pool_label: str,
    jobs: frozenset[str] | None,
    name_label: str = "backend",
) -> dict[str, _Target]:
    """Which ``up`` targets are vLLM backends, by instance.

    With ``jobs`` given, the targets of those jobs. Otherwise the targets that carry the
    pool label, and every target of a job in which some target exposes vLLM metrics.
    """
    vllm_jobs = {labels_of(i).get("job", "") for i in results.get("names", [])}
    stamps = {labels_of(i).get("instance", ""): value_of(i) for i in results.get("up_ts", [])}
    # A target of a job without engine metrics that names a backend an engine job already
    # has (an nginx health probe labelled backend=blue-0) is a view of that backend, not a
    # backend of its own: it would read as one whose engine is unknown.
    named = {
        labels_of(i).get(name_label, "")
        for i in results.get("up", [])
        if labels_of(i).get("job", "") in vllm_jobs
    } - {""}
    out: dict[str, _Target] = {}
    for item in results.get("up", []):
        labels = labels_of(item)
        job, instance = labels.get("job", ""), labels.get("instance", "")
        if jobs is not None:
            if job not in jobs:
                continue
        elif job not in vllm_jobs and (
            pool_label not in labels or labels.get(name_label, "") in named
        ):
            continue
        up = value_of(item) == 1.0
        target = _Target(
            instance,
            job,
            labels.get(pool_label, ""),
            up,
            stamps.get(instance),
            labels.get(name_label, ""),
        )
        if instance not in out or (up and not out[instance].up):
            out[instance] = target
    return out


def backends_and_pools(
    results: Mapping[str, Vector],
    *,
    pool_label: str,
    jobs: frozenset[str] | None = None,
    targets: Mapping[str, TargetInfo] | None = None,
    name_label: str = "backend",
    models: Mapping[str, str] | None = None,
) -> tuple[tuple[Backend, ...], tuple[Pool, ...], Pool | None]:
    """Backends (sorted by pool, then instance), pools and the fleet from one batch.

    A backend is named by its target's ``name_label`` when it has one, else by instance.
    ``models`` (name or instance → model) names the model where the engine's metrics do not.
    """
    found = _backend_targets(results, pool_label, jobs, name_label)
    names: dict[str, set[str]] = {}
    for item in results.get("names", []):
        labels = labels_of(item)
        names.setdefault(labels.get("instance", ""), set()).add(labels.get("__name__", ""))
    gauge_items: dict[str, Vector] = {}
    for item in results.get("gauges", []):
        gauge_items.setdefault(labels_of(item).get("instance", ""), []).append(item)
    rates: dict[str, _Rates] = {}
    for instance, stats in stats_by(results.get("counters", []), "instance").items():
        rates.setdefault(instance, _Rates()).counters.update(stats)
    for item in results.get("http", []):
        labels = labels_of(item)
        value = value_of(item)
        if value is None:
            continue
        r = rates.setdefault(labels.get("instance", ""), _Rates())
        r.http_all = (r.http_all or 0.0) + value
        r.http_5xx = (r.http_5xx or 0.0) + (value if is_5xx(labels.items()) else 0.0)
    for instance, stats in stats_by(results.get("requests", []), "instance").items():
        r = rates.setdefault(instance, _Rates())
        if r.http_all is None and stats.get("answered") is not None:
            r.http_all, r.http_5xx = stats["answered"], stats.get("failed") or 0.0
    hist = {
        h: stats_by(results.get(f"hist:instance:{h}", []), "instance") for h in BACKEND_HISTOGRAMS
    }
    backends: list[Backend] = []
    for instance, t in sorted(found.items(), key=lambda kv: (kv[1].pool, kv[0])):
        info = (targets or {}).get(instance, TargetInfo())
        engine = detect(names.get(instance, ()))
        gauges, model = _gauges(gauge_items.get(instance, []), engine)
        r = rates.get(instance, _Rates())
        preemptions = r.counters.get("vllm:num_preemptions_total")
        q = {f: to_quantiles(hist[h].get(instance)) for h, f in _CANONICAL_FIELD.items()}
        reason = ""
        health = Health.UP if t.up else Health.DOWN
        if not t.up:
            reason = one_line(info.last_error or f"Prometheus cannot scrape it (up=0, job {t.job})")
        elif engine is None:
            health, reason = Health.UNKNOWN, NO_ENGINE
        backends.append(
            Backend(
                name=t.display or instance,
                pool=t.pool,
                url=info.scrape_url.removesuffix("/metrics") or f"http://{instance}",
                model=model
                or (models or {}).get(t.display or instance, "")
                or (models or {}).get(instance, ""),
                health=health,
                reason=reason,
                running=gauges.get("vllm:num_requests_running"),
                waiting=gauges.get("vllm:num_requests_waiting"),
                kv_cache_usage=gauges.get("vllm:kv_cache_usage_perc"),
                traffic=r.traffic(),
                preemptions_per_min=None if preemptions is None else preemptions * 60.0,
                metric_names=MappingProxyType(_wire_names(names.get(instance, ()))),
                last_scrape=t.last_scrape,
                ttft=q["ttft"],
                e2e=q["e2e"],
                queue_time=q["queue_time"],
                inter_token=q["inter_token"],
                engine=engine.name if engine else (UNKNOWN if t.up else ""),
                unexposed=engine.missing(resolve(names.get(instance, ()), engine))
                if engine
                else frozenset(),
            )
        )
    pool_hist = {
        h: stats_by(results.get(f"hist:pool:{h}", []), pool_label) for h in POOL_HISTOGRAMS
    }
    fleet_hist = {h: stats_by(results.get(f"hist:fleet:{h}", []), "") for h in POOL_HISTOGRAMS}
    by_pool: dict[str, list[Backend]] = {}
    for b in backends:
        by_pool.setdefault(b.pool, []).append(b)
    pools = tuple(
        _pool(p, members, rates, {h: pool_hist[h].get(p) if p else None for h in pool_hist})
        for p, members in by_pool.items()
    )
    fleet = None
    if backends:
        fleet = _pool("fleet", backends, rates, {h: fleet_hist[h].get("") for h in fleet_hist})
    return tuple(backends), pools, fleet


def _pool(
    name: str,
    members: list[Backend],
    rates: Mapping[str, _Rates],
    hist: Mapping[str, Mapping[str, float | None] | None],
) -> Pool:
    """Aggregate backends like the scrape source: summed gauges and rates, mean KV."""
    healthy = [b for b in members if b.health is Health.UP]
    kv = [b.kv_cache_usage for b in healthy if b.kv_cache_usage is not None]
    merged = _Rates.merge(rates.get(b.name, _Rates()) for b in members)
    return Pool(
        name=name,
        backends=len(members),
        healthy=len(healthy),
        running=float(sum(b.running for b in members if b.running is not None)),
        waiting=float(sum(b.waiting for b in members if b.waiting is not None)),
        kv_cache_usage=sum(kv) / len(kv) if kv else None,
        ttft=to_quantiles(hist.get("vllm:time_to_first_token_seconds")),
        e2e=to_quantiles(hist.get("vllm:e2e_request_latency_seconds")),
        traffic=merged.traffic(),
        unexposed=unexposed_in(healthy),
    )


def gpus(vector: Vector) -> tuple[Gpu, ...]:
    """DCGM exporter series → GPUs (host from ``Hostname``, else the exporter's instance)."""
    by_instance: dict[str, list[PromSample]] = {}
    for item in vector:
        labels = labels_of(item)
        value = value_of(item)
        if value is None:
            continue
        name = labels.pop("__name__", "")
        by_instance.setdefault(labels.get("instance", ""), []).append(
            PromSample(name, labels, value)
        )
    found = [g for inst, ss in by_instance.items() for g in gpus_from_samples(ss, inst)]
    return tuple(sorted(found, key=lambda g: (g.host, g.index)))


def alert_labels(item: Mapping[str, Any]) -> dict[str, str]:
    """An ``ALERTS`` series' labels as the alert's own (no ``__name__``, ``alertstate``)."""
    labels = labels_of(item)
    labels.pop("__name__", None)
    labels.pop("alertstate", None)
    return labels


def alerts(
    results: Mapping[str, Vector],
    *,
    at: float,
    source: str,
    info: Mapping[str, AlertInfo] | None = None,
) -> tuple[Alert, ...]:
    """Firing alerts from ``ALERTS``; start from ``/api/v1/alerts`` or ``ALERTS_FOR_STATE``.

    ``info`` is keyed by `fingerprint` of the alert's labels. Without a known start the
    alert's start is ``at``.
    """
    since = {fingerprint(alert_labels(i)): value_of(i) for i in results.get("alerts_since", [])}
    out: list[Alert] = []
    for item in results.get("alerts", []):
        labels = alert_labels(item)
        fp = fingerprint(labels)
        extra = (info or {}).get(fp, AlertInfo())
        starts = extra.active_at or since.get(fp) or at
        out.append(
            Alert(
                name=labels.get("alertname", ""),
                severity=severity_of(labels.get("severity")),
                summary=extra.summary,
                labels=MappingProxyType(labels),
                starts_at=starts,
                fingerprint=fp,
                state="firing",
                source=source,
            )
        )
    return tuple(sorted(out, key=lambda a: (-a.starts_at, a.name, a.fingerprint)))


def collected(
    results: Mapping[str, Vector],
    *,
    pool_label: str,
    at: float,
    source: str,
    jobs: frozenset[str] | None = None,
    targets: Mapping[str, TargetInfo] | None = None,
    alert_info: Mapping[str, AlertInfo] | None = None,
    name_label: str = "backend",
    models: Mapping[str, str] | None = None,
) -> Collected:
    """Everything one batch says, as a `Collected`."""
    backends, pools, fleet = backends_and_pools(
        results,
        pool_label=pool_label,
        jobs=jobs,
        targets=targets,
        name_label=name_label,
        models=models,
    )
    found_gpus = gpus(results.get("dcgm", []))
    return Collected(
        gpus=found_gpus,
        backends=backends,
        pools=pools,
        fleet=fleet,
        alerts=alerts(results, at=at, source=source, info=alert_info),
    )
