"""``inferdeck incident list|show|note|sev|resolve|export|watch``: incidents on the terminal.

``list [--json]``, ``show ID [--json]`` and ``export ID [--format md|json]
[--with-recording DIR]`` read the incidents database (``STATE_DIR/incidents.sqlite3``
or the config's ``incidents.db``; the export adds what the flight recorder kept, and
with ``--with-recording`` writes its stretch of recording beside the document);
``note``, ``sev`` and ``resolve`` change it through the executor (audited, refused in
read-only mode; ``sev`` and ``resolve`` ask first unless ``--yes``); ``watch -c FILE``
runs the tracker without a dashboard, printing each event once it is on disk, and
records what it saw (`tui.recording`) like a dashboard does.

Exit codes: 0 done, 1 failed or refused, 2 usage, config error or unknown incident.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    error,
    execute,
    executor_for,
    guarded,
    load,
    load_dashboard_config,
    stopped_by,
    terminal_safe,
)
from tui.config import Config
from tui.incidents.config import incidents_config
from tui.incidents.export import (
    Recorded,
    event_data,
    incident_data,
    to_json,
    to_markdown,
    when,
)
from tui.incidents.model import Event, Incident, Sev, format_span
from tui.incidents.store import IncidentError, Store, UnknownIncident
from tui.ops.executor import always
from tui.ops.incidents import AddNote, ResolveIncident, SetSev, db_path_for, start_tracker

__all__ = ["add_incident_arguments", "run_incident"]

BEFORE_S = 60.0
"""How much recording before the incident opened (and after it ended) goes with it."""


def add_incident_arguments(
    parser: argparse.ArgumentParser, common: Callable[[argparse.ArgumentParser], None]
) -> None:
    """The ``incident`` subcommands; ``common`` adds the common flags to each."""
    sub = parser.add_subparsers(dest="incident_command", metavar="COMMAND", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        common(p)
        return p

    listing = add("list", "incidents, open first, newest first")
    listing.add_argument("--open", action="store_true", help="only the open ones")
    add("show", "one incident: clocks, alerts, timeline").add_argument("id", type=int)
    note = add("note", "add a note to an incident's timeline")
    note.add_argument("id", type=int)
    note.add_argument("text", help="the note")
    sev = add("sev", "set an incident's severity by hand")
    sev.add_argument("id", type=int)
    sev.add_argument("sev", type=Sev.parse, metavar="SEV1..SEV4")
    resolve = add("resolve", "resolve an incident by hand")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--note", metavar="TEXT", help="why (added to the timeline)")
    export = add("export", "the post-incident document (Markdown) or the data (JSON)")
    export.add_argument("id", type=int)
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    export.add_argument("--with-recording", metavar="DIR",
                        help="write the document and its recording into DIR")  # fmt: skip
    add("watch", "track incidents without a dashboard (polls the config's sources)")


@guarded
def run_incident(args: argparse.Namespace) -> int:
    """Run the parsed ``incident`` command; the exit code."""
    command = args.incident_command
    if command == "watch":
        return _watch(args, load_dashboard_config(args))
    config = load(args, required=False)
    store = Store(db_path_for(config))
    try:
        if command == "list":
            return _list(store, args)
        incident = store.get(args.id)
        if command == "show":
            return _show(store, incident, args)
        if command == "export":
            return _export(store, incident, args, config)
        return _change(store, incident, args, config)
    except UnknownIncident as exc:
        error(f"{exc} in {store.path}")
        return EXIT_USAGE
    finally:
        store.close()


def _as_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def _list(store: Store, args: argparse.Namespace) -> int:
    now = time.time()
    incidents = store.incidents(open_only=args.open)
    if _as_json(args):
        print(json.dumps([incident_data(i, now) for i in incidents], sort_keys=True, default=str))
        return EXIT_OK
    if not incidents:
        print(f"no incidents in {terminal_safe(store.path)}")
        return EXIT_OK
    print(f"{'ID':>4}  {'SEV':4}  {'STATUS':8}  {'OPENED':19}  {'FOR':>7}  {'ACK':<14}  TITLE")
    for incident in incidents:
        print(_row(incident, now))
    return EXIT_OK


def _ack_state(incident: Incident, now: float) -> str:
    if incident.acknowledged_at is not None:
        return f"after {format_span(incident.time_to_acknowledge)}"
    if not incident.is_open:
        return "never"
    left = incident.ack_time_left(now) or 0.0
    return f"OVERDUE {format_span(-left)}" if left < 0 else f"{format_span(left)} left"


def _row(incident: Incident, now: float) -> str:
    status = "open" if incident.is_open else "resolved"
    opened = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(incident.opened_at))
    return (
        f"{incident.id:>4}  {incident.sev.value:4}  {status:8}  {opened:19}  "
        f"{format_span(incident.duration(now)):>7}  {_ack_state(incident, now):<14}  "
        f"{terminal_safe(incident.title)}"
    )


def _show(store: Store, incident: Incident, args: argparse.Namespace) -> int:
    now = time.time()
    timeline = store.timeline(incident.id)
    if _as_json(args):
        print(to_json(incident, timeline, now), end="")
        return EXIT_OK
    safe = terminal_safe
    print(f"Incident #{incident.id}  {incident.sev}  {safe(incident.title)}")
    status = (
        "open"
        if incident.is_open
        else f"resolved {when(incident.resolved_at)}"
        + (f" by {safe(incident.resolved_by)}" if incident.resolved_by else "")
    )
    print(f"  status        {status}")
    open_for = format_span(incident.duration(now))
    print(f"  opened        {when(incident.opened_at)}  (for {open_for})")
    ack = _ack_state(incident, now)
    if incident.acknowledged_by:
        ack += f" by {safe(incident.acknowledged_by)}"
    print(f"  acknowledged  {ack}  (due {when(incident.ack_due_at)})")
    print(f"  resolve time  {format_span(incident.time_to_resolve)}")
    if incident.sev_set_by:
        print(f"  SEV set by    {safe(incident.sev_set_by)}")
    print("  alerts:")
    for alert in incident.alerts:
        labels = " ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
        state = "firing" if alert.firing else f"resolved {when(alert.resolved_at)}"
        print(f"    {safe(alert.name)} [{state}] {safe(labels)}")
    print("  timeline:")
    for event in timeline:
        print("    " + _event_line(event, with_incident=False))
    return EXIT_OK


def _event_line(event: Event, *, with_incident: bool = True) -> str:
    head = f"{when(event.at)} " + (f"#{event.incident_id} " if with_incident else "")
    who = f" ({terminal_safe(event.who)})" if event.who else ""
    return f"{head}{event.kind.value}: {terminal_safe(event.text)}{who}"


def _export(
    store: Store, incident: Incident, args: argparse.Namespace, config: Config | None
) -> int:
    now = time.time()
    timeline = store.timeline(incident.id)
    beside = Path(args.with_recording) if args.with_recording else None
    output = args.output
    if beside is not None and not output:
        output = str(beside / f"incident-{incident.id}.{args.format}")
    if args.format == "json":
        text = to_json(incident, timeline, now)
        recorded = None
    else:
        recorded = _recorded(incident, now, config, beside, output)
        text = to_markdown(incident, timeline, now, recorded)
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"wrote {terminal_safe(output)}")
    else:
        sys.stdout.write(text)
    if beside is not None:
        if recorded is None or not recorded.frames or not recorded.link:
            error(f"no recording covers incident #{incident.id}: only the document was written")
            return EXIT_FAILED
        print(f"wrote {terminal_safe(beside / recorded.link)}")
    return EXIT_OK


def _recorded(
    incident: Incident,
    now: float,
    config: Config | None,
    beside: Path | None,
    document: str | None,
) -> Recorded | None:
    """The key figures the flight recorder kept of the incident and a link to them; with
    ``beside``, the incident's stretch of recording is written there."""
    from tui.recording.config import recordings_dir
    from tui.recording.figures import cut, frames_between, key_figures
    from tui.recording.reader import RecordingError, open_recording

    folder = recordings_dir(config)
    if not folder.is_dir():
        return None
    end = incident.resolved_at if incident.resolved_at is not None else now
    try:
        recording = open_recording(folder, covering=incident.opened_at)
    except RecordingError:
        return None
    try:
        frames = frames_between(recording, incident.opened_at, end)
        if not frames or recording.times[frames[-1]] < incident.opened_at - 60:
            return None
        charts = key_figures(recording, incident.opened_at, end, incident.slo_tier)
        link = str(recording.segments[0].path)
        if beside is not None:
            segment = beside / f"incident-{incident.id}.idrec"
            beside.mkdir(parents=True, exist_ok=True)
            if not cut(recording, incident.opened_at - BEFORE_S, end + BEFORE_S, segment):
                return None
            base = Path(document).parent if document else Path.cwd()
            link = os.path.relpath(segment, base)
        return Recorded(incident.opened_at, end, charts, link, len(frames))
    finally:
        recording.close()


