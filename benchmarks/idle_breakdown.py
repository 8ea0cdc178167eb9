"""Where the idle dashboard's CPU goes: by thread, and the main thread's by piece of work.

The dashboard runs alone in a tmux pane at 120x40 (1 s refresh, recording off) against a
separately running `inferdeck sim`, as in ``idle_cpu.py``, with probes in its process:
after `WARMUP` seconds, for `SECONDS`, they add up the CPU time (``time.thread_time``) the
main thread spends in each piece of a refresh, and read each thread's CPU from /proc. The
probes cost a little themselves (a few microseconds a call), so the sum reads a little
above ``idle_cpu.py``'s figure.

Pieces of the main thread (Textual's event loop, where all UI work runs):
- the snapshot to the widgets: each widget's watcher (new lines, rows compared, changed
  rows marked for a repaint), by watcher;
- drawing: each widget's changed lines, by widget (Textual's ``StylesCache``);
- compositing the frame's changed lines, outside the widgets' own drawing;
- writing to the terminal (``widgets.terminal_cells``: only changed cells);
- the rest: the event loop, timers, messages.

It counts the lines the widgets draw afresh each second (the changed ones) and how many
widgets draw them, then runs ``textual_floor.py`` with as many panels and lines, alone
in a pane, for the least any Textual app changing that much costs here.
"""

from __future__ import annotations

import argparse
import collections
import inspect
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _tmux import INFERDECK, Pane

WARMUP = 10.0
"""Seconds after start before the probes count: start-up and the first layouts are over."""
SECONDS = 30.0


def _dashboard_ready(screen: str) -> bool:
    return "up" in screen and "Backends" in screen


def _thread_seconds() -> dict[str, float]:
    """CPU seconds so far of this process's threads, by OS name (summed per name)."""
    tick = os.sysconf("SC_CLK_TCK")
    own = str(os.getpid())
    totals: dict[str, float] = collections.defaultdict(float)
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            name = "main" if task.name == own else (task / "comm").read_text().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        totals[name] += (int(fields[11]) + int(fields[12])) / tick
    return totals


class Probes:
    """Counters of main-thread CPU seconds by piece, counting only while `counting`."""

    def __init__(self) -> None:
        self.counting = False
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.calls: dict[str, int] = collections.defaultdict(int)

    def add(self, key: str, spent: float) -> None:
        """Count ``spent`` seconds under ``key`` (while counting, on the main thread)."""
        if self.counting and threading.current_thread() is threading.main_thread():
            self.seconds[key] += spent
            self.calls[key] += 1

    def wrap(self, owner: Any, name: str, key: Callable[..., str] | str) -> None:
        """Time every call of ``owner.name`` (a sync or async function) under ``key``
        (a string, or a function of the call's arguments giving one)."""
        original = getattr(owner, name)
        keyed = key if callable(key) else (lambda *_: key)
        probes = self

        if inspect.iscoroutinefunction(original):

            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = time.thread_time()
                try:
                    return await original(*args, **kwargs)
                finally:
                    probes.add(keyed(*args), time.thread_time() - start)

            setattr(owner, name, timed_async)
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                probes.add(keyed(*args), time.thread_time() - start)

        setattr(owner, name, timed)


def run_probed(out: Path, argv: list[str]) -> None:
    """Run the dashboard (``argv``: its arguments) with probes; after `WARMUP` + `SECONDS`
    write what they counted to ``out`` as JSON."""
    from textual import reactive
    from textual._styles_cache import StylesCache
    from textual.app import App
    from textual.screen import Screen

    from tui.app import InferdeckApp
    from tui.commands.main import main

    probes = Probes()
    probes.wrap(Screen, "_compositor_refresh", "frame")
    probes.wrap(App, "_display", "terminal")
    probes.wrap(InferdeckApp, "on_snapshot_ready", "snapshot")
    probes.wrap(
        StylesCache, "render_widget", lambda _cache, widget, *_: f"draw {type(widget).__name__}"
    )
    original_line = StylesCache.render_line

    def counted_line(cache: StylesCache, styles: Any, *args: Any, **kwargs: Any) -> Any:
        # called for the lines a frame draws afresh (changed, or never drawn)
        widget = getattr(styles, "node", None)
        probes.add(f"line {type(widget).__name__} {id(widget)}", 0.0)
        return original_line(cache, styles, *args, **kwargs)

    StylesCache.render_line = counted_line  # type: ignore[method-assign,assignment]
    probes.wrap(
        reactive, "invoke_watcher",
        lambda obj, watcher, *_: f"watch {type(obj).__name__}.{getattr(watcher, '__name__', '?')}",
    )  # fmt: skip

    def window() -> None:
        time.sleep(WARMUP)
        before, start = _thread_seconds(), time.monotonic()
        probes.counting = True
        time.sleep(SECONDS)
        probes.counting = False
        after, elapsed = _thread_seconds(), time.monotonic() - start
        threads = {name: (after[name] - before.get(name, 0.0)) / elapsed for name in after}
        pieces = {key: spent / elapsed for key, spent in probes.seconds.items()}
        calls = {key: n / elapsed for key, n in probes.calls.items()}
        pieces = {key: share for key, share in pieces.items() if not key.startswith("line ")}
        out.write_text(json.dumps({"threads": threads, "pieces": pieces, "calls": calls}))

    threading.Thread(target=window, name="probe-window", daemon=True).start()
    sys.argv = ["inferdeck", *argv]
    main()


def _ms(share: float) -> str:
    return f"{share * 1000:6.2f}"


