"""A load test in progress: the Locust child process, its records, and stopping it.

Locust runs headless in its own process group (``python -m locust``) with
`tui.loadtest.locustfile`; each finished request arrives as one JSON line in the
records file, which `LoadRun.new_records` reads as it grows. A run stops by itself when
the shape ends (Locust lets requests in flight finish, at most ``grace_s``), and at
once on `LoadRun.stop` (the process group is killed). A run that outlives its
duration plus the grace by ``MARGIN_S`` is killed too, so no run ever goes on unbounded.

With ``workers`` > 0 the child is a Locust *master* on loopback and that many local
worker processes send the requests (one CPU core each, for rates one process cannot
keep); the workers send their records to the master, which writes the file, so the
same report comes out. The master listens on loopback only: workers on other
machines would need it bound to a reachable address (not built).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.loadtest.scenario import Scenario

MARGIN_S = 15.0
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Everything one run needs: what to send, where, and where to write the records."""

    scenario: Scenario
    target: str
    model: str
    records: Path
    per_user_rps: float = 1.0
    request_timeout_s: float = 60.0
    grace_s: float = 10.0  # how long requests in flight may finish once the shape ends
    workers: int = 0  # local Locust worker processes; 0: one process does it all


class LoadRun:
    """One Locust child process running one scenario."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.started_at = 0.0
        self.load_started_at = 0.0
        self.stopped = ""  # why it was stopped early ("" while not)
        self._process: subprocess.Popen[bytes] | None = None
        self._workers: list[subprocess.Popen[bytes]] = []
        self.master_port = 0
        self._offset = 0
        self._partial = b""
        self._log = settings.records.with_suffix(".locust.log")

    def command(self) -> list[str]:
        """The argv of the Locust process (the master, with workers)."""
        s = self.settings
        argv = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", s.target, "--stop-timeout", f"{s.grace_s:g}",
            "--loglevel", "WARNING", "--only-summary", "--exit-code-on-error", "0",
        ]  # fmt: skip
        if s.workers > 0:
            argv += ["--master", "--expect-workers", str(s.workers),
                     "--master-bind-host", "127.0.0.1",
                     "--master-bind-port", str(self.master_port)]  # fmt: skip
        return argv

    def worker_command(self) -> list[str]:
        """The argv of one local worker process."""
        return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
                "--master-host", "127.0.0.1", "--master-port", str(self.master_port),
                "--loglevel", "WARNING"]  # fmt: skip

    def start(self) -> None:
        """Start Locust; returns at once."""
        s = self.settings
        s.records.parent.mkdir(parents=True, exist_ok=True)
        s.records.write_bytes(b"")
        root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p),
            "INFERDECK_LOADTEST": json.dumps({
                "scenario": s.scenario.to_dict(), "target": s.target, "model": s.model,
                "records": str(s.records), "per_user_rps": s.per_user_rps,
                "request_timeout_s": s.request_timeout_s,
            }),
        }  # fmt: skip
        if s.workers > 0:
            self.master_port = _free_port()
        with open(self._log, "wb") as log:
            self._process = subprocess.Popen(
                self.command(), env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            for _ in range(s.workers):
                self._workers.append(subprocess.Popen(
                    self.worker_command(), env=env, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,
                ))  # fmt: skip
        self.started_at = time.time()
        self.load_started_at = 0.0  # when Locust's clock started (its first record says)

    @property
    def deadline(self) -> float:
        """When the run is killed if Locust has not ended it by then."""
        s = self.settings
        return self.started_at + s.scenario.duration_s + s.grace_s + MARGIN_S

    def running(self) -> bool:
        """True while Locust runs (and kills it once past `deadline`)."""
        if self._process is None or self._process.poll() is not None:
            return False
        if time.time() > self.deadline:
            self.stop("it ran past its duration")
            return False
        return True

    def elapsed(self) -> float:
        """Seconds since the load started (0 while Locust starts up)."""
        return time.time() - self.load_started_at if self.load_started_at else 0.0

    def new_records(self) -> list[dict[str, Any]]:
        """The requests finished since the last call."""
        try:
            with open(self.settings.records, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        out = []
        for line in lines:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if "started" in record:
                    self.load_started_at = float(record["started"])
                else:
                    out.append(record)
        return out

    def stop(self, why: str = "stopped by the operator") -> None:
        """End the run now: the whole process group is killed (requests in flight too)."""
        process = self._process
        if process is None or process.poll() is not None:
            self._end_workers()
            return
        self.stopped = why
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
        self._end_workers()

    def _end_workers(self) -> None:
        """Workers quit when their master does; any left is killed."""
        for worker in self._workers:
            if worker.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.wait(3)
            if worker.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(5)

    def wait(self, poll_s: float = 0.5) -> None:
        """Block until Locust ends (or the deadline kills it)."""
        while self.running():
            time.sleep(poll_s)

    def exit_code(self) -> int | None:
        """Locust's exit status, once it ended."""
        return None if self._process is None else self._process.poll()

    def log_tail(self, lines: int = 5) -> str:
        """Locust's last output lines (why it failed to start, if it did)."""
        with contextlib.suppress(OSError):
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _free_port() -> int:
    """A free TCP port on loopback for the master's worker channel."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
