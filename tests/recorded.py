"""Recordings for the tests: the simulated demo fleet in virtual time, a fault at a known
second, and the snapshots exactly as a dashboard was shown them."""

from __future__ import annotations

import json
from pathlib import Path

from tui.analysis.alert_rules import immediate
from tui.demo_data import warmed_hub
from tui.model import FleetSnapshot
from tui.ops.alerts.local_acks import AckStore, LocalAlerting
from tui.recording.config import Limits
from tui.recording.precision import recorded_json
from tui.recording.recorder import RecorderThread
from tui.recording.writer import RecordingWriter

FAULT_AT = 30
"""The second of the recording at which blue-0 crashes."""
ROLLBACK_AT = 40
"""The second at which the recording's audit log says someone rolled back."""


def as_recorded(snapshot: FleetSnapshot) -> str:
    """What ``inferdeck snapshot --json`` prints for a snapshot, at the precision a
    recording keeps (`tui.recording.precision`): what its replay prints."""
    return json.dumps(recorded_json(snapshot), indent=2, sort_keys=True)


def record_demo(
    folder: Path, *, seconds: int = 60, fault_at: int = FAULT_AT, name: str | None = None
) -> tuple[Path, list[FleetSnapshot]]:
    """Record ``seconds`` of the demo fleet, one frame a second, blue-0 crashing at
    ``fault_at``, a rollback audited at `ROLLBACK_AT`; the file and what was shown."""
    hub, source = warmed_hub(seconds=3)
    hub.alerts_hook = LocalAlerting(AckStore(folder / "acks.json"), rules=immediate())
    writer = RecordingWriter(folder, Limits(keyframe_every=20), environment="demo",
                             slo_tier="standard", name=name)  # fmt: skip
    recorder = RecorderThread(writer)  # written synchronously, as the thread would
    shown = []
    for second in range(seconds):
        if second == fault_at:
            source.fleet.set_fault("blue-0", "crash")
        snapshot = hub.record(source, source.poll())
        if second == ROLLBACK_AT:
            writer.event("audit", snapshot.taken_at - 0.5, {"action": "rollback",
                         "target": "green", "outcome": "done", "actor": "ana@box"})  # fmt: skip
            writer.event("incident", snapshot.taken_at - 0.4, {"incident_id": 1,
                         "kind": "note", "text": "rolled back", "who": "ana@box"})  # fmt: skip
        recorder.write(snapshot)
        shown.append(snapshot)
    writer.close()
    assert writer.path is not None
    return writer.path, shown
