"""The scrape source: reads every backend's ``/metrics`` and ``/health`` directly.

No Prometheus needed. Each `collect` fetches every backend's ``/metrics`` and every
DCGM exporter concurrently, each request bounded by ``timeout_s`` in total (not just per
socket operation), hands the texts to `ScrapeState` — the I/O-free core that keeps the
sliding window and computes rates and quantiles — and returns its result.

``/health`` changes rarely and ``/metrics`` answering already says the server is there,
so a backend that is up is asked ``/health`` every `HEALTH_EVERY_S` (with that scrape's
``/metrics``), and one that is not up (or not seen yet) at every scrape: a failed health
check shows within 5 s, a recovery at the next scrape. The requests go through
`tui.sources._fetch` (h11 over asyncio's streams, connections kept alive: a third of
httpx's CPU per request, and a tenth of aiohttp's import and memory, measured).

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
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from tui.model import Collected
from tui.sources._http_auth import CredentialsError
from tui.sources._scrape_core import ScrapeState, ScrapeTarget
from tui.sources.engines import EngineMap, engine_named, page_names
from tui.sources.promtext import has_samples, one_line

if TYPE_CHECKING:  # the HTTP client is imported by the hub's thread, at the first collect
    from tui.sources._fetch import Fetched, Fetcher

__all__ = ["HEALTH_EVERY_S", "ScrapeSource", "ScrapeState", "ScrapeTarget"]

#: Ask for the classic text format (keeps ``vllm:`` colons); OpenMetrics is still read.
ACCEPT = "text/plain;version=0.0.4;q=1.0, application/openmetrics-text;q=0.5, */*;q=0.1"
#: ``/health`` answers meaning "this server has no health endpoint", not "unhealthy".
NO_HEALTH_ENDPOINT = frozenset({404, 405, 501})
#: How often a backend that is up is asked ``/health`` (seconds); ``/metrics`` is read
#: every interval, and a backend that is not up is asked ``/health`` at every scrape.
HEALTH_EVERY_S = 5.0

#: Media types that are never an exposition, whatever the body: web pages and JSON.
NOT_METRICS_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/json"})


_NAMED_QUERIES: dict[str, str] = {}


def _named_query(engine: EngineMap) -> str:
    """``?name[]=...`` naming every sample the core reads from ``engine``'s page
    (prometheus_client's exposition then serves only those: for vLLM 13 kB of 59)."""
    query = _NAMED_QUERIES.get(engine.name)
    if query is None:
        names = page_names(engine)
        query = _NAMED_QUERIES[engine.name] = "?" + urlencode([("name[]", n) for n in names])
    return query


_FIRST_GUESS = "vllm"
"""The engine a backend whose ``engine:`` is not configured is first asked as: the one most
served, and the only one whose exporter serves named samples."""


def _first_ask(target: ScrapeTarget) -> tuple[str, tuple[str, ...]]:
    """The query for a backend's first read, before its page has told its engine: the
    named samples of its configured engine, or of vLLM when none is configured, so the
    first collection (on the way to the first frame) reads 13 kB of vLLM's page, not 59.
    Any other server answers with its whole page, another page or an error, and is
    asked for its whole page in the same scrape (`_read_backend`), once."""
    engine = engine_named(target.engine or _FIRST_GUESS)
    if engine is None or not engine.serves_named_samples:
        return "", ()
    return _named_query(engine), engine.prefixes


def _holds_samples(fetched: Fetched, prefixes: tuple[str, ...]) -> bool:
    """Whether an answer to a request naming samples holds some: a 200 with sample lines
    of the engine's (its names start with one of ``prefixes``)."""
    text = fetched.text or ""
    return fetched.status == 200 and has_samples(text) and any(p in text for p in prefixes)


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
        health_every_s: float = HEALTH_EVERY_S,
        clock: Callable[[], float] = time.time,
        name: str = "scrape",
        more_targets: Callable[[], Iterable[ScrapeTarget]] | None = None,
    ) -> None:
        """Scrape ``backends`` and ``gpu_exporters`` (full ``/metrics`` URLs).

        ``window_s`` is the sliding window for rates and quantiles; ``timeout_s`` bounds
        each request; ``health_every_s``: how often a backend that is up is asked
        ``/health``; ``clock`` stamps samples.
        ``more_targets``: asked before each collect for backends beyond the configured
        ones (replicas a scale-out started); one that is no longer given is dropped.
        """
        self.name = name
        self.interval = interval
        self.timeout_s = timeout_s
        self.health_every_s = health_every_s
        self.targets = tuple(backends)
        self._configured = self.targets
        self._more_targets = more_targets
        self.gpu_exporters = tuple(gpu_exporters)
        self.state = ScrapeState(self.targets, window_s=window_s)
        self._clock = clock
        self._closed = False
        self._fetcher: Fetcher | None = None
        # per backend: when /health was last asked, and whether it was up at its last scrape
        self._health_asked: dict[str, float] = {}
        self._was_up: dict[str, bool] = {}
        # per backend read once: the query naming the samples to ask for ("": the whole
        # page) with its engine's name prefixes (`_first_ask` before its first read), and
        # the backends that answered such a query with anything but those samples (asked
        # for everything since)
        self._query: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._whole_page: set[str] = set()

    def _http(self) -> Fetcher:
        """The fetcher (made, and h11 imported, on first use: in the hub's thread)."""
        if self._fetcher is None:
            from tui.sources._fetch import Fetcher

            self._fetcher = Fetcher(self.timeout_s, {"Accept": ACCEPT})
        return self._fetcher

    async def _get(self, url: str, path: str, headers: dict[str, str] | None = None) -> Fetched:
        """GET ``url`` (with extra ``headers``) within ``timeout_s`` overall; never raises."""
        return await self._http().get(url, path, headers)

    def _health_due(self, target: ScrapeTarget, now: float) -> bool:
        """Whether to ask ``/health`` this scrape: a backend not up (or not seen yet) at
        every scrape, so it is seen coming back at once; one that is up every
        ``health_every_s`` (``/metrics`` answering already says the server is there)."""
        if not self._was_up.get(target.name, False):
            return True
        since = now - self._health_asked.get(target.name, -float("inf"))
        # (a millionth of a second's slack: a spread-out first ask lands on the second)
        return since >= self.health_every_s - 1e-6 or since < 0  # < 0: the clock was set back

    async def _read_backend(
        self, target: ScrapeTarget, now: float
    ) -> tuple[str | None, bool | None, str | None]:
        """Fetch ``/metrics`` (and ``/health`` when due, together) → (text, health ok, reason).

        "Health ok" is False — the backend is DOWN — when ``/health`` fails, and also when
        ``/metrics`` answers with an HTTP error or a page that is not metrics (a 404, a
        login page): a server that answers so is not the vLLM this backend should be. In
        a scrape that does not ask ``/health``, a ``/metrics`` that cannot be reached
        (refused, timed out, reset) is DOWN too; the next scrape asks ``/health`` again.
        """
        try:  # read at every scrape, so a rotated token file is picked up
            auth = target.credentials.headers() if target.credentials is not None else {}
        except CredentialsError as exc:  # the message names the variable or file, never a secret
            self._was_up[target.name] = False
            return None, False, one_line(str(exc))
        base = target.url.rstrip("/")
        query, prefixes = self._query.get(target.name) or _first_ask(target)
        if self._health_due(target, now):
            self._health_asked[target.name] = now
            metrics, health = await asyncio.gather(
                self._get(base + "/metrics" + query, "/metrics", auth),
                self._get(base + "/health", "/health", auth),
            )
        else:
            metrics = await self._get(base + "/metrics" + query, "/metrics", auth)
            health = None
        if query and metrics.status is not None and not _holds_samples(metrics, prefixes):
            # it answered, but not with the samples named (nothing: vLLM with several API
            # servers; an error or another page: a server that is not prometheus_client's
            # exposition): ask for the whole page, now and from now on, so no scrape goes
            # without figures (a request that got no answer at all is not asked again)
            self._whole_page.add(target.name)
            self._query[target.name] = ("", ())
            metrics = await self._get(base + "/metrics", "/metrics", auth)
        read = self._verdict(metrics, health)
        up = read[0] is not None and read[1] is not False
        if up and not self._was_up.get(target.name, False):
            self._spread_health(target, now)
        self._was_up[target.name] = up
        return read

    def _spread_health(self, target: ScrapeTarget, now: float) -> None:
        """A backend just seen up: make its next ``/health`` due sooner than a full
        ``health_every_s`` by a share that depends on its place in the list, so that a
        fleet seen up together is asked a few backends a scrape rather than all of them
        every ``health_every_s`` (each is still asked at least that often)."""
        slots = max(1, round(self.health_every_s / self.interval))
        place = self.targets.index(target) if target in self.targets else 0
        self._health_asked[target.name] = (
            self._health_asked.get(target.name, now) - (place % slots) * self.interval
        )

    @staticmethod
    def _verdict(
        metrics: Fetched, health: Fetched | None
    ) -> tuple[str | None, bool | None, str | None]:
        """(metrics text, health ok, reason) from one scrape's answers (``health``: None
        when ``/health`` was not asked this time)."""
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
        if health is None:  # not asked: a server that cannot be reached is down
            if metrics.network:
                return None, False, metrics_error
            return (None, False, metrics_error) if refused else (text, None, metrics_error)
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
            asyncio.gather(*(self._read_backend(t, at) for t in self.targets)),
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
            self._health_asked.pop(gone, None)
            self._was_up.pop(gone, None)
            self._query.pop(gone, None)
            self._whole_page.discard(gone)
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
            if text is not None:
                self._ask_for(target.name, self.state.engine_of(target.name))
        for url, (text, reason) in zip(self.gpu_exporters, exporter_reads, strict=True):
            self.state.ingest_gpus(url, text, reason, at)
        return self.state.result(at)

    def _ask_for(self, name: str, engine: EngineMap | None) -> None:
        """After a read of backend ``name``: ask it for only the samples read from now on
        when its engine serves named samples (vLLM; a backend that answered such a
        request with nothing is asked for its whole page)."""
        if engine is None or not engine.serves_named_samples or name in self._whole_page:
            self._query[name] = ("", ())
        else:
            self._query[name] = (_named_query(engine), engine.prefixes)

    async def aclose(self) -> None:
        """Close the HTTP connections; `collect` refuses to run afterwards."""
        self._closed = True
        fetcher, self._fetcher = self._fetcher, None
        if fetcher is not None:
            await fetcher.aclose()
