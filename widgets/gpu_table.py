"""The GPUs screen's table: every GPU across hosts, its history and its processes."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from tui.analysis.relations import backends_on
from tui.analysis.thresholds import GPU_LIMITS
from tui.model import FleetSnapshot, Gpu
from widgets.format import DASH, known, number, safe, spark
from widgets.levels import level, marked
from widgets.table import SnapshotTable
from widgets.text import outside


class GpuTable(SnapshotTable):
    """A row per GPU: host, index, the backend on it, model, utilisation, memory,
    temperature, power, clock."""

    TITLE = "GPUs"
    SOURCES = ("scrape", "prometheus", "nvml")
    COLUMNS = (
        ("gpu", "GPU"),
        ("backend", "Backend"),
        ("name", "Model"),
        ("util", "Util"),
        ("history", "Util, last 2 min"),
        ("memory", "Memory"),
        ("temp", "Temp"),
        ("temp_history", "Temp, last 2 min"),
        ("power", "Power"),
        ("clock", "SM clock"),
        ("processes", "Processes"),
    )
    HISTORY = 24
    DROPPED_FIRST = ("processes", "clock", "temp_history", "power", "history", "name")
    """Given up in this order on a narrow terminal: GPU, Util, Memory and Temp stay."""

    def rows_of(self, snapshot: FleetSnapshot) -> Sequence[tuple[str, list[Text]]]:
        """One row per GPU, by host then index."""
        return [(gpu.key, self.cells(gpu, snapshot)) for gpu in snapshot.gpus]

    def subtitle(self, snapshot: FleetSnapshot) -> str:
        """How many GPUs on how many hosts."""
        hosts = {g.host for g in snapshot.gpus}
        return f"{len(snapshot.gpus)} GPUs on {len(hosts)} host{'s' * (len(hosts) != 1)}"

    def cells(self, gpu: Gpu, snapshot: FleetSnapshot) -> list[Text]:
        """The row of one GPU."""
        dim = self.style("dim")
        util_history = snapshot.history.get(f"gpu.{gpu.key}.util", ())
        temp_history = snapshot.history.get(f"gpu.{gpu.key}.temp", ())
        util_level = level(gpu.util_pct, GPU_LIMITS.util_saturated_pct)
        temp_level = level(gpu.temp_c, GPU_LIMITS.temperature_c)
        mem_level = level(gpu.mem_ratio, GPU_LIMITS.memory_ratio)
        memory = DASH
        if gpu.mem_used_mib is not None and gpu.mem_total_mib:
            memory = f"{gpu.mem_used_mib / 1024:.1f}/{gpu.mem_total_mib / 1024:.0f} GiB"
        power = DASH
        if known(gpu.power_w):
            power = f"{number(gpu.power_w)} W"
            if known(gpu.power_limit_w):
                power = f"{number(gpu.power_w)}/{number(gpu.power_limit_w)} W"
            elif "power_limit" in gpu.unexported:
                power = f"{number(gpu.power_w)} W, limit not exported"
        processes = ", ".join(
            f"{p.pid} {safe(p.name)}" + (f" [{safe(p.container)}]" if p.container else "")
            for p in gpu.processes
        )
        runs = ", ".join(b.name for b in backends_on(gpu, snapshot))
        return [
            Text(f"{safe(gpu.host)}/{gpu.index}"),
            outside(runs or DASH, "" if runs else dim, width=32),
            Text(safe(gpu.name) or DASH, dim),
            Text(
                marked(f"{gpu.util_pct:.0f}%", util_level) if known(gpu.util_pct) else DASH,
                self.style(util_level),
            ),
            Text(spark(util_history, self.HISTORY, 0, 100), self.style("ok")),
            Text(marked(memory, mem_level), self.style(mem_level)),
            Text(
                marked(f"{gpu.temp_c:.0f}°C", temp_level) if known(gpu.temp_c) else DASH,
                self.style(temp_level),
            ),
            Text(spark(temp_history, self.HISTORY, 20, 95), self.style(temp_level)),
            Text(power, dim),
            Text(f"{gpu.sm_clock_mhz:.0f} MHz" if known(gpu.sm_clock_mhz) else DASH, dim),
            Text(processes or DASH, dim),
        ]
