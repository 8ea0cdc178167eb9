"""Build the TUI's `Operations` from the config: what it may do, and through what."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui.config import Config
from tui.model import FleetSnapshot, Pool
from tui.ops.alerts.factories import ack_factories
from tui.ops.context import Operations
from tui.ops.executor import Action, Executor, executor_for
from tui.ops.incidents.desk import IncidentDesk
from tui.ops.traffic.factory import router_from_config
from tui.ops.traffic.rollout import Rollout, SloGate
from tui.ops.traffic.weights import Rollback, Router, SetWeights

if TYPE_CHECKING:  # the container engine's client loads only when a config names one
    from tui.ops.autopilot.pilot import Pilot
    from tui.sources.docker import DockerSource


def operations_for(
    config: Config,
    *,
    read_only_flag: bool = False,
    docker: DockerSource | None = None,
    latest: Callable[[], FleetSnapshot | None] | None = None,
    router: Router | None = None,
) -> Operations:
    """The executor and every action factory the config makes possible.

    ``read_only_flag`` is ``--read-only``; ``latest`` gives the hub's newest snapshot (a
    rollout's gate reads the canary pool's figures from it); ``router`` is the traffic
    router, when the caller made one already.
    """
    executor = executor_for(config, read_only_flag=read_only_flag)
    ack, unack = ack_factories(config, executor.actor)
    ops = Operations(
        executor=executor,
        ack=ack,
        unack=unack,
        container=_container_actions(docker),
        pools=tuple(dict.fromkeys(b.pool for b in config.backends)),
        incidents=IncidentDesk(config, executor.actor),
    )
    if (traffic := config.traffic) is not None:
        ops.stable_pool, ops.canary_pool = traffic.stable_pool, traffic.canary_pool
        the_router = router or router_from_config(traffic)
        ops.set_weights = lambda weights: SetWeights(the_router, weights)
        ops.rollback = lambda: Rollback(the_router, traffic.stable_pool)
        if docker is not None:
            from tui.ops.containers.pools import stop_pool_containers

            stop = stop_pool_containers(docker, traffic.canary_pool)
            ops.rollback_and_stop = lambda: Rollback(
                the_router,
                traffic.stable_pool,
                stop_containers=stop,
                stop_label=f"stop the containers of pool {traffic.canary_pool}",
            )
        ops.current_weights = the_router.current

        def canary() -> Pool | None:
            snapshot = latest() if latest is not None else None
            pools = snapshot.pools if snapshot is not None else ()
            return next((p for p in pools if p.name == traffic.canary_pool), None)

        ops.rollout = lambda: Rollout(
            the_router,
            traffic.canary_pool,
            SloGate(canary, config.slo_tier),
            traffic.rollout_steps,
            traffic.rollout_hold_s,
            stable_pool=traffic.stable_pool,
        )

    def runbooks() -> Any:
        from tui.ops.runbooks.runner import Runbooks

        return Runbooks.from_config(config, executor, ops=ops)

    ops.runbook_library = runbooks
    ops.autopilot = _pilot(config, executor)
    return ops


def _pilot(config: Config, executor: Executor) -> Pilot | None:
    """The remediation rules' pilot, unless ``autopilot: off``; only the rules whose action
    the config makes possible (restart: a container engine; scaling: one and nginx;
    notify: a webhook), and none at all when no rule is left."""
    import dataclasses

    if config.autopilot is None and config.sources.docker is None:
        return None  # the shipped rules act through a container engine; none to act with
    from tui.ops.autopilot.config import autopilot_config
    from tui.ops.autopilot.pilot import (
        Pilot,
        actions_from_config,
        oom_watch_from_config,
        scaler_from_config,
    )

    settings = autopilot_config(config)
    try:
        scaler = scaler_from_config(config, settings)
    except ValueError:
        scaler = None
    able = {"restart": config.sources.docker is not None, "scale-out": scaler is not None,
            "scale-in": scaler is not None, "notify": bool(settings.notify)}  # fmt: skip
    rules = tuple(r for r in settings.rules if able[r.action])
    if settings.mode == "off" or not rules:
        return None
    settings = dataclasses.replace(settings, rules=rules)
    return Pilot(settings, executor, actions_from_config(config, settings, scaler),
                 servers_in=scaler.count if scaler is not None else None,
                 ooms=oom_watch_from_config(config, settings))  # fmt: skip


def _container_actions(docker: DockerSource | None) -> Callable[[str, str], Action] | None:
    """Restart/stop/start factories, when there is a container engine."""
    if docker is None:
        return None
    from tui.ops.containers.actions import container_action_factory

    return container_action_factory(docker)
