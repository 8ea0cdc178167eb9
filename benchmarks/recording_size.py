"""What the flight recorder costs: bytes per hour and per day, and CPU per frame.

For the demo fleet (3 backends, 4 GPUs) and a big one (32 backends, 64 GPUs), a simulated
fleet runs in virtual time, one snapshot a second (the dashboard's default refresh), and
every snapshot is recorded exactly as the dashboard does it (`RecorderThread.write`: alert
changes, the frame). Measured over the run, after a warm-up that fills the charts'
history:
- keyframe and delta frame sizes, and from them bytes per hour and MB per day with the
  default limits (a keyframe every 900 frames);
- CPU time per frame (process time of the writing only, not of the simulation), and the
  share of one core that is at a 1 s refresh;
- what a replay pays: decoding the next frame (a player stepping on), and the worst seek
  (the frame just before a keyframe: every frame of the group decoded).
Then the recorder as a dashboard runs it ("live"): `inferdeck sim` on loopback, its demo
fleet scraped by the hub once a second for 60 s with the real clock (so every moment in a
snapshot has its own milliseconds), the recorder in its own thread with the audit log and
incidents database followed: the same sizes and MB per day, and CPU as that thread's own
time per frame.
Targets (issue 13): under 20 MB/day for the demo fleet; under 0.2% of a core.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _tmux import INFERDECK
from idle_cpu import dashboard_config

from tui.hub import Hub
from tui.recording.config import Limits
from tui.recording.format import CONTINUES, HEAD, KEYFRAME, BlockHead
from tui.recording.reader import open_recording
from tui.recording.recorder import RecorderThread
from tui.recording.writer import RecordingWriter
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


def sizes(
    heads: list[BlockHead], limits: Limits, *, settle: int = 0, keyframe: float | None = None
) -> dict[str, float]:
    """Mean keyframe and delta frame sizes (head included) of a segment's blocks, and
    from them bytes per hour and MB per day at one frame a second with ``limits``;
    ``settle``: delta frames left out at the start, ``keyframe``: the keyframe size to
    count instead of the recording's own."""
    keyframes = [h.length + HEAD.size for h in heads if h.kind == KEYFRAME]
    deltas = [h.length + HEAD.size for h in heads if h.kind == CONTINUES][settle:] or keyframes
    per_key = statistics.mean(keyframes) if keyframe is None else keyframe
    per_delta = statistics.mean(deltas)
    keys_per_hour = 3600 / limits.keyframe_every
    per_hour = keys_per_hour * per_key + (3600 - keys_per_hour) * per_delta
    return {
        "keyframe_bytes": per_key,
        "delta_bytes": per_delta,
        "mb_per_hour": per_hour / 1e6,
        "mb_per_day": 24 * per_hour / 1e6,
    }


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
        writer.history_moved_on = hub.history.advanced  # as `RecorderThread.follow` does
        cpu: list[float] = []
        for _ in range(seconds):
            snapshot = hub.record(source, source.poll())
            started = time.process_time()
            recorder.write(snapshot)
            cpu.append(time.process_time() - started)
        writer.close()
        recording = open_recording(Path(tmp))
        heads = recording.segments[0].heads
        last = len(recording) - 1
        frames_decoded = last - 20  # one group: a keyframe, then what changed
        started = time.process_time()
        recording.snapshot_json(last - 20)  # a seek: every frame from the keyframe
        seek_ms = 1000 * (time.process_time() - started)
        started = time.process_time()
        for index in range(last - 19, last + 1):  # stepping on: one frame at a time
            recording.snapshot_json(index)
        step_ms = 1000 * (time.process_time() - started) / 20
        recording.close()
    per_frame_ms = 1000 * statistics.mean(cpu[10:])
    return {
        **sizes(heads, limits),
        "cpu_ms_per_frame": per_frame_ms,
        "core_pct_at_1s": per_frame_ms / 10.0,
        "step_ms": step_ms,
        "seek_ms_per_frame": seek_ms / max(frames_decoded, 1),
        "worst_seek_s": seek_ms / max(frames_decoded, 1) * (limits.keyframe_every - 1) / 1000,
    }


