"""What belongs to what in one snapshot: a backend's GPUs, container and alerts, and back.

GPUs map to backends through what the GPU readers report: the containers of the
processes holding memory on a GPU (NVML), or the pod/container DCGM exporter labels a
GPU with (`Gpu.workloads`). Alerts map through their labels.
"""

from __future__ import annotations

from tui.model import Alert, Backend, Container, FleetSnapshot, Gpu

BACKEND_LABELS = ("backend", "instance", "pod", "container", "job")
"""Alert labels that may name a backend (or its container)."""


def _names(backend: Backend) -> set[str]:
    return {backend.name} | ({backend.container} if backend.container else set())


def gpu_workloads(gpu: Gpu) -> set[str]:
    """The names of what runs on ``gpu``: its processes' containers and its DCGM workloads."""
    found = {p.container for p in gpu.processes if p.container}
    return found | set(gpu.workloads)


def gpus_of(backend: Backend, snapshot: FleetSnapshot) -> list[Gpu]:
    """The GPUs ``backend`` runs on."""
    names = _names(backend)
    return [g for g in snapshot.gpus if gpu_workloads(g) & names]


def backends_on(gpu: Gpu, snapshot: FleetSnapshot) -> list[Backend]:
    """The backends running on ``gpu``."""
    workloads = gpu_workloads(gpu)
    return [b for b in snapshot.backends if _names(b) & workloads]


def backend_of_container(container: Container, snapshot: FleetSnapshot) -> Backend | None:
    """The backend served by ``container``."""
    return next((b for b in snapshot.backends if b.container == container.name), None)


def container_of(backend: Backend, snapshot: FleetSnapshot) -> Container | None:
    """``backend``'s container, when the container source lists it."""
    return next((c for c in snapshot.containers if c.name == backend.container), None)


def alerts_of_backend(backend: Backend, snapshot: FleetSnapshot) -> list[Alert]:
    """The alerts whose labels name ``backend`` or its container."""
    return [a for a in snapshot.alerts if backend_of_alert(a, snapshot) == backend]


def alerts_of_gpu(gpu: Gpu, snapshot: FleetSnapshot) -> list[Alert]:
    """The alerts labelled with ``gpu``'s index (and its host, when they carry one)."""
    found = []
    for alert in snapshot.alerts:
        host = alert.labels.get("Hostname") or alert.labels.get("host")
        if alert.labels.get("gpu") == str(gpu.index) and host in (None, gpu.host):
            found.append(alert)
    return found


def backend_of_alert(alert: Alert, snapshot: FleetSnapshot) -> Backend | None:
    """The backend an alert is about, when its labels name one."""
    values = {alert.labels.get(label, "").split(":")[0] for label in BACKEND_LABELS}
    return next((b for b in snapshot.backends if _names(b) & values), None)
