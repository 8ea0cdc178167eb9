"""The computing core of the scrape source: exposition text in, model objects out.

No I/O here. `ScrapeState` takes each backend's ``/metrics`` text and ``/health`` verdict
as they arrive (`ScrapeState.ingest_backend`), keeps a sliding window of the counter and
histogram-bucket series it needs, and on `ScrapeState.result` computes per backend, per
pool and for the fleet what a Prometheus would compute with
``rate(x[window])`` and ``histogram_quantile(q, sum by (le) (rate(x_bucket[window])))``.

Rates use `tui.analysis.rates.rate` with a range, i.e. Prometheus's extrapolation. The
range is ``[at - window_s, at]``, except that it never starts before this state first
read the backend: inferdeck did not see the counters before it started, and Prometheus's
rule would otherwise read "series began mid-range" and under-report for the first
window. A series that appears on a backend read before (e.g. the first 5xx answer) is
taken to have been 0 at the previous read, as Prometheus does when it ingests created
timestamps; without that, the first errors of an incident would not count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from tui.analysis.rates import CounterWindow
from tui.model import Backend, Collected, Gpu, Health
from tui.sources._dcgm import READ as DCGM_READ
from tui.sources._dcgm import SeriesMemo, gpus_from_samples, host_of_url
from tui.sources._http_auth import Credentials
from tui.sources._scrape_window import Window, add_known, make_pool
from tui.sources._vllm_names import (
    COUNTERS,
    GAUGES,
    HISTOGRAMS,
    HTTP_REQUESTS,
    WANTED,
    detect,
    histogram_parts,
    is_5xx,
    is_answer,
    request_series,
    resolve,
)
from tui.sources.engines import NO_ENGINE, UNKNOWN, EngineMap, engine_named
from tui.sources.promtext import (
    ExpositionError,
    PageShape,
    PromSample,
    finite,
    one_line,
    parse_exposition,
)

#: Bounds the fast window index of one backend (a vLLM page has ~150 series read here).
MAX_SERIES_PER_BACKEND = 10_000

LabelKey = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, float | None, LabelKey]  # (suffix, le, other labels)


@dataclass(frozen=True, slots=True)
class ScrapeTarget:
    """One backend to scrape: its name, pool, base URL (``http://host:port``), model.

    ``credentials``: where its bearer token comes from, for a backend behind one.
    """

    name: str
    pool: str
    url: str
    model: str = ""
    credentials: Credentials | None = None
    engine: str = ""  # set in the config; "" = detected from /metrics


@dataclass(slots=True)
class _BackendState:
    """What the core remembers about one backend between reads."""

    target: ScrapeTarget
    series: dict[str, dict[SeriesKey, CounterWindow]] = field(default_factory=dict)
    gauges: dict[str, list[float]] = field(default_factory=dict)
    metric_names: dict[str, str] = field(default_factory=dict)
    model: str = ""
    engine: EngineMap | None = None
    engine_seen: bool = False  # a successful read happened (so None means "no engine matched")
    health: Health = Health.UNKNOWN
    reason: str = ""
    first_read: float | None = None
    last_read: float | None = None
    page: PageShape = field(default_factory=PageShape)  # its last page's lines, for the next
    windows: int = 0  # how many series windows it holds
    appended: int = 0  # how many samples the last read appended (to as many windows)
    pruned_at: float = -math.inf
    # Where each sample of a page of `page`'s shape goes, in page order: its windows and
    # gauges (canonical names), None for nowhere; no plan until a read made one.
    plan: list[tuple[CounterWindow | str, ...] | None] | None = None
    gauge_names: tuple[str, ...] = ()  # the gauges that page has, in `gauges` order
    # (metric_names, engine) -> their read-only view and the figures not exposed: made
    # again only when a read found other names
    names_view: tuple[object, object, Mapping[str, str], frozenset[str]] | None = None
    # (canonical, suffix, id of a labels object) -> (that object, its window): a series
    # scraped again comes with the same labels object (promtext's SeriesCache), so its
    # window is found without rebuilding the label key. Holding the object keeps its id
    # from being reused; emptied whenever a window is forgotten.
    windows_by_labels: dict[tuple[str, str, int], tuple[Mapping[str, str], CounterWindow]] = field(
        default_factory=dict
    )


def _labels_key(labels: Mapping[str, str]) -> LabelKey:
    """A hashable, order-independent form of a label set (``le`` excluded)."""
    return tuple(sorted((k, v) for k, v in labels.items() if k != "le"))


class ScrapeState:
    """Sliding-window state of every backend and GPU exporter; pure computation.

    Feed it with `ingest_backend` / `ingest_gpus` (from HTTP, or in-process text in
    tests), then ask `result` for the `Collected` at some instant. Never raises on bad
    input: a bad target only changes that target's health and reason.
    """

    def __init__(self, targets: Iterable[ScrapeTarget] = (), *, window_s: float = 60.0) -> None:
        """Start empty; ``targets`` are listed (health unknown) before their first read."""
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.window_s = window_s
        self._backends: dict[str, _BackendState] = {}
        self._gpus: dict[str, list[Gpu]] = {}
        self._gpu_errors: dict[str, str] = {}
        self._gpu_pages: dict[str, PageShape] = {}
        self._gpu_series: dict[str, SeriesMemo] = {}  # per exporter: its series' GPUs
        for target in targets:
            self.add_target(target)

    def add_target(self, target: ScrapeTarget) -> None:
        """Register (or update the address of) a backend."""
        state = self._backends.get(target.name)
        if state is None:
            self._backends[target.name] = _BackendState(target=target)
        else:
            state.target = target

    def remove_target(self, name: str) -> None:
        """Forget a backend (a replica scaled in): its row and its window go."""
        self._backends.pop(name, None)

    def engine_of(self, name: str) -> EngineMap | None:
        """The engine backend ``name``'s last read page came from (or its configured one);
        None before a page was read, or when it matched none."""
        state = self._backends.get(name)
        return None if state is None else state.engine

    @property
    def gpu_errors(self) -> Mapping[str, str]:
        """Exporter URL → why its last read failed, for exporters whose last read failed."""
        return MappingProxyType(dict(self._gpu_errors))

    def ingest_backend(
        self,
        target: ScrapeTarget,
        metrics_text: str | None,
        health_ok: bool | None,
        error: str | None,
        at: float,
    ) -> None:
        """Record one read of a backend at time ``at``.

        ``metrics_text``: the ``/metrics`` body, or None when it could not be fetched.
        ``health_ok``: True for ``/health`` 200, False for a backend known to fail (a
        failed health check: refused, timeout, 5xx; or ``/metrics`` answering an HTTP
        error or a web page), None when not checked. ``error``: one line saying what
        failed (shown as the reason). Resulting health: a failed health check → DOWN;
        otherwise metrics read → UP, metrics missing or unreadable → UNKNOWN. (So pass
        ``health_ok=False`` for a refused or timed-out backend.)
        """
        self.add_target(target)
        state = self._backends[target.name]
        state.appended = 0
        parse_error: str | None = None
        parsed = False
        if metrics_text is not None:
            try:
                samples = parse_exposition(metrics_text, WANTED, shape=state.page)
                plan = state.plan
                if state.page.reused and plan is not None and len(plan) == len(samples):
                    self._ingest_planned(state, plan, samples, at)
                else:
                    self._ingest_samples(state, samples, at)
                parsed = True
            except ExpositionError as exc:
                parse_error = f"unparseable metrics: {exc}"
            except Exception as exc:  # a bug here must not take the whole source down
                parse_error = one_line(f"cannot read metrics: {type(exc).__name__}: {exc}")
        if not parsed:
            state.gauges = {}
        if health_ok is False:
            state.health, state.reason = Health.DOWN, one_line(error or "health check failed")
        elif parsed and state.engine is None:
            state.health, state.reason = Health.UNKNOWN, NO_ENGINE
        elif parsed:
            state.health, state.reason = Health.UP, ""
        elif parse_error is not None:
            state.health, state.reason = Health.UNKNOWN, one_line(parse_error)
        else:
            state.health, state.reason = Health.UNKNOWN, one_line(error or "no metrics")
        self._prune(state, at)

    def _ingest_planned(
        self,
        state: _BackendState,
        plan: list[tuple[CounterWindow | str, ...] | None],
        samples: list[PromSample],
        at: float,
    ) -> None:
        """`_ingest_samples` for a page of the same series as the one the plan was made
        from: each sample goes where that page's did (engine, names and model unchanged)."""
        gauge_samples: dict[str, list[PromSample]] = {name: [] for name in state.gauge_names}
        appended = 0
        for sample, destinations in zip(samples, plan, strict=True):
            if destinations is None:
                continue
            for goes in destinations:
                if isinstance(goes, str):
                    gauge_samples[goes].append(sample)
                elif finite(sample.value):
                    goes.append(at, sample.value)
                    appended += 1
        engine = state.engine
        gauges: dict[str, list[float]] = {}
        for name, found in gauge_samples.items():
            kept = [s for s in found if finite(s.value)]
            gauges[name] = engine.combine(kept) if engine and kept else []
        state.gauges = gauges
        state.appended = appended
        state.last_read = at

    def _ingest_samples(self, state: _BackendState, samples: list[PromSample], at: float) -> None:
        """Store gauges and append counter/bucket samples from one successful read.

        Also makes the plan that `_ingest_planned` follows for the next pages of the same
        series: where each sample went. No plan when a sample went somewhere no later
        sample of that series could follow (a value that was not a number, a sample the
        engine's names rewrote).
        """
        state.plan = None
        goes_to: dict[int, list[CounterWindow | str]] = {}  # by id of a sample in `samples`
        plannable = True
        by_name: dict[str, list[PromSample]] = {}
        for s in samples:
            by_name.setdefault(s.name, []).append(s)
        configured = engine_named(state.target.engine) if state.target.engine else None
        engine = configured or detect(by_name.keys())
        state.engine, state.engine_seen = engine, True
        found = resolve(by_name.keys(), engine) if engine is not None else {}
        gauges: dict[str, list[float]] = {}
        going: list[tuple[str, str, PromSample]] = []  # (canonical, suffix, sample) to append
        for canonical, wire in found.items():
            if canonical in GAUGES:
                kept = [s for s in by_name[wire] if finite(s.value)]
                gauges[canonical] = engine.combine(kept) if engine and kept else []
                for s in by_name[wire]:
                    goes_to.setdefault(id(s), []).append(canonical)
            elif canonical in HISTOGRAMS:
                for suffix, name in histogram_parts(wire).items():
                    going += [(canonical, suffix, s) for s in by_name.get(name, ())]
            elif canonical == HTTP_REQUESTS:
                going += [(canonical, "", s) for s in request_series(by_name)]
            else:
                going += [(canonical, "", s) for s in by_name[wire]]
        for canonical, suffix, s in going:
            window = self._append(state, canonical, suffix, s, at)
            if window is None:
                plannable = False
            else:
                goes_to.setdefault(id(s), []).append(window)
        state.gauges = gauges
        state.gauge_names = tuple(gauges)
        read = {id(s) for s in samples}
        if plannable and all(id(s) in read for _, _, s in going):  # none rewritten
            state.plan = [tuple(goes_to[id(s)]) if id(s) in goes_to else None for s in samples]
        state.metric_names = {
            c: w.removesuffix("_bucket") if c in HISTOGRAMS else w for c, w in found.items()
        }
        label = engine.model_label if engine is not None else ""
        if not state.target.model and label:
            state.model = next(
                (s.labels[label] for s in samples if s.labels.get(label)), state.model
            )
        if state.first_read is None:
            state.first_read = at
        state.last_read = at

    def _append(
        self, state: _BackendState, canonical: str, suffix: str, s: PromSample, at: float
    ) -> CounterWindow | None:
        """Append one cumulative sample to its series, seeding new series with a zero.

        Returns the series' window; None for a sample that has none (not a number, or a
        bucket without a bound).
        """
        if not finite(s.value):
            return None
        fast = (canonical, suffix, id(s.labels))
        known = state.windows_by_labels.get(fast)
        if known is not None and known[0] is s.labels:
            known[1].append(at, s.value)
            state.appended += 1
            return known[1]
        le: float | None = None
        if suffix == "_bucket":
            try:
                le = float(s.labels.get("le", ""))
            except ValueError:
                return None
            if math.isnan(le):
                return None
        labels = _labels_key(s.labels)
        if canonical == HTTP_REQUESTS:  # engines count answers and failures in two metrics
            labels = (*labels, ("__name__", s.name))
        key: SeriesKey = (suffix, le, labels)
        series = state.series.setdefault(canonical, {})
        window = series.get(key)
        if window is None:
            state.windows += 1
            window = series[key] = CounterWindow(self.window_s)
            if state.last_read is not None and state.last_read < at:
                window.append(state.last_read, 0.0)
        window.append(at, s.value)
        state.appended += 1
        if len(state.windows_by_labels) > 4 * MAX_SERIES_PER_BACKEND:
            state.windows_by_labels.clear()
        state.windows_by_labels[fast] = (s.labels, window)
        return window

    def _prune(self, state: _BackendState, at: float) -> None:
        """Forget series with no sample inside the window any more.

        Skipped when this read appended to every window the backend has (none can be
        out of date), except every quarter window as a backstop.
        """
        if state.appended >= state.windows and at - state.pruned_at < self.window_s / 4:
            return
        state.pruned_at = at
        horizon = at - self.window_s
        for canonical in list(state.series):
            series = state.series[canonical]
            for key in [k for k, w in series.items() if w.newest_at < horizon]:
                del series[key]
                state.windows_by_labels.clear()
                state.plan = None  # it may send samples to the window just dropped
            if not series:
                del state.series[canonical]
        state.windows = sum(len(series) for series in state.series.values())

    def ingest_gpus(self, url: str, metrics_text: str | None, error: str | None, at: float) -> None:
        """Record one read of a DCGM exporter (``url`` is its full ``/metrics`` URL).

        A failed or unparseable read empties that exporter's GPU list and records why in
        `gpu_errors`; other exporters are unaffected.
        """
        del at  # GPU figures are instantaneous gauges; kept for symmetry and future rates
        if metrics_text is None:
            self._gpus[url] = []
            self._gpu_errors[url] = one_line(error or "no answer")
            return
        try:
            page = self._gpu_pages.setdefault(url, PageShape())
            samples = parse_exposition(metrics_text, DCGM_READ, shape=page)
            memo = self._gpu_series.setdefault(url, {})
            self._gpus[url] = gpus_from_samples(samples, host_of_url(url), memo)
            self._gpu_errors.pop(url, None)
        except Exception as exc:
            self._gpus[url] = []
            self._gpu_errors[url] = one_line(f"unparseable metrics: {exc}")

    def _window(self, state: _BackendState, at: float) -> Window:
        """Rates over the window ending at ``at`` for one backend."""
        out = Window()
        if state.first_read is None:
            return out
        start = max(at - self.window_s, state.first_read)
        if at - start <= 0:
            return out

        rates_of = CounterWindow.rates  # windows read together share their work on times
        for name in HISTOGRAMS:
            buckets: dict[float, float] = {}
            sums: list[float | None] = []
            counts: list[float | None] = []
            series = state.series.get(name, {})
            values = rates_of(series.values(), start, at)
            for (suffix, le, _), value in zip(series, values, strict=True):
                if suffix == "_bucket" and le is not None and value is not None:
                    buckets[le] = buckets.get(le, 0.0) + value
                elif suffix == "_sum":
                    sums.append(value)
                elif suffix == "_count":
                    counts.append(value)
            out.buckets[name] = buckets
            out.sums[name] = add_known(sums)
            out.counts[name] = add_known(counts)
        for name in COUNTERS:
            out.counters[name] = add_known(rates_of(state.series.get(name, {}).values(), start, at))
        http = state.series.get(HTTP_REQUESTS, {})
        http_rates = rates_of(http.values(), start, at)
        rates = [(labels, r) for (_, _, labels), r in zip(http, http_rates, strict=True)]
        out.http_all = add_known(r for labels, r in rates if is_answer(labels))
        if out.http_all is not None:
            out.http_5xx = sum(r for labels, r in rates if r is not None and is_5xx(labels))
        return out

    def _backend(self, state: _BackendState, window: Window) -> Backend:
        """The model object for one backend."""
        gauges = state.gauges
        running = gauges.get("vllm:num_requests_running")
        waiting = gauges.get("vllm:num_requests_waiting")
        kv = gauges.get("vllm:kv_cache_usage_perc")
        preemptions = window.counters.get("vllm:num_preemptions_total")
        engine = state.engine
        view = state.names_view
        if view is None or view[0] is not state.metric_names or view[1] is not engine:
            missing = engine.missing(state.metric_names) if engine else frozenset()
            proxy = MappingProxyType(dict(state.metric_names))
            view = state.names_view = (state.metric_names, engine, proxy, missing)
        names, unexposed = view[2], view[3]
        return Backend(
            name=state.target.name,
            pool=state.target.pool,
            url=state.target.url,
            model=state.target.model or state.model,
            health=state.health,
            reason=state.reason,
            running=sum(running) if running else None,
            waiting=sum(waiting) if waiting else None,
            kv_cache_usage=sum(kv) / len(kv) if kv else None,
            ttft=window.quantiles("vllm:time_to_first_token_seconds"),
            e2e=window.quantiles("vllm:e2e_request_latency_seconds"),
            queue_time=window.quantiles("vllm:request_queue_time_seconds"),
            inter_token=window.quantiles("vllm:inter_token_latency_seconds"),
            traffic=window.traffic(),
            preemptions_per_min=None if preemptions is None else preemptions * 60.0,
            metric_names=names,
            last_scrape=state.last_read,
            engine=engine.name if engine else (UNKNOWN if state.engine_seen else ""),
            unexposed=unexposed,
        )

    def result(self, at: float) -> Collected:
        """Backends, pools, the fleet and GPUs as of ``at`` (epoch seconds)."""
        backends: list[Backend] = []
        windows: dict[str, Window] = {}
        for name, state in self._backends.items():
            windows[name] = self._window(state, at)
            backends.append(self._backend(state, windows[name]))
        pools: dict[str, list[Backend]] = {}
        for b in backends:
            pools.setdefault(b.pool, []).append(b)
        pool_objs = tuple(make_pool(p, members, windows) for p, members in pools.items())
        gpus: tuple[Gpu, ...] | None = None
        if self._gpus:
            gpus = tuple(sorted((g for gs in self._gpus.values() for g in gs), key=_gpu_order))
        problems = tuple(
            f"GPU exporter {host_of_url(url)}: {why}" for url, why in self._gpu_errors.items()
        )
        return Collected(
            gpus=gpus,
            backends=tuple(backends),
            pools=pool_objs,
            fleet=make_pool("fleet", backends, windows) if backends else None,
            weights=None,
            gpu_problems=problems,
        )


def _gpu_order(gpu: Gpu) -> tuple[str, int]:
    """Sort GPUs by host, then index."""
    return (gpu.host, gpu.index)
