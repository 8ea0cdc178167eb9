"""Start real Prometheus and Alertmanager (and the simulator) for integration tests.

Each server runs as a child process on a free loopback port, with its config, storage
and log in a given directory, and is stopped by its PID. Configs are written as JSON,
which YAML readers accept as it is. A missing binary fails the test in CI (``$CI`` set)
with the Debian package that provides it, and skips it elsewhere with the same message.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

PROMETHEUS = ("prometheus", "prometheus")
ALERTMANAGER = ("prometheus-alertmanager", "prometheus-alertmanager")
AMTOOL = ("amtool", "prometheus-alertmanager")
START_TIMEOUT_S = 15.0


def require_binary(binary: str, package: str) -> str:
    """The path of ``binary``; fail (in CI) or skip (elsewhere) naming ``package``."""
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path:
        return path
    message = (
        f"{binary} not found: install the Debian package {package} "
        f"(apt-get install -y --no-install-recommends {package})"
    )
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_block(offsets: Sequence[int] = (0, 1, 2, 3, 100), attempts: int = 200) -> int:
    """A base port with ``base + offset`` free for every offset (the simulator's layout).

    Chosen below the kernel's ephemeral range (32768 and up here), so that no outgoing
    connection — the tests' own scrapes included — can be handed one of them meanwhile.
    """
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(20000, 32000)
        if all(_unused(base + offset) for offset in offsets):
            return base
    raise RuntimeError("no free block of ports")


def _unused(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class ServerProcess:
    """A server we started: its URL, process, folder and log; stopped by PID."""

    name: str
    argv: list[str]
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.workdir / f"{self.name}.log"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server's PID while it runs."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def start(self, timeout_s: float = START_TIMEOUT_S) -> ServerProcess:
        """Start the process and wait until ``GET /-/ready`` answers 200."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/-/ready", timeout=1.0).status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout_s:g}s:\n{self.log_tail()}")

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the server's PID (SIGSTOP to hang it, SIGCONT to resume)."""
        if self.pid is not None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the server and reap it (a crash, as far as clients can tell)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s; idempotent."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _start_on_free_port(make: Any, attempts: int = 3) -> ServerProcess:
    """Start ``make(port)``, retrying with another port if the first was taken meanwhile."""
    last: Exception | None = None
    for _ in range(attempts):
        server: ServerProcess = make(free_port())
        try:
            return server.start()
        except RuntimeError as exc:
            last = exc
            if "address already in use" not in str(exc):
                raise
    raise RuntimeError(f"could not start after {attempts} tries: {last}")


@dataclass(frozen=True)
class ScrapeJob:
    """One Prometheus scrape job: targets (``host:port``) grouped with their labels."""

    name: str
    groups: Sequence[tuple[Sequence[str], Mapping[str, str]]]
    metrics_path: str = "/metrics"


def prometheus_config(
    jobs: Sequence[ScrapeJob],
    *,
    interval: str = "1s",
    rule_files: Sequence[str] = (),
    alertmanager: str | None = None,
) -> dict[str, Any]:
    """A Prometheus configuration (as data) scraping ``jobs`` every ``interval``."""
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": interval,
        },
        "scrape_configs": [
            {
                "job_name": job.name,
                "metrics_path": job.metrics_path,
                "static_configs": [
                    {"targets": list(targets), "labels": dict(labels)}
                    for targets, labels in job.groups
                ],
            }
            for job in jobs
        ],
    }
    if rule_files:
        config["rule_files"] = list(rule_files)
    if alertmanager:
        target = urlsplit(alertmanager).netloc
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}
    return config


def start_prometheus(
    workdir: Path,
    jobs: Sequence[ScrapeJob],
    *,
    rules: Mapping[str, Any] | None = None,
    alertmanager: str | None = None,
    interval: str = "1s",
    port: int | None = None,
) -> ServerProcess:
    """A real Prometheus scraping ``jobs``; ``rules`` is a rule file's content (as data).

    With ``port`` given it starts there (to restart a killed one at the same address,
    reusing the same storage); otherwise on a free port.
    """
    binary = require_binary(*PROMETHEUS)
    workdir.mkdir(parents=True, exist_ok=True)
    rule_files = []
    if rules is not None:
        (workdir / "rules.yml").write_text(json.dumps(rules))
        rule_files.append(str(workdir / "rules.yml"))
    config = prometheus_config(
        jobs, interval=interval, rule_files=rule_files, alertmanager=alertmanager
    )
    (workdir / "prometheus.yml").write_text(json.dumps(config, indent=1))

    def make(p: int) -> ServerProcess:
        argv = [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--web.listen-address=127.0.0.1:{p}",
            f"--storage.tsdb.path={workdir / 'data'}",
            "--web.enable-lifecycle",
            "--log.level=warn",
        ]
        return ServerProcess("prometheus", argv, p, workdir)

    if port is not None:
        return make(port).start()
    return _start_on_free_port(make)


ALERTMANAGER_CONFIG = {"route": {"receiver": "null"}, "receivers": [{"name": "null"}]}


def start_alertmanager(workdir: Path, *, port: int | None = None) -> ServerProcess:
    """A real Alertmanager with a do-nothing receiver, gossip off."""
    binary = require_binary(*ALERTMANAGER)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(json.dumps(ALERTMANAGER_CONFIG))

    def make(p: int) -> ServerProcess:
        argv = [
            binary,
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--web.listen-address=127.0.0.1:{p}",
            f"--storage.path={workdir / 'data'}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        return ServerProcess("alertmanager", argv, p, workdir)

    if port is not None:
        return make(port).start()
    return _start_on_free_port(make)


def host_port(url: str) -> str:
    """``host:port`` of a URL."""
    return urlsplit(url).netloc


def sim_jobs(description: Mapping[str, Any], *, pool_label: str = "pool") -> list[ScrapeJob]:
    """Scrape jobs for a running simulator: ``vllm`` (one group per pool) and ``dcgm``."""
    pools: dict[str, list[str]] = {}
    for b in description["backends"]:
        pools.setdefault(b["pool"], []).append(host_port(b["url"]))
    vllm = ScrapeJob("vllm", [(targets, {pool_label: p}) for p, targets in pools.items()])
    dcgm = ScrapeJob("dcgm", [([host_port(description["gpu_exporter"])], {})])
    return [vllm, dcgm]


@contextlib.contextmanager
def running_sim(**config: Any) -> Iterator[Any]:
    """A started `tui.sim.server.SimRuntime` (free ports), stopped on exit."""
    from tui.sim.config import SimConfig
    from tui.sim.server import SimRuntime

    runtime = SimRuntime(SimConfig(port_base=0, **config))
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()


def wait_for(predicate: Any, timeout_s: float, interval_s: float = 0.2) -> Any:
    """Call ``predicate()`` until it returns something truthy; that value, or None."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval_s)


def wait_for_targets(server: ServerProcess, count: int, timeout_s: float = 15.0) -> None:
    """Wait until Prometheus has scraped ``count`` targets (discovery batches for ~5 s)."""

    def scraped() -> bool:
        try:
            answer = httpx.get(server.url + "/api/v1/query", params={"query": "up"}, timeout=2)
            return len(answer.json()["data"]["result"]) >= count
        except (httpx.HTTPError, ValueError, KeyError):
            return False

    if not wait_for(scraped, timeout_s):
        raise RuntimeError(f"Prometheus scraped fewer than {count} targets in {timeout_s:g}s")
