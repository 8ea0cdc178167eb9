"""``inferdeck containers [list | restart NAME | stop NAME | start NAME]``.

Needs ``sources.docker`` in the config (Docker's or podman's socket, and which containers
form the stack). Actions run through the executor: read-only refuses, stop and restart ask
for the container's name to be typed (unless ``--yes``), everything is audited.
Exit codes: 0 done, 1 failed/refused/cancelled, 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime

from tui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    error,
    execute,
    executor_for,
    guarded,
    load,
    terminal_safe,
)
from tui.config import Config, ConfigError
from tui.model import Container
from tui.ops.containers.actions import VERBS, container_action
from tui.sources.docker import DockerError, DockerSource

__all__ = ["add_containers_arguments", "run_containers"]


def add_containers_arguments(parser: argparse.ArgumentParser) -> None:
    """``[list | restart NAME | stop NAME | start NAME]`` (common flags come from the CLI)."""
    parser.add_argument(
        "verb",
        nargs="?",
        default="list",
        choices=("list", *VERBS),
        help="list the stack's containers (default), or act on one",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="the container to act on")


def _source(args: argparse.Namespace) -> tuple[Config, DockerSource]:
    config = load(args, required=True)
    assert config is not None
    cfg = config.sources.docker
    if cfg is None:
        raise ConfigError(f"{config.path}:1: no container engine: configure sources.docker")
    return config, DockerSource(
        cfg.url,
        interval=cfg.interval_s,
        compose_project=cfg.compose_project,
        name_patterns=cfg.name_patterns,
        log_lines=cfg.log_lines,
    )


def _since(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _as_json(c: Container) -> dict[str, object]:
    return {
        "name": c.name,
        "id": c.id,
        "image": c.image,
        "state": c.state,
        "health": c.health,
        "restart_count": c.restart_count,
        "started_at": c.started_at,
        "exit_code": c.exit_code,
        "service": c.service,
        "project": c.project,
    }


def _list(source: DockerSource, args: argparse.Namespace) -> int:
    containers = source.list_containers_sync()
    if getattr(args, "json", False):
        print(json.dumps([_as_json(c) for c in containers], indent=2, sort_keys=True))
        return EXIT_OK
    if not containers:
        print("no containers in the stack")
    for c in containers:
        state = c.state + (f" ({c.health})" if c.health else "")
        if c.state == "exited" and c.exit_code is not None:
            state += f" [{c.exit_code}]"
        line = (
            f"{c.name:<24} {state:<20} {c.image:<28} started {_since(c.started_at)}"
            f"  restarts {c.restart_count}  service {c.service or '-'}"
        )
        print(terminal_safe(line))
    return EXIT_OK


@guarded
def run_containers(args: argparse.Namespace) -> int:
    """List the stack's containers, or restart/stop/start one through the executor."""
    verb = getattr(args, "verb", None) or "list"
    name = getattr(args, "name", None)
    if verb == "list" and name:
        raise ValueError("containers list takes no NAME")
    config, source = _source(args)
    try:
        if verb == "list":
            return _list(source, args)
        if not name:
            raise ValueError(f"containers {verb} needs the container's NAME")
        listed = {c.name: c for c in source.list_containers_sync()}
        executor = executor_for(config, args)
        return execute(executor, container_action(source, verb, name, listed.get(name)), args)
    except DockerError as exc:
        error(str(exc))
        return EXIT_FAILED
    finally:
        asyncio.run(source.aclose())
