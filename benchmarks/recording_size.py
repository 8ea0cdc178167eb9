"""What the flight recorder costs: bytes per hour and per day, and CPU per frame.

For the demo fleet (3 backends, 4 GPUs) and a big one (32 backends, 64 GPUs), a simulated
fleet runs in virtual time, one snapshot a second (the dashboard's default refresh), and
every snapshot is recorded exactly as the dashboard does it (`RecorderThread.write`: alert
changes, the frame). Measured over the run, after a warm-up that fills the charts'
history:
- keyframe and delta frame sizes, and from them bytes per hour and MB per day with the
  default limits (a keyframe every 900 frames);
- CPU time per frame (process time of the writing only, not of the simulation), and the
  share of one core that is at a 1 s refresh.
Targets (issue 13): under 20 MB/day for the demo fleet; under 0.2% of a core.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui.hub import Hub
from tui.recording.format import CONTINUES, KEYFRAME
from tui.recording.reader import open_recording
from tui.recording.recorder import RecorderThread
from tui.recording.writer import Limits, RecordingWriter
from tui.sim.config import SimConfig
from tui.sim.fleet import SimFleet
from tui.sources.simulated import VirtualClock, VirtualFleetSource

FLEETS = [
    ("demo: 3 backends, 4 GPUs", SimConfig(), 30, 330),
    ("big: 32 backends, 64 GPUs", SimConfig(pools={"blue": 16, "green": 16}, gpus=64), 10, 40),
]
"""(name, fleet, warm-up seconds, recorded seconds). After the warm-up the charts' history
is filled to its 300 points with noisy values near the measured ones (full-precision
floats, as measured figures are), so keyframes are as big as a dashboard's after 5 min."""


def measure(config: SimConfig, warmup: int, seconds: int) -> dict[str, float]:
    """Record ``seconds`` of the fleet after ``warmup``; sizes and CPU per frame."""
    clock = VirtualClock(1_795_000_000.0)
    source = VirtualFleetSource(SimFleet(config), clock)
    hub = Hub([source], environment="demo", clock=clock)
    for _ in range(warmup):
        hub.record(source, source.poll())
    noise = random.Random(7)
    older = {}
    for name, values in hub.history.frozen().items():
        known = [v for v in values if v == v] or [1.0]
        level = statistics.mean(known)
        older[name] = [level * (1 + noise.gauss(0, 0.05)) for _ in range(300 - len(values))]
    hub.history.prepend(older)
    limits = Limits()
    with tempfile.TemporaryDirectory() as tmp:
        writer = RecordingWriter(Path(tmp), limits, environment="demo")
        recorder = RecorderThread(writer)
        cpu: list[float] = []
        for _ in range(seconds):
            snapshot = hub.record(source, source.poll())
            started = time.process_time()
            recorder.write(snapshot)
            cpu.append(time.process_time() - started)
        writer.close()
        heads = open_recording(Path(tmp)).segments[0].heads
    keyframes = [h.length + 17 for h in heads if h.kind == KEYFRAME]
    deltas = [h.length + 17 for h in heads if h.kind == CONTINUES]
    per_key = statistics.mean(keyframes)
    per_delta = statistics.mean(deltas)
    if not deltas:
        deltas = keyframes
    keys_per_hour = 3600 / limits.keyframe_every
    per_hour = keys_per_hour * per_key + (3600 - keys_per_hour) * per_delta
    per_frame_ms = 1000 * statistics.mean(cpu[10:])
    return {
        "keyframe_bytes": per_key,
        "delta_bytes": per_delta,
        "mb_per_hour": per_hour / 1e6,
        "mb_per_day": 24 * per_hour / 1e6,
        "cpu_ms_per_frame": per_frame_ms,
        "core_pct_at_1s": per_frame_ms / 10.0,
    }


def main() -> int:
    """Print one row per fleet."""
    print(f"{'fleet':<28} {'keyframe':>9} {'delta':>7} {'MB/hour':>8} {'MB/day':>7} "
          f"{'CPU ms/frame':>13} {'% core @1s':>11}", flush=True)  # fmt: skip
    for name, config, warmup, seconds in FLEETS:
        r = measure(config, warmup, seconds)
        print(f"{name:<28} {r['keyframe_bytes']:>9.0f} {r['delta_bytes']:>7.0f} "
              f"{r['mb_per_hour']:>8.2f} {r['mb_per_day']:>7.1f} {r['cpu_ms_per_frame']:>13.2f} "
              f"{r['core_pct_at_1s']:>11.3f}", flush=True)  # fmt: skip
    print("targets: demo < 20 MB/day; < 0.2% of a core at 1 s refresh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
