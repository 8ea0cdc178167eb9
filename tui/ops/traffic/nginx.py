"""The nginx router: inferdeck owns one include file holding the ``upstream`` block.

Apply = render → write beside the file → atomic rename (the old content kept as
``FILE.bak``) → ``nginx -t`` → on failure put the old content back and report nginx's
message (one line) → reload (``nginx -s reload`` or the configured ``reload_command``) →
wait until the master runs new workers (so the reload is known to have taken) → read the
file back → record the split as *served* (``.FILE.served.json`` beside it, atomically) →
optionally GET ``verify_url`` through nginx.

A crash (even ``kill -9``) at any point leaves the old or the new file, never a torn one:
every write is a rename of a complete, fsync'd file. Between the rename and the reload a
crash can leave the new file on disk while nginx still serves the old one: `current`
(what the file says) and `served` (what was last verified after a reload) then differ,
and ``traffic show`` says so; the next apply (or rollback) writes and reloads again.
Two inferdecks never apply at once: an exclusive lock beside the file is held for the
whole sequence.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tui.config import NginxRouterConfig
from tui.ops.containers.replicas import with_replicas
from tui.ops.executor import Progress
from tui.ops.files import backup_path, remove_stale_temps, write_atomic
from tui.ops.traffic.upstream import parse_upstream, render_upstream, run_nginx
from tui.ops.traffic.weights import Applied, RouterError, check_weights, format_split

if TYPE_CHECKING:
    import httpx

_PID_DIRECTIVE = re.compile(r"^\s*pid\s+([^;\s]+)\s*;", re.MULTILINE)
_VERSION = re.compile(r"nginx/(\d+)\.(\d+)\.(\d+)")
LOCK_WAIT_S = 10.0


@functools.lru_cache(maxsize=8)
def supports_error_log_flag(binary: str) -> bool:
    """Whether this nginx takes ``-e`` (1.19.5 and later): its own messages to stderr."""
    try:
        done = subprocess.run(
            [binary, "-v"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    found = _VERSION.search(done.stderr + done.stdout)
    return found is not None and tuple(int(x) for x in found.groups()) >= (1, 19, 5)


def _ignore(line: str) -> None:
    del line


class NginxRouter:
    """Splits traffic by rewriting the upstream include file and reloading nginx."""

    kind = "nginx"

    def __init__(
        self,
        config: NginxRouterConfig,
        *,
        reload_timeout_s: float = 5.0,
        verify_timeout_s: float = 3.0,
    ) -> None:
        """``reload_timeout_s``: how long nginx may take to start its new workers."""
        self.config = config
        self.path = Path(config.upstream_file).expanduser()
        self.where = str(self.path)
        self.reload_timeout_s = reload_timeout_s
        self.verify_timeout_s = verify_timeout_s
        self._client: httpx.Client | None = None  # made at the first verify, then kept
        self.served_path = self.path.with_name(f".{self.path.name}.served.json")

    # -- what it would run ---------------------------------------------------------------

    def _base_argv(self) -> list[str]:
        argv = [self.config.binary]
        if self.config.prefix:
            argv += ["-p", self.config.prefix]
        if self.config.conf:
            argv += ["-c", self.config.conf]
        if supports_error_log_flag(self.config.binary):
            argv += ["-e", "stderr"]  # never touch a log file; we read its messages
        return argv

    def check_argv(self) -> list[str]:
        """``nginx [-p P] [-c C] -t -q``."""
        return [*self._base_argv(), "-t", "-q"]

    def reload_argv(self) -> list[str]:
        """The configured ``reload_command``, else ``nginx [-p P] [-c C] -s reload``."""
        if self.config.reload_command:
            return list(self.config.reload_command)
        return [*self._base_argv(), "-s", "reload"]

    def pools(self) -> tuple[str, ...]:
        """The pools of the configured servers, in the config's order."""
        return tuple(self.config.servers)

    def render(self, weights: Mapping[str, float]) -> str:
        """The upstream file for ``weights``; RouterError when it cannot be written."""
        try:
            servers = with_replicas(self.config.servers, self.path)  # scaled-out ones too
            return render_upstream(self.config.upstream_name, servers, weights)
        except ValueError as exc:
            raise RouterError(f"cannot write the upstream file: {exc}") from None

    def describe(self, weights: Mapping[str, float]) -> tuple[str, ...]:
        """The file's new server lines and the exact commands, for a plan."""
        text = self.render(check_weights(weights, self.pools()))
        lines = [f"write {self.path} (old kept as {backup_path(self.path)}), atomic rename:"]
        lines += ["  " + ln.strip() for ln in text.splitlines() if ln.strip().startswith("server")]
        lines.append("check:  " + " ".join(self.check_argv()))
        lines.append("reload: " + " ".join(self.reload_argv()))
        if self.config.verify_url:
            lines.append(f"verify: GET {self.config.verify_url}")
        lines.append("if nginx -t fails: the old file is put back and nginx is not reloaded")
        return tuple(lines)

    # -- reading -------------------------------------------------------------------------

    def current(self) -> dict[str, float]:
        """The split the file says now; RouterError when it is missing or not ours."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RouterError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            parsed = parse_upstream(text)
        except ValueError as exc:
            raise RouterError(f"{self.path}: {exc}") from None
        return {pool: parsed.weights.get(pool, 0.0) for pool in self.pools()}

    def served(self) -> tuple[dict[str, float], float] | None:
        """The split last verified as served (after a reload and a read-back) and when;
        None when inferdeck has not changed it yet (or the record is unreadable)."""
        try:
            record = json.loads(self.served_path.read_text(encoding="utf-8"))
            weights = {str(p): float(w) for p, w in record["weights"].items()}
            return weights, float(record["time"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def _record_served(self, weights: Mapping[str, float]) -> None:
        record = {"weights": dict(weights), "time": time.time(), "file": str(self.path)}
        write_atomic(self.served_path, json.dumps(record, sort_keys=True) + "\n")

    # -- applying ------------------------------------------------------------------------

    def apply(self, weights: Mapping[str, float], progress: Progress | None = None) -> Applied:
        """The whole sequence (see the module's docstring); RouterError when it fails."""
        say: Callable[[str], None] = progress or _ignore
        wanted = check_weights(weights, self.pools())
        text = self.render(wanted)
        started = time.monotonic()
        steps: list[str] = []

        def step(line: str) -> None:
            steps.append(line)
            say(line)

        with self._lock():
            remove_stale_temps(self.path)
            old = self._read_old()
            try:
                write_atomic(self.path, text, backup=True)
            except OSError as exc:
                raise RouterError(f"cannot write {self.path}: {exc.strerror or exc}") from None
            step(f"wrote {self.path} ({format_split(wanted)}); old kept as .bak")
            problem = run_nginx(self.check_argv())
            if problem:
                self._restore(old)
                raise RouterError(f"nginx -t refused the change, old file put back: {problem}")
            step("nginx -t: ok")
            self._reload(old, step)
            read = self._read_back(wanted)
            step(f"read back: {format_split(read)}")
            try:
                self._record_served(read)
            except OSError as exc:  # advisory: `traffic show` then says it cannot tell
                step(f"could not record the served split: {exc.strerror or exc}")
        verify_error = self._verify(step)
        return Applied(read, tuple(steps), time.monotonic() - started, verify_error)

    def _read_old(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RouterError(f"cannot read {self.path}: {exc.strerror or exc}") from None

    def _restore(self, old: bytes | None) -> None:
        """Put the previous bytes back (atomically), or remove a file that was not there."""
        if old is None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        write_atomic(self.path, old)

    def _reload(self, old: bytes | None, step: Callable[[str], None]) -> None:
        master = self.master_pid()
        before = set(workers(master)) if master else set()
        problem = run_nginx(self.reload_argv())
        if problem:
            self._restore(old)
            raise RouterError(f"nginx reload failed, old file put back: {problem}")
        if master is None:
            step("reloaded (nginx's master not found: new workers not checked)")
            return
        deadline = time.monotonic() + self.reload_timeout_s
        while time.monotonic() < deadline:
            fresh = [pid for pid in workers(master) if pid not in before]
            if fresh:
                step(f"reloaded: nginx {master} runs new workers {', '.join(map(str, fresh))}")
                return
            time.sleep(0.002)
        self._restore(old)
        raise RouterError(
            f"nginx {master} started no new workers within {self.reload_timeout_s:g}s of the "
            "reload (it kept the old config; see its error log); old file put back"
        )

    def _read_back(self, wanted: Mapping[str, float]) -> dict[str, float]:
        read = self.current()
        if any(abs(read.get(p, 0.0) - w) > 0.01 for p, w in wanted.items()):
            raise RouterError(
                f"{self.path} reads back {format_split(read)}, not "
                f"{format_split(wanted)}: changed by someone else?"
            )
        return read

    def _verify(self, step: Callable[[str], None]) -> str | None:
        """GET ``verify_url`` through nginx; None when it answers below 500."""
        import httpx  # loaded at the first request: the dashboard starts without it

        url = self.config.verify_url
        if not url:
            return None
        deadline = time.monotonic() + self.verify_timeout_s
        problem = ""
        if self._client is None:
            self._client = httpx.Client(trust_env=False, follow_redirects=False)
        while True:
            try:
                answer = self._client.get(url, timeout=max(0.2, deadline - time.monotonic()))
                if answer.status_code < 500:
                    step(f"verified: GET {url} → {answer.status_code}")
                    return None
                problem = f"GET {url} answered {answer.status_code}"
            except httpx.HTTPError as exc:
                problem = f"GET {url} failed: {type(exc).__name__}"
            if time.monotonic() + 0.1 >= deadline:
                step(f"verify FAILED: {problem}")
                return problem
            time.sleep(0.1)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """An exclusive lock beside the file, for the whole apply."""
        lock = self.path.with_name(f".{self.path.name}.lock")
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise RouterError(f"cannot lock {lock}: {exc.strerror or exc}") from None
        try:
            deadline = time.monotonic() + LOCK_WAIT_S
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RouterError(
                            f"{self.path} is being changed by another process (lock {lock})"
                        ) from None
                    time.sleep(0.01)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # -- nginx's processes ---------------------------------------------------------------

    def master_pid(self) -> int | None:
        """nginx's master process: the pid file the main config names; None if not found."""
        prefix = Path(self.config.prefix or "/etc/nginx").expanduser()
        conf = Path(self.config.conf or "/etc/nginx/nginx.conf").expanduser()
        if not conf.is_absolute():
            conf = prefix / conf
        candidates: list[Path] = []
        with contextlib.suppress(OSError):
            if found := _PID_DIRECTIVE.search(conf.read_text()):
                pid_path = Path(found.group(1))
                candidates.append(pid_path if pid_path.is_absolute() else prefix / pid_path)
        candidates += [prefix / "logs" / "nginx.pid", Path("/run/nginx.pid")]
        for candidate in candidates:
            with contextlib.suppress(OSError, ValueError):
                pid = int(candidate.read_text().split()[0])
                if Path(f"/proc/{pid}").exists():
                    return pid
        return None


def workers(master: int) -> list[int]:
    """The master's live worker processes (not those shutting down), from ``/proc``."""
    found: list[int] = []
    for pid in _children(master):
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            if "worker process" in cmdline and "shutting down" not in cmdline:
                found.append(pid)
    return found


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [int(x) for x in children.read_text().split()]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found
