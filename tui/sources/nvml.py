"""The nvml source: this machine's GPUs through NVML, with their processes and containers.

All NVML calls go through a binding object (`tui.sources._nvml_binding.NvmlBinding` by
default; tests pass a fake with the same methods). Where there is no NVIDIA driver or
library, `NvmlSource.collect` raises `SourceUnavailable("NVML: <reason>")` — the hub
shows the source as unavailable and stops polling it; it never crashes.

GPU processes report host PIDs. A PID whose ``/proc/PID/cgroup`` names a container
(Docker, podman/libpod, containerd/CRI-O, Kubernetes pods) is mapped to that container:
its name from an injected resolver (e.g. the docker source's id → name lookup), else its
short (12-character) id.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tui.model import Collected, Gpu, GpuProcess
from tui.sources._nvml_binding import DeviceReading, NvmlBinding, NvmlUnavailable, ProcessReading
from tui.sources.base import SourceUnavailable
from tui.sources.promtext import one_line

__all__ = ["NvmlApi", "NvmlSource", "container_id_from_cgroup"]

ContainerResolver = Callable[[str], str | None]
"""Full container id → container name (None when unknown)."""

MIB = 1024.0 * 1024.0

#: A 64-hex container id after a runtime's marker, in cgroup v1 or v2 paths.
_CONTAINER_ID = re.compile(
    r"(?:docker|libpod|cri-containerd|crio|containerd|kubepods[^\n]*)[-/:]([0-9a-f]{64})(?:\.scope)?(?:/|$)"
)


class NvmlApi(Protocol):
    """What `NvmlSource` needs from a binding (implemented by `NvmlBinding`)."""

    def init(self) -> None:
        """Initialise; raise `NvmlUnavailable` with the reason where NVML cannot work."""
        ...

    def shutdown(self) -> None:
        """Release NVML."""
        ...

    def device_count(self) -> int:
        """Number of GPUs."""
        ...

    def read_device(self, index: int) -> DeviceReading:
        """One GPU's figures."""
        ...

    def processes(self, index: int) -> list[ProcessReading]:
        """Compute processes on one GPU."""
        ...

    def process_name(self, pid: int) -> str:
        """A process's name, "" when unknown."""
        ...


def container_id_from_cgroup(text: str) -> str | None:
    """The container id in a ``/proc/PID/cgroup`` text, or None for a host process.

    Recognises ``/docker/<id>``, ``docker-<id>.scope``, ``libpod-<id>.scope`` (but not
    podman's ``libpod-conmon-``), ``cri-containerd-<id>.scope``, ``crio-<id>.scope`` and
    ``/kubepods/.../<id>``.
    """
    for line in text.splitlines():
        path = line.split(":", 2)[-1]
        if "conmon" in path:
            continue
        match = _CONTAINER_ID.search(path)
        if match:
            return match.group(1)
    return None


class NvmlSource:
    """Local GPUs through NVML; implements the `Source` protocol."""

    def __init__(
        self,
        binding: NvmlApi | None = None,
        *,
        interval: float = 2.0,
        name: str = "nvml",
        host: str | None = None,
        container_resolver: ContainerResolver | None = None,
        proc_root: str = "/proc",
    ) -> None:
        """Read GPUs through ``binding`` (default: the real pynvml one).

        ``host`` names this machine in `Gpu.host` (default: the hostname);
        ``container_resolver`` maps a container id to its name; ``proc_root`` is where
        ``PID/cgroup`` and ``PID/comm`` are read (tests point it at a fake tree).
        """
        self.name = name
        self.interval = interval
        self.host = host or socket.gethostname()
        self._binding: NvmlApi = binding if binding is not None else NvmlBinding()
        self._resolver = container_resolver
        self._proc = Path(proc_root)
        self._started = False

    def _container(self, pid: int) -> str | None:
        """The container holding ``pid``: its name if resolvable, else its short id."""
        try:
            text = (self._proc / str(pid) / "cgroup").read_text(errors="replace")
        except OSError:
            return None
        cid = container_id_from_cgroup(text)
        if cid is None:
            return None
        if self._resolver is not None:
            try:
                resolved = self._resolver(cid)
            except Exception:
                resolved = None
            if resolved:
                return resolved
        return cid[:12]

    def _process_name(self, pid: int) -> str:
        """NVML's name for the process, else ``/proc/PID/comm``."""
        name = self._binding.process_name(pid)
        if name:
            return name
        try:
            return (self._proc / str(pid) / "comm").read_text(errors="replace").strip()
        except OSError:
            return ""

    def _gpu(self, index: int) -> Gpu:
        """One GPU with its processes."""
        r = self._binding.read_device(index)
        procs = tuple(
            GpuProcess(
                pid=p.pid,
                name=self._process_name(p.pid),
                used_mib=None if p.used_bytes is None else p.used_bytes / MIB,
                container=self._container(p.pid),
            )
            for p in self._binding.processes(index)
        )
        return Gpu(
            host=self.host,
            index=index,
            name=r.name,
            uuid=r.uuid,
            util_pct=r.util_gpu_pct,
            mem_used_mib=None if r.mem_used_bytes is None else r.mem_used_bytes / MIB,
            mem_total_mib=None if r.mem_total_bytes is None else r.mem_total_bytes / MIB,
            temp_c=r.temp_c,
            power_w=None if r.power_mw is None else r.power_mw / 1000.0,
            power_limit_w=None if r.power_limit_mw is None else r.power_limit_mw / 1000.0,
            sm_clock_mhz=r.sm_clock_mhz,
            processes=procs,
        )

    def _read(self) -> Collected:
        """Initialise on first use, then read every GPU (runs in a thread)."""
        if not self._started:
            try:
                self._binding.init()
            except NvmlUnavailable as exc:
                raise SourceUnavailable(one_line(f"NVML: {exc}")) from None
            self._started = True
        gpus = []
        for index in range(self._binding.device_count()):
            try:
                gpus.append(self._gpu(index))
            except Exception as exc:  # one lost GPU must not hide the others
                gpus.append(Gpu(host=self.host, index=index, name=one_line(f"unreadable: {exc}")))
        return Collected(gpus=tuple(gpus))

    async def collect(self) -> Collected:
        """Read every local GPU once; `SourceUnavailable` where NVML cannot work."""
        return await asyncio.to_thread(self._read)

    async def aclose(self) -> None:
        """Shut NVML down."""
        if self._started:
            self._started = False
            await asyncio.to_thread(self._binding.shutdown)
