"""Time from launch to the first full frame, in a 120x40 tmux pane.

A full frame: the overall state is known and every backend row shows a health value
(the first collection is on screen, not just the layout). Measured for the dashboard
alone (`inferdeck -c`, against a separately running `inferdeck sim`) and for
`inferdeck demo` (which also starts the simulated fleet in the same process). Prints the
best and the median of five runs of each: wall time, the CPU time the program's process
tree had used by then, and that of its main thread alone (imports, Textual, drawing; the
hub's thread collects meanwhile). Wall time swings with the machine's load; CPU time much
less. Target: under 0.5 s wall on an idle machine.

The project's modules are compiled to bytecode first, as an install leaves them: with
``PYTHONDONTWRITEBYTECODE`` set (CI, some shells) every run would otherwise compile ~140
modules from source again, which no operator's start-up pays. ``--no-compile`` measures
that case too.

The anchors, measured in the same run: the first frame of a Textual app that shows one
line (Textual's own floor on this machine), and the CPU that importing Textual and h11
(the scrape's HTTP protocol) takes in a fresh interpreter, which every first frame pays.
"""

from __future__ import annotations

import argparse
import compileall
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _tmux import INFERDECK, ROOT, Pane, cpu_seconds, main_thread_cpu_seconds
from idle_cpu import dashboard_config

RUNS = 5


def full_frame(screen: str) -> bool:
    """The header has a state and three backend rows say up/DOWN."""
    return (
        bool(re.search(r"\b(OK|DEGRADED|DOWN)\b", screen))
        and len(re.findall(r"(blue|green)-\d .*\b(up|DOWN)\b", screen)) >= 3
    )


def first_frame(command: str) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, main thread's CPU seconds) from launching ``command`` to
    its first full frame."""
    pane = Pane(command)
    try:
        wall = pane.wait_for(full_frame, timeout=30)
        return wall, cpu_seconds(pane.pid), main_thread_cpu_seconds(pane.pid)
    finally:
        pane.close()


ONE_LINE_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class OneLine(App):\n"
    "    def compose(self):\n"
    "        yield Static('one line OK')\n"
    "OneLine().run()\n"
)
"""Textual's floor: the smallest app with a first frame."""


def textual_floor() -> list[tuple[float, float, float]]:
    """First frames of `ONE_LINE_APP`, as `first_frame` measures them."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(ONE_LINE_APP)
    runs = []
    for _ in range(RUNS):
        pane = Pane(f"{sys.executable} {script.name}")
        try:
            wall = pane.wait_for(lambda screen: "one line OK" in screen, timeout=30)
            runs.append((wall, cpu_seconds(pane.pid), main_thread_cpu_seconds(pane.pid)))
        finally:
            pane.close()
    Path(script.name).unlink()
    return runs


def import_cpu(module: str, loaded: str = "") -> float:
    """CPU seconds importing ``module`` takes in a fresh interpreter that has imported
    ``loaded`` (comma-separated) already; the best of `RUNS`."""
    probe = (
        f"import time\n{'import ' + loaded if loaded else ''}\n"
        f"start = time.process_time()\nimport {module}\nprint(time.process_time() - start)"
    )
    runs = []
    for _ in range(RUNS):
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        runs.append(float(done.stdout))
    return min(runs)


def report(label: str, runs: list[tuple[float, float, float]]) -> None:
    """Print the best and the median of each figure, then each run."""
    figures = []
    for name, values in zip(("wall", "CPU", "main thread CPU"), zip(*runs, strict=True),
                            strict=True):  # fmt: skip
        figures.append(f"{name} {min(values):.2f}s / {statistics.median(values):.2f}s")
    print(f"  {label} (best / median of {len(runs)}): {'   '.join(figures)}")
    print(f"    runs (wall/CPU/main): {', '.join('/'.join(f'{v:.2f}' for v in r) for r in runs)}")


def compile_project() -> None:
    """Bytecode for every module of the project, as `pip install` writes it."""
    for package in ("tui", "widgets", "themes"):
        compileall.compile_dir(ROOT / package, quiet=1)


def main() -> None:
    """Measure the dashboard alone, then the demo."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-compile", action="store_true", help="leave the bytecode as it is (no compiling)"
    )
    args = parser.parse_args()
    if not args.no_compile:
        compile_project()
    compiled = "as it was found" if args.no_compile else "compiled first"
    print("time from launch to the first full frame (120x40 tmux; wall / CPU of the program;"
          f" bytecode {compiled})")  # fmt: skip
    sim = subprocess.Popen(
        [INFERDECK, "sim", "--port-base", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sim.stdout is not None
        config = dashboard_config(json.loads(sim.stdout.readline()))
        time.sleep(2)  # the simulator is serving
        alone = [first_frame(f"{INFERDECK} -c {config}") for _ in range(RUNS)]
    finally:
        sim.terminate()
        sim.wait(10)
    report("inferdeck -c (dashboard alone)", alone)
    report(
        "inferdeck demo (starts the sim too)",
        [first_frame(f"{INFERDECK} demo") for _ in range(RUNS)],
    )
    report("anchor: a one-line Textual app", textual_floor())
    textual = import_cpu("textual.app")
    h11 = import_cpu("h11", loaded="asyncio, ssl")
    print(f"  anchor: importing textual.app {textual:.2f}s CPU, h11 {h11:.3f}s CPU"
          " (asyncio and ssl loaded first; best of 5, a fresh interpreter each)")  # fmt: skip
    print("  (target: under 0.5 s wall on an idle machine; this machine's load: "
          f"{Path('/proc/loadavg').read_text().split()[0]})")  # fmt: skip


if __name__ == "__main__":
    main()
