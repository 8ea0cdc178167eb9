"""One-line reasons for failed httpx requests (the sources that still use httpx)."""

from __future__ import annotations

import httpx

from tui.sources.promtext import one_line


def _caused_by_refusal(exc: BaseException) -> bool:
    """True when a connection refusal is anywhere in the exception's cause chain."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe_error(exc: BaseException, path: str, timeout_s: float) -> str:
    """A one-line reason for a failed request to ``path``: "connection refused", "timeout ..."."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timeout after {timeout_s:g}s"
    if isinstance(exc, httpx.ConnectError):
        return (
            "connection refused" if _caused_by_refusal(exc) else one_line(f"cannot connect: {exc}")
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if "incomplete" in text or "complete message body" in text:
            return f"truncated answer from {path} (connection closed mid-body)"
        return one_line(f"bad HTTP answer from {path}: {text or 'protocol error'}")
    if isinstance(exc, httpx.ReadError):
        return f"connection lost reading {path}"
    return one_line(f"{type(exc).__name__} from {path}: {exc}")