SETTLE_FRAMES = 5
"""Frames of the live run not counted: sources connecting, the fleet appearing."""


def measure_live(seconds: float = 60.0) -> dict[str, float]:
    """The recorder of a dashboard scraping ``inferdeck sim`` for ``seconds`` with the
    real clock: sizes per frame and per day (as `sizes`), CPU per frame."""
    from tui.config import load_config
    from tui.recording.recorder import recorder_for
    from tui.wiring import sources_for

    sim = subprocess.Popen([INFERDECK, "sim", "--port-base", "0"], stdout=subprocess.PIPE,
                           text=True)  # fmt: skip
    try:
        assert sim.stdout is not None
        config = load_config(dashboard_config(json.loads(sim.stdout.readline())))
        hub = Hub(sources_for(config), environment=config.environment, refresh_s=1.0)
        recorder = recorder_for(config)
        assert recorder is not None
        recorder.follow(hub)
        recorder.start()
        hub.start()
        time.sleep(seconds)
        hub.stop()
        recorder.stop()
    finally:
        sim.terminate()
        sim.wait(10)
    per_frame_ms = 1000 * recorder.cpu_s / max(recorder.frames, 1)
    assert recorder.writer.path is not None
    recording = open_recording(recorder.writer.path)
    heads = [h for segment in recording.segments for h in segment.heads]
    # The run's own keyframe is its first frame, before any source answered: the size
    # of a keyframe is that of its last frame written as one (charts as full as 60 s fill).
    with tempfile.TemporaryDirectory() as tmp:
        again = RecordingWriter(Path(tmp), recorder.writer.limits)
        again.frame(recording.snapshot(len(recording) - 1))
        again.close()
        written = open_recording(Path(tmp))
        keyframe = float(written.segments[0].heads[0].length + HEAD.size)
        written.close()
    recording.close()
    return {
        # the first frames: sources connecting, the fleet appearing (a structural diff)
        **sizes(heads, recorder.writer.limits, settle=SETTLE_FRAMES, keyframe=keyframe),
        "frames": recorder.frames,
        "bytes_per_frame": recorder.writer.bytes_written / max(recorder.frames, 1),
        "cpu_ms_per_frame": per_frame_ms,
        "core_pct_at_1s": per_frame_ms / 10.0,
    }


def main() -> int:
    """Print one row per fleet."""
    print(f"{'fleet':<28} {'keyframe':>9} {'delta':>7} {'MB/hour':>8} {'MB/day':>7} "
          f"{'CPU ms/frame':>13} {'% core @1s':>11}", flush=True)  # fmt: skip
    results = {}
    for name, config, warmup, seconds in FLEETS:
        r = results[name] = measure(config, warmup, seconds)
        print(f"{name:<28} {r['keyframe_bytes']:>9.0f} {r['delta_bytes']:>7.0f} "
              f"{r['mb_per_hour']:>8.2f} {r['mb_per_day']:>7.1f} {r['cpu_ms_per_frame']:>13.2f} "
              f"{r['core_pct_at_1s']:>11.3f}", flush=True)  # fmt: skip
    print(f"\n{'replay':<28} {'step ms':>9} {'seek ms/frame':>14} {'worst seek s':>13}")
    for name, _config, _warmup, _seconds in FLEETS:
        r = results[name]
        print(f"{name:<28} {r['step_ms']:>9.2f} {r['seek_ms_per_frame']:>14.2f} "
              f"{r['worst_seek_s']:>13.2f}", flush=True)  # fmt: skip
    live = measure_live()
    print(f"\nlive: demo fleet (inferdeck sim) scraped once a second with the real clock, "
          f"recorder thread, {live['frames']:.0f} frames")  # fmt: skip
    print(f"{'demo, live':<28} {live['keyframe_bytes']:>9.0f} {live['delta_bytes']:>7.0f} "
          f"{live['mb_per_hour']:>8.2f} {live['mb_per_day']:>7.1f} "
          f"{live['cpu_ms_per_frame']:>13.2f} {live['core_pct_at_1s']:>11.3f}")  # fmt: skip
    print("targets: demo (virtual and live) < 20 MB/day; < 0.2% of a core at 1 s refresh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
