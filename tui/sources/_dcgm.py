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


GpuSeries = tuple[str, int, str, str, str, tuple[str, ...]]
"""What one DCGM series says of its GPU: (attribute, index, host label, model, UUID,
workloads); the host label is "" when none names the host."""

SeriesMemo = dict[tuple[str, int], tuple[Mapping[str, str], GpuSeries | None]]
"""(field, id of a labels object) → (that object, `GpuSeries` or None when not a GPU's)."""

#: A memo holding more series than this (an exporter churning labels) starts again.
MEMO_LIMIT = 100_000


def _series(name: str, labels: Mapping[str, str]) -> GpuSeries | None:
    """What the series ``name{labels}`` says of its GPU; None when it feeds no GPU."""
    attr = _FIELDS.get(name)
    if attr is None:
        return None
    index = _gpu_index(labels)
    if index is None:
        return None
    host = labels.get("Hostname") or labels.get("hostname") or ""
    workloads: list[str] = []
    for label in WORKLOAD_LABELS:  # the pod and container the GPU is handed to
        workload = labels.get(label, "")
        if workload and workload not in workloads:
            workloads.append(workload)
    uuid = labels.get("UUID", "") or labels.get("uuid", "")
    return attr, index, host, labels.get("modelName", ""), uuid, tuple(workloads)


def gpus_from_samples(
    samples: Iterable[PromSample], default_host: str, memo: SeriesMemo | None = None
) -> list[Gpu]:
    """One `Gpu` per (host, index) seen in DCGM exporter samples, sorted by host and index.

    The first usable value of each field wins (under MIG a GPU has one series per
    instance for some fields). Total memory is USED + FREE (+ RESERVED when exported).
    ``memo``: kept by the caller between reads of one exporter whose samples carry the
    same labels objects from read to read (`tui.sources.promtext.SeriesCache`): what
    each series says of its GPU is then read from its labels once, not at every read.
    """
    found: dict[tuple[str, int], dict[str, object]] = {}
    if memo is not None and len(memo) > MEMO_LIMIT:
        memo.clear()
    for s in samples:
        if memo is None:
            series = _series(s.name, s.labels)
        else:
            known = memo.get((s.name, id(s.labels)))
            if known is None or known[0] is not s.labels:
                known = memo[(s.name, id(s.labels))] = (s.labels, _series(s.name, s.labels))
            series = known[1]
        if series is None:
            continue
        attr, index, host, model, uuid, workloads = series
        entry = found.get((host or default_host, index))
        if entry is None:
            entry = found[(host or default_host, index)] = {
                "name": model,
                "uuid": uuid,
                "workloads": [],
            }
        if attr == "power_limit_w":
            entry["power_limit_seen"] = True
        if workloads:
            held: list[str] = entry["workloads"]  # type: ignore[assignment]
            held += [w for w in workloads if w not in held]
        if -math.inf < s.value < DCGM_INT32_BLANK:  # not `is_blank` (nor NaN)
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
