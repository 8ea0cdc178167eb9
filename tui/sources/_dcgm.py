"""DCGM exporter samples → `tui.model.Gpu`, with DCGM's "no value" sentinels dropped.

DCGM reports a field it cannot read as a reserved "blank" value rather than leaving it
out: ``DCGM_INT32_BLANK`` (0x7ffffff0 = 2147483632) and its NOT_FOUND / NOT_SUPPORTED /
NOT_PERMISSIONED neighbours up to 2147483647, ``DCGM_INT64_BLANK`` (0x7ffffffffffffff0 =
9223372036854775792) and neighbours, and ``DCGM_FP64_BLANK`` (2**47 = 140737488355328)
and neighbours. None of the fields read here (percent, MiB, °C, W, MHz) can legitimately
reach 2147483632, so every value from there up — and NaN/inf — is treated as missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from tui.model import Gpu
from tui.sources.promtext import PromSample

DCGM_INT32_BLANK = 0x7FFFFFF0
DCGM_INT64_BLANK = 0x7FFFFFFFFFFFFFF0
DCGM_FP64_BLANK = 140737488355328.0

NOT_EXPORTED = frozenset({"power_limit"})
"""What an exporter with dcgm-exporter's default counters does not export at all."""

#: field -> the Gpu attribute it feeds (FB_* are combined separately).
_FIELDS: Mapping[str, str] = {
    "DCGM_FI_DEV_GPU_UTIL": "util_pct",
    "DCGM_FI_DEV_FB_USED": "fb_used",
    "DCGM_FI_DEV_FB_FREE": "fb_free",
    "DCGM_FI_DEV_FB_RESERVED": "fb_reserved",
    "DCGM_FI_DEV_GPU_TEMP": "temp_c",
    "DCGM_FI_DEV_POWER_USAGE": "power_w",
    "DCGM_FI_DEV_POWER_MGMT_LIMIT": "power_limit_w",
    "DCGM_FI_DEV_ENFORCED_POWER_LIMIT": "power_limit_w",
    "DCGM_FI_DEV_SM_CLOCK": "sm_clock_mhz",
}

READ: frozenset[str] = frozenset(_FIELDS)
"""The DCGM fields `gpus_from_samples` reads (the rest of an exporter's page is skipped)."""


def is_blank(value: float) -> bool:
    """True for DCGM's blank/not-found/not-supported sentinels and for NaN/inf."""
    if math.isnan(value) or math.isinf(value):
        return True
    return value >= DCGM_INT32_BLANK


def host_of_url(url: str) -> str:
    """``host:port`` of an exporter URL, the GPU's host when no label names it."""
    parts = urlsplit(url)
    return parts.netloc or url


def _gpu_index(labels: Mapping[str, str]) -> int | None:
    """The GPU index from the ``gpu`` label, else from ``device`` (``nvidia3`` → 3)."""
    for key in ("gpu", "device"):
        raw = labels.get(key, "")
        digits = raw.removeprefix("nvidia")
        if digits.isdigit():
            return int(digits)
    return None


WORKLOAD_LABELS = ("pod", "container")
"""Labels DCGM exporter adds with its Kubernetes mapping: what runs on the GPU."""


def gpus_from_samples(samples: Iterable[PromSample], default_host: str) -> list[Gpu]:
    """One `Gpu` per (host, index) seen in DCGM exporter samples, sorted by host and index.

    The first usable value of each field wins (under MIG a GPU has one series per
    instance for some fields). Total memory is USED + FREE (+ RESERVED when exported).
    """
    found: dict[tuple[str, int], dict[str, object]] = {}
    for s in samples:
        attr = _FIELDS.get(s.name)
        if attr is None:
            continue
        index = _gpu_index(s.labels)
        if index is None:
            continue
        host = s.labels.get("Hostname") or s.labels.get("hostname") or default_host
        entry = found.setdefault((host, index), {})
        entry.setdefault("name", s.labels.get("modelName", ""))
        entry.setdefault("uuid", s.labels.get("UUID", "") or s.labels.get("uuid", ""))
        if attr == "power_limit_w":
            entry["power_limit_seen"] = True
        workloads = entry.setdefault("workloads", [])
        for label in WORKLOAD_LABELS:  # the pod and container the GPU is handed to
            name = s.labels.get(label, "")
            if name and name not in workloads:  # type: ignore[operator]
                workloads.append(name)  # type: ignore[attr-defined]
        if not is_blank(s.value):
            entry.setdefault(attr, float(s.value))
    gpus = []
    for (host, index), e in sorted(found.items()):
        used = e.get("fb_used")
        free = e.get("fb_free")
        total: float | None = None
        if isinstance(used, float) and isinstance(free, float):
            reserved = e.get("fb_reserved")
            total = used + free + (reserved if isinstance(reserved, float) else 0.0)
        gpus.append(
            Gpu(
                host=host,
                index=index,
                name=str(e.get("name", "")),
                uuid=str(e.get("uuid", "")),
                util_pct=_num(e.get("util_pct")),
                mem_used_mib=_num(used),
                mem_total_mib=total,
                temp_c=_num(e.get("temp_c")),
                power_w=_num(e.get("power_w")),
                power_limit_w=_num(e.get("power_limit_w")),
                sm_clock_mhz=_num(e.get("sm_clock_mhz")),
                unexported=frozenset() if "power_limit_seen" in e else NOT_EXPORTED,
                workloads=tuple(e.get("workloads", ())),  # type: ignore[arg-type]
            )
        )
    return gpus


def _num(value: object) -> float | None:
    """``value`` if it is a float, else None."""
    return value if isinstance(value, float) else None
