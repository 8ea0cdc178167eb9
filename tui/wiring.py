"""Wiring: config → sources → hub → app (or → one collected snapshot).

The command line (`tui.commands`) parses arguments and calls these; nothing here parses
arguments, so tests, benchmarks and the screenshots build the same engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from tui.config import (
    BackendConfig,
    Config,
    ScrapeConfig,
    SourcesConfig,
    TrafficConfig,
    check_theme,
)
from tui.hub import Hub
from tui.model import FleetSnapshot
from tui.sources.base import Source
from tui.sources.scrape import ScrapeSource, ScrapeTarget

if TYPE_CHECKING:  # the simulator (and aiohttp) is imported only when a demo needs it,
    # the container engine's client only when the config names one
    from tui.incidents.tracker import TrackerThread
    from tui.ops.context import Operations
    from tui.ops.traffic.weights import Router
    from tui.recording.recorder import RecorderThread
    from tui.sim.config import SimConfig
    from tui.sources.alertmanager import AlertmanagerSource
    from tui.sources.docker import DockerSource


class StartError(Exception):
    """Something the command needs could not start (a port in use, ...)."""


def sources_for(config: Config, control_url: str | None = None) -> list[Source]:
    """The sources a config asks for, in the order their figures are merged."""
    sources: list[Source] = []
    if config.backends or config.scrape.gpu_exporters:
        targets = [
            ScrapeTarget(b.name, b.pool, b.url, b.model, b.credentials, b.engine)
            for b in config.backends
        ]
        sources.append(
            ScrapeSource(
                targets,
                config.scrape.gpu_exporters,
                interval=config.scrape.interval_s,
                window_s=config.scrape.window_s,
                timeout_s=config.scrape.timeout_s,
                more_targets=_replicas(config),
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
                models={b.name: b.model for b in config.backends if b.model},
            )
        )
    alertmanager = alertmanager_source(config)
    if alertmanager is not None:
        sources.append(alertmanager)
    docker = docker_source(config)
    if docker is not None:
        sources.append(docker)
    if (nvml := config.sources.nvml) is not None and nvml.enabled:
        from tui.sources.nvml import NvmlSource

        resolver = docker.container_name if docker is not None else None
        sources.append(NvmlSource(interval=nvml.interval_s, container_resolver=resolver))
    if control_url:  # the demo's simulator (its client, httpx, only then)
        from tui.sources.simctl import SimControlSource

        sources.append(SimControlSource(control_url, interval=config.scrape.interval_s))
    return sources


def alertmanager_source(config: Config) -> AlertmanagerSource | None:
    """The Alertmanager source, when the config names one (dashboard and ``alerts`` share it)."""
    if (am := config.sources.alertmanager) is None:
        return None
    from tui.sources.alertmanager import AlertmanagerSource

    return AlertmanagerSource(
        am.url,
        interval=am.interval_s,
        timeout_s=am.timeout_s,
        token_env=am.token_env,
        token_file=am.token_file,
        basic_auth_env=am.basic_auth_env,
        verify_tls=am.verify_tls,
        ca_file=am.ca_file,
    )


def _replicas(config: Config) -> Callable[[], list[ScrapeTarget]] | None:
    """The replicas a scale-out added behind nginx, as scrape targets (rows of their
    pool, ``blue-r1``), when the config has an nginx upstream they can join."""
    if config.traffic is None or config.traffic.nginx is None:
        return None
    from tui.ops.containers.replicas import replica_targets

    return replica_targets(config.traffic.nginx.upstream_file, config.backends)


def docker_source(config: Config) -> DockerSource | None:
    """The containers source, when the config names a container engine."""
    if (cfg := config.sources.docker) is None:
        return None
    from tui.sources.docker import DockerSource

    return DockerSource(
        cfg.url,
        interval=cfg.interval_s,
        compose_project=cfg.compose_project,
        name_patterns=cfg.name_patterns,
        log_lines=cfg.log_lines,
    )


def demo_config(
    description: Mapping[str, Any],
    *,
    refresh_s: float | None = None,
    tier: str | None = None,
    theme: str | None = None,
    read_only: bool = False,
) -> Config:
    """A config describing the simulated fleet that the demo started."""
    refresh = refresh_s or 1.0
    return Config(
        path=None,
        environment="demo",
        slo_tier=(tier or "standard").lower(),
        refresh_s=refresh,
        theme=check_theme(theme or "inferdeck-dark"),
        read_only=read_only,
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


def demo_help(control_url: str) -> str:
    """The help's lines about the simulator: where it listens and how to break it."""
    from tui.sim.fleet import FAULT_KINDS

    return (
        f"Demo control URL: {control_url}\n"
        f"Faults: inferdeck sim fault BACKEND KIND [--value X] --control {control_url}\n"
        f"  KIND: {', '.join(FAULT_KINDS)}  (e.g. blue-0 crash, then blue-0 clear)"
    )


