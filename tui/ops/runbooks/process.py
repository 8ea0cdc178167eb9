"""Blocking workers behind runbook steps: a command streamed line by line, an HTTP probe.

`run_streaming` starts the command in its own process group and hands each line of its
stdout and stderr to a callback as soon as it is complete; at the timeout (or on cancel)
it signals the whole group (TERM, then KILL), so a step's children die with it.
`wait_for_http` polls a URL until it answers as expected, or the time is up.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Line = Callable[[str], None]

_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|[\x00-\x08\x0b-\x1f\x7f]"
)
_MAX_LINE = 64 * 1024  # a longer run without a newline is cut into lines of this size
_DRAIN_S = 0.5  # after the command exits, how long leftover children may keep its pipes
_TERM_GRACE_S = 2.0  # between TERM and KILL


def clean(text: str) -> str:
    """One line made safe for a terminal: escape sequences and control characters removed.

    A carriage return (a progress meter redrawing itself) keeps what a terminal would
    show: the text after the last one.
    """
    text = text.rstrip("\r\n")
    if "\r" in text:
        text = text.rsplit("\r", 1)[1]
    return _CONTROL.sub("", text)


@dataclass(frozen=True, slots=True)
class ProcessOutcome:
    """How a command ended: its exit status, or that it was timed out or cancelled."""

    returncode: int | None
    timed_out: bool = False
    cancelled: bool = False
    duration_s: float = 0.0


class _Lines:
    """Bytes from one pipe → complete, decoded lines."""

    def __init__(self, emit: Line) -> None:
        self.buffer = b""
        self.emit = emit

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while b"\n" in self.buffer or len(self.buffer) >= _MAX_LINE:
            cut = self.buffer.find(b"\n")
            cut = _MAX_LINE if cut < 0 or cut > _MAX_LINE else cut + 1
            chunk, self.buffer = self.buffer[:cut], self.buffer[cut:]
            self.emit(clean(chunk.decode("utf-8", errors="replace")))

    def flush(self) -> None:
        if self.buffer:
            self.emit(clean(self.buffer.decode("utf-8", errors="replace")))
            self.buffer = b""


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """TERM the command's process group, then KILL whatever is left after a grace period."""
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(_TERM_GRACE_S)
    _signal_group(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(_TERM_GRACE_S)


def run_streaming(
    argv: Sequence[str],
    on_line: Line,
    *,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    cancel: threading.Event | None = None,
) -> ProcessOutcome:
    """Run ``argv`` (no shell unless argv says so), streaming its output; see the module doc.

    ``env`` is added to inferdeck's environment. Raises `OSError` when it cannot start.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env} if env else None,
        cwd=cwd,
        start_new_session=True,  # its own process group: a timeout kills its children too
    )
    assert proc.stdout is not None and proc.stderr is not None
    selector = selectors.DefaultSelector()
    readers = {}
    for pipe in (proc.stdout, proc.stderr):
        os.set_blocking(pipe.fileno(), False)
        selector.register(pipe, selectors.EVENT_READ)
        readers[pipe.fileno()] = _Lines(on_line)
    timed_out = cancelled = False
    drain_until: float | None = None
    try:
        while selector.get_map():
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            if now >= deadline:
                timed_out = True
                break
            if drain_until is None and proc.poll() is not None:
                drain_until = now + _DRAIN_S
            if drain_until is not None and now >= drain_until:
                break  # the command is done; a child it left behind keeps the pipe open
            limit = min(deadline, drain_until or deadline) - now
            for key, _ in selector.select(min(0.1, max(limit, 0.0))):
                fd = key.fileobj.fileno()  # type: ignore[union-attr]
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if data:
                    readers[fd].feed(data)
                else:
                    selector.unregister(key.fileobj)
    finally:
        for reader in readers.values():
            reader.flush()
        selector.close()
        if timed_out or cancelled:
            _kill_group(proc)
        proc.stdout.close()
        proc.stderr.close()
    returncode: int | None
    if timed_out or cancelled:
        returncode = proc.poll()
    else:
        try:
            returncode = proc.wait(max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            timed_out, returncode = True, proc.poll()
    return ProcessOutcome(returncode, timed_out, cancelled, time.monotonic() - started)


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """Whether the probe answered as expected, after how many attempts, and the last answer."""

    ok: bool
    attempts: int
    last: str
    cancelled: bool = False


def probe_once(url: str, expect_status: int, expect_body: str | None, timeout_s: float) -> str:
    """One GET; returns "" when it answered as expected, else what was wrong."""
    import httpx  # loaded at the first request: the dashboard starts without it

    try:
        response = httpx.get(url, timeout=timeout_s, trust_env=False, follow_redirects=False)
    except httpx.TimeoutException:
        return f"no answer within {timeout_s:g}s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {' '.join(str(exc).split()) or 'request failed'}"
    if response.status_code != expect_status:
        return f"status {response.status_code} (want {expect_status})"
    if expect_body is not None and expect_body not in response.text:
        return f"status {response.status_code} but the body lacks {expect_body!r}"
    return ""


def wait_for_http(
    url: str,
    on_line: Line,
    *,
    timeout_s: float,
    interval_s: float,
    expect_status: int = 200,
    expect_body: str | None = None,
    cancel: threading.Event | None = None,
) -> ProbeOutcome:
    """GET ``url`` every ``interval_s`` until it answers as expected or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    attempts, last = 0, "not tried"
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        last = probe_once(url, expect_status, expect_body, max(min(remaining, 10.0), 0.1))
        if not last:
            on_line(f"GET {url}: status {expect_status} as expected (attempt {attempts})")
            return ProbeOutcome(True, attempts, f"status {expect_status}")
        on_line(clean(f"GET {url}: {last} (attempt {attempts})"))
        pause = min(interval_s, deadline - time.monotonic())
        if pause <= 0:
            return ProbeOutcome(False, attempts, last)
        if cancel is not None:
            if cancel.wait(pause):
                return ProbeOutcome(False, attempts, last, cancelled=True)
        else:
            time.sleep(pause)
