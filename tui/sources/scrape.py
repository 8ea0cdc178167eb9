"""The scrape source: reads every backend's ``/metrics`` and ``/health`` directly.

No Prometheus needed. Each `collect` fetches all backends (``/metrics`` and ``/health``)
and all DCGM exporters concurrently, each request bounded by ``timeout_s`` in total (not
just per socket operation), hands the texts to `ScrapeState` — the I/O-free core that
keeps the sliding window and computes rates and quantiles — and returns its result.

Failure policy: one bad target only marks that backend with a one-line reason: DOWN
when it is refused, times out, fails its health check, or answers ``/metrics`` with an
HTTP error or a web page; UNKNOWN when the metrics it sends cannot be read (garbage, a
truncated body). `collect` does not raise for it, not even when every target fails —
"all backends down" is a fact about the fleet to be shown backend by backend, not a
failure of this source.
`collect` raises only when the source itself cannot work (it was closed).

Parsing and computing run in a worker thread (``asyncio.to_thread``); `state` must only
be touched between collects.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from tui.model import Collected
from tui.sources._http_auth import CredentialsError
from tui.sources._scrape_core import ScrapeState, ScrapeTarget
from tui.sources.promtext import one_line

__all__ = ["ScrapeSource", "ScrapeState", "ScrapeTarget", "describe_error"]

#: Ask for the classic text format (keeps ``vllm:`` colons); OpenMetrics is still read.
ACCEPT = "text/plain;version=0.0.4;q=1.0, application/openmetrics-text;q=0.5, */*;q=0.1"
#: A ``/metrics`` body larger than this is refused (a misconfigured URL, not vLLM).
MAX_BODY_BYTES = 32 * 1024 * 1024
#: ``/health`` answers meaning "this server has no health endpoint", not "unhealthy".
NO_HEALTH_ENDPOINT = frozenset({404, 405, 501})


@dataclass(frozen=True, slots=True)
class _Fetched:
    """One HTTP GET's outcome: a status and body, or a one-line error."""

    status: int | None = None
    text: str | None = None
    error: str | None = None
    network: bool = False  # failed before any HTTP answer (refused, timeout, reset)
    content_type: str = ""  # the media type, lower case, without parameters


#: Media types that are never an exposition, whatever the body: web pages and JSON.
NOT_METRICS_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/json"})


def not_metrics(content_type: str, text: str) -> str | None:
    """Why a 200 answer from ``/metrics`` is not Prometheus metrics, or None when it may be.

    A login page, a proxy's error page or a web UI on the wrong port is named by its
    media type (``text/html``), or, served as ``text/plain``, by its opening ``<``.
    """
    if content_type in NOT_METRICS_TYPES:
        return f"not Prometheus metrics ({content_type})"
    if text.lstrip()[:1] == "<":
        return "not Prometheus metrics (an HTML page)"
    return None


class _BodyTooLarge(Exception):
    """The body exceeded `MAX_BODY_BYTES`."""


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
    """A one-line reason for a failed GET of ``path``: "connection refused", "timeout ..."."""
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
    if isinstance(exc, _BodyTooLarge):
        return f"answer from {path} larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"
    return one_line(f"{type(exc).__name__} from {path}: {exc}")