def run_app(
    config: Config,
    control_url: str | None,
    subtitle: str,
    **options: Any,
) -> int:
    """Open the dashboard on ``config`` until the operator quits; the app's return code.

    Switching context (`X`, the palette) ends the dashboard on one context and opens it
    again on the chosen one: its own sources, hub, actions and incident tracker.
    """
    from tui.config import context_of

    while True:
        code, switch_to = _run_once(config, control_url, subtitle, **options)
        if switch_to is None:
            return code
        config = context_of(config, switch_to)


def _run_once(
    config: Config,
    control_url: str | None,
    subtitle: str,
    *,
    read_only_flag: bool = False,
    debug: bool = False,
    immediate_alerts: bool = False,
    sandbox: bool = False,
    wall: bool = False,
) -> tuple[int, str | None]:
    """The dashboard on ``config`` until the operator quits (the app's return code) or
    picks another context (its name).

    ``sandbox`` (the demo) does not warn that the action lock and audit log are this
    user's own: a simulated fleet on one laptop has nobody to share them with.
    ``control_url`` is the simulator's (the demo); ``immediate_alerts`` raises the
    handbook's alerts without their ``for:`` waits (the demo, where nothing waits).
    ``wall`` opens the NOC wall: read-only whatever the config says, views from ``wall:``.
    """
    from tui.analysis.alert_rules import RULES, immediate
    from tui.ops.alerts.local_acks import local_alerting

    sources = sources_for(config, control_url)
    router: Router | None = None
    if config.traffic is not None:
        from tui.ops.traffic.factory import router_from_config
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
    # The first collection (network round trips, parsing) runs in the hub's thread while
    # Textual and the screens load here: the first frame has data. The flight recorder
    # (every snapshot shown) and the incident tracker start just after it.
    later = AfterFirstFrame(config, hub)
    hub.start()
    try:
        return _open_app(
            config,
            hub,
            router,
            subtitle,
            read_only_flag,
            debug,
            sandbox,
            control_url,
            wall,
            later,
        )
    finally:
        hub.stop()
        later.stop()


class AfterFirstFrame:
    """The dashboard's helpers that its first frame does without, started just after it:
    the flight recorder and the incident tracker (their modules are ~25 ms of a
    half-second start).

    Their config sections are checked here, before anything starts (a bad one is a
    `ConfigError`), and the hub's snapshots are held for them from now on
    (`tui.subscriber.Backlog`): neither misses one published before it started.
    """

    def __init__(self, config: Config, hub: Hub) -> None:
        from tui.incidents.config import incidents_config
        from tui.recording.config import recording_config
        from tui.subscriber import Backlog

        incidents_config(config)
        self._config, self._hub = config, hub
        self._for_recorder = Backlog() if recording_config(config).enabled else None
        self._for_tracker = Backlog()
        if self._for_recorder is not None:
            hub.subscribe(self._for_recorder)
        hub.subscribe(self._for_tracker)
        self.recorder: RecorderThread | None = None  # once started
        self.tracker: TrackerThread | None = None  # once started
        self._started = False

    def start(self) -> list[str]:
        """Start them (once); what could not start, one line each (the dashboard goes on
        without it: an incidents database that cannot be opened must not take the fleet
        off the screen)."""
        if self._started:
            return []
        self._started = True
        from tui.ops.incidents import start_tracker

        trouble = self._start_recorder()
        try:
            self.tracker = start_tracker(self._config, self._for_tracker)
        except Exception as exc:
            trouble.append(f"incident tracking not started: {type(exc).__name__}: {exc}")
        return trouble

    def _start_recorder(self) -> list[str]:
        if self._for_recorder is None:
            return []
        from tui.recording.recorder import start_recorder

        try:
            self.recorder = start_recorder(self._config, self._hub, held=self._for_recorder)
        except Exception as exc:
            return [f"flight recorder not started: {type(exc).__name__}: {exc}"]
        return []

    def stop(self) -> None:
        """Stop them; the recorder writes what it was handed first. A dashboard that ended
        before they started (closed within moments of its first frame) still records
        what the hub published: the recorder starts now, to write it."""
        if not self._started:
            self._started = True
            self._start_recorder()
        if self.tracker is not None:
            self.tracker.stop()
        if self.recorder is not None:
            self.recorder.stop()


