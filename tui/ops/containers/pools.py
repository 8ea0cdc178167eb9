"""A pool's containers: finding them by label or compose service, and stopping them."""

from __future__ import annotations

from collections.abc import Callable

from tui.sources.docker import DockerSource

POOL_LABEL = "io.inferdeck.pool"
"""A container label naming the pool its backend belongs to (set by `inferdeck lab`)."""


def stop_pool_containers(docker: DockerSource, pool: str) -> Callable[[], str]:
    """Stops the containers of ``pool`` (by `POOL_LABEL`, or a compose service ending in
    the pool's name, such as ``vllm-green``); says which."""

    def stop() -> str:
        names = [
            c.name
            for c in docker.list_containers_sync()
            if c.labels.get(POOL_LABEL) == pool or (c.service or "").endswith(pool)
        ]
        for name in names:
            docker.stop(name, timeout=10)
        return f"stopped {', '.join(names)}" if names else f"no container of pool {pool} found"

    return stop