def report(figures: dict[str, dict[str, float]]) -> None:
    """Print the threads' shares and the main thread's pieces, in ms of CPU a second."""
    threads, pieces = figures["threads"], figures["pieces"]
    total = sum(threads.values())
    print(f"by thread, % of one core (whole process {100 * total:.2f}%):")
    named = {
        "main": "main thread (Textual's event loop: all UI work)",
        "inferdeck-hub": "inferdeck-hub (the sources' requests and timers)",
        "inferdeck-work": "inferdeck-work (parsing, windows, quantiles)",
    }
    for name, share in sorted(threads.items(), key=lambda item: -item[1]):
        if share > 0 or name in named:
            print(f"  {100 * share:5.2f}%  {named.get(name, name)}")
    main = threads.get("main", 0.0)
    watched = {k[6:]: v for k, v in pieces.items() if k.startswith("watch ")}
    drawn = {k[5:]: v for k, v in pieces.items() if k.startswith("draw ")}
    frame, terminal = pieces.get("frame", 0.0), pieces.get("terminal", 0.0)
    snapshot = pieces.get("snapshot", 0.0)
    drawing = sum(drawn.values())
    compositing = max(frame - drawing - terminal, 0.0)
    rest = max(main - snapshot - frame, 0.0)
    print("the main thread, ms of CPU a second (10 ms a second is 1% of one core):")
    print(f"  {_ms(main)}  in all")
    print(f"  {_ms(snapshot)}  the snapshot to the widgets (their watchers: lines made, rows"
          " compared, changed rows marked)")  # fmt: skip
    for name, share in sorted(watched.items(), key=lambda item: -item[1])[:8]:
        count = figures["calls"].get(f"watch {name}", 0.0)
        print(f"          {_ms(share)}  {name} ({count:.0f} a second)")
    print(f"  {_ms(drawing)}  drawing the changed lines, by widget")
    for name, share in sorted(drawn.items(), key=lambda item: -item[1])[:8]:
        print(f"          {_ms(share)}  {name}")
    print(f"  {_ms(compositing)}  compositing the frame (Textual, outside the widgets)")
    print(f"  {_ms(terminal)}  writing the changed cells to the terminal")
    print(f"  {_ms(rest)}  the rest: event loop, timers, messages")
    print(f"frames a second: {figures['calls'].get('frame', 0.0):.1f}", flush=True)
    panels, lines = drawn_lines(figures["calls"])
    print(f"lines drawn a second (changed): {lines:.1f}, by {panels} widgets", flush=True)


def drawn_lines(calls: dict[str, float]) -> tuple[int, float]:
    """(widgets that drew a line at least every other second, lines drawn a second)."""
    per_widget = {key: n for key, n in calls.items() if key.startswith("line ")}
    return sum(n >= 0.5 for n in per_widget.values()), sum(per_widget.values())


def textual_floor(panels: int, lines: float, main_pct: float, total_pct: float) -> None:
    """Measure `textual_floor.py` with the dashboard's widgets and changed lines (in a pane
    of its own, as `idle_cpu.py` measures), and print it beside the dashboard's figures."""
    from idle_cpu import measure

    floor = Path(__file__).with_name("textual_floor.py")
    got = measure(
        f"{sys.executable} {floor} --panels {panels} --lines {round(lines)}",
        f"textual_floor.py --panels {panels} --lines {round(lines)}",
        ready=lambda screen: "line 0" in screen,
    )
    print(
        f"Textual's floor for this much change (a line-API app, {panels} panels, "
        f"{round(lines)} lines rewritten a second, nothing collected): "
        f"{got['cpu_pct']:.2f}% of one core; the dashboard: main thread {main_pct:.2f}%, "
        f"whole process {total_pct:.2f}%",
        flush=True,
    )


def main() -> None:
    """Run the probed dashboard against a simulator and print where its CPU went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--big", action="store_true", help="32 backends and 64 GPUs (idle_cpu.py's scaling fleet)"
    )
    args, rest = parser.parse_known_args()
    if args.probe is not None:
        run_probed(args.probe, rest)
        return
    from idle_cpu import BIG_FLEET, dashboard_config

    fleet = BIG_FLEET if args.big else ()
    print(f"where the idle dashboard's CPU goes: 120x40, 1 s refresh,"
          f" {'32 backends / 64 GPUs' if args.big else '3 backends / 4 GPUs'},"
          f" recording off, {SECONDS:.0f} s after {WARMUP:.0f} s")  # fmt: skip
    sim = subprocess.Popen(
        [INFERDECK, "sim", "--port-base", "0", *fleet], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sim.stdout is not None
        config = dashboard_config(json.loads(sim.stdout.readline()), recording=False)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "breakdown.json"
            pane = Pane(f"{sys.executable} {Path(__file__).resolve()} --probe {out} -c {config}")
            try:
                pane.wait_for(_dashboard_ready, timeout=30)
                deadline = time.monotonic() + WARMUP + SECONDS + 30
                while not out.exists() and time.monotonic() < deadline:
                    time.sleep(0.5)
                time.sleep(0.5)  # written at once, but let the writer finish
                figures = json.loads(out.read_text())
            finally:
                pane.close()
    finally:
        sim.terminate()
        sim.wait(10)
    report(figures)
    panels, lines = drawn_lines(figures["calls"])
    threads = figures["threads"]
    textual_floor(panels, lines, 100 * threads.get("main", 0.0), 100 * sum(threads.values()))


if __name__ == "__main__":
    main()
