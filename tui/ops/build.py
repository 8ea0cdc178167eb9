"""Build the TUI's `Operations` from the config: what it may do, and through what."""

from __future__ import annotations

import argparse

from tui.config import Config
from tui.ops.alerts_cli import ack_factories
from tui.ops.cli_support import executor_for
from tui.ops.containers import container_action_factory
from tui.ops.context import Operations
from tui.ops.runbooks import Runbooks
from tui.sources.docker import DockerSource


def operations_for(
    config: Config, args: argparse.Namespace, docker: DockerSource | None = None
) -> Operations:
    """The executor and every action factory the config makes possible."""
    executor = executor_for(config, args)
    ack, unack = ack_factories(config, executor.actor)
    ops = Operations(
        executor=executor,
        ack=ack,
        unack=unack,
        container=container_action_factory(docker) if docker is not None else None,
        pools=tuple(dict.fromkeys(b.pool for b in config.backends)),
    )
    if config.traffic is not None:
        ops.stable_pool = config.traffic.stable_pool
        ops.canary_pool = config.traffic.canary_pool
    ops.runbooks = Runbooks.from_config(config, executor, ops=ops)
    return ops
