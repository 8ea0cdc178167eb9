"""Container and traffic actions for runbook steps, built from the config (the CLI's way).

The TUI passes its own `tui.ops.context.Operations` (it already holds the docker source
and the router); the CLI uses `ops_from_config`. Either way a step calls the real
actions — ``tui.ops.containers.actions`` (``container_action``) and ``tui.ops.traffic.weights``
(`SetWeights`, `Rollback`) — which are imported only when a step needs one, so a
runbook of plain commands never loads the docker SDK or a router.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tui.config import Config
from tui.ops.executor import Action


@dataclass
class ConfigStepOps:
    """`tui.ops.runbooks.steps.StepOps` from a config: None where the config has no such thing."""

    container: Callable[[str, str], Action] | None = None
    set_weights: Callable[[Mapping[str, float]], Action] | None = None
    rollback: Callable[[], Action] | None = None


def ops_from_config(config: Config | None) -> ConfigStepOps:
    """Factories for the container actions (``sources.docker``) and traffic ones (``traffic``)."""
    ops = ConfigStepOps()
    if config is None:
        return ops
    cache: dict[str, Any] = {}
    docker = config.sources.docker
    if docker is not None:

        def container(verb: str, name: str) -> Action:
            from tui.ops.containers.actions import container_action
            from tui.sources.docker import DockerSource

            if "docker" not in cache:
                cache["docker"] = DockerSource(
                    docker.url,
                    interval=docker.interval_s,
                    compose_project=docker.compose_project,
                    name_patterns=docker.name_patterns,
                    log_lines=docker.log_lines,
                )
            action: Action = container_action(cache["docker"], verb, name)
            return action

        ops.container = container
    traffic = config.traffic
    if traffic is not None:

        def router() -> Any:
            from tui.ops.traffic.factory import router_from_config

            if "router" not in cache:
                cache["router"] = router_from_config(traffic)
            return cache["router"]

        def set_weights(weights: Mapping[str, float]) -> Action:
            from tui.ops.traffic.weights import SetWeights

            return SetWeights(router(), dict(weights))

        def rollback() -> Action:
            from tui.ops.traffic.weights import Rollback

            return Rollback(router(), traffic.stable_pool)

        ops.set_weights, ops.rollback = set_weights, rollback
    return ops
