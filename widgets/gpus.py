"""The GPUs panel: per GPU utilisation bar, memory, temperature, power and a short history."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tui.analysis.relations import backends_on
from tui.analysis.thresholds import GPU_LIMITS
from tui.model import FleetSnapshot, Gpu
from widgets.format import DASH, known, number, safe, spark
from widgets.levels import level, marked
from widgets.lines import bar, grid
from widgets.panel import Panel
from widgets.text import outside


class GpuPanel(Panel):
    """One row per GPU; colours follow the seed's GPU alert thresholds.

    Utilisation above the saturation mark, memory above 90% and temperature above 80 °C
    are drawn as breaches. The history column is dropped when the panel is narrow.
    """

    TITLE = "GPUs"
    SOURCES = ("scrape", "nvml", "prometheus")
    HISTORY_WIDTH = 16
    MAX_ROWS = 8
    """More GPUs than this are summarised in one line; the GPUs screen lists them all."""

    def lines(self, width: int) -> list[Text]:
        """One line per GPU (or why there are none), then problems or a summary."""
        snapshot = self.snapshot
        if snapshot is None:
            return [Text("no GPU data yet", self.style("dim"))]
        if not snapshot.gpus:
            if snapshot.gpu_problems:  # say why, never an unexplained empty panel
                return list(self._problems(snapshot).split())
            return [Text("no GPUs reported", self.style("dim"))]
        wide = width >= 64
        mapped = any(backends_on(g, snapshot) for g in snapshot.gpus)
        hosts = {g.host for g in snapshot.gpus}
        shown = snapshot.gpus if len(snapshot.gpus) <= self.MAX_ROWS else self._busiest(snapshot)
        rows: list[list[Text]] = []
        for gpu in shown:
            label = f"{gpu.index}" if len(hosts) == 1 else f"{safe(gpu.host)[:10]}/{gpu.index}"
            row = [Text(label, self.style("dim"))]
            if mapped:  # which backend runs on it, when the GPU readers say
                names = ",".join(b.name for b in backends_on(gpu, snapshot))
                style = self.style("dim") if not names else ""
                row.append(outside(names or "idle", style, width=10))
            row += [
                Text(),  # the bar: drawn once the other columns are measured
                self._util(gpu),
                self._memory(gpu),
                self._temperature(gpu),
            ]
            if wide:
                history = snapshot.history.get(f"gpu.{gpu.key}.util", ())
                row.append(Text(_power(gpu), self.style("dim")))
                row.append(Text(spark(history, self.HISTORY_WIDTH, 0, 100), self.style("ok")))
            rows.append(row)
        b = 2 if mapped else 1  # the bar's column
        justify = (
            ["left"] * (b + 1) + ["right", "right", "right"] + (["right", "left"] if wide else [])
        )
        others = [max(r[i].cell_len for r in rows) for i in range(len(justify))]
        if mapped:
            others[1] = min(others[1], 10)
        others[b] = 0
        others[b + 1] = max(others[b + 1], 4)
        bar_width = max(width - sum(others) - (len(justify) - 1), 6)
        for gpu, row in zip(shown, rows, strict=True):
            row[b] = self._bar(gpu, bar_width)
        min_widths = (0, 0, 6, 4) if mapped else (0, 6, 4)
        lines = grid(rows, justify, width, stretch=b, min_widths=min_widths)
        hidden = len(snapshot.gpus) - len(shown)
        if hidden <= 0:
            return lines + (list(self._problems(snapshot).split()) if snapshot.gpu_problems else [])
        shown_ids = {id(g) for g in shown}  # by identity: comparing GPUs field by field
        rest = [g for g in snapshot.gpus if id(g) not in shown_ids]  # was most of this
        utils = [g.util_pct for g in rest if known(g.util_pct)]
        temps = [g.temp_c for g in rest if known(g.temp_c)]
        summary = f"+{hidden} more"
        if utils:
            summary += f" · avg util {sum(utils) / len(utils):.0f}%"  # type: ignore[arg-type]
        if temps:
            summary += f" · max temp {max(temps):.0f}°C"  # type: ignore[type-var]
        return [*lines, Text(summary, self.style("dim"))]

    def _problems(self, snapshot: FleetSnapshot) -> Text:
        """One line per GPU reader that failed (an exporter that did not answer), and why."""
        lines = [outside(problem, self.style("breach")) for problem in snapshot.gpu_problems]
        return Text("\n").join(lines)

    def _busiest(self, snapshot: FleetSnapshot) -> tuple[Gpu, ...]:
        """The GPUs most worth a row: hottest and busiest first, then shown in index order."""
        ranked = sorted(
            snapshot.gpus,
            key=lambda g: -(g.temp_c or 0) - (g.util_pct or 0),
        )[: self.MAX_ROWS - 1]
        picked = {id(g) for g in ranked}
        return tuple(g for g in snapshot.gpus if id(g) in picked)

    def _bar(self, gpu: Gpu, width: int) -> Text:
        util = gpu.util_pct if known(gpu.util_pct) else 0.0
        lvl = level(util, GPU_LIMITS.util_saturated_pct)
        empty = Style(bgcolor=self.style("empty").color)
        return bar((util or 0.0) / 100, width, self.style(lvl), empty)

    def _util(self, gpu: Gpu) -> Text:
        if not known(gpu.util_pct):
            return Text(DASH, self.style("dim"))
        assert gpu.util_pct is not None
        lvl = level(gpu.util_pct, GPU_LIMITS.util_saturated_pct)
        return Text(marked(f"{gpu.util_pct:.0f}%", lvl), self.style(lvl))

    def _memory(self, gpu: Gpu) -> Text:
        ratio = gpu.mem_ratio
        if ratio is None or gpu.mem_used_mib is None or gpu.mem_total_mib is None:
            return Text(DASH, self.style("dim"))
        text = f"{gpu.mem_used_mib / 1024:.0f}/{gpu.mem_total_mib / 1024:.0f}G"
        lvl = level(ratio, GPU_LIMITS.memory_ratio)
        return Text(marked(text, lvl), self.style(lvl))

    def _temperature(self, gpu: Gpu) -> Text:
        if not known(gpu.temp_c):
            return Text(DASH, self.style("dim"))
        assert gpu.temp_c is not None
        lvl = level(gpu.temp_c, GPU_LIMITS.temperature_c)
        return Text(marked(f"{gpu.temp_c:.0f}°C", lvl), self.style(lvl))


def _power(gpu: Gpu) -> str:
    if not known(gpu.power_w):
        return DASH
    if known(gpu.power_limit_w):
        return f"{number(gpu.power_w)}/{number(gpu.power_limit_w)}W"
    return f"{number(gpu.power_w)}W"
