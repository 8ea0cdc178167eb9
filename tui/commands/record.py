"""``inferdeck record -c FILE [--out FILE] [--for DURATION]``: record without a dashboard.

Polls the config's sources like the dashboard does and records every snapshot, with the
audit and incident events of the time, as the dashboard's flight recorder would
(`tui.recording`): into the recordings folder (rotated), or into one ``--out`` file.
``--demo`` records a simulated fleet instead. Stops after ``--for`` (``90s``, ``10m``,
``2h``), on Ctrl+C or on SIGTERM; what was recorded up to then is on disk.

Exit codes: 0 recorded, 1 the recording failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from tui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    error,
    load_dashboard_config,
    stopped_by,
    terminal_safe,
)
from tui.config import Config

__all__ = ["add_record_arguments", "parse_duration", "run_record"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``10m``, ``1h30m``, ``2d`` as seconds (argparse's type)."""
    raw = text.strip().lower()
    total, number = 0.0, ""
    try:
        for ch in raw:
            if ch.isdigit() or ch == ".":
                number += ch
            elif ch in _UNITS and number:
                total, number = total + float(number) * _UNITS[ch], ""
            else:
                raise ValueError
        total += float(number) if number else 0.0
    except ValueError:
        total = 0.0
    if total <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (like 90s, 10m, 1h30m)")
    return total


def add_record_arguments(parser: argparse.ArgumentParser) -> None:
    """``--out``, ``--for``, ``--demo``, ``--seed``."""
    parser.add_argument("--out", metavar="FILE", help="one recording file instead of the folder")
    parser.add_argument("--for", dest="duration", metavar="DURATION", type=parse_duration,
                        help="stop after this long (90s, 10m, 2h); default: Ctrl+C")  # fmt: skip
    parser.add_argument("--demo", action="store_true", help="record a simulated fleet")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed with --demo")


def run_record(args: argparse.Namespace) -> int:
    """Record until ``--for`` is over or the process is told to stop."""
    if args.out and Path(args.out).exists():  # never write over a recording
        error(f"{args.out} exists: choose another --out file")
        return EXIT_USAGE
    if getattr(args, "demo", False):
        from tui.commands.dashboard import demo_config_from, sim_config_from
        from tui.wiring import simulated_fleet

        with simulated_fleet(sim_config_from(args)) as description:
            config = demo_config_from(description, args)
            return _record(config, description["control"], args, immediate=True)
    return _record(load_dashboard_config(args), None, args, immediate=False)


def _record(
    config: Config, control: str | None, args: argparse.Namespace, *, immediate: bool
) -> int:
    from tui.analysis.alert_rules import RULES
    from tui.analysis.alert_rules import immediate as immediate_rules
    from tui.hub import Hub
    from tui.ops.alerts.local_acks import local_alerting
    from tui.recording.recorder import recorder_for
    from tui.wiring import sources_for

    recorder = recorder_for(config, out=args.out)
    if recorder is None:
        error(f"{config.path}: recording is off (recording: enabled: false); use --out FILE")
        return EXIT_FAILED
    hub = Hub(
        sources_for(config, control),
        environment=config.environment,
        slo_tier=config.slo_tier,
        refresh_s=config.refresh_s,
        history_points=config.history_points,
        alerts_hook=local_alerting(config, rules=immediate_rules() if immediate else RULES),
    )
    recorder.follow(hub)
    stop = threading.Event()
    where = args.out or recorder.writer.folder
    print(f"recording to {terminal_safe(where)} (Ctrl+C to stop)", file=sys.stderr, flush=True)
    deadline = time.monotonic() + args.duration if args.duration else None
    try:
        with stopped_by(stop, signal.SIGTERM, signal.SIGINT):
            recorder.start()
            hub.start()
            while not stop.wait(0.2):
                if deadline is not None and time.monotonic() >= deadline:
                    break
    finally:
        hub.stop()
        recorder.stop()
    writer = recorder.writer
    if recorder.last_error:
        error(recorder.last_error)
        return EXIT_FAILED
    print(f"recorded {writer.frames_written} frames, {writer.bytes_written} bytes"
          f" in {terminal_safe(writer.path or where)}", file=sys.stderr)  # fmt: skip
    return EXIT_OK
