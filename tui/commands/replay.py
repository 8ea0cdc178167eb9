"""``inferdeck replay [FILE | --incident ID | --at TIME] [--json]``: what the dashboard saw.

FILE is a recording segment, a folder of them, or omitted (the recordings folder of the
config, ``STATE_DIR/recordings``). ``--incident ID`` opens the recording that covers the
incident, a minute before it opened. ``--at TIME`` goes to a time: ISO 8601
(``2026-11-30T02:14:05Z``), a clock time on the recording's day (``02:14:05``) or an
offset from its start (``+90s``).

With ``--json`` (and ``--at`` or ``--incident``) the snapshot recorded then is printed,
exactly as ``inferdeck snapshot --json`` printed it. Without, the dashboard opens on the
recording: every screen, a timeline, REPLAY in the header, and no action possible.

Exit codes: 0 done, 2 usage, no such recording, or nothing recorded at that time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tui.commands.common import EXIT_OK, EXIT_USAGE, error, load
from tui.config import Config

__all__ = ["add_replay_arguments", "run_replay"]

BEFORE_INCIDENT_S = 60.0
"""How long before an incident opened its replay starts (what led up to it)."""


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    """``FILE``, ``--incident``, ``--at``, ``--speed``."""
    parser.add_argument("file", nargs="?", metavar="FILE",
                        help="a recording or a folder (default: the recordings one)")  # fmt: skip
    parser.add_argument("--incident", type=int, metavar="ID",
                        help="the recording around this incident")  # fmt: skip
    parser.add_argument("--at", metavar="TIME",
                        help="ISO 8601, a clock time (02:14:05) or an offset (+90s)")  # fmt: skip
    parser.add_argument("--speed", type=float, default=None, metavar="X",
                        help="start playing at this speed (1..60); default: paused")  # fmt: skip


def run_replay(args: argparse.Namespace) -> int:
    """Print the snapshot at ``--at`` (``--json``), or open the dashboard on the recording."""
    from tui.recording.reader import RecordingError, open_recording, parse_time

    config = load(args, required=False)
    where, covering, at, span = _where(args, config)
    if where is None:
        return EXIT_USAGE
    try:
        recording = open_recording(where, covering=covering)
    except RecordingError as exc:
        error(str(exc))
        return EXIT_USAGE
    try:
        if args.at is not None:
            try:
                at = parse_time(args.at, recording.start)
            except ValueError as exc:
                error(f"--at {exc}")
                return EXIT_USAGE
        if at is not None:
            index = recording.index_at(max(at, recording.start) if args.at is None else at)
        else:
            index = 0
        if getattr(args, "json", False):
            if at is None:
                error("--json prints one moment: give --at TIME (or --incident ID)")
                return EXIT_USAGE
            print(json.dumps(recording.snapshot_json(index), indent=2, sort_keys=True))
            return EXIT_OK
    except RecordingError as exc:
        error(str(exc))
        recording.close()
        return EXIT_USAGE
    if args.speed is not None and not 1.0 <= args.speed <= 60.0:
        error("--speed must be 1..60")
        return EXIT_USAGE
    from tui.wiring import run_replay_app

    return run_replay_app(
        recording,
        index,
        config,
        speed=args.speed,
        span=span,
        theme=getattr(args, "theme", None),
        debug=bool(getattr(args, "debug", False)),
    )


def _where(
    args: argparse.Namespace, config: Config | None
) -> tuple[Path | None, float | None, float | None, tuple[float, float] | None]:
    """(what to open, a time it must cover, where to start, the incident's span)."""
    from tui.recording.config import recordings_dir

    folder = Path(args.file) if args.file else recordings_dir(config)
    if args.file and not folder.exists():
        error(f"{args.file}: no such recording")
        return None, None, None, None
    if args.incident is None:
        covering = None
        if args.at is not None and folder.is_dir():
            from tui.recording.reader import parse_time

            try:  # a full date picks the session; a clock time or offset: the newest
                covering = parse_time(args.at, time.time()) if not args.at.startswith("+") else None
            except ValueError:
                covering = None
        return folder, covering, None, None
    from tui.incidents.store import Store, UnknownIncident
    from tui.ops.incidents import db_path_for

    store = Store(db_path_for(config))
    try:
        incident = store.get(args.incident)
    except UnknownIncident as exc:
        error(f"{exc} in {store.path}")
        return None, None, None, None
    finally:
        store.close()
    end = incident.resolved_at if incident.resolved_at is not None else time.time()
    start = incident.opened_at - BEFORE_INCIDENT_S
    return folder, incident.opened_at, start, (incident.opened_at, end)
