"""A private podman serving the Docker Engine API, for the lab and the integration tests.

`PodmanEngine` follows ``reference/container-engine.md``: a containers.conf (runc,
cgroupfs, file events, no network namespace, bounded ulimits) pointed at by
``CONTAINERS_CONF``; every podman call with ``--storage-driver vfs`` and its own
``--root``/``--runroot``/``--tmpdir`` under the state directory, so several engines can
run side by side without sharing state; ``podman system service --time=0 unix://SOCK``
as a child process, stopped by its PID. Locks are files under the engine's tmpdir
(``lock_type = "file"``): podman's default shared-memory segment is one per machine, and
a fresh engine's start-up would free the locks held by another engine's containers.

A busybox root filesystem imported as ``localhost/inferdeck-base:latest`` is the base
image; Python processes (such as the simulator) run in it from read-only binds of the
host's Python, venv and repository, on the host network (so they listen on the host's
loopback). Podman refuses a run root longer than 50 characters, so a long state
directory gets its run root and socket in a short temporary directory instead.

Nothing here imports Textual. A missing binary raises `EngineMissing` naming the Debian
package that provides it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "BASE_IMAGE",
    "COMPOSE_PROJECT",
    "COMPOSE_SERVICE",
    "EngineError",
    "EngineMissing",
    "PodmanEngine",
    "python_binds",
]

BASE_IMAGE = "localhost/inferdeck-base:latest"
"""The busybox image every lab container runs in."""

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
PORT_LABEL = "io.inferdeck.port"
"""Label holding the loopback port a lab container serves on (informational)."""

CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc=4096:4096"]
netns = "none"

[engine]
lock_type = "file"
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""

#: binary -> the Debian package that provides it
PACKAGES = {"podman": "podman", "runc": "runc", "busybox": "busybox-static"}
BUSYBOX_APPLETS = ("sh", "sleep", "echo", "cat", "ls", "true", "false", "env", "printf")
MAX_RUNROOT = 50  # podman refuses a longer --runroot


class EngineError(RuntimeError):
    """The engine could not be started or could not do what was asked (one line)."""


class EngineMissing(EngineError):
    """A binary the engine needs is not installed; the message names its package."""


def find_binary(binary: str) -> str:
    """The path of ``binary``, or raise `EngineMissing` naming its Debian package."""
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path:
        return path
    package = PACKAGES.get(binary, binary)
    raise EngineMissing(
        f"{binary} not found: install the Debian package {package} "
        f"(apt-get install -y --no-install-recommends {package})"
    )


def python_binds(repo_root: str | os.PathLike[str] | None = None) -> list[str]:
    """Host paths a container needs, read-only, to run this Python and this repository.

    ``/usr``, ``/lib``, ``/lib64`` and ``/etc`` are bound as they are named (where ``/lib``
    is a link to ``/usr/lib`` the bind follows it, and the image's empty ``/lib`` gets
    the libraries); the Python prefix, the venv and the repository are bound by their
    real paths, skipping any that lie inside another bound one.
    """
    system = [p for p in ("/usr", "/lib", "/lib64", "/etc") if os.path.exists(p)]
    if repo_root is None:
        repo_root = Path(__file__).resolve().parents[2]
    covered = {str(Path(p).resolve()) for p in system}
    extra = sorted({str(Path(p).resolve()) for p in (sys.base_prefix, sys.prefix, repo_root)})
    kept: list[str] = []
    for p in sorted(extra, key=len):
        inside = (p == k or p.startswith(k.rstrip("/") + "/") for k in [*covered, *kept])
        if not any(inside):
            kept.append(p)
    return system + kept


def _nofile_limit() -> int:
    """The nofile ulimit for containers: 20000, or the hard limit when it is lower."""
    try:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    except (ImportError, OSError, ValueError):
        return 20000
    return 20000 if hard in (resource.RLIM_INFINITY, -1) else min(20000, hard)


class PodmanEngine:
    """One podman Docker-API service with its own state, and the containers it ran."""

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        *,
        start_timeout_s: float = 30.0,
        repo_root: str | os.PathLike[str] | None = None,
    ) -> None:
        """Keep all of podman's state (storage, run dir, socket, logs) under ``state_dir``."""
        self.state_dir = Path(state_dir).resolve()
        self.start_timeout_s = start_timeout_s
        self.repo_root = repo_root
        self.podman = find_binary("podman")
        self.proc: subprocess.Popen[bytes] | None = None
        self._short_dir: Path | None = None  # for run dir and socket, when state_dir is long
        self.run_dir = self.state_dir / "run"
        if len(str(self.run_dir / "root")) > MAX_RUNROOT:
            self._short_dir = Path(tempfile.mkdtemp(prefix="inferdeck-podman-"))
            self.run_dir = self._short_dir
        self.socket: Path = self.run_dir / "podman.sock"
        """The API socket (under the run directory)."""
        self.containers: list[str] = []  # ids of the containers we ran, oldest first
        self._client: Any = None

    # -- paths and plumbing --------------------------------------------------------------

    @property
    def url(self) -> str:
        """``unix:///…/podman.sock``: the Docker API endpoint (also ``DOCKER_HOST``)."""
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int | None:
        """The service's PID while it runs."""
        proc = self.proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def log_path(self) -> Path:
        """The service's stdout and stderr."""
        return self.state_dir / "podman-service.log"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["CONTAINERS_CONF"] = str(self.state_dir / "containers.conf")
        env.pop("CONTAINERS_STORAGE_CONF", None)
        return env

    def _global_flags(self) -> list[str]:
        return [
            "--storage-driver",
            "vfs",
            "--root",
            str(self.state_dir / "storage"),
            "--runroot",
            str(self.run_dir / "root"),
            "--tmpdir",
            str(self.run_dir / "tmp"),
            "--cgroup-manager",
            "cgroupfs",
            "--runtime",
            "runc",
            "--events-backend",
            "file",
        ]

    def podman_cmd(self, *args: str, timeout_s: float = 60.0) -> str:
        """Run ``podman <global flags> ARGS`` against this engine's storage; its stdout."""
        argv = [self.podman, *self._global_flags(), *args]
        try:
            done = subprocess.run(
                argv, env=self._env(), capture_output=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise EngineError(f"podman {args[0]} took longer than {timeout_s:g}s") from None
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            last = message[-1] if message else f"exit status {done.returncode}"
            raise EngineError(f"podman {args[0]}: {last}")
        return done.stdout.decode(errors="replace")

    def client(self) -> Any:
        """A `docker.DockerClient` on this engine's socket (shared; started engine only)."""
        if self._client is None:
            import docker

            self._client = docker.DockerClient(base_url=self.url, timeout=30)
        return self._client

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> str:
        """Write containers.conf, start the service, wait for ``GET /version``; the URL."""
        if self.pid is not None:
            return self.url
        find_binary("runc")
        (self.state_dir / "storage").mkdir(parents=True, exist_ok=True)
        for sub in ("root", "tmp"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.state_dir / "containers.conf").write_text(
            CONTAINERS_CONF.format(nofile=_nofile_limit())
        )
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        argv = [self.podman, *self._global_flags(), "system", "service", "--time=0", self.url]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                argv,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # conmon, its child, marks an OOM kill with a file "oom" in its working
                # directory: keep it in ours, not wherever the caller ran from
                cwd=self.state_dir,
            )
        try:
            self._wait_ready()
        except BaseException:
            self._stop_service()
            raise
        return self.url

    def _wait_ready(self) -> None:
        import docker

        deadline = time.monotonic() + self.start_timeout_s
        last = "no socket yet"
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise EngineError(f"podman system service exited at start: {self._log_tail()}")
            if self.socket.exists():
                try:
                    client = docker.DockerClient(base_url=self.url, timeout=5)
                    client.version()
                except docker.errors.DockerException as exc:
                    last = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                else:
                    self._client = client
                    return
            time.sleep(0.05)
        raise EngineError(f"podman API not ready after {self.start_timeout_s:g}s: {last}")

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def ensure_base_image(self) -> str:
        """Import the busybox base image unless this engine already has it; its name."""
        for line in self.podman_cmd("images", "--format", "{{.Repository}}:{{.Tag}}").split():
            if line == BASE_IMAGE:
                return BASE_IMAGE
        busybox = find_binary("busybox")
        tar_path = self.state_dir / "rootfs.tar"
        _write_rootfs(tar_path, Path(busybox))
        self.podman_cmd("import", str(tar_path), BASE_IMAGE, timeout_s=120)
        with contextlib.suppress(OSError):
            tar_path.unlink()
        return BASE_IMAGE

    def run_backend(
        self,
        name: str,
        argv: Sequence[str],
        labels: Mapping[str, str] | None = None,
        port: int | None = None,
        *,
        project: str | None = None,
        service: str | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> str:
        """Run ``argv`` detached in the base image on the host network; the container id.

        The host's ``/usr``, ``/lib``, ``/lib64``, ``/etc``, Python prefix, venv and the
        repository are bound read-only, the working directory is the repository.
        ``project``/``service`` become compose labels; ``port`` is recorded as a label.
        """
        all_labels = dict(labels or {})
        if project is not None:
            all_labels[COMPOSE_PROJECT] = project
        if service is not None:
            all_labels[COMPOSE_SERVICE] = service
        if port is not None:
            all_labels[PORT_LABEL] = str(port)
        repo = str(Path(self.repo_root or Path(__file__).resolve().parents[2]).resolve())
        binds = python_binds(repo)
        env = {"PYTHONPATH": repo, "PYTHONUNBUFFERED": "1", "HOME": "/tmp"}
        env.update(environment or {})
        client = self.client()
        container = client.containers.run(
            BASE_IMAGE,
            list(argv),
            detach=True,
            name=name,
            network_mode="host",
            working_dir=repo,
            environment=env,
            labels=all_labels,
            volumes={p: {"bind": p, "mode": "ro"} for p in binds},
        )
        cid = str(container.id)
        self.containers.append(cid)
        return cid

    def stop(self) -> None:
        """Remove the containers this engine ran, stop the service by PID; idempotent.

        Containers outlive a dead service (conmon keeps them), so without a service they
        are removed through the podman command on the same storage instead.
        """
        left = list(reversed(self.containers))
        if self.pid is not None and left:
            client = self.client()
            for cid in list(left):
                with contextlib.suppress(Exception):
                    client.api.remove_container(cid, force=True, v=True)
                    left.remove(cid)
        if left:
            with contextlib.suppress(EngineError):
                self.podman_cmd("rm", "--force", "--ignore", "--time", "2", *left)
        self.containers.clear()
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        self._stop_service()

    def _stop_service(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.proc = None
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        if self._short_dir is not None:
            shutil.rmtree(self._short_dir, ignore_errors=True)

    def __enter__(self) -> PodmanEngine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _write_rootfs(path: Path, busybox: Path) -> None:
    """A tarball holding ``/bin/busybox``, applet links and the usual empty directories."""
    with tarfile.open(path, "w") as tar:
        for d in ("bin", "tmp", "proc", "sys", "dev", "etc", "usr", "lib", "lib64", "root"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        data = busybox.read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size = len(data)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(data))
        for applet in BUSYBOX_APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