def _open_app(
    config: Config,
    hub: Hub,
    router: Router | None,
    subtitle: str,
    read_only_flag: bool,
    debug: bool,
    sandbox: bool,
    control_url: str | None,
    wall: bool = False,
    later: AfterFirstFrame | None = None,
) -> tuple[int, str | None]:
    """Build the app on a started hub and run it until the operator quits (its return
    code) or picks another context (its name)."""
    from tui.app import InferdeckApp, LaterOperations, validate_keys  # Textual when shown
    from tui.config import read_only_reason
    from tui.judging import Judging

    validate_keys(config)
    docker: DockerSource | None = None
    if config.sources.docker is not None:
        from tui.sources.docker import DockerSource

        docker = next((s for s in hub.sources if isinstance(s, DockerSource)), None)
    read_only = read_only_flag or wall

    def make_ops() -> Operations:
        from tui.ops.build import operations_for

        ops = operations_for(
            config, read_only_flag=read_only, docker=docker, latest=lambda: hub.latest,
            router=router,
        )  # fmt: skip
        if sandbox:  # the demo: nobody to share the lock and audit log with
            ops.executor.note = None
        return ops

    app = InferdeckApp(
        hub,
        start_hub=False,
        theme=config.theme,
        keymap=config.keys,
        subtitle=subtitle,
        debug=debug,
        log_reader=docker.logs if docker is not None else None,
        ops=LaterOperations(read_only_reason(config, read_only), make_ops),
        judging=Judging(config),
        control_help=demo_help(control_url) if control_url else "",
        production=config.production,
        context=config.context,
        contexts=tuple(config.contexts),
        wall=config.wall if wall else None,
        after_first_frame=later,
    )
    try:
        app.run()
    finally:
        made = app.made_ops  # none made (a quit before the first frame): none to close
        if made is not None and made.incidents is not None:
            made.incidents.close()  # the Incidents screen's own connection
        if made is not None and made.autopilot is not None:
            made.autopilot.close()  # its container engine events stream
    return app.return_code or 0, app.return_value


def run_replay_app(
    recording: Any,
    index: int,
    config: Config | None,
    *,
    speed: float | None = None,
    span: tuple[float, float] | None = None,
    theme: str | None = None,
    debug: bool = False,
) -> int:
    """Open the dashboard on a `tui.recording.reader.Recording` at frame ``index``, paused
    (playing at ``speed`` when given); the app's return code. Nothing can act from it."""
    from tui.app import InferdeckApp
    from tui.judging import Judging
    from tui.recording.replay import ReplayHub

    hub = ReplayHub(recording, index, speed=speed or 1.0)
    if speed:
        hub.play()
    app = InferdeckApp(
        hub,
        theme=check_theme(theme or (config.theme if config else "inferdeck-dark")),
        clock=hub.clock,
        keymap=config.keys if config else None,
        subtitle=f"replay of {recording.segments[0].path.name}: nothing can act",
        debug=debug,
        judging=Judging(config or Config(), read_local=None),  # not this machine now
        replay=hub,
        replay_span=span,
    )
    try:
        app.run()
    finally:
        hub.stop()
    return app.return_code or 0


def _start_recorder(config: Config, hub: Hub) -> Any:
    """Record what ``hub`` publishes (`tui.recording`); None when the config turns it off."""
    from tui.recording.recorder import start_recorder

    return start_recorder(config, hub)


def collect(
    config: Config, control_url: str | None = None, interval_s: float = 2.0
) -> FleetSnapshot:
    """One snapshot from two polls ``interval_s`` apart (rates need two), sources closed."""
    hub = Hub(
        sources_for(config, control_url), environment=config.environment, slo_tier=config.slo_tier
    )

    async def twice() -> FleetSnapshot:
        await hub.poll_once()
        await asyncio.sleep(max(interval_s, 0.1))
        snapshot = await hub.poll_once()
        for slot_source in hub.sources:
            await slot_source.aclose()
        return snapshot

    return asyncio.run(twice())


def poll_once(sources: list[Source], config: Config) -> FleetSnapshot:
    """One poll of ``sources`` as a snapshot, sources closed (for one-shot commands)."""
    hub = Hub(sources, environment=config.environment, slo_tier=config.slo_tier)

    async def once() -> FleetSnapshot:
        snapshot = await hub.poll_once()
        for source in hub.sources:
            await source.aclose()
        return snapshot

    return asyncio.run(once())
