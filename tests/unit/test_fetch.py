"""The polling sources' HTTP client (`tui.sources._fetch`), against real loopback servers
that misbehave the ways real ones do: closing kept-alive connections, compressing
unasked, chunking, answering too much."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from textual.content import Content

from tui.sources import _fetch
from tui.sources._fetch import Fetched, Fetcher
from widgets.text import literal_markup

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _head(reader: asyncio.StreamReader) -> bytes | None:
    """The next request's head, or None when the client closed the connection."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


def _answer(body: bytes, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 200 OK\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


async def fetch_once(
    url: str, path: str = "/metrics", timeout_s: float = 2.0, **headers: str
) -> Fetched:
    """One GET of ``url + path`` by a fetcher of its own (sending ``headers``), closed after."""
    fetcher = Fetcher(timeout_s=timeout_s, headers=headers or None)
    try:
        return await fetcher.get(url + path, path)
    finally:
        await fetcher.aclose()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start a loopback server running a handler; its base URL."""
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


async def test_a_kept_connection_the_server_closed_while_idle_is_replaced_not_reported(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    """Servers close idle keep-alive connections (nginx after 75 s, uvicorn after 5 s);
    the next scrape must read the page over a new connection, not say the backend
    dropped."""
    connections = 0

    async def one_answer_then_close_when_idle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal connections
        connections += 1
        if await _head(reader) is not None:
            writer.write(_answer(b"up 1\n", "Content-Type: text/plain"))  # keep-alive...
            await writer.drain()
        writer.close()  # ...then closed while the client holds it idle

    url = await serve(one_answer_then_close_when_idle)
    fetcher = Fetcher(timeout_s=2.0)
    first = await fetcher.get(url + "/metrics", "/metrics")
    await asyncio.sleep(0.05)  # the close reaches the client's idle connection
    second = await fetcher.get(url + "/metrics", "/metrics")
    await fetcher.aclose()
    assert (first.status, first.text) == (200, "up 1\n")
    assert (second.status, second.text, second.error) == (200, "up 1\n", None)
    assert connections == 2


async def test_a_connection_lost_before_any_answer_on_a_new_connection_is_reported_once(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    """A server that accepts and closes without answering is said to have dropped the
    connection, as a network failure, without the GET being sent again."""
    connections = 0

    async def accept_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _head(reader)
        writer.close()

    url = await serve(accept_and_close)
    got = await fetch_once(url, "/health")
    assert (got.status, got.error, got.network) == (None, "connection lost reading /health", True)
    assert connections == 1


async def test_a_body_compressed_without_being_asked_is_read_and_an_unknown_coding_refused(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    page = b"# TYPE up gauge\nup 1\n" * 50

    async def compressing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (head := await _head(reader)) is not None:
            assert b"accept-encoding: identity" in head.lower()  # nothing else is asked for
            if b" /gzip " in head:
                writer.write(_answer(gzip.compress(page), "Content-Encoding: gzip"))
            else:
                writer.write(_answer(b"\x00\x01", "Content-Encoding: zstd"))
            await writer.drain()
        writer.close()

    url = await serve(compressing)
    fetcher = Fetcher(timeout_s=2.0)
    gzipped = await fetcher.get(url + "/gzip", "/metrics")
    unknown = await fetcher.get(url + "/zstd", "/metrics")
    await fetcher.aclose()
    assert (gzipped.status, gzipped.text) == (200, page.decode())
    assert unknown.status is None
    assert unknown.error == "bad HTTP answer from /metrics: content encoding 'zstd' not understood"
    assert unknown.network is False


async def test_a_chunked_body_in_a_declared_charset_is_read_whole(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _head(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            b'Content-Type: Text/Plain; version=0.0.4; charset="latin-1"\r\n\r\n'
            b'7\r\nup{a="\xe9\r\n5\r\n"} 1\n\r\n0\r\n\r\n'
        )
        await writer.drain()
        writer.close()

    url = await serve(chunked)
    got = await fetch_once(url)
    assert (got.status, got.text, got.content_type) == (200, 'up{a="é"} 1\n', "text/plain")


async def test_a_hostile_answer_becomes_a_one_line_reason_that_renders_literally(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    """The server's own bytes reach the screen in the reason: terminal escapes, Rich
    markup and line breaks must arrive as one printable line the escaping boundary shows
    as written."""

    async def hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _head(reader)
        writer.write(b"HTTP/1.1 2\x1b[2J[bold red]OK[/]\r\nrm -rf /;\x07\r\n\r\n")
        await writer.drain()
        writer.close()

    got = await fetch_once(await serve(hostile))
    reason = got.error or ""
    assert reason.startswith("bad HTTP answer from /metrics: ")
    assert "\n" not in reason and all(c.isprintable() for c in reason)
    assert Content.from_markup(literal_markup(reason)).plain == reason


async def test_an_answer_larger_than_the_limit_is_refused(
    serve: Callable[[Handler], Awaitable[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fetch, "MAX_BODY_BYTES", 1024 * 1024)

    async def runaway(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n")
        for _ in range(50):
            writer.write(b"x" * 100_000)
            await writer.drain()
        writer.close()

    url = await serve(runaway)
    got = await fetch_once(url, timeout_s=5.0)
    assert (got.status, got.error) == (None, "answer from /metrics larger than 1 MiB")


async def test_a_header_value_http_forbids_is_refused_without_being_shown(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    """A token read from a file with a stray newline must not go out, nor be echoed in a
    reason the screen shows."""
    asked = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal asked
        asked += 1
        writer.close()

    url = await serve(count)
    got = await fetch_once(url, Authorization="Bearer s3cret\r\nX-Evil: 1")
    assert got.error == "cannot ask for /metrics: a header value is not valid in HTTP"
    assert "s3cret" not in (got.error or "")
    assert asked == 0


def test_scraping_does_not_load_aiohttp() -> None:
    """aiohttp costs 10-12 MB of RSS and over 0.1 s to import: the dashboard's own
    collection must not pull it in (the simulator still uses it)."""
    script = (
        "import asyncio, sys\n"
        "from tui.sources.scrape import ScrapeSource, ScrapeTarget\n"
        "async def main():\n"
        "    source = ScrapeSource([ScrapeTarget('b', 'p', 'http://127.0.0.1:1')])\n"
        "    got = await source.collect()\n"
        "    await source.aclose()\n"
        "    print(got.backends[0].reason)\n"
        "asyncio.run(main())\n"
        "print('aiohttp' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split("\n")[:2] == ["connection refused", "False"]
