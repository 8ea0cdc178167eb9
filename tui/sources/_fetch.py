"""Periodic HTTP GETs for the polling sources: h11 over asyncio streams, kept alive.

Why h11 and not httpx, which the one-off calls use, or aiohttp: a dashboard scrapes
every backend every second, and the client's own work is most of a round's cost; and
what the client costs to import is paid by every first frame and held for the
process's life. Measured on this project's simulator (whole ``/metrics`` pages,
keep-alive, same machine): httpx 1.2-1.3 ms of CPU per GET, aiohttp 0.42-0.50 ms,
h11 over asyncio's streams 0.38-0.45 ms; for vLLM's named samples (13 kB) this module
0.33-0.37 ms, aiohttp 0.44-0.52; importing aiohttp after Textual 110-160 ms and
10-12 MB of RSS, h11 10 ms and 0.2 MB. h11 is the HTTP/1.1 layer httpx itself runs on
(through httpcore): it does all of HTTP/1.1 (framing, chunked bodies, keep-alive,
protocol errors); this module only moves its bytes, without httpcore's and httpx's
per-request layers.

Why idle connections are kept per origin: a target's ``/metrics`` and ``/health`` go
out together, so up to `KEEP_ALIVE_PER_ORIGIN` of them wait for the next scrape; a
connection the server closed while idle is noticed on reuse (no answer at all) and the
GET goes again once on a new one.

`Fetcher.get` never raises for a failed request: it returns a `Fetched` carrying a
one-line reason ("connection refused", "timeout after 2s", "truncated answer from
/metrics ..."). Each GET is bounded by ``timeout_s`` overall (connect, send, wait and
read), and a body over `MAX_BODY_BYTES` is refused, so a hung or runaway server costs
one timeout, never the source.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import errno
import functools
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

import h11

from tui.sources.promtext import one_line

if TYPE_CHECKING:
    import ssl

#: A body larger than this is refused (a misconfigured URL, not an exporter).
MAX_BODY_BYTES = 32 * 1024 * 1024
#: Idle connections kept per origin (``/metrics`` and ``/health`` go out together).
KEEP_ALIVE_PER_ORIGIN = 8
#: Bytes asked of the socket at a time.
READ_CHUNK = 64 * 1024
#: GETs kept made (URL and headers); past this many, the kept ones are dropped.
MAX_KEPT_REQUESTS = 1024
#: Sent with every GET, so a server's logs say who asked.
USER_AGENT = "inferdeck"


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


class ConnectionLost(Exception):
    """The connection closed or reset before an answer began (``reused``: it had
    served an earlier GET, so the server may just have closed it while idle)."""

    def __init__(self, reused: bool) -> None:
        super().__init__("connection lost")
        self.reused = reused


class Truncated(Exception):
    """The connection closed after the answer began and before its body ended."""


class BadAnswer(Exception):
    """What came back is not HTTP/1.1 h11 accepts, or its encoding is unknown."""


@dataclass(slots=True)
class _Connection:
    """One open connection and the HTTP state of its current exchange."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    http: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))
    served: int = 0  # answers read whole over it

    def close(self) -> None:
        """Close the socket (without waiting: a close never blocks a GET)."""
        self.writer.close()


class _Request(NamedTuple):
    origin: tuple[str, str, int]  # scheme, host, port
    request: h11.Request


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    content_type: str
    charset: str


_REFUSED = errno.ECONNREFUSED


def _caused_by_refusal(exc: BaseException) -> bool:
    """True when a connection refusal is anywhere in the exception's cause chain."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or getattr(seen, "errno", 0) == _REFUSED:
            return True
        # several addresses tried (localhost: ::1, then 127.0.0.1): one OSError naming each
        if "refused" in str(seen).lower() or f"[Errno {_REFUSED}]" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe_failure(exc: BaseException, path: str, timeout_s: float) -> str:
    """A one-line reason for a failed GET of ``path``: "connection refused", "timeout ..."."""
    if isinstance(exc, TimeoutError):
        return f"timeout after {timeout_s:g}s"
    if isinstance(exc, Truncated):
        return f"truncated answer from {path} (connection closed mid-body)"
    if isinstance(exc, ConnectionLost):
        return f"connection lost reading {path}"
    if isinstance(exc, BadAnswer | h11.ProtocolError):
        return one_line(f"bad HTTP answer from {path}: {exc or 'protocol error'}")
    if isinstance(exc, BodyTooLarge):
        return f"answer from {path} larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"
    if isinstance(exc, OSError):
        return (
            "connection refused" if _caused_by_refusal(exc) else one_line(f"cannot connect: {exc}")
        )
    return one_line(f"{type(exc).__name__} from {path}: {exc}")


@functools.lru_cache(maxsize=64)
def _media_type(value: str) -> tuple[str, str]:
    """A ``Content-Type`` value → (media type lower case, charset or ""), as the standard
    library's email headers read them (a server sends the same value at every scrape)."""
    header = email.message.Message()
    header["Content-Type"] = value
    return header.get_content_type(), header.get_content_charset() or ""


