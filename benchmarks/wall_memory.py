"""Memory of the NOC wall over a long run: does it stay flat?

Runs `inferdeck --wall` in a tmux pane (160x48) against a separately running
`inferdeck sim`, cycling its four views every 5 seconds (so an hour is 720 view changes),
and crashes then heals a backend every ``--incident-every`` minutes so that the critical
alert holds the wall and lets it go again. Prints the resident memory of the wall's
process tree once a minute, then the growth from the first full minute to the end.

    python benchmarks/wall_memory.py --minutes 60
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from _tmux import INFERDECK, Pane, rss_mb


def wall_config(description: dict[str, object], folder: Path) -> Path:
    """A config watching the simulator, with a fast wall cycle."""
    path = folder / "wall.yaml"
    lines = ["environment: wall-bench", f"state_dir: {folder}", "backends:"]
    for b in description["backends"]:  # type: ignore[attr-defined]
        lines.append(f"  - {{name: {b['name']}, pool: {b['pool']}, url: '{b['url']}'}}")
    lines += [
        "sources:",
        "  scrape:",
        f"    gpu_exporters: ['{description['gpu_exporter']}']",
        "wall:",
        "  views: [fleet, backends, gpus, alerts]",
        "  cycle_s: 5",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def fault(control: str, backend: str, kind: str) -> None:
    """Inject (or clear) a fault on the simulator."""
    body = {"backend": backend, "kind": kind, "value": None}
    httpx.post(control.rstrip("/") + "/faults", json=body, timeout=10.0).raise_for_status()


def main() -> None:
    """Run the wall for ``--minutes`` and print its RSS each minute."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60, help="how long (default 60)")
    parser.add_argument(
        "--incident-every", type=int, default=10, metavar="MINUTES",
        help="crash blue-0 for a minute this often (default 10; 0: never)",
    )  # fmt: skip
    args = parser.parse_args()
    sim = subprocess.Popen([INFERDECK, "sim", "--port-base", "0"], stdout=subprocess.PIPE,
                           text=True)  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="inferdeck-wall-"))
    try:
        assert sim.stdout is not None
        description = json.loads(sim.stdout.readline())
        control = str(description["control"])
        config = wall_config(description, folder)
        pane = Pane(f"{INFERDECK} -c {config} --wall", width=160, height=48)
        try:
            pane.wait_for(lambda s: "VIEW" in s and "Backends up" in s, timeout=60)
            print(
                "wall at 160x48, 4 views every 5s, 1s refresh; RSS of the wall's tree", flush=True
            )
            samples: list[float] = []
            start = time.monotonic()
            for minute in range(args.minutes + 1):
                if minute:
                    time.sleep(max(0.0, start + 60 * minute - time.monotonic()))
                every = args.incident_every
                crashed = bool(every) and minute % every == every - 1
                if bool(every) and minute % every in (every - 1, 0) and minute:
                    fault(control, "blue-0", "crash" if crashed else "clear")
                rss = rss_mb(pane.pid)
                samples.append(rss)
                held = "held (blue-0 crashed)" if "INCIDENT" in pane.screen() else ""
                print(f"minute {minute:3d}  RSS {rss:7.1f} MB  {held}", flush=True)
        finally:
            pane.close()
    finally:
        sim.terminate()
        sim.wait(10)
    if len(samples) > 2:
        first, last = samples[1], samples[-1]
        per_hour = (last - first) / max(len(samples) - 2, 1) * 60
        print(
            f"from minute 1 to {len(samples) - 1}: {last - first:+.1f} MB "
            f"({per_hour:+.1f} MB per hour at that rate); peak {max(samples):.1f} MB"
        )


if __name__ == "__main__":
    main()
