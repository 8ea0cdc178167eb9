"""CPU and terminal bytes of the dashboard left alone for 30 s at 1 s refresh, 120x40 tmux.

Two figures, so the dashboard's own cost is not hidden in the simulator's:
- `inferdeck demo` (simulated fleet and load in the same process);
- `inferdeck -c` against a separately running `inferdeck sim` (the dashboard alone).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _tmux import INFERDECK, Pane, cpu_seconds

SECONDS = 30.0


def measure(command: str, label: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "terminal.bytes"
        pane = Pane(command)
        try:
            pane.wait_for(lambda s: "up" in s and "Backends" in s, timeout=30)
            time.sleep(3)  # let start-up work finish
            pane.pipe_to(out)
            cpu0, t0 = cpu_seconds(pane.pid), time.perf_counter()
            time.sleep(SECONDS)
            cpu1, t1 = cpu_seconds(pane.pid), time.perf_counter()
            written = out.stat().st_size if out.exists() else 0
        finally:
            pane.close()
    elapsed = t1 - t0
    print(
        f"{label:<42} CPU {100 * (cpu1 - cpu0) / elapsed:5.1f}% of one core   "
        f"terminal {written / elapsed / 1024:6.1f} KiB/s"
    )


def main() -> None:
    print(f"idle dashboard over {SECONDS:.0f}s, 1s refresh, 120x40 tmux")
    measure(f"{INFERDECK} demo", "inferdeck demo (includes the simulator)")
    sim = subprocess.Popen(
        [INFERDECK, "sim", "--port-base", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sim.stdout is not None
        description = json.loads(sim.stdout.readline())
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as cfg:
            cfg.write("environment: bench\nbackends:\n")
            for b in description["backends"]:
                cfg.write(f"  - {{name: {b['name']}, pool: {b['pool']}, url: '{b['url']}'}}\n")
            cfg.write(
                f"sources:\n  scrape:\n    gpu_exporters: ['{description['gpu_exporter']}']\n"
            )
        measure(f"{INFERDECK} -c {cfg.name}", "inferdeck -c (dashboard alone)")
    finally:
        sim.terminate()
        sim.wait(10)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
