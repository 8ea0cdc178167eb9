"""Simulated GPUs (H100 80GB) and their exposition in DCGM exporter's format.

Each GPU follows the engine it serves: utilisation from the engine's busy time and batch
size, memory from the model weights plus the KV cache in use, power from utilisation, and
temperature from power with a first-order lag (time constant 45 s). Above 85 °C the SM clock
drops (thermal throttling), which the fleet feeds back into the engine as a slowdown.

A GPU with no backend idles (the spare card when there are more GPUs than backends). A GPU
whose engine is hung shows 100 % utilisation at low memory traffic, the usual picture of a
stuck collective; a GPU whose backend crashed shows nothing allocated.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

HOSTNAME = "inferdeck-sim"
"""The ``Hostname`` label of every simulated GPU."""

DCGM_NOT_SUPPORTED = 9223372036854775794
"""DCGM's int64 "not supported" sentinel (DCGM_INT64_BLANK + 2): what DCGM answers for a
field the card lacks. dcgm-exporter 4.x leaves such a sample out (``toString`` returns
its skip value for every blank); `dcgm_exposition` does the same."""

DRIVER_VERSION = "570.124.06"
"""``DCGM_FI_DRIVER_VERSION``: a "label" field in the default counters, so the exporter
puts it as a label on every sample."""

XID_TEXT = {0: "No Error", 13: "Graphics Engine Exception", 31: "GPU memory page fault",
            43: "GPU stopped processing", 48: "Double Bit ECC Error",
            79: "GPU has fallen off the bus", 94: "Contained ECC error"}  # fmt: skip
"""``err_msg`` of a few XIDs, as dcgm-exporter's xid_errors.go names them."""

POWER_LIMIT_FIELD = "DCGM_FI_DEV_POWER_MGMT_LIMIT"
"""The power limit: not in the default counters; served only when configured to."""


@dataclass(frozen=True)
class GpuSpec:
    """The card's fixed figures."""

    name: str = "NVIDIA H100 80GB HBM3"
    total_mib: int = 81559
    reserved_mib: int = 511
    max_sm_clock_mhz: int = 1980
    mem_clock_mhz: int = 2619
    idle_power_w: float = 70.0
    max_power_w: float = 700.0
    ambient_c: float = 30.0
    throttle_at_c: float = 85.0
    temp_tau_s: float = 45.0
    util_tau_s: float = 1.0


@dataclass(frozen=True)
class GpuLoad:
    """What the serving engine did during one interval."""

    busy: float  # share of the interval spent running iterations, 0..1
    batch_ratio: float  # mean batch size / max_num_seqs while busy, 0..1
    kv_usage: float  # 0..1
    weights_mib: float
    kv_pool_mib: float
    hung: bool = False


