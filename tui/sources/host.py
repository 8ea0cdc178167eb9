"""Host metrics: this machine through psutil, the fleet's machines through node exporter.

`local_host` reads CPU, RAM, disk I/O busy time and disk space here, over a short
interval (psutil needs two readings for rates). `node_exporter_hosts` asks Prometheus
for the same figures per node-exporter instance (`NODE_QUERIES`); `hosts_from_answers`
turns the answers into `HostMetrics` and is pure, for tests.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from typing import Any, Protocol

from tui.analysis.capacity import HostMetrics
from tui.sources._prom_parse import labels_of, value_of
from tui.sources._promql import quote

#: File systems that are not disks an operator fills (memory, images, overlays).
_SKIP_FSTYPES = ("tmpfs", "devtmpfs", "overlay", "squashfs", "proc", "sysfs", "nsfs", "fuse.lxcfs")


def local_host(interval_s: float = 0.5) -> HostMetrics:
    """This machine's CPU, RAM, disk I/O (busiest disk) and disk space, via psutil."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - a dependency, but say so rather than crash
        return HostMetrics(socket.gethostname(), "psutil", error="psutil is not installed")
    disks_before = _busy_ms(psutil)
    psutil.cpu_percent(None)
    time.sleep(interval_s)
    cpu = psutil.cpu_percent(None)
    disks_after = _busy_ms(psutil)
    busy = [
        100.0 * (disks_after[d] - disks_before[d]) / (interval_s * 1000.0)
        for d in disks_after
        if d in disks_before
    ]
    used: dict[str, float] = {}
    for part in psutil.disk_partitions(all=False):
        if part.fstype in _SKIP_FSTYPES or part.mountpoint.startswith(("/snap", "/proc", "/sys")):
            continue
        try:
            used[part.mountpoint] = float(psutil.disk_usage(part.mountpoint).percent)
        except OSError:
            continue
    return HostMetrics(
        host=socket.gethostname(),
        source="psutil",
        cpu_pct=float(cpu),
        mem_pct=float(psutil.virtual_memory().percent),
        disk_io_pct=min(max(busy), 100.0) if busy else None,
        disk_used_pct=used,
    )


def _busy_ms(psutil: Any) -> dict[str, float]:
    """Milliseconds each disk has been busy (Linux: ``busy_time``); {} where unknown."""
    try:
        counters = psutil.disk_io_counters(perdisk=True) or {}
    except (OSError, RuntimeError):
        return {}
    return {
        name: float(c.busy_time)
        for name, c in counters.items()
        if hasattr(c, "busy_time") and not name.startswith(("loop", "ram"))
    }


def node_queries(job: str = "node", window: str = "5m") -> dict[str, str]:
    """PromQL per host figure (percent), one series per node-exporter ``instance``."""
    j = f"job={quote(job)}"
    fs = f'{j},fstype!~"{"|".join(_SKIP_FSTYPES)}"'
    return {
        "cpu": f'100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{{{j},mode="idle"}}'
        f"[{window}])))",
        "mem": f"100 * (1 - node_memory_MemAvailable_bytes{{{j}}}"
        f" / node_memory_MemTotal_bytes{{{j}}})",
        "disk_io": f"100 * max by (instance) (rate(node_disk_io_time_seconds_total{{{j}}}"
        f"[{window}]))",
        "disk_used": f"100 * (1 - node_filesystem_avail_bytes{{{fs}}}"
        f" / node_filesystem_size_bytes{{{fs}}})",
    }


def hosts_from_answers(answers: Mapping[str, list[Any]]) -> tuple[HostMetrics, ...]:
    """`HostMetrics` per instance from the answers to `node_queries` (missing: None)."""
    found: dict[str, dict[str, Any]] = {}
    for key, vector in answers.items():
        for item in vector:
            labels = labels_of(item)
            instance = labels.get("instance", "")
            value = value_of(item)
            if not instance or value is None:
                continue
            figures = found.setdefault(instance, {"disk_used_pct": {}})
            if key == "disk_used":
                figures["disk_used_pct"][labels.get("mountpoint", "?")] = value
            else:
                figures[f"{key}_pct"] = value
    return tuple(
        HostMetrics(host=instance, source="node exporter", **figures)
        for instance, figures in sorted(found.items())
    )


class InstantQuery(Protocol):
    """What `node_exporter_hosts` needs of the Prometheus source."""

    def query(self, promql: str, at: float | None = None) -> list[Any]: ...


def node_exporter_hosts(prometheus: InstantQuery, job: str = "node") -> tuple[HostMetrics, ...]:
    """The fleet's machines as node exporter reports them through Prometheus."""
    return hosts_from_answers({k: prometheus.query(q) for k, q in node_queries(job).items()})
