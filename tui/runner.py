"""Wiring: config → sources → hub → app (or → printed snapshot). Used by the CLI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import enum
import json
import sys
import time
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tui.config import (
    BackendConfig,
    Config,
    ConfigError,
    ScrapeConfig,
    SourcesConfig,
    TrafficConfig,
    check_theme,
    find_config,
    load_config,
)
from tui.hub import Hub
from tui.model import FleetSnapshot
from tui.sources.base import Source
from tui.sources.docker import DockerSource
from tui.sources.scrape import ScrapeSource, ScrapeTarget
from tui.sources.simctl import SimControlSource
from widgets.format import safe

if TYPE_CHECKING:  # the simulator (and aiohttp) is imported only when a demo needs it
    from tui.sim.config import SimConfig


class StartError(Exception):
    """Something the command needs could not start (a port in use, ...)."""


def sources_for(config: Config, control_url: str | None = None) -> list[Source]:
    """The sources a config asks for, in the order their figures are merged."""
    sources: list[Source] = []
    if config.backends or config.scrape.gpu_exporters:
        targets = [
            ScrapeTarget(b.name, b.pool, b.url, b.model, b.credentials) for b in config.backends
        ]
        sources.append(
            ScrapeSource(
                targets,
                config.scrape.gpu_exporters,
                interval=config.scrape.interval_s,
                window_s=config.scrape.window_s,
                timeout_s=config.scrape.timeout_s,
            )
        )
    if (prom := config.sources.prometheus) is not None:
        from tui.sources.prometheus import PrometheusSource

        sources.append(
            PrometheusSource(
                prom.url,
                interval=prom.interval_s,
                pool_label=prom.pool_label,
                name_label=prom.name_label,
                window=prom.window,
                timeout_s=prom.timeout_s,
                token_env=prom.token_env,
                token_file=prom.token_file,
                basic_auth_env=prom.basic_auth_env,
                verify_tls=prom.verify_tls,
                ca_file=prom.ca_file,
            )
        )
    if (am := config.sources.alertmanager) is not None:
        from tui.sources.alertmanager import AlertmanagerSource

        sources.append(
            AlertmanagerSource(
                am.url,
                interval=am.interval_s,
                timeout_s=am.timeout_s,
                token_env=am.token_env,
                token_file=am.token_file,
                basic_auth_env=am.basic_auth_env,
                verify_tls=am.verify_tls,
                ca_file=am.ca_file,
            )
        )
    docker = docker_source(config)
    if docker is not None:
        sources.append(docker)
    if (nvml := config.sources.nvml) is not None and nvml.enabled:
        from tui.sources.nvml import NvmlSource

        resolver = docker.container_name if docker is not None else None
        sources.append(NvmlSource(interval=nvml.interval_s, container_resolver=resolver))
    if control_url:
        sources.append(SimControlSource(control_url, interval=config.scrape.interval_s))
    return sources


def docker_source(config: Config) -> DockerSource | None:
    """The containers source, when the config names a container engine."""
    if (cfg := config.sources.docker) is None:
        return None
    return DockerSource(
        cfg.url,
        interval=cfg.interval_s,
        compose_project=cfg.compose_project,
        name_patterns=cfg.name_patterns,
        log_lines=cfg.log_lines,
    )


def demo_config(description: Mapping[str, Any], args: argparse.Namespace) -> Config:
    """A config describing the simulated fleet that the demo started."""
    refresh = getattr(args, "refresh", None) or 1.0
    return Config(
        path=None,
        environment="demo",
        slo_tier=(getattr(args, "tier", None) or "standard").lower(),
        refresh_s=refresh,
        theme=check_theme(getattr(args, "theme", None) or "inferdeck-dark"),
        read_only=bool(getattr(args, "read_only", False)),
        traffic=TrafficConfig(router="sim", sim_control=description["control"]),
        backends=tuple(
            BackendConfig(name=b["name"], pool=b["pool"], url=b["url"], model=b.get("model", ""))
            for b in description["backends"]
        ),
        sources=SourcesConfig(
            scrape=ScrapeConfig(
                interval_s=refresh,
                window_s=60.0,
                timeout_s=2.0,
                gpu_exporters=(description["gpu_exporter"],),
            )
        ),
    )


@contextlib.contextmanager
def simulated_fleet(sim_config: SimConfig) -> Iterator[dict[str, Any]]:
    """Start the simulated fleet in this process; stop every server on the way out.

    The default ports are used when free (so ``inferdeck sim fault`` works without
    ``--control``); otherwise free ports are picked.
    """
    from tui.sim.server import PortInUse, SimRuntime

    runtime = SimRuntime(sim_config)
    try:
        description = runtime.start()
    except PortInUse:
        runtime = SimRuntime(dataclasses.replace(sim_config, port_base=0))
        description = runtime.start()
    try:
        yield description
    finally:
        runtime.stop()


def _sim_config(args: argparse.Namespace) -> SimConfig:
    from tui.sim.config import SimConfig, parse_pools

    try:
        pools = parse_pools(getattr(args, "pools", "blue=2,green=1"))
    except ValueError as exc:
        raise StartError(str(exc)) from None
    return SimConfig(
        pools=pools,
        gpus=getattr(args, "gpus", 4),
        seed=getattr(args, "seed", 7),
        rps=getattr(args, "rps", 20.0),
        port_base=getattr(args, "port_base", 18000),
    )


def _load(args: argparse.Namespace) -> Config:
    path = find_config(getattr(args, "config", None))
    if path is None:
        raise ConfigError(
            "no config found: pass -c FILE, set $INFERDECK_CONFIG, or try `inferdeck demo`"
        )
    config = load_config(path)
    if getattr(args, "refresh", None):
        config = dataclasses.replace(config, refresh_s=args.refresh)
    if getattr(args, "theme", None):
        config = dataclasses.replace(config, theme=check_theme(args.theme))
    s = config.sources
    if not (config.backends or s.prometheus or s.alertmanager or s.docker or s.nvml):
        raise ConfigError(f"{path}:1: nothing to watch: configure backends or a source")
    return config


def _run_app(
    config: Config,
    control_url: str | None,
    subtitle: str,
    args: argparse.Namespace,
    *,
    immediate_alerts: bool = False,
) -> int:
    from tui.analysis.local_alerts import RULES, immediate
    from tui.app import InferdeckApp, validate_keys  # Textual only when a screen is wanted
    from tui.ops.build import operations_for
    from tui.ops.local_alerts import local_alerting

    validate_keys(config)
    sources = sources_for(config, control_url)
    router = None
    if config.traffic is not None:
        from tui.ops.traffic import router_from_config
        from tui.sources.router import RouterSource

        router = router_from_config(config.traffic)
        if config.traffic.router == "nginx":  # the sim's split comes with its control source
            sources.append(RouterSource(router.current))
    hub = Hub(
        sources,
        environment=config.environment,
        slo_tier=config.slo_tier,
        refresh_s=config.refresh_s,
        history_points=config.history_points,
        # the demo raises its alerts at once; elsewhere the handbook's `for:` waits apply
        alerts_hook=local_alerting(config, rules=immediate() if immediate_alerts else RULES),
    )
    docker = next((s for s in sources if isinstance(s, DockerSource)), None)
    app = InferdeckApp(
        hub,
        start_hub=False,
        theme=config.theme,
        keymap=config.keys,
        subtitle=subtitle,
        debug=getattr(args, "debug", False),
        log_reader=docker.logs if docker is not None else None,
        ops=operations_for(config, args, docker, latest=lambda: hub.latest, router=router),
    )
    hub.start()  # collection starts while Textual is still starting up
    try:
        app.run()
    finally:
        hub.stop()
    return app.return_code or 0


def run_demo(args: argparse.Namespace) -> int:
    """`inferdeck demo`: start the simulated fleet in-process and open the overview on it."""
    with simulated_fleet(_sim_config(args)) as description:
        config = demo_config(description, args)
        return _run_app(
            config,
            description["control"],
            f"demo · control {description['control']}",
            args,
            immediate_alerts=True,
        )


def run_dashboard(args: argparse.Namespace) -> int:
    """`inferdeck [-c FILE]`: the dashboard on a real stack."""
    config = _load(args)
    return _run_app(config, None, "", args)


def run_snapshot(args: argparse.Namespace) -> int:
    """`inferdeck snapshot`: two scrapes ``--interval`` apart (rates need two), printed."""
    if getattr(args, "demo", False):
        with simulated_fleet(_sim_config(args)) as description:
            time.sleep(2.0)  # let the load generator finish some requests
            snapshot = _collect(demo_config(description, args), description["control"], args)
    else:
        snapshot = _collect(_load(args), None, args)
    if getattr(args, "json", False):
        print(json.dumps(to_jsonable(snapshot), indent=2, sort_keys=True))
    else:
        print(describe(snapshot))
    return 0


def _collect(config: Config, control_url: str | None, args: argparse.Namespace) -> FleetSnapshot:
    hub = Hub(
        sources_for(config, control_url), environment=config.environment, slo_tier=config.slo_tier
    )

    async def twice() -> FleetSnapshot:
        await hub.poll_once()
        await asyncio.sleep(max(getattr(args, "interval", 2.0), 0.1))
        snapshot = await hub.poll_once()
        for slot_source in hub.sources:
            await slot_source.aclose()
        return snapshot

    return asyncio.run(twice())


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums and read-only mappings as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping | MappingProxyType):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def describe(snapshot: FleetSnapshot) -> str:
    """A short human summary of a snapshot, for the terminal."""
    lines = [f"{snapshot.environment}: {snapshot.overall.value}"]
    lines += [f"  {r}" for r in snapshot.overall_reasons]
    for b in snapshot.backends:
        p95 = f"{b.ttft.p95:.3f}s" if b.ttft.p95 is not None else "-"
        lines.append(f"  {b.name:<12} {b.pool:<8} {b.health.value:<8} ttft_p95={p95} {b.reason}")
    for g in snapshot.gpus:
        lines.append(f"  gpu {g.key}: util={g.util_pct}% temp={g.temp_c}C")
    for s in snapshot.sources:
        lines.append(f"  source {s.name}: {s.state.value} {s.message}")
    return "\n".join(lines)


def run_alerts(args: argparse.Namespace) -> int:
    """`inferdeck alerts [--json]`: the firing alerts, most severe first, from one poll."""
    config = _load(args)
    wanted = dataclasses.replace(
        config,
        backends=(),
        sources=SourcesConfig(
            prometheus=config.sources.prometheus, alertmanager=config.sources.alertmanager
        ),
    )
    sources = sources_for(wanted)
    if not sources:
        raise ConfigError(f"{config.path}:1: no alert source: configure sources.alertmanager")
    if config.sources.alertmanager is not None:  # Alertmanager knows silences: it alone speaks
        sources = [s for s in sources if s.name == "alertmanager"]
    hub = Hub(sources, environment=config.environment, slo_tier=config.slo_tier)

    async def once() -> FleetSnapshot:
        snapshot = await hub.poll_once()
        for source in hub.sources:
            await source.aclose()
        return snapshot

    snapshot = asyncio.run(once())
    failed = [s for s in snapshot.sources if s.state.value in ("error", "unavailable")]
    for status in failed:
        print(f"inferdeck: error: {status.name}: {status.message}", file=sys.stderr)
    alerts = sorted(
        snapshot.alerts, key=lambda a: (SEVERITY_RANK.get(a.severity.value, 3), -a.starts_at)
    )
    if getattr(args, "json", False):
        print(json.dumps([to_jsonable(a) for a in alerts], indent=2, sort_keys=True))
    else:
        for a in alerts:
            ack = f" (ack {a.acknowledged_by})" if a.acknowledged_by else ""
            labels = " ".join(f"{k}={v!r}" for k, v in sorted(a.labels.items()) if k != "alertname")
            print(safe(f"{a.severity.value:<8} {a.name} {labels}{ack}"))  # no raw escapes
        if not alerts:
            print("no alerts firing")
    return 1 if failed else 0


SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
"""Sort order of severities: the worst first."""