class SimGpu:
    """One GPU's state, advanced by ``update``."""

    def __init__(self, index: int, seed: int, spec: GpuSpec | None = None) -> None:
        self.index = index
        self.spec = spec or GpuSpec()
        rng = random.Random(f"gpu-{seed}-{index}")
        hexes = f"{rng.getrandbits(128):032x}"
        self.uuid = f"GPU-{hexes[:8]}-{hexes[8:12]}-{hexes[12:16]}-{hexes[16:20]}-{hexes[20:32]}"
        self.pci_bus_id = f"00000000:{0x18 + 0x11 * index:02X}:00.0"
        self.backend: str | None = None
        self.overheat_c: float | None = None  # target temperature under the overheat fault
        self.util_pct = 0.0
        self.gr_active = 0.0
        self.dram_active = 0.0
        self.tensor_active = 0.0
        self.fb_used_mib = 0.0
        self.temp_c = self.spec.ambient_c + 2.0
        self.power_w = self.spec.idle_power_w
        self.energy_mj = 1.0e9 * (index + 1)
        self.sm_clock_mhz = float(self.spec.max_sm_clock_mhz)

    @property
    def slowdown(self) -> float:
        """How much slower the card computes than at full clock (1.0 = not throttled)."""
        return self.spec.max_sm_clock_mhz / self.sm_clock_mhz

    def update(self, dt: float, load: GpuLoad | None) -> None:
        """Advance ``dt`` seconds under ``load`` (None: nothing runs on the card)."""
        if dt <= 0:
            return
        s = self.spec
        if load is None:
            util_target, gr, dram, tensor, used = 0.0, 0.0, 0.0, 0.0, 0.0
        elif load.hung:
            util_target, gr, dram, tensor = 100.0, 0.98, 0.02, 0.0
            used = load.weights_mib + load.kv_pool_mib * load.kv_usage
        else:
            intensity = 0.35 + 0.65 * min(1.0, load.batch_ratio / 0.75)
            util_target = 100.0 * min(1.0, load.busy) * intensity
            gr = min(1.0, load.busy) * (0.3 + 0.6 * min(1.0, load.batch_ratio / 0.75))
            dram = min(1.0, load.busy) * (0.25 + 0.5 * min(1.0, load.batch_ratio / 0.75))
            tensor = gr * 0.45
            used = load.weights_mib + load.kv_pool_mib * load.kv_usage
        a_util = 1.0 - math.exp(-dt / s.util_tau_s)
        self.util_pct += (util_target - self.util_pct) * a_util
        self.gr_active += (gr - self.gr_active) * a_util
        self.dram_active += (dram - self.dram_active) * a_util
        self.tensor_active += (tensor - self.tensor_active) * a_util
        self.fb_used_mib = min(float(s.total_mib - s.reserved_mib), used)
        self.power_w = s.idle_power_w + (s.max_power_w - s.idle_power_w) * 0.85 * (
            self.util_pct / 100.0
        )
        self.energy_mj += self.power_w * dt * 1000.0
        power_frac = (self.power_w - s.idle_power_w) / (s.max_power_w - s.idle_power_w)
        temp_target = s.ambient_c + 2.0 + 50.0 * power_frac
        if self.overheat_c is not None:
            temp_target = max(temp_target, self.overheat_c)
        self.temp_c += (temp_target - self.temp_c) * (1.0 - math.exp(-dt / s.temp_tau_s))
        if self.temp_c > s.throttle_at_c:
            factor = max(0.55, 1.0 - 0.04 * (self.temp_c - s.throttle_at_c))
        else:
            factor = 1.0
        self.sm_clock_mhz = s.max_sm_clock_mhz * factor

    def fields(self) -> list[tuple[str, int | float]]:
        """``(DCGM field, value)`` pairs as DCGM exporter would report them now."""
        s = self.spec
        used = round(self.fb_used_mib)
        return [
            ("DCGM_FI_DEV_SM_CLOCK", round(self.sm_clock_mhz)),
            ("DCGM_FI_DEV_MEM_CLOCK", s.mem_clock_mhz if self.backend else 1593),
            ("DCGM_FI_DEV_MEMORY_TEMP", round(self.temp_c + 4.0)),
            ("DCGM_FI_DEV_GPU_TEMP", round(self.temp_c)),
            ("DCGM_FI_DEV_POWER_USAGE", round(self.power_w, 3)),
            ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", round(self.energy_mj)),
            ("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", 0),
            ("DCGM_FI_DEV_GPU_UTIL", round(self.util_pct)),
            ("DCGM_FI_DEV_MEM_COPY_UTIL", round(self.dram_active * 80.0)),
            ("DCGM_FI_DEV_ENC_UTIL", DCGM_NOT_SUPPORTED),  # H100 has no NVENC
            ("DCGM_FI_DEV_DEC_UTIL", 0),
            ("DCGM_FI_DEV_XID_ERRORS", 0),
            ("DCGM_FI_DEV_FB_FREE", s.total_mib - s.reserved_mib - used),
            ("DCGM_FI_DEV_FB_USED", used),
            ("DCGM_FI_DEV_FB_RESERVED", s.reserved_mib),
            ("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", 0),
            ("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", 0),
            ("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", 0),
            ("DCGM_FI_DEV_ROW_REMAP_FAILURE", 0),
            ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", round(self.gr_active, 6)),
            ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", round(self.tensor_active, 6)),
            ("DCGM_FI_PROF_DRAM_ACTIVE", round(self.dram_active, 6)),
            ("DCGM_FI_PROF_PCIE_TX_BYTES", round(2.0e7 * self.gr_active)),
            ("DCGM_FI_PROF_PCIE_RX_BYTES", round(3.0e7 * self.gr_active)),
        ]