def _decoded(body: bytes, encoding: str) -> bytes:
    """``body`` with its ``Content-Encoding`` undone (none is asked for, but a server
    may send gzip anyway); bounded by `MAX_BODY_BYTES` however well it compresses."""
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadAnswer(f"content encoding {encoding!r} not understood")
    # wbits 47: a gzip or zlib header, told apart by the data
    inflater = zlib.decompressobj(47 if encoding != "deflate" else zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise BadAnswer(f"{encoding} body does not decompress ({exc})") from None
    if len(out) > MAX_BODY_BYTES:
        raise BodyTooLarge
    return out


class Fetcher:
    """GETs over kept-alive connections, up to `KEEP_ALIVE_PER_ORIGIN` idle per origin
    (scheme, host, port).

    Connections are opened on first need, inside the running event loop (the hub's);
    the system's CA store is loaded only for an ``https`` origin, once.
    """

    def __init__(self, timeout_s: float, headers: dict[str, str] | None = None) -> None:
        """Bound each GET by ``timeout_s`` overall; send ``headers`` with every one."""
        self.timeout_s = timeout_s
        self._headers = [(k, v) for k, v in (headers or {}).items()]
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None
        # each URL's GET, made and checked once (a quarter of a GET's CPU when made each
        # time: h11 checks every header and the 2.5 kB target of a named-samples query)
        self._requests: dict[tuple[str, tuple[tuple[str, str], ...]], _Request] = {}

    async def get(self, url: str, path: str, headers: dict[str, str] | None = None) -> Fetched:
        """GET ``url`` (with extra ``headers``) within ``timeout_s`` overall; never raises.

        ``path`` names what was asked for in a reason ("truncated answer from /metrics").
        """
        try:
            request = self._made(url, headers)
        except h11.LocalProtocolError:  # never echo the value: it may be a credential
            return Fetched(error=f"cannot ask for {path}: a header value is not valid in HTTP")
        try:
            async with asyncio.timeout(self.timeout_s):
                answer = await self._exchange(request)
        except (TimeoutError, ConnectionLost) as exc:
            return Fetched(error=describe_failure(exc, path, self.timeout_s), network=True)
        except (Truncated, BadAnswer, BodyTooLarge, h11.ProtocolError) as exc:
            return Fetched(error=describe_failure(exc, path, self.timeout_s))
        except OSError as exc:  # before any answer: refused, unreachable, reset, TLS
            return Fetched(error=describe_failure(exc, path, self.timeout_s), network=True)
        except Exception as exc:
            return Fetched(error=describe_failure(exc, path, self.timeout_s))
        try:
            text = answer.body.decode(answer.charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know: read as UTF-8
            text = answer.body.decode("utf-8", errors="replace")
        return Fetched(status=answer.status, text=text, content_type=answer.content_type)

    def _made(self, url: str, headers: dict[str, str] | None) -> _Request:
        """The GET of ``url`` with ``headers``, made on its first use and kept (h11's
        events are immutable; a changed header, such as a rotated token, is a new key)."""
        key = (url, tuple(headers.items()) if headers else ())
        made = self._requests.get(key)
        if made is None:
            if len(self._requests) >= MAX_KEPT_REQUESTS:  # targets come and go: start again
                self._requests.clear()
            made = self._requests[key] = self._request(url, headers)
        return made

    def _request(self, url: str, headers: dict[str, str] | None) -> _Request:
        """The GET of ``url`` and where it goes."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise h11.LocalProtocolError(f"not an http(s) URL: {scheme}")
        port = parts.port or (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = h11.Request(
            method="GET",
            target=target,
            headers=[
                ("Host", parts.netloc.rpartition("@")[2]),
                ("User-Agent", USER_AGENT),
                ("Accept-Encoding", "identity"),
                *self._headers,
                *(headers or {}).items(),
            ],
        )
        return _Request((scheme, parts.hostname or "", port), request)

    async def _exchange(self, asked: _Request) -> _Answer:
        """One GET over an idle connection to the origin, or a new one: again once on a
        new connection when a reused one turns out to have been closed while idle."""
        origin, request = asked
        idle = self._idle.setdefault(origin, [])
        while True:
            connection = idle.pop() if idle else await self._open(*origin)
            try:
                answer = await self._ask(connection, request)
            except ConnectionLost as exc:
                connection.close()
                if exc.reused:
                    continue  # closed by the server while idle: ask on another connection
                raise
            except BaseException:  # a failure, a timeout or a cancel: the exchange is torn
                connection.close()
                raise
            self._keep_or_close(origin, connection)
            return answer

    async def _open(self, scheme: str, host: str, port: int) -> _Connection:
        """A new connection (TLS for ``https``, checked against the system's CAs)."""
        tls: ssl.SSLContext | None = None
        if scheme == "https":
            if self._tls is None:
                import ssl  # only for https: OpenSSL is ~5 MB of a running dashboard

                self._tls = ssl.create_default_context()
            tls = self._tls
        reader, writer = await asyncio.open_connection(host, port, ssl=tls, limit=READ_CHUNK)
        return _Connection(reader, writer)

    @staticmethod
    async def _ask(connection: _Connection, request: h11.Request) -> _Answer:
        """Send ``request`` and read its answer whole over ``connection``."""
        http = connection.http
        reused = connection.served > 0
        try:
            connection.writer.write(http.send(request) + (http.send(h11.EndOfMessage()) or b""))
            await connection.writer.drain()
        except OSError:
            raise ConnectionLost(reused) from None
        status = 0
        content_type = charset = encoding = ""
        body = bytearray()
        heard = False  # any byte of an answer arrived
        closed = False  # the server closed its side
        while True:
            try:
                event = http.next_event()
            except h11.RemoteProtocolError as exc:
                if not closed:
                    raise BadAnswer(str(exc)) from None
                if not heard:
                    raise ConnectionLost(reused) from None
                if status:
                    raise Truncated from None
                raise BadAnswer(str(exc)) from None
            if event is h11.NEED_DATA:
                try:
                    data = await connection.reader.read(READ_CHUNK)
                except OSError:  # reset: read as the end, what came before decides
                    data = b""
                heard = heard or bool(data)
                closed = not data
                http.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
                for name, value in event.headers:
                    if name == b"content-type":
                        content_type, charset = _media_type(value.decode("latin-1"))
                    elif name == b"content-encoding":
                        encoding = value.decode("latin-1").strip().lower()
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY_BYTES:
                    raise BodyTooLarge
            elif isinstance(event, h11.EndOfMessage):
                connection.served += 1
                return _Answer(status, _decoded(bytes(body), encoding), content_type, charset)
            elif isinstance(event, h11.ConnectionClosed):
                if not heard:
                    raise ConnectionLost(reused)
                if not status:
                    raise BadAnswer("closed before a whole status line and headers")
                raise Truncated
            # an informational answer (100 Continue) is passed over

    def _keep_or_close(self, origin: tuple[str, str, int], connection: _Connection) -> None:
        """Keep ``connection`` for the next GET to ``origin`` if both sides may go on."""
        http = connection.http
        idle = self._idle.setdefault(origin, [])
        if (
            http.our_state is h11.DONE
            and http.their_state is h11.DONE
            and len(idle) < KEEP_ALIVE_PER_ORIGIN
        ):
            http.start_next_cycle()
            idle.append(connection)
        else:
            connection.close()

    async def aclose(self) -> None:
        """Close every idle connection."""
        pools, self._idle = list(self._idle.values()), {}
        for connection in (c for pool in pools for c in pool):
            connection.close()
            with contextlib.suppress(OSError):
                await connection.writer.wait_closed()