class ScrapeSource:
    """Polls vLLM backends and DCGM exporters over HTTP; implements the `Source` protocol."""

    def __init__(
        self,
        backends: Iterable[ScrapeTarget],
        gpu_exporters: Iterable[str] = (),
        *,
        interval: float = 1.0,
        window_s: float = 60.0,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        name: str = "scrape",
        more_targets: Callable[[], Iterable[ScrapeTarget]] | None = None,
    ) -> None:
        """Scrape ``backends`` and ``gpu_exporters`` (full ``/metrics`` URLs).

        ``window_s`` is the sliding window for rates and quantiles; ``timeout_s`` bounds
        each request; ``clock`` stamps samples; ``transport`` replaces the network (tests).
        ``more_targets``: asked before each collect for backends beyond the configured
        ones (replicas a scale-out started); one that is no longer given is dropped.
        """
        self.name = name
        self.interval = interval
        self.timeout_s = timeout_s
        self.targets = tuple(backends)
        self._configured = self.targets
        self._more_targets = more_targets
        self.gpu_exporters = tuple(gpu_exporters)
        self.state = ScrapeState(self.targets, window_s=window_s)
        self._clock = clock
        self._closed = False
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}  # by origin, made on first use
        self._tls: dict[bool, ssl.SSLContext] = {}

    def _http(self, url: str) -> httpx.AsyncClient:
        """The keep-alive client for ``url``'s origin (scheme, host, port).

        One small pool per origin rather than one pool for the fleet: httpcore matches
        every queued request against every pooled connection, which at 32 backends (65
        requests a round) cost three times the requests themselves (measured). Clients
        are made on first use, in the hub's thread, overlapping the app's start-up; a
        CA bundle is loaded only for an ``https`` origin, and shared by all of them.
        """
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        client = self._clients.get(origin)
        if client is None:
            https = parts.scheme.lower() == "https"
            if https not in self._tls:
                self._tls[https] = httpx.create_ssl_context(verify=https, trust_env=False)
            client = self._clients[origin] = httpx.AsyncClient(
                transport=self._transport,
                timeout=httpx.Timeout(self.timeout_s),
                headers={"Accept": ACCEPT},
                follow_redirects=False,
                trust_env=False,
                verify=self._tls[https],
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=8),
            )
        return client

    async def _get(self, url: str, path: str, headers: dict[str, str] | None = None) -> _Fetched:
        """GET ``url`` (with extra ``headers``) within ``timeout_s`` overall; never raises."""
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self._http(url).stream("GET", url, headers=headers) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_BODY_BYTES:
                            raise _BodyTooLarge
                    encoding = response.encoding or "utf-8"
                    text = body.decode(encoding, errors="replace")
                    media = response.headers.get("content-type", "").split(";")[0]
                    return _Fetched(
                        status=response.status_code, text=text, content_type=media.strip().lower()
                    )
        except (TimeoutError, httpx.TimeoutException, httpx.TransportError) as exc:
            return _Fetched(error=describe_error(exc, path, self.timeout_s), network=True)
        except Exception as exc:
            return _Fetched(error=describe_error(exc, path, self.timeout_s))

    async def _read_backend(
        self, target: ScrapeTarget
    ) -> tuple[str | None, bool | None, str | None]:
        """Fetch ``/metrics`` and ``/health`` together → (metrics text, health ok, reason).

        "Health ok" is False — the backend is DOWN — when ``/health`` fails, and also when
        ``/metrics`` answers with an HTTP error or a page that is not metrics (a 404, a
        login page): a server that answers so is not the vLLM this backend should be.
        """
        try:  # read at every scrape, so a rotated token file is picked up
            auth = target.credentials.headers() if target.credentials is not None else {}
        except CredentialsError as exc:  # the message names the variable or file, never a secret
            return None, False, one_line(str(exc))
        base = target.url.rstrip("/")
        metrics, health = await asyncio.gather(
            self._get(base + "/metrics", "/metrics", auth),
            self._get(base + "/health", "/health", auth),
        )
        text: str | None = None
        metrics_error: str | None = metrics.error
        refused: str | None = None  # /metrics answered, but not with metrics
        if metrics.status == 200 and metrics.text is not None:
            refused = not_metrics(metrics.content_type, metrics.text)
            text = metrics.text if refused is None else None
        elif metrics.status is not None:
            refused = f"HTTP {metrics.status}"
        if refused is not None:
            metrics_error = f"{refused} from /metrics"
        health_ok: bool | None
        health_error: str | None = health.error
        if health.status == 200:
            health_ok = True
        elif health.status in NO_HEALTH_ENDPOINT:
            health_ok = None
        elif health.status is not None:
            health_ok, health_error = False, f"HTTP {health.status} from /health"
        else:
            health_ok = False
        if health_ok is False:
            return text, False, health_error
        if refused is not None:
            return None, False, metrics_error
        return text, health_ok, metrics_error

    async def _read_exporter(self, url: str) -> tuple[str | None, str | None]:
        """Fetch one DCGM exporter → (text, reason)."""
        path = urlsplit(url).path or "/"
        got = await self._get(url, path)
        if got.status == 200:
            return got.text, None
        if got.status is not None:
            return None, f"HTTP {got.status} from {url}"
        return None, got.error

    async def collect(self) -> Collected:
        """Read every target once, concurrently, and return backends, pools, fleet, GPUs."""
        if self._closed:
            raise RuntimeError("scrape source is closed")
        if self._more_targets is not None:
            self._follow(tuple(self._more_targets()))
        at = self._clock()
        backend_reads, exporter_reads = await asyncio.gather(
            asyncio.gather(*(self._read_backend(t) for t in self.targets)),
            asyncio.gather(*(self._read_exporter(u) for u in self.gpu_exporters)),
        )
        # Parsing costs a few ms per backend: do it off the event loop so the UI stays live.
        return await asyncio.to_thread(self._compute, backend_reads, exporter_reads, at)

    def _follow(self, more: tuple[ScrapeTarget, ...]) -> None:
        """The configured targets plus ``more`` (names not configured), between collects."""
        names = {t.name for t in self._configured}
        wanted = (*self._configured, *(t for t in more if t.name not in names))
        if wanted == self.targets:
            return
        for gone in {t.name for t in self.targets} - {t.name for t in wanted}:
            self.state.remove_target(gone)
        for target in wanted:
            self.state.add_target(target)
        self.targets = wanted

    def _compute(
        self,
        backend_reads: list[tuple[str | None, bool | None, str | None]],
        exporter_reads: list[tuple[str | None, str | None]],
        at: float,
    ) -> Collected:
        """Feed one round of reads to the core and compute the result (runs in a thread)."""
        for target, (text, health_ok, reason) in zip(self.targets, backend_reads, strict=True):
            self.state.ingest_backend(target, text, health_ok, reason, at)
        for url, (text, reason) in zip(self.gpu_exporters, exporter_reads, strict=True):
            self.state.ingest_gpus(url, text, reason, at)
        return self.state.result(at)

    async def aclose(self) -> None:
        """Close the HTTP connections; `collect` refuses to run afterwards."""
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
