"""Scaling a pool out and in: the `Scaler` interface and its containers implementation.

`ContainerScaler` copies a pool's container (its *template*: image, command,
environment, labels, mounts, network) through the Docker API (Docker's or podman's
socket) into a new replica listening on a free port, waits until the replica's
``/health`` answers, then adds it to the pool in nginx's upstream (recorded in
`tui.ops.containers.replicas`, rendered and reloaded by the nginx router, so ``nginx -t``
guards it and the old file comes back on failure). Scaling in takes the newest replica
out of nginx first, then stops and removes its container.

The replica's port: the template's command holds it as the value of ``port_arg``
(``--port 8000`` for vLLM; ``--port-base B`` for the lab's simulator, which listens on
B+1: ``port_offset: 1``); the replica gets the same command with a free port there.
A Kubernetes scaler (a Deployment's replicas, a Gateway API route's weights) fits the
same interface; the README describes it.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tui.ops.containers.pools import POOL_LABEL
from tui.ops.containers.replicas import backend_name, read_replicas, write_replicas
from tui.ops.executor import Progress

REPLICA_OF = "io.inferdeck.replica-of"
"""The label on a replica naming the container it was copied from."""


class ScaleError(Exception):
    """A scale-out or scale-in that could not be done (one line: what and why)."""


@dataclass(frozen=True, slots=True)
class Replica:
    """One running copy of a pool's server."""

    name: str
    pool: str
    server: str  # host:port, as nginx's upstream lists it
    backend: str = ""  # the backend it is shown as on the dashboard (``blue-r1``)


class Scaler(Protocol):
    """Adds or removes a pool's serving replicas, and routes traffic to them."""

    kind: str

    def replicas(self, pool: str) -> list[Replica]:
        """The replicas a scale-out added to ``pool`` (not the configured servers)."""
        ...

    def count(self, pool: str) -> int:
        """How many servers ``pool`` has now, the configured ones included."""
        ...

    def scale_out(self, pool: str, progress: Progress) -> Replica:
        """Start one more replica of ``pool`` and route to it; `ScaleError` otherwise."""
        ...

    def scale_in(self, pool: str, progress: Progress) -> Replica | None:
        """Stop the newest added replica of ``pool`` (None when it has none)."""
        ...


class Router(Protocol):
    """What the scaler needs of the nginx router."""

    path: Any
    config: Any

    def current(self) -> dict[str, float]: ...

    def apply(self, weights: Mapping[str, float], progress: Progress | None = None) -> Any: ...


def free_port(offsets: Sequence[int] = (0,), attempts: int = 100) -> int:
    """A port P with P+offset free on loopback for every offset."""
    for _ in range(attempts):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + max(offsets) > 65535:
            continue
        if all(_free(base + o) for o in offsets):
            return base
    raise ScaleError("found no free port for a replica")


