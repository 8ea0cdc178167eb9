"""Pure helpers of the docker source: engine JSON → `Container`, log bytes → `LogLine`s,
stack matching, timestamps, and one-line error messages. No I/O here."""

from __future__ import annotations

import errno
import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from tui.model import Container, LogLine

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"

ERROR_LINE = re.compile(
    r"error|exception|traceback|fatal|panic|cuda out of memory|out of memory|\boom(?:killed)?\b",
    re.IGNORECASE,
)
"""What makes a log line look like trouble (flagged, never interpreted)."""

#: podman's own state words → Docker's (running, exited, restarting, paused, created, dead)
_STATES = {
    "stopped": "exited",
    "configured": "created",
    "initialized": "created",
    "stopping": "running",
}
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?")


def is_error_line(text: str) -> bool:
    """Whether a log line mentions an error, exception, traceback, fatal or OOM."""
    return ERROR_LINE.search(text) is not None


def log_lines(raw: bytes | str, limit: int | None = None) -> list[LogLine]:
    """The last ``limit`` lines of a log, decoded with replacement, flagged, kept verbatim.

    Only ``\\n`` separates lines (a trailing ``\\r`` is dropped); escape sequences,
    markup and shell syntax stay in the text as they are: this is data, not commands.
    """
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    if limit is not None:
        parts = parts[-limit:] if limit > 0 else []
    lines = [p[:-1] if p.endswith("\r") else p for p in parts]
    return [LogLine(text=line, is_error=is_error_line(line)) for line in lines]


def parse_timestamp(value: Any) -> float | None:
    """Epoch seconds of an engine timestamp (RFC 3339 with nanoseconds, or epoch number).

    Docker's zero time (``0001-01-01T00:00:00Z``, "never started") and garbage give None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    if day.startswith("0001-"):
        return None
    try:
        stamp = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        return None
    tz = UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    seconds = stamp.replace(tzinfo=tz).timestamp()
    if fraction:
        seconds += int(fraction[:9].ljust(9, "0")) / 1e9
    return seconds


def normalise_state(state: Any) -> str:
    """Docker's state word for an engine's (podman says ``stopped`` for ``exited``)."""
    word = str(state or "unknown").strip().lower()
    return _STATES.get(word, word)


def container_name(names: Any) -> str:
    """A container's name from inspect's ``Name`` or the list's ``Names`` (no leading ``/``)."""
    if isinstance(names, list | tuple):
        names = names[0] if names else ""
    return str(names or "").lstrip("/")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def container_from_inspect(attrs: Mapping[str, Any]) -> Container:
    """A `Container` from an inspect answer (Docker's or podman's compatible one)."""
    state = _mapping(attrs.get("State"))
    config = _mapping(attrs.get("Config"))
    raw_labels = config.get("Labels") or attrs.get("Labels") or {}
    labels = {str(k): str(v) for k, v in _mapping(raw_labels).items()}
    status = normalise_state(state.get("Status"))
    if status == "unknown" and state:
        status = "running" if state.get("Running") else "exited"
    health = _mapping(state.get("Health")).get("Status") or None
    exit_code = state.get("ExitCode") if status in ("exited", "dead") else None
    try:
        restart_count = int(attrs.get("RestartCount") or 0)
    except (TypeError, ValueError):
        restart_count = 0
    return Container(
        name=container_name(attrs.get("Name") or attrs.get("Names")),
        id=str(attrs.get("Id") or ""),
        image=str(config.get("Image") or attrs.get("Image") or ""),
        state=status,
        health=str(health) if health else None,
        restart_count=restart_count,
        started_at=parse_timestamp(state.get("StartedAt")) if status != "created" else None,
        created_at=parse_timestamp(attrs.get("Created")),
        exit_code=int(exit_code) if isinstance(exit_code, int) else None,
        labels=MappingProxyType(labels),
        service=labels.get(COMPOSE_SERVICE),
        project=labels.get(COMPOSE_PROJECT),
    )


def in_stack(
    name: str,
    labels: Mapping[str, str] | None,
    compose_project: str | None,
    name_patterns: Sequence[str],
) -> bool:
    """Whether a container belongs to the stack: its compose project, or a name glob.

    Either test admits it; with neither configured every container belongs.
    """
    if compose_project is None and not name_patterns:
        return True
    if compose_project is not None and (labels or {}).get(COMPOSE_PROJECT) == compose_project:
        return True
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in name_patterns)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (chains, ``args``, urllib3's ``reason``)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        nested = [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
        todo.extend(x for x in nested if isinstance(x, BaseException))


def connection_problem(exc: BaseException, timeout_s: float) -> str | None:
    """What went wrong reaching the engine, in a few words, or None if it answered."""
    for e in _causes(exc):
        if isinstance(e, FileNotFoundError) or getattr(e, "errno", None) == errno.ENOENT:
            return "no such socket"
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, PermissionError):
            return "permission denied (is this user in the docker group?)"
        if isinstance(e, TimeoutError) or "timed out" in str(e).lower():
            return f"no answer within {timeout_s:g}s"
    text = str(exc)
    for needle, words in (
        ("No such file or directory", "no such socket"),
        ("Connection refused", "connection refused"),
        ("Permission denied", "permission denied (is this user in the docker group?)"),
        ("Read timed out", f"no answer within {timeout_s:g}s"),
        ("Connection aborted", "connection aborted"),
        ("Connection reset", "connection reset"),
    ):
        if needle in text:
            return words
    return None


def one_line(text: str, limit: int = 300) -> str:
    """The first non-empty line of ``text``, cut to ``limit`` characters."""
    for line in str(text).splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""