def _change(
    store: Store, incident: Incident, args: argparse.Namespace, config: Config | None
) -> int:
    executor = executor_for(config, args)
    command = args.incident_command
    if command == "note":
        # a note changes nothing but the record: no question, still audited
        return execute(
            executor, AddNote(store, incident.id, args.text, executor.actor), args, always
        )
    if command == "sev":
        action = SetSev(store, incident.id, args.sev, executor.actor, incidents_config(config))
        return execute(executor, action, args)
    if command == "resolve":
        if not incident.is_open:
            error(f"incident #{incident.id} is already resolved")
            return EXIT_FAILED
        return execute(
            executor, ResolveIncident(store, incident.id, executor.actor, args.note), args
        )
    raise IncidentError(f"unknown incident command {command!r}")


def _watch(args: argparse.Namespace, config: Config) -> int:
    """Poll the config's sources with a hub and track incidents until interrupted."""
    from tui.analysis.alert_rules import RULES
    from tui.hub import Hub
    from tui.ops.alerts.local_acks import local_alerting
    from tui.recording.recorder import start_recorder
    from tui.wiring import sources_for

    as_json = _as_json(args)
    lock = threading.Lock()

    def show(events: list[Event]) -> None:  # printed only after the commit
        with lock:
            for event in events:
                data = event_data(event)
                print(
                    json.dumps(data, sort_keys=True) if as_json else _event_line(event), flush=True
                )

    hub = Hub(
        sources_for(config),
        environment=config.environment,
        slo_tier=config.slo_tier,
        refresh_s=config.refresh_s,
        history_points=10,
        alerts_hook=local_alerting(config, rules=RULES),
    )
    thread = start_tracker(config, hub, show)
    recorder = start_recorder(config, hub)  # what the fleet looked like, for replay
    stop = threading.Event()
    print(
        f"tracking incidents in {terminal_safe(thread.tracker.store.path)} (Ctrl+C to stop)",
        file=sys.stderr,
        flush=True,
    )
    try:
        with stopped_by(stop, signal.SIGTERM, signal.SIGINT):
            hub.start()
            while not stop.wait(1.0):
                if thread.last_error:
                    error(thread.last_error)
    finally:
        hub.stop()
        thread.stop()
        thread.tracker.store.close()
        if recorder is not None:
            recorder.stop()
    return EXIT_OK
