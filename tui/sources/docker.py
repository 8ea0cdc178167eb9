"""The docker source: the stack's containers through Docker's or podman's Docker API socket.

`DockerSource` finds the stack's containers by compose project label
(``com.docker.compose.project``) and/or name globs, and reports for each its state,
health, restart count, start time, image, exit code and compose service. The docker SDK
is blocking, so every call runs in a thread (``asyncio.to_thread``). The same code works
against ``/var/run/docker.sock`` and podman's ``podman system service`` socket (podman's
``stopped`` is reported as Docker's ``exited``).

Errors are one line, ``docker at URL: what went wrong`` (`DockerError`). An unreachable
engine — no socket file, connection refused, no answer within ``timeout_s`` — is an
*error*, not `SourceUnavailable`: the hub keeps polling an errored source, and a missing
socket is usually an engine not started *yet* (``lab up``, a daemon restarting). Only a
missing docker SDK makes the source unavailable.

Besides polling it offers logs on demand (`DockerSource.logs`, error lines flagged),
a PID → container resolver for the NVML source (`container_for_pid`, `container_name`),
and blocking container actions for the ops layer (`restart`, `stop`, `start`), which
refuse containers outside the configured stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tui.model import Collected, Container, LogLine
from tui.sources._docker_parse import (
    connection_problem,
    container_from_inspect,
    container_name,
    in_stack,
    log_lines,
    one_line,
)
from tui.sources.base import SourceUnavailable
from tui.sources.nvml import container_id_from_cgroup

__all__ = ["Container", "DockerError", "DockerSource", "LogLine"]

T = TypeVar("T")
DEFAULT_URL = "unix:///var/run/docker.sock"
REINSPECT_S = 30.0
"""A container whose listing did not change is inspected again after this many seconds."""
_MAX_PARENT_HOPS = 64


class DockerError(Exception):
    """The engine could not be reached or refused a request; the message is one line."""


class DockerSource:
    """The stack's containers (Docker or podman); implements the `Source` protocol."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        interval: float = 5.0,
        compose_project: str | None = None,
        name_patterns: Sequence[str] = (),
        log_lines: int = 200,
        name: str = "docker",
        timeout_s: float = 5.0,
        proc_root: str = "/proc",
    ) -> None:
        """Watch the engine at ``url``; the stack is ``compose_project`` and/or ``name_patterns``.

        A container belongs to the stack when its compose project label equals
        ``compose_project`` or its name matches one of the globs; with neither given,
        every container does. ``timeout_s`` bounds each request to the engine;
        ``proc_root`` is where ``PID/cgroup`` and ``PID/stat`` are read.
        """
        self.name = name
        self.interval = interval
        self.url = url
        self.compose_project = compose_project
        self.name_patterns = tuple(name_patterns)
        self.log_lines = log_lines
        self.timeout_s = timeout_s
        self._proc = Path(proc_root)
        self._client: Any = None
        self._lock = threading.Lock()
        self.latest: tuple[Container, ...] = ()
        """The containers found by the last successful listing, sorted by name."""
        self._pids: dict[int, str] = {}  # main process PID -> container name
        # container id -> (its listing's state and status, when inspected, the inspect)
        self._inspected: dict[str, tuple[tuple[object, object], float, dict[str, Any]]] = {}

    # -- the engine connection -----------------------------------------------------------

    def _fail(self, exc: BaseException) -> DockerError:
        problem = connection_problem(exc, self.timeout_s)
        if problem is None:
            explanation = getattr(exc, "explanation", None) or str(exc) or type(exc).__name__
            problem = one_line(str(explanation))
        return DockerError(f"docker at {self.url}: {problem}")

    def _docker(self) -> Any:
        """The shared SDK client, created (and the API version negotiated) on first use."""
        with self._lock:
            if self._client is not None:
                return self._client
            try:
                import docker
            except ImportError:
                raise SourceUnavailable("docker SDK not installed (pip install docker)") from None
            try:
                self._client = docker.DockerClient(
                    base_url=self.url, timeout=self.timeout_s, version="auto"
                )
            except Exception as exc:
                raise self._fail(exc) from None
            return self._client

    def _call(self, fn: Callable[[Any], T]) -> T:
        """``fn(api_client)`` with engine errors turned into one-line `DockerError`s."""
        client = self._docker()
        try:
            return fn(client.api)
        except DockerError:
            raise
        except Exception as exc:
            if connection_problem(exc, self.timeout_s) is not None:
                self._drop_client()
            raise self._fail(exc) from None

    def _drop_client(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def _inspect(self, ref: str) -> dict[str, Any]:
        """The engine's inspect answer for a container name or id."""
        attrs: dict[str, Any] = self._call(lambda api: api.inspect_container(ref))
        return attrs

    async def _in_thread(self, fn: Callable[[], T], requests: int = 1) -> T:
        """Run blocking ``fn`` in a thread, giving up after ``requests`` request timeouts."""
        budget = self.timeout_s * (requests + 1) + 1.0
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn), budget)
        except TimeoutError:
            raise DockerError(f"docker at {self.url}: no answer within {budget:g}s") from None

    # -- polling -------------------------------------------------------------------------

    async def collect(self) -> Collected:
        """List the stack's containers (`Collected.containers`).

        A poll inspects a container again only when its listing changed (state, status
        line: a restart, an exit, a health change show there) or after `REINSPECT_S`.
        """
        listed = await self._in_thread(lambda: self.list_containers_sync(reuse=True), requests=3)
        return Collected(containers=listed)

    async def list_containers(self) -> tuple[Container, ...]:
        """The stack's containers now, sorted by name; also kept in `latest`."""
        return await self._in_thread(self.list_containers_sync, requests=3)

    def list_containers_sync(self, reuse: bool = False) -> tuple[Container, ...]:
        """Blocking `list_containers`: one list request, then one inspect per member.

        ``reuse``: skip the inspect of a member whose listing did not change since it
        was inspected, less than `REINSPECT_S` ago (for polls; actions read fresh).
        """
        summaries = self._call(lambda api: api.containers(all=True))
        found: list[Container] = []
        inspected: dict[str, tuple[tuple[object, object], float, dict[str, Any]]] = {}
        now = time.monotonic()
        for summary in summaries:
            name = container_name(summary.get("Names"))
            if not in_stack(name, summary.get("Labels"), self.compose_project, self.name_patterns):
                continue
            cid = str(summary.get("Id") or "")
            listed = (summary.get("State"), summary.get("Status"))
            before = self._inspected.get(cid)
            unchanged = before is not None and listed != (None, None) and before[0] == listed
            if reuse and before is not None and unchanged and now - before[1] < REINSPECT_S:
                inspected[cid] = before
                found.append(container_from_inspect(before[2]))
                continue
            try:
                attrs = self._inspect(cid)
            except DockerError:
                if self._client is None:  # the engine went away, not just this container
                    raise
                continue  # removed between the list and the inspect
            inspected[cid] = (listed, now, attrs)
            found.append(container_from_inspect(attrs))
            pid = (attrs.get("State") or {}).get("Pid")
            if isinstance(pid, int) and pid > 0:
                self._pids[pid] = found[-1].name
        self._inspected = inspected
        found.sort(key=lambda c: c.name)
        self.latest = tuple(found)
        live = {c.name for c in found if c.state in ("running", "paused", "restarting")}
        self._pids = {p: n for p, n in self._pids.items() if n in live}
        return self.latest

    async def aclose(self) -> None:
        """Close the SDK client's connections."""
        await asyncio.to_thread(self._drop_client)

    # -- logs ----------------------------------------------------------------------------

    async def logs(self, name: str, lines: int | None = None) -> list[LogLine]:
        """The last ``lines`` (default: ``log_lines``) of a container's stdout and stderr.

        Bytes are decoded with replacement and kept verbatim; lines that mention an
        error, exception, traceback, fatal or out-of-memory are flagged ``is_error``.
        """
        count = self.log_lines if lines is None else lines
        return await self._in_thread(lambda: self.logs_sync(name, count))

    def logs_sync(self, name: str, lines: int) -> list[LogLine]:
        """Blocking `logs`."""
        if lines <= 0:
            return []
        raw = self._call(
            lambda api: api.logs(name, stdout=True, stderr=True, tail=lines, timestamps=False)
        )
        return log_lines(raw, lines)

    # -- PID → container (for the NVML source) -------------------------------------------

    def container_name(self, container_id: str) -> str | None:
        """The name of the listed container with this (full or short) id, else None.

        Uses the last listing only (no I/O), so it is cheap enough for NVML's resolver.
        """
        if not container_id:
            return None
        for c in self.latest:
            if c.id.startswith(container_id) or container_id.startswith(c.id):
                return c.name
        return None

    def container_for_pid(self, pid: int) -> str | None:
        """The stack container holding host process ``pid``, or None.

        First the container id in ``/proc/PID/cgroup`` (Docker, podman, containerd),
        matched against the listed containers; then the process's ancestry against each
        container's main PID (works where cgroups do not name the container). Lists the
        containers once (blocking) if nothing has been listed yet.
        """
        if not self.latest:
            try:
                self.list_containers_sync()
            except DockerError:
                return None
        try:
            text = (self._proc / str(pid) / "cgroup").read_text(errors="replace")
        except OSError:
            return None
        cid = container_id_from_cgroup(text)
        if cid is not None:
            found = self.container_name(cid)
            if found is not None:
                return found
        current = pid
        for _ in range(_MAX_PARENT_HOPS):
            if current in self._pids:
                return self._pids[current]
            parent = self._parent_pid(current)
            if parent is None or parent <= 1 or parent == current:
                return None
            current = parent
        return None

    def _parent_pid(self, pid: int) -> int | None:
        try:
            stat = (self._proc / str(pid) / "stat").read_text(errors="replace")
        except OSError:
            return None
        # "PID (comm) STATE PPID ..." where comm may hold spaces and parentheses
        fields = stat[stat.rfind(")") + 1 :].split()
        try:
            return int(fields[1])
        except (IndexError, ValueError):
            return None

    # -- actions (blocking; the ops executor calls them in a thread) -----------------------

    def _stack_member(self, name: str) -> str:
        """The id of container ``name`` after checking it belongs to the stack."""
        container = container_from_inspect(self._inspect(name))
        if not in_stack(container.name, container.labels, self.compose_project, self.name_patterns):
            raise DockerError(f"docker at {self.url}: {name} is not one of the stack's containers")
        return container.id

    def _state(self, cid: str) -> str:
        return container_from_inspect(self._inspect(cid)).state

    def restart(self, name: str, timeout: int = 10) -> str:
        """Restart a stack container (SIGKILL after ``timeout`` s); its new state."""
        cid = self._stack_member(name)
        self._call(lambda api: api.restart(cid, timeout=timeout))
        return self._state(cid)

    def stop(self, name: str, timeout: int = 10) -> str:
        """Stop a stack container (SIGKILL after ``timeout`` s); its new state."""
        cid = self._stack_member(name)
        self._call(lambda api: api.stop(cid, timeout=timeout))
        return self._state(cid)

    def start(self, name: str) -> str:
        """Start a stopped stack container; its new state."""
        cid = self._stack_member(name)
        self._call(lambda api: api.start(cid))
        return self._state(cid)