def _binds(binds: Sequence[str]) -> dict[str, dict[str, str]]:
    """A container's ``HostConfig.Binds`` (``src:dst:ro,rprivate,rbind``) as the Docker
    SDK's ``volumes`` mapping (what podman takes back without a duplicate mount)."""
    out: dict[str, dict[str, str]] = {}
    for bind in binds:
        parts = bind.split(":")
        if len(parts) < 2:
            continue
        options = parts[2].split(",") if len(parts) > 2 else []
        out[parts[0]] = {"bind": parts[1], "mode": "ro" if "ro" in options else "rw"}
    return out


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class ContainerScaler:
    """Replicas as containers copied from the pool's own, behind nginx."""

    kind = "containers"

    def __init__(
        self,
        docker_url: str,
        router: Router,
        *,
        port_arg: str = "--port",
        port_offset: int = 0,
        host: str = "127.0.0.1",
        ready_timeout_s: float = 60.0,
        client_factory: Callable[[str], Any] | None = None,
    ) -> None:
        """``router``: the nginx router whose upstream the replicas join."""
        self.docker_url = docker_url
        self.router = router
        self.port_arg = port_arg
        self.port_offset = port_offset
        self.host = host
        self.ready_timeout_s = ready_timeout_s
        self._client_factory = client_factory

    def _client(self) -> Any:
        if self._client_factory is not None:
            return self._client_factory(self.docker_url)
        import docker

        return docker.DockerClient(base_url=self.docker_url, timeout=30)

    def replicas(self, pool: str) -> list[Replica]:
        """The replicas recorded for ``pool``, oldest first."""
        return [Replica(r["name"], pool, r["server"], backend_name(pool, r))
                for r in read_replicas(self.router.path).get(pool, [])]  # fmt: skip

    def count(self, pool: str) -> int:
        """Configured servers of ``pool`` plus its replicas."""
        return len(self.router.config.servers.get(pool, ())) + len(self.replicas(pool))

    def _template(self, client: Any, pool: str) -> Any:
        listed = client.containers.list(filters={"label": f"{POOL_LABEL}={pool}"})
        originals = [c for c in listed if REPLICA_OF not in (c.labels or {})]
        if not originals:
            raise ScaleError(f"no running container of pool {pool} to copy (label {POOL_LABEL})")
        return sorted(originals, key=lambda c: c.name)[0]

    def _command(self, cmd: Sequence[str], value: int) -> list[str]:
        args = list(cmd)
        if self.port_arg in args:
            at = args.index(self.port_arg)
            if at + 1 < len(args):
                args[at + 1] = str(value)
                return args
        for i, arg in enumerate(args):
            if arg.startswith(self.port_arg + "="):
                args[i] = f"{self.port_arg}={value}"
                return args
        raise ScaleError(f"the template's command has no {self.port_arg} to give a new port")

    def scale_out(self, pool: str, progress: Progress) -> Replica:
        """Copy the pool's container onto a free port, wait for health, add to nginx."""
        client = self._client()
        try:
            template = self._template(client, pool)
            attrs = template.attrs
            config, host_config = attrs.get("Config", {}), attrs.get("HostConfig", {})
            value = free_port((0, self.port_offset, 100))
            server = f"{self.host}:{value + self.port_offset}"
            taken = {c.name for c in client.containers.list(all=True)}
            index = 1
            while f"{template.name}-r{index}" in taken:
                index += 1
            name = f"{template.name}-r{index}"
            labels = {**(config.get("Labels") or {}), REPLICA_OF: template.name,
                      "io.inferdeck.backend": f"{pool}-r{index}"}  # fmt: skip
            progress(f"starting {name} from {template.name} ({server})")
            container = client.containers.run(
                config.get("Image") or template.image.id,
                self._command(config.get("Cmd") or [], value),
                detach=True, name=name, labels=labels,
                environment=config.get("Env") or [],
                working_dir=config.get("WorkingDir") or None,
                network_mode=host_config.get("NetworkMode") or None,
                volumes=_binds(host_config.get("Binds") or []) or None,
            )  # fmt: skip
        finally:
            with contextlib.suppress(Exception):
                client.close()
        replica = Replica(name, pool, server, f"{pool}-r{index}")
        if not self._ready(server):
            self._remove(name)
            raise ScaleError(f"{name} did not answer /health on {server} within "
                             f"{self.ready_timeout_s:g}s; removed it")  # fmt: skip
        progress(f"{name} healthy; adding {server} to pool {pool} in nginx")
        try:
            self._route(pool, add=replica, progress=progress)
        except Exception as exc:
            self._remove(name)
            raise ScaleError(f"nginx did not take {server}: {exc}; removed {name}") from None
        del container
        return replica

    def scale_in(self, pool: str, progress: Progress) -> Replica | None:
        """Take the newest replica out of nginx, then remove its container."""
        found = self.replicas(pool)
        if not found:
            return None
        replica = found[-1]
        progress(f"taking {replica.server} out of pool {pool} in nginx")
        self._route(pool, remove=replica, progress=progress)
        progress(f"removing {replica.name}")
        self._remove(replica.name)
        return replica

    def _ready(self, server: str) -> bool:
        import httpx  # loaded at the first request: the dashboard starts without it

        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{server}/health", timeout=1.0).status_code == 200:
                    return True
            time.sleep(0.2)
        return False

    def _route(
        self, pool: str, *, progress: Progress, add: Replica | None = None,
        remove: Replica | None = None,
    ) -> None:  # fmt: skip
        path = self.router.path
        before = read_replicas(path)
        after = {p: list(entries) for p, entries in before.items()}
        if add is not None:
            after.setdefault(pool, []).append({"name": add.name, "server": add.server,
                                               "backend": add.backend or add.name})  # fmt: skip
        if remove is not None:
            after[pool] = [r for r in after.get(pool, []) if r["name"] != remove.name]
        write_replicas(path, after)
        try:
            self.router.apply(self.router.current(), progress)
        except Exception:
            write_replicas(path, before)
            raise

    def _remove(self, name: str) -> None:
        client = self._client()
        try:
            with contextlib.suppress(Exception):
                client.api.remove_container(name, force=True, v=True)
        finally:
            with contextlib.suppress(Exception):
                client.close()
