"""An incident opened by a real alert in ``inferdeck lab``: a crashed backend fires
LLMServiceDown in Prometheus, ``incident watch`` opens a SEV1 incident, ``inferdeck ack``
(an Alertmanager silence) and ``inferdeck traffic rollback`` land in its timeline, and
``incident show`` / ``export`` tell the story."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.real_servers import require_binary

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BINARIES = (("nginx", "nginx-light"), ("prometheus", "prometheus"),
            ("prometheus-alertmanager", "prometheus-alertmanager"))  # fmt: skip


def inferdeck(*args: Any, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m tui.commands ARGS`` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "tui.commands", *map(str, args)],
        capture_output=True, text=True, timeout=180, cwd=REPO, env=env, check=False,
    )  # fmt: skip


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A running lab (5 requests/s), its state folder private to the test; always down."""
    for binary, package in BINARIES:
        require_binary(binary, package)
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_STATE_HOME": str(tmp_path / "state")}
    folder = tmp_path / "lab"
    try:
        up = inferdeck("lab", "up", "--dir", folder, "--rps", "5", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        status = inferdeck("lab", "status", "--dir", folder, "--json", env=env)
        assert status.returncode == 0, status.stderr
        yield {"env": env, "status": json.loads(status.stdout), "config": folder / "inferdeck.yaml"}
    finally:
        inferdeck("lab", "down", "--dir", folder, env=env)


class Watch:
    """``incident watch --json`` in the background, its events collected as they come."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.commands", "incident", "watch", "--json", "-c",
             str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
        )  # fmt: skip
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.events.put(json.loads(line))

    def until(self, check: Any, timeout: float, what: str) -> dict[str, Any]:
        """The first event (seen before or within ``timeout``) for which ``check`` holds."""
        found = next((e for e in self.seen if check(e)), None)
        deadline = time.monotonic() + timeout
        while found is None and time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(event)
            found = event if check(event) else None
        assert found is not None, f"{what} not seen in {timeout}s: {self.seen}"
        return found

    def stop(self) -> str:
        """Stop it (SIGTERM) and return what it said on stderr. (Only stderr is read
        here: `communicate` would read stdout too, racing the reader thread for it, which
        then got the tail of a line, an empty line, as an event.)"""
        self.proc.terminate()
        self.proc.wait(timeout=20)  # its stderr is a few lines: the pipe never fills
        assert self.proc.stderr is not None
        return self.proc.stderr.read()


def test_a_crash_opens_a_sev1_incident_with_the_ack_and_the_rollback(lab: dict[str, Any]) -> None:
    env, config = lab["env"], lab["config"]
    fault = inferdeck("sim", "fault", "blue-0", "crash", "--control", lab["status"]["control"],
                      env=env)  # fmt: skip
    assert fault.returncode == 0, fault.stderr
    watch = Watch(config, env)
    try:
        opened = watch.until(
            lambda e: e["kind"] == "opened" and "LLMServiceDown" in e["text"], 150,
            "LLMServiceDown opening an incident",
        )  # fmt: skip
        incident = opened["incident_id"]
        ack = inferdeck("ack", "LLMServiceDown", "--comment", "on it", "--yes", "-c", config,
                        env=env)  # fmt: skip
        assert ack.returncode == 0, ack.stdout + ack.stderr
        rollback = inferdeck("traffic", "rollback", "--yes", "-c", config, env=env)
        assert rollback.returncode == 0, rollback.stdout + rollback.stderr
        watch.until(lambda e: e["kind"] == "acknowledged" and e["incident_id"] == incident, 30,
                    "the acknowledgement")  # fmt: skip
        watch.until(lambda e: e["kind"] == "action" and "traffic.rollback" in e["text"], 30,
                    "the rollback")  # fmt: skip
    finally:
        print(watch.stop())
    shown = inferdeck("incident", "show", incident, "-c", config, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "SEV1" in shown.stdout and "LLMServiceDown firing" in shown.stdout
    assert "acknowledged" in shown.stdout and "traffic.rollback" in shown.stdout
    exported = inferdeck("incident", "export", incident, "-c", config, env=env)
    assert exported.returncode == 0, exported.stderr
    document = exported.stdout
    assert "| Severity | SEV1 |" in document and "LLMServiceDown" in document
    actions = document.split("## Actions taken")[1].split("## Root cause")[0]
    assert "alert.ack" in actions and "traffic.rollback" in actions
    data = json.loads(inferdeck("incident", "export", incident, "--format", "json", "-c",
                                config, env=env).stdout)  # fmt: skip
    assert data["acknowledged_at"] is not None and data["time_to_acknowledge_s"] >= 0
    assert any(a["labels"].get("backend") == "blue-0" for a in data["alerts"])
