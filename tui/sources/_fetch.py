"""Periodic HTTP GETs for the polling sources: one keep-alive aiohttp session per origin.

Why aiohttp and not httpx, which the one-off calls use: a dashboard scrapes every
backend every second, and the client's own work is most of a round's cost. Measured on
32 simulated backends (65 GETs a round, keep-alive, same machine): httpx 1.2-1.3 ms of
CPU per GET, aiohttp 0.3-0.35 ms (``benchmarks/collect_32.py``).

Why one session per origin: a pool matches every queued request against every pooled
connection, so one pool for a whole fleet costs more than the requests themselves.

`Fetcher.get` never raises for a failed request: it returns a `Fetched` carrying a
one-line reason ("connection refused", "timeout after 2s", "truncated answer from
/metrics ..."). Each GET is bounded by ``timeout_s`` overall (connect, send, wait and
read), and a body over `MAX_BODY_BYTES` is refused, so a hung or runaway server costs
one timeout, never the source. Import this module from the thread that polls (the
hub's): aiohttp is not needed for the first frame.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from tui.sources.promtext import one_line

#: A body larger than this is refused (a misconfigured URL, not an exporter).
MAX_BODY_BYTES = 32 * 1024 * 1024
#: Idle connections kept per origin (``/metrics`` and ``/health`` go out together).
KEEP_ALIVE_PER_ORIGIN = 8


@dataclass(frozen=True, slots=True)
class Fetched:
    """One HTTP GET's outcome: a status and body, or a one-line error."""

    status: int | None = None
    text: str | None = None
    error: str | None = None
    network: bool = False  # failed before any HTTP answer (refused, timeout, reset)
    content_type: str = ""  # the media type, lower case, without parameters


class BodyTooLarge(Exception):
    """The body exceeded `MAX_BODY_BYTES`."""


def _caused_by_refusal(exc: BaseException) -> bool:
    """True when a connection refusal is anywhere in the exception's cause chain."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        os_error = getattr(seen, "os_error", None)  # aiohttp's ClientConnectorError
        if isinstance(os_error, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe_failure(exc: BaseException, path: str, timeout_s: float) -> str:
    """A one-line reason for a failed GET of ``path``: "connection refused", "timeout ..."."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return f"timeout after {timeout_s:g}s"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if _caused_by_refusal(exc):
            return "connection refused"
        return one_line(f"cannot connect: {exc.os_error or exc}")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"truncated answer from {path} (connection closed mid-body)"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"connection lost reading {path}"
    if isinstance(exc, aiohttp.ClientResponseError):  # not HTTP (a bad status line, ...)
        detail = exc.message or "protocol error"
        return one_line(f"bad HTTP answer from {path}: {detail}")
    if isinstance(exc, aiohttp.ClientOSError):
        return f"connection lost reading {path}"
    if isinstance(exc, BodyTooLarge):
        return f"answer from {path} larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"
    return one_line(f"{type(exc).__name__} from {path}: {exc}")


class Fetcher:
    """GETs over one keep-alive aiohttp session per origin (scheme, host, port).

    Sessions are made on first use, inside the running event loop (the hub's); the
    system's CA store is loaded only for an ``https`` origin, once.
    """

    def __init__(self, timeout_s: float, headers: dict[str, str] | None = None) -> None:
        """Bound each GET by ``timeout_s`` overall; send ``headers`` with every one."""
        self.timeout_s = timeout_s
        self._headers = dict(headers or {})
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._tls: ssl.SSLContext | None = None

    def _session(self, url: str) -> aiohttp.ClientSession:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        session = self._sessions.get(origin)
        if session is None:
            tls: ssl.SSLContext | bool = False
            if parts.scheme.lower() == "https":
                if self._tls is None:
                    self._tls = ssl.create_default_context()
                tls = self._tls
            connector = aiohttp.TCPConnector(limit=KEEP_ALIVE_PER_ORIGIN, ssl=tls)
            session = self._sessions[origin] = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                cookie_jar=aiohttp.DummyCookieJar(),  # nothing to remember between scrapes
                timeout=aiohttp.ClientTimeout(total=None),  # bounded in `get`, overall
            )
        return session

    async def get(self, url: str, path: str, headers: dict[str, str] | None = None) -> Fetched:
        """GET ``url`` (with extra ``headers``) within ``timeout_s`` overall; never raises.

        ``path`` names what was asked for in a reason ("truncated answer from /metrics").
        """
        try:
            async with asyncio.timeout(self.timeout_s):
                session = self._session(url)
                # no extra headers as None, not {}: aiohttp then does less work for each
                # GET (measured: ~5% of a round of 33 GETs' CPU)
                extra = headers or None
                async with session.get(url, headers=extra, allow_redirects=False) as response:
                    body = bytearray()
                    while chunk := await response.content.readany():
                        body += chunk
                        if len(body) > MAX_BODY_BYTES:
                            raise BodyTooLarge
                    try:
                        text = body.decode(response.charset or "utf-8", errors="replace")
                    except LookupError:  # a charset Python does not know: read as UTF-8
                        text = body.decode("utf-8", errors="replace")
                    return Fetched(
                        status=response.status, text=text, content_type=response.content_type
                    )
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:
            return Fetched(error=describe_failure(exc, path, self.timeout_s), network=True)
        except Exception as exc:
            return Fetched(error=describe_failure(exc, path, self.timeout_s))

    async def aclose(self) -> None:
        """Close every session's connections."""
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()
