"""Memory of the dashboard over time: RSS every minute, and its growth per hour.

Runs `inferdeck -c` (the dashboard alone) in a 120x40 tmux pane against a separately
running `inferdeck sim`, as an operator would leave it on a wall screen, for --minutes
(default 60), and prints the resident memory of the dashboard's process tree once a
minute. Growth per hour is fitted (least squares) over the minutes after the first, when
start-up and the first minute of chart history are behind it. Targets: RSS <= 60 MB
after the first minute, growth < 1 MB per hour.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from _tmux import INFERDECK, Pane, rss_mb
from idle_cpu import dashboard_config, inferdeck_ready

HISTORY_FULL_MIN = 10
"""By then the 300-point chart history (5 minutes at 1 s) has long been full."""


def growth_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minutes, MB) points, in MB per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (m - mean_m) for t, m in points)
    return 60.0 * cov / var if var else 0.0


def main() -> None:
    """Run the dashboard for --minutes and print its RSS every minute."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60, help="how long to run (default 60)")
    parser.add_argument("--gpus", type=int, default=4)
    parser.add_argument("--pools", default="blue=2,green=1")
    args = parser.parse_args()
    sim = subprocess.Popen(
        [INFERDECK, "sim", "--port-base", "0", "--pools", args.pools, "--gpus", str(args.gpus)],
        stdout=subprocess.PIPE,
        text=True,
    )
    samples: list[tuple[float, float]] = []
    try:
        assert sim.stdout is not None
        config = dashboard_config(json.loads(sim.stdout.readline()))
        pane = Pane(f"{INFERDECK} -c {config}")
        try:
            pane.wait_for(inferdeck_ready, timeout=30)
            start = time.monotonic()
            print(f"inferdeck -c against `inferdeck sim --pools {args.pools} --gpus {args.gpus}`,"
                  f" 120x40 tmux, RSS of the dashboard's process tree", flush=True)  # fmt: skip
            for minute in range(args.minutes + 1):
                time.sleep(max(0.0, start + 60 * minute - time.monotonic()))
                rss = rss_mb(pane.pid)
                samples.append((float(minute), rss))
                print(f"  minute {minute:>3}: RSS {rss:6.1f} MB", flush=True)
        finally:
            pane.close()
    finally:
        sim.terminate()
        sim.wait(10)
    after_first = [s for s in samples if s[0] >= 1]
    worst = max((m for _, m in after_first), default=float("nan"))
    at = dict(samples)
    print("RSS at minute " + ", ".join(f"{m}: {at[m]:.1f} MB" for m in (1, 10, 60) if m in at))
    print(f"RSS after the first minute: max {worst:.1f} MB (target <= 60 MB)")
    print(f"growth after the first minute: {growth_per_hour(after_first):+.2f} MB per hour"
          " (target < 1 MB/h)")  # fmt: skip
    full = [s for s in samples if s[0] >= HISTORY_FULL_MIN]
    if len(full) > 1:
        print(f"growth once the chart history is full (minute {HISTORY_FULL_MIN} on): "
              f"{growth_per_hour(full):+.2f} MB per hour")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