DCGM_FIELDS: dict[str, tuple[str, str]] = {
    "DCGM_FI_DEV_SM_CLOCK": ("gauge", "SM clock frequency (in MHz)."),
    "DCGM_FI_DEV_MEM_CLOCK": ("gauge", "Memory clock frequency (in MHz)."),
    "DCGM_FI_DEV_MEMORY_TEMP": ("gauge", "Memory temperature (in C)."),
    "DCGM_FI_DEV_GPU_TEMP": ("gauge", "GPU temperature (in C)."),
    "DCGM_FI_DEV_POWER_USAGE": ("gauge", "Power draw (in W)."),
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": (
        "counter",
        "Total energy consumption since boot (in mJ).",
    ),
    "DCGM_FI_DEV_PCIE_REPLAY_COUNTER": ("counter", "Total number of PCIe retries."),
    "DCGM_FI_DEV_GPU_UTIL": ("gauge", "GPU utilization (in %)."),
    "DCGM_FI_DEV_MEM_COPY_UTIL": ("gauge", "Memory utilization (in %)."),
    "DCGM_FI_DEV_ENC_UTIL": ("gauge", "Encoder utilization (in %)."),
    "DCGM_FI_DEV_DEC_UTIL": ("gauge", "Decoder utilization (in %)."),
    "DCGM_FI_DEV_XID_ERRORS": ("gauge", "Value of the last XID error encountered."),
    "DCGM_FI_DEV_FB_FREE": ("gauge", "Framebuffer memory free (in MiB)."),
    "DCGM_FI_DEV_FB_USED": ("gauge", "Framebuffer memory used (in MiB)."),
    "DCGM_FI_DEV_FB_RESERVED": ("gauge", "Framebuffer memory reserved (in MiB)."),
    "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL": (
        "counter",
        "Total number of NVLink bandwidth counters for all lanes.",
    ),
    "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS": (
        "counter",
        "Number of remapped rows for correctable errors",
    ),
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": (
        "counter",
        "Number of remapped rows for uncorrectable errors",
    ),
    "DCGM_FI_DEV_ROW_REMAP_FAILURE": ("gauge", "Whether remapping of rows has failed"),
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": ("gauge", "Ratio of time the graphics engine is active."),
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": (
        "gauge",
        "Ratio of cycles the tensor (HMMA) pipe is active.",
    ),
    "DCGM_FI_PROF_DRAM_ACTIVE": (
        "gauge",
        "Ratio of cycles the device memory interface is active sending or receiving data.",
    ),
    "DCGM_FI_PROF_PCIE_TX_BYTES": (
        "gauge",
        "The rate of data transmitted over the PCIe bus - including both protocol headers"
        " and data payloads - in bytes per second.",
    ),
    "DCGM_FI_PROF_PCIE_RX_BYTES": (
        "gauge",
        "The rate of data received over the PCIe bus - including both protocol headers and"
        " data payloads - in bytes per second.",
    ),
}
"""Per DCGM field: its Prometheus type and help text, in the order and words of
dcgm-exporter's etc/default-counters.csv (NVIDIA/dcgm-exporter 4.5.3-4.8.2)."""


def _format_value(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    return f"{value:f}"


def dcgm_exposition(
    gpus: list[SimGpu], hostname: str = HOSTNAME, *, power_limit: bool = False
) -> bytes:
    """The text DCGM exporter (4.x) serves on ``/metrics`` for these GPUs.

    As its gpu_collector.go and render_metrics.go do: the standard labels, ``hostname``,
    then the "label" fields (``DCGM_FI_DRIVER_VERSION``) and the XID's ``err_code`` and
    ``err_msg``; a field a GPU does not support is left out, and a family no GPU has is
    left out whole. ``power_limit``: also export the power limit (an exporter configured
    with a counters file that lists it).
    """
    fields = dict(DCGM_FIELDS)
    if power_limit:
        fields[POWER_LIMIT_FIELD] = ("gauge", "Power management limit (in W).")
    values = {gpu.index: dict(gpu.fields()) for gpu in gpus}
    out: list[str] = []
    for name, (kind, doc) in fields.items():
        rows = []
        for gpu in gpus:
            value = (
                float(gpu.spec.max_power_w)
                if name == POWER_LIMIT_FIELD
                else values[gpu.index][name]
            )
            if value == DCGM_NOT_SUPPORTED:
                continue
            labels = (
                f'gpu="{gpu.index}",UUID="{gpu.uuid}",pci_bus_id="{gpu.pci_bus_id}",'
                f'device="nvidia{gpu.index}",modelName="{gpu.spec.name}",hostname="{hostname}"'
                f',DCGM_FI_DRIVER_VERSION="{DRIVER_VERSION}"'
            )
            if gpu.backend:  # as DCGM exporter's Kubernetes mapping labels an allocated GPU
                labels += f',pod="{gpu.backend}"'
            if name == "DCGM_FI_DEV_XID_ERRORS":
                code = int(value)
                labels += f',err_code="{code}",err_msg="{XID_TEXT.get(code, "Unknown Error")}"'
            rows.append(f"{name}{{{labels}}} {_format_value(value)}\n")
        if rows:
            out.append(f"# HELP {name} {doc}\n# TYPE {name} {kind}\n")
            out.extend(rows)
    return "".join(out).encode("utf-8")
