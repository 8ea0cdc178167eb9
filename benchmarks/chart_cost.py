"""What one latency chart costs per redraw, for each way of drawing it.

Each renderer draws the same TTFT history (p50 and p95, 300 points, a new point per
redraw) at 34x18 cells, the size of one overview chart at 120x40, headless. Measured: CPU
per redraw (median of 60) of what the compositor asks for after a new point — the widget's
lines — and how many of its rows changed. Renderers:
- ours: `widgets.chart.LatencyChart` (braille p95, dotted p50, SLO rule, line API, only
  changed rows repainted) — the one the dashboard uses;
- plotext through textual-plotext (what the dashboard used before), when installed;
- Textual's own `Sparkline` (one series only, no axes, rescales to its data).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Sparkline

from themes import SEMANTIC_DEFAULTS
from widgets.chart import LatencyChart

SIZE = (34, 18)
POINTS, RUNS = 300, 60
LIMIT = 2.0


def history(n: int, seed: int = 3) -> tuple[list[float], list[float]]:
    """p50 and p95 of a quiet fleet: ~30/50 ms with noise."""
    rng = random.Random(seed)
    p50 = [0.03 + rng.gauss(0, 0.003) for _ in range(n)]
    return p50, [v * 1.7 + abs(rng.gauss(0, 0.004)) for v in p50]


def plotext_feed() -> tuple[Widget, Callable[[list[float], list[float]], None]] | None:
    """A plotext chart fed like the old LatencyChart (replotted from scratch each paint)."""
    try:
        from textual_plotext import PlotextPlot
    except ImportError:
        return None
    plot = PlotextPlot()

    def feed(p50: list[float], p95: list[float]) -> None:
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("TTFT (s)")
        xs = list(range(-len(p95) + 1, 1))
        plt.plot(xs, p50, label="p50", marker="braille")
        plt.plot(xs, p95, label="p95", marker="braille")
        plt.hline(LIMIT)
        plt.ylim(0, max([LIMIT * 1.15, *p95]))
        plt.xticks([])
        plot.refresh()

    return plot, feed


def ours_feed() -> tuple[Widget, Callable[[list[float], list[float]], None]]:
    chart = LatencyChart("TTFT")
    return chart, lambda p50, p95: chart.show(tuple(p50), tuple(p95), LIMIT)


def sparkline_feed() -> tuple[Widget, Callable[[list[float], list[float]], None]]:
    spark = Sparkline([])

    def feed(p50: list[float], p95: list[float]) -> None:
        spark.data = p95

    return spark, feed


class Bench(App[None]):
    """Hosts one chart at the measured size."""

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The dashboard's semantic colours (the chart's CSS uses them)."""
        return dict(SEMANTIC_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield self.widget


async def measure(name: str, made: tuple[Widget, Callable] | None) -> None:
    """Print the median CPU per redraw and the rows that changed."""
    if made is None:
        print(f"{name:<34} not installed")
        return
    widget, feed = made
    widget.styles.width, widget.styles.height = SIZE
    p50, p95 = history(POINTS + RUNS + 1)
    app = Bench(widget)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        costs, rows_changed = [], []
        for i in range(RUNS):
            window = slice(i, i + POINTS)
            before = [s.text for s in widget.render_lines(Region(0, 0, *widget.outer_size))]
            start = time.process_time()
            feed(p50[window], p95[window])
            lines = widget._styles_cache.render_widget(widget, Region(0, 0, *widget.outer_size))
            costs.append(time.process_time() - start)
            rows_changed.append(sum(a != b.text for a, b in zip(before, lines, strict=False)))
            await pilot.pause()
        ms = statistics.median(costs) * 1000
        print(
            f"{name:<34} {ms:7.2f} ms per redraw   rows changed per point "
            f"{statistics.median(rows_changed):4.0f} of {SIZE[1]}"
            f"   at 1 s refresh: {ms / 10:5.2f}% of a core per chart",
            flush=True,
        )


async def main() -> None:
    print(f"one latency chart, {SIZE[0]}x{SIZE[1]} cells, {POINTS} points, a new point a redraw")
    await measure("ours (braille, line API) [in use]", ours_feed())
    await measure("plotext via textual-plotext", plotext_feed())
    await measure("textual Sparkline (p95 only)", sparkline_feed())


if __name__ == "__main__":
    asyncio.run(main())
