"""Judging the fleet, shared by the commands (``slo``, ``capacity``, ``cost``, ``models``) and
the dashboard's SLO, Capacity and Models screens.

An `Observation` is the fleet as seen (the config, the newest snapshot, bad-request shares
over time, an open Prometheus source when configured). The report functions split what
needs I/O (`slo_inputs`: Prometheus range queries; `hosts_for`: psutil and node exporter;
`growth_for`: Prometheus's GPU history) from what is a pure function of data already at
hand (`slo_verdict`, `capacity_figures`, `cost_for`, `models_report`), so a screen runs
the first in a thread worker and the second on every snapshot.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.analysis.budget import (
    DEFAULT_WINDOW_S,
    ErrorBudget,
    Series,
    TimeoutRate,
    bad_fraction,
    duration,
    error_budget,
    handbook_state,
    objectives,
    series_from_history,
)
from tui.config import BackendConfig, Config, ConfigError
from tui.model import Backend, FleetSnapshot
from tui.sources.prometheus import PrometheusError, PrometheusSource
from tui.sources.slo_history import budget_series, timeout_rate

if TYPE_CHECKING:  # capacity, cost and models are imported by the functions that need
    # them: the overview's first frame judges only the SLOs (their modules are ~15 ms)
    from tui.analysis.capacity import HostMetrics
    from tui.analysis.cost import CostReport

#: The simulator's engines batch at most this many requests (`tui.sim.engine`).
DEMO_MAX_NUM_SEQS = 64


@dataclass
class Observation:
    """The fleet as seen: the latest snapshot, and every one before it or their bad shares.

    ``bad_series`` (the dashboard: the hub's recorded error rates) replaces the bad shares
    computed from ``history`` (the commands: one snapshot per poll).
    """

    config: Config
    snapshot: FleetSnapshot
    history: list[FleetSnapshot]  # oldest first, one per poll
    interval_s: float
    timeout: TimeoutRate | None  # from the engines' counters (None with nothing to scrape)
    prometheus: PrometheusSource | None
    demo: bool
    bad_series: Series | None = None

    def bad_shares(self) -> Series:
        """The share of failing requests over time, oldest first."""
        if self.bad_series is not None:
            return self.bad_series
        return Series(self.interval_s, tuple((s.taken_at, bad_fraction(s)) for s in self.history))


def prometheus_of(sources: Iterable[object]) -> PrometheusSource | None:
    """The Prometheus source among ``sources``, if one is configured."""
    return next((s for s in sources if isinstance(s, PrometheusSource)), None)


def dashboard_observation(
    config: Config,
    snapshot: FleetSnapshot,
    step_s: float,
    prometheus: PrometheusSource | None = None,
) -> Observation:
    """The dashboard's view: the newest snapshot and the hub's history of error rates.

    The newest step counts every request as failed while no backend is up
    (`bad_fraction`), which the recorded error rate alone would miss.
    """
    series = series_from_history(
        snapshot.history.get("fleet.error_rate", ()), step_s, snapshot.taken_at
    )
    now = bad_fraction(snapshot)
    if series.samples and now is not None:
        series = Series(step_s, (*series.samples[:-1], (snapshot.taken_at, now)))
    elif not series.samples:
        series = Series(step_s, ((snapshot.taken_at, now),))
    return Observation(config, snapshot, [snapshot], step_s, None, prometheus, False, series)


def window_of(config: Config) -> float:
    """The SLO window in seconds: ``slo.window_days``, else 30 days."""
    return config.slo.window_days * 86400 if config.slo is not None else DEFAULT_WINDOW_S


# --- SLOs and the error budget ------------------------------------------------------------


def budget_for(seen: Observation, window_s: float) -> ErrorBudget:
    """The error budget from Prometheus when configured, else from what was recorded."""
    tier = seen.config.slo_tier
    now = seen.snapshot.taken_at
    prom, prom_config = seen.prometheus, seen.config.sources.prometheus
    fallback = ""
    if prom is not None and prom_config is not None:
        try:
            series = budget_series(
                prom, now=now, window_s=window_s, pool_label=prom_config.pool_label
            )
        except PrometheusError as exc:
            fallback = f"; {exc}"
        else:
            return error_budget(
                series, now=now, tier=tier, window_s=window_s, source="prometheus",
                source_detail=f"Prometheus at {prom.url}: range queries over {duration(window_s)}",
            )  # fmt: skip
    shares = seen.bad_shares()
    return error_budget(
        shares, now=now, tier=tier, window_s=window_s, source="history",
        source_detail=f"inferdeck's own history: {len(shares.samples)} samples over "
        f"{duration(shares.span_s)}" + (fallback or " (configure Prometheus for the whole window)"),
    )  # fmt: skip


def slo_inputs(seen: Observation, window_s: float) -> tuple[TimeoutRate | None, ErrorBudget]:
    """The figures that may need Prometheus: the timeout rate and the error budget.

    Blocking when Prometheus is configured (range queries): call it from a worker.
    """
    config = seen.config
    timeout = seen.timeout
    if seen.prometheus is not None:
        gateway = config.slo.timeout_query if config.slo else None
        with contextlib.suppress(PrometheusError):  # then the engines' own counters
            timeout = timeout_rate(seen.prometheus, gateway)
    return timeout, budget_for(seen, window_s)


def slo_verdict(
    config: Config, snapshot: FleetSnapshot, timeout: TimeoutRate | None, budget: ErrorBudget
) -> dict[str, Any]:
    """Objectives, the handbook's overall state and the error budget, as data (pure)."""
    found = objectives(
        snapshot,
        config.slo_tier,
        timeout_rate=timeout,
        availability=budget.availability,
        availability_note=f"over {duration(budget.covered_s)} of {budget.source}",
    )
    state, reasons = handbook_state(snapshot.overall, snapshot.overall_reasons, found)
    return {
        "tier": config.slo_tier,
        "environment": config.environment,
        "overall": state,
        "reasons": reasons,
        "objectives": found,
        "budget": budget,
    }


def judge(seen: Observation, window_s: float) -> dict[str, Any]:
    """`slo_inputs` then `slo_verdict`: everything ``inferdeck slo`` prints."""
    timeout, budget = slo_inputs(seen, window_s)
    return slo_verdict(seen.config, seen.snapshot, timeout, budget)


# --- capacity ------------------------------------------------------------------------------


def read_this_machine() -> HostMetrics:
    """This machine's host metrics (`tui.sources.host.local_host`: psutil, blocking)."""
    from tui.sources.host import local_host

    return local_host()


def hosts_for(
    seen: Observation, local: bool = True, read_local: Callable[[], HostMetrics] = read_this_machine
) -> tuple[list[HostMetrics], str]:
    """This machine (psutil) and node exporter's hosts; a note when node exporter failed.

    Blocking (psutil samples over half a second; Prometheus queries): call it from a worker.
    """
    from tui.sources.host import node_exporter_hosts

    hosts = [read_local()] if local else []
    note = ""
    capacity = seen.config.capacity
    if seen.prometheus is not None:
        try:
            hosts += node_exporter_hosts(seen.prometheus, capacity.node_job if capacity else "node")
        except PrometheusError as exc:
            note = f"node exporter: {exc}"
    return hosts, note


def growth_for(seen: Observation) -> tuple[float | None, str]:
    """The monthly growth: from the config, else fitted to Prometheus's GPU history."""
    from tui.analysis.capacity import fit_monthly_growth
    from tui.sources.slo_history import utilisation_points

    capacity = seen.config.capacity
    if capacity is not None and capacity.growth_monthly is not None:
        return capacity.growth_monthly, "config (capacity.growth_monthly)"
    if seen.prometheus is not None:
        try:
            points = utilisation_points(seen.prometheus, now=seen.snapshot.taken_at)
        except PrometheusError as exc:
            return None, f"no growth: {exc}"
        growth = fit_monthly_growth(points)
        if growth is not None:
            return growth, f"fitted to {len(points)} hours of GPU utilisation in Prometheus"
        return None, "no growth: too little GPU history in Prometheus"
    return None, "no growth: set capacity.growth_monthly or configure Prometheus"


def max_num_seqs_of(config: Config) -> dict[str, int]:
    """Each configured backend's ``max_num_seqs``, where known."""
    return {b.name: b.max_num_seqs for b in config.backends if b.max_num_seqs}


def capacity_figures(
    config: Config,
    snapshot: FleetSnapshot,
    hosts: Sequence[HostMetrics],
    host_note: str,
    growth: tuple[float | None, str],
) -> dict[str, Any]:
    """The capacity report from figures already read (pure): checks, bands, decision."""
    from tui.analysis.capacity import (
        HANDBOOK_HOST_THRESHOLDS,
        decide,
        fleet_utilisation,
        gpu_uses,
        headroom,
        host_checks,
        in_flight,
        project,
    )

    limits = config.capacity.host if config.capacity else HANDBOOK_HOST_THRESHOLDS
    threshold = config.capacity.threshold_pct if config.capacity else 80.0
    max_seqs = max_num_seqs_of(config)
    util, util_source = fleet_utilisation(snapshot, max_seqs)
    return {
        "hosts": [{"host": h, "checks": host_checks(h, limits)} for h in hosts],
        "host_note": host_note,
        "gpus": gpu_uses(snapshot.gpus),
        "in_flight": in_flight(snapshot.backends, max_seqs),
        "decision": decide(snapshot, config.slo_tier, max_seqs),
        "utilisation": {"pct": util, "source": util_source},
        "projection": project(util, growth[0], growth[1], threshold),
        "headroom": headroom(util),
    }


def capacity_report(seen: Observation, *, local: bool = True) -> dict[str, Any]:
    """Everything ``capacity`` prints, as data (reads the hosts: blocking)."""
    hosts, host_note = hosts_for(seen, local)
    return capacity_figures(seen.config, seen.snapshot, hosts, host_note, growth_for(seen))


# --- cost and models -----------------------------------------------------------------------


def cost_for(seen: Observation) -> CostReport:
    """The cost report from the config's table and the month's (or live) volumes.

    Raises `ConfigError` when the config has no cost table.
    """
    from tui.analysis.cost import cost_report, requests_volume, tokens_volume

    cost = seen.config.cost
    if cost is None or not cost.monthly:
        where = seen.config.path or "the config"
        raise ConfigError(f"{where}:1: no cost table: add cost.monthly (see example.yaml)")
    traffic = seen.snapshot.fleet.traffic if seen.snapshot.fleet else None
    rpm = traffic.requests_per_min if traffic else None
    tps = None
    if traffic and traffic.generation_tokens_per_s is not None:
        tps = traffic.generation_tokens_per_s + (traffic.prompt_tokens_per_s or 0.0)
    return cost_report(
        cost.monthly,
        requests_volume(cost.monthly_requests, rpm),
        tokens_volume(cost.monthly_tokens, tps),
        cost.cloud,
    )


def models_report(
    config: Config, backends: tuple[Backend, ...], today: dt.date | None = None
) -> dict[str, Any]:
    """The inventory, each pool's version and the retention warnings, as data."""
    from tui.analysis.models import retention_warnings, serving
    from tui.config_judgement import ModelsConfig

    models = config.models or ModelsConfig()
    pools = serving(models.inventory, backends, models.pools)
    warnings = retention_warnings(models.inventory, pools, today or dt.date.today())
    return {"inventory": models.inventory, "pools": pools, "warnings": warnings}


# --- the demo ------------------------------------------------------------------------------


def demo_extras(config: Config, pool_models: Iterable[tuple[str, str]]) -> Config:
    """The demo's config with what judging needs: max_num_seqs, the handbook's cost
    table, 10 % monthly growth, and an inventory naming the simulator's models."""
    from tui.analysis.cost import HANDBOOK_COSTS, CloudPrice
    from tui.analysis.models import Inventory, InventoryModel, ModelVersion
    from tui.config_judgement import CapacityConfig, CostConfig, ModelsConfig

    models = sorted(set(pool_models))
    versions = tuple(
        ModelVersion(
            version=f"v{i + 1}.0",
            status="active" if i == 0 else "staging",
            deployed=dt.date(2025, 6, 1) if i == 0 else None,
            path=f"/mnt/models/{model}",
            served_as=model,
        )
        for i, (_, model) in enumerate(models)
    )
    return dataclasses.replace(
        config,
        backends=tuple(
            dataclasses.replace(b, max_num_seqs=DEMO_MAX_NUM_SEQS) for b in config.backends
        ),
        capacity=CapacityConfig(growth_monthly=0.10),
        cost=CostConfig(HANDBOOK_COSTS, cloud=CloudPrice("GPT-4o", per_request_usd=0.03)),
        models=ModelsConfig(Inventory((InventoryModel("llama-3.1-8b", versions),), "demo")),
    )


# --- what the dashboard's judging screens are given ---------------------------------------


@dataclass(frozen=True)
class Judging:
    """What the SLO, Capacity and Models screens need beyond the snapshot.

    ``read_local`` reads this machine's host metrics (psutil, blocking: the screens call it
    in a worker); None leaves this machine out. ``poll_s``: seconds between the workers'
    polls (psutil, Prometheus range queries).
    """

    config: Config = field(default_factory=Config)
    read_local: Callable[[], HostMetrics] | None = read_this_machine
    poll_s: float = 15.0


def demo_judging(
    snapshot: FleetSnapshot, read_local: Callable[[], HostMetrics] | None = read_this_machine
) -> Judging:
    """`Judging` for a simulated fleet seen only through its snapshot (tests, screenshots)."""
    config = Config(
        environment=snapshot.environment,
        slo_tier=snapshot.slo_tier,
        backends=tuple(BackendConfig(b.name, b.pool, "", b.model) for b in snapshot.backends),
    )
    pool_models = ((b.pool, b.model) for b in snapshot.backends)
    return Judging(demo_extras(config, pool_models), read_local=read_local)
