"""``inferdeck record`` as a user runs it: a real process records a simulated fleet over
HTTP for a while, and what it wrote replays; SIGTERM stops it with the recording whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tui.recording.reader import open_recording

INFERDECK = [sys.executable, "-m", "tui.commands"]
ROOT = Path(__file__).resolve().parents[2]


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(tmp_path / "state"),
            "INFERDECK_SHARED_DIR": str(tmp_path / "no-shared")}  # fmt: skip


def test_record_for_a_duration_writes_a_recording_that_replays(tmp_path: Path) -> None:
    out = tmp_path / "fleet.idrec"
    done = subprocess.run(
        [*INFERDECK, "record", "--demo", "--for", "4s", "--out", str(out)],
        capture_output=True, text=True, timeout=60, env=env(tmp_path), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"recording to {out}" in done.stderr and "recorded " in done.stderr
    recording = open_recording(out)
    assert 2 <= len(recording) <= 8 and recording.end - recording.start <= 5
    shown = subprocess.run(
        [*INFERDECK, "replay", str(out), "--at", f"+{recording.end - recording.start}s", "--json"],
        capture_output=True, text=True, timeout=60, env=env(tmp_path), check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["environment"] == "demo" and {b["name"] for b in data["backends"]} >= {"blue-0"}
    again = subprocess.run(
        [*INFERDECK, "record", "--demo", "--for", "1s", "--out", str(out)],
        capture_output=True, text=True, timeout=60, env=env(tmp_path), check=False,
    )  # fmt: skip
    assert again.returncode == 2 and "exists" in again.stderr  # never written over
    assert len(open_recording(out)) == len(recording)


def test_record_into_the_state_folder_stops_cleanly_on_sigterm(
    tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]]
) -> None:
    process = spawn(
        [*INFERDECK, "record", "--demo"], stderr=subprocess.PIPE, text=True, env=env(tmp_path)
    )
    assert process.stderr is not None
    assert "recording to" in process.stderr.readline()
    folder = tmp_path / "state" / "inferdeck" / "recordings"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until a few frames are on disk
        files = list(folder.glob("*.idrec"))
        if files and len(open_recording(folder)) >= 3:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    recording = open_recording(folder)
    assert len(recording) >= 3
    assert recording.snapshot(len(recording) - 1).environment == "demo"
