"""The prometheus source: the whole fleet through PromQL (vLLM, DCGM exporter, ``up``, ``ALERTS``).

Each `PrometheusSource.collect` sends the refresh's batch of instant queries
(`tui.sources._promql`) as ONE query: each is tagged with its key in a label
(``label_replace(q, "inferdeck_query", "<key>", "", "")``) and joined with ``or``, so
Prometheus evaluates them all at the same instant in one round trip (a POST, as the
text is long), and the answer is split by that label. Alongside it, concurrently on a
small thread pool, go the two API reads that cannot be queries (targets and alerts):
`REQUESTS_PER_COLLECT` HTTP requests a refresh instead of one per query. The answers
become model objects in `tui.sources._prom_parse`. `PrometheusSource.history`
runs range queries that prefill the hub's chart history at start-up.

Failure policy: Prometheus itself failing (refused, timeout, HTTP error, not JSON) makes
`collect` raise one line naming the server and what went wrong — the hub shows the
source as in error. A backend Prometheus cannot scrape is a fact about the fleet
(``up == 0`` → DOWN with Prometheus's own scrape error), not a failure of this source.
A hung Prometheus never holds `collect` past ``timeout_s`` (the threads give up on
their own through the socket timeout).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tui.model import Collected
from tui.sources._alerting import fingerprint, parse_rfc3339
from tui.sources._http_auth import Credentials, CredentialsError
from tui.sources._prom_parse import AlertInfo, TargetInfo, Vector, collected, labels_of, value_of
from tui.sources._promql import batch, check_duration, check_label_name, history_queries
from tui.sources.promtext import one_line

__all__ = ["PrometheusError", "PrometheusSource"]

_STATUS = re.compile(r"Status Code (\d{3})")
_ERROR_FIELD = re.compile(r'"error"\s*:\s*"((?:[^"\\]|\\.)*)"')

#: Threads running one refresh's requests: the batched query, targets, alerts.
MAX_WORKERS = 3

#: The label that carries each batched query's key in the combined answer.
QUERY_LABEL = "inferdeck_query"


class PrometheusError(Exception):
    """Prometheus could not answer; the message is one line naming the server."""


class _HttpStatus(Exception):
    """Prometheus answered a query with an HTTP error; the body may name the cause."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.body = status, body


def combine(queries: Mapping[str, str]) -> str:
    """One PromQL expression answering every query, each series tagged with its key."""
    return " or ".join(
        f'label_replace(({q}), "{QUERY_LABEL}", {json.dumps(key)}, "", "")'
        for key, q in queries.items()
    )


def split_answer(keys: Iterable[str], result: Vector) -> dict[str, Vector]:
    """The combined query's answer → each query's own result (the tag label removed)."""
    out: dict[str, Vector] = {key: [] for key in keys}
    for item in result:
        metric = item.get("metric")
        if not isinstance(metric, dict):
            continue
        key = metric.pop(QUERY_LABEL, None)
        if key in out:
            out[key].append(item)
    return out


def describe(exc: BaseException, timeout_s: float) -> str:
    """One line saying why a request to Prometheus failed (no secrets, no traceback)."""
    import requests  # already loaded by the source that failed; not at start-up
    from prometheus_api_client import PrometheusApiClientException

    if isinstance(exc, TimeoutError | requests.Timeout):
        return f"timeout after {timeout_s:g}s"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused"
        if "timed out" in text:
            return f"timeout after {timeout_s:g}s"
        return one_line(f"cannot connect: {exc}")
    if isinstance(exc, _HttpStatus):
        detail = _error_detail(exc.body)
        return one_line(f"HTTP {exc.status}: {detail}" if detail else f"HTTP {exc.status}")
    if isinstance(exc, PrometheusApiClientException):
        text = str(exc)
        code = _STATUS.search(text)
        detail = _error_detail(text)
        head = f"HTTP {code.group(1)}" if code else "HTTP error"
        return one_line(f"{head}: {detail}" if detail else head)
    if isinstance(exc, ValueError | KeyError | TypeError):  # JSON decode, missing "data"
        return one_line(f"bad answer (not Prometheus JSON): {type(exc).__name__}")
    if isinstance(exc, CredentialsError):
        return one_line(str(exc))
    return one_line(f"{type(exc).__name__}: {exc}")


def _error_detail(text: str) -> str:
    """Prometheus's own ``error`` field quoted in a failed answer, when it is there."""
    match = _ERROR_FIELD.search(text)
    return match.group(1)[:120] if match else ""


class PrometheusSource:
    """Reads the fleet from a Prometheus server; implements the `Source` protocol."""

    #: HTTP requests one `collect` makes: the batched query, targets, alerts.
    REQUESTS_PER_COLLECT = 3

    def __init__(
        self,
        url: str,
        *,
        interval: float = 5.0,
        pool_label: str = "pool",
        name_label: str = "backend",
        job_backends: Iterable[str] | None = None,
        token_env: str | None = None,
        token_file: str | None = None,
        basic_auth_env: str | None = None,
        verify_tls: bool = True,
        ca_file: str | None = None,
        name: str = "prometheus",
        window: str = "1m",
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        models: Mapping[str, str] | None = None,
    ) -> None:
        """Query the Prometheus at ``url`` (``http(s)://host:port``, optional path prefix).

        ``pool_label``: the target label naming a backend's pool; ``name_label``: the one
        naming the backend (its ``instance`` where absent). ``job_backends``: the
        jobs whose targets are vLLM backends (default: targets with the pool label, and
        jobs in which some target exposes vLLM metrics). Credentials: a bearer token
        from the environment variable ``token_env`` or the file ``token_file``, or
        ``user:password`` from ``basic_auth_env``. ``verify_tls=False`` turns off
        certificate checks; ``ca_file`` trusts a private CA. ``window`` is the PromQL
        range of rates and quantiles; ``timeout_s`` bounds a whole `collect`. ``models``:
        backend name (or instance) → served model, for engines whose metrics do not name
        it (TGI, llama.cpp).
        """
        self.models = dict(models or {})
        self.name = name
        self.interval = interval
        self.url = url.rstrip("/")
        self.pool_label = check_label_name(pool_label)
        self.name_label = check_label_name(name_label)
        self.jobs = None if job_backends is None else frozenset(job_backends)
        self.window = check_duration(window)
        self.timeout_s = timeout_s
        self._clock = clock
        self._credentials = Credentials(token_env, token_file, basic_auth_env)
        # requests and prometheus-api-client (~100 modules, several MB) load only when a
        # Prometheus source is made, not for every dashboard that merely can use one.
        import requests
        from prometheus_api_client.prometheus_connect import PrometheusConnect
        from urllib3.util.retry import Retry

        self._session = requests.Session()
        self._session.trust_env = False  # no proxies or .netrc picked up behind our back
        self._session.verify = ca_file or verify_tls
        self._prom = PrometheusConnect(
            self.url,
            session=self._session,
            retry=Retry(total=0, connect=0, read=0, redirect=0, status=0),
            timeout=timeout_s,  # type: ignore[arg-type]  # requests takes floats
        )
        self._pool = concurrent.futures.ThreadPoolExecutor(MAX_WORKERS, f"prom-{name}")
        self._closed = False

    # --- blocking calls (run in the pool) -------------------------------------------------

    def _prepare(self) -> None:
        """Put the current credentials on the client (token files may rotate)."""
        self._prom.headers = self._credentials.headers()
        self._prom.auth = self._credentials.basic_auth()  # type: ignore[assignment]

    def _query(self, promql: str, at: float) -> Vector:
        """One instant query at ``at``."""
        result = self._prom.custom_query(promql, params={"time": f"{at:.3f}"})
        if not isinstance(result, list):
            raise ValueError("result is not a list")
        return result

    def _query_batch(self, queries: Mapping[str, str], at: float) -> dict[str, Vector]:
        """Every query of ``queries`` at ``at`` in one request → key → result."""
        response = self._session.post(
            self.url + "/api/v1/query",
            data={"query": combine(queries), "time": f"{at:.3f}"},
            headers=self._prom.headers,
            auth=self._prom.auth,
            timeout=self.timeout_s,
        )
        if response.status_code != 200:
            raise _HttpStatus(response.status_code, response.text[:2000])
        result = response.json()["data"]["result"]
        if not isinstance(result, list):
            raise ValueError("result is not a list")
        return split_answer(queries, result)

    def _query_range(self, promql: str, start: float, end: float, step: float) -> Vector:
        """One range query."""
        result = self._prom.custom_query_range(
            promql,
            datetime.fromtimestamp(start, UTC),
            datetime.fromtimestamp(end, UTC),
            f"{step:g}",
        )
        if not isinstance(result, list):
            raise ValueError("result is not a list")
        return result

    def _get_json(self, path: str) -> Any:
        """GET an API path with the client's credentials (best-effort extras)."""
        response = self._session.get(
            self.url + path,
            headers=self._prom.headers,
            auth=self._prom.auth,
            timeout=self.timeout_s,
        )
        response.raise_for_status()
        return response.json().get("data")

    def _targets(self) -> dict[str, TargetInfo]:
        """Scrape URL and last error per instance, from ``/api/v1/targets``."""
        data = self._get_json("/api/v1/targets?state=active")
        out: dict[str, TargetInfo] = {}
        for t in data.get("activeTargets", []) if isinstance(data, dict) else []:
            instance = str(t.get("labels", {}).get("instance", ""))
            out[instance] = TargetInfo(str(t.get("scrapeUrl", "")), str(t.get("lastError", "")))
        return out

    def _alert_info(self) -> dict[str, AlertInfo]:
        """Summary and activation time per alert fingerprint, from ``/api/v1/alerts``."""
        data = self._get_json("/api/v1/alerts")
        out: dict[str, AlertInfo] = {}
        for a in data.get("alerts", []) if isinstance(data, dict) else []:
            labels = {str(k): str(v) for k, v in (a.get("labels") or {}).items()}
            annotations = a.get("annotations") or {}
            summary = annotations.get("summary") or annotations.get("description") or ""
            out[fingerprint(labels)] = AlertInfo(str(summary), parse_rfc3339(a.get("activeAt")))
        return out

    # --- async API --------------------------------------------------------------------

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking call on this source's thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, *args)

    async def _optional(self, fn: Callable[[], Any]) -> Any:
        """A best-effort extra call: None when it fails."""
        try:
            return await self._run(fn)
        except Exception:
            return None

    async def collect(self) -> Collected:
        """One batch of queries → backends, pools, fleet, GPUs and firing alerts."""
        if self._closed:
            raise PrometheusError(f"prometheus source {self.name} is closed")
        at = self._clock()
        queries = batch(self.pool_label, self.jobs, self.window)
        try:
            await self._run(self._prepare)  # may read a token file: off the event loop
            async with asyncio.timeout(self.timeout_s):
                results, targets, alert_info = await asyncio.gather(
                    self._run(self._query_batch, queries, at),
                    self._optional(self._targets),
                    self._optional(self._alert_info),
                )
        except Exception as exc:
            raise PrometheusError(
                f"Prometheus at {self.url}: {describe(exc, self.timeout_s)}"
            ) from None
        return collected(
            results,
            pool_label=self.pool_label,
            name_label=self.name_label,
            at=at,
            source=self.name,
            jobs=self.jobs,
            targets=targets,
            alert_info=alert_info,
            models=self.models,
        )

    async def history(self, range_s: float, step_s: float) -> dict[str, list[float]]:
        """Chart history for the last ``range_s`` seconds at ``step_s`` resolution.

        Returns the hub's history keys (``fleet.ttft_p95``, ``fleet.waiting``,
        ``pool.blue.waiting``, ``gpu.host/0.util``, ...) → oldest-first values, one per
        step on a common grid, NaN where Prometheus had no value. Raises like `collect`.
        """
        if step_s <= 0 or range_s <= 0:
            raise ValueError("range_s and step_s must be positive")
        end = math.floor(self._clock() / step_s) * step_s
        start = end - math.floor(range_s / step_s) * step_s
        grid = [start + i * step_s for i in range(round((end - start) / step_s) + 1)]
        queries = history_queries(self.pool_label, self.jobs, self.window)
        try:
            await self._run(self._prepare)
            # A one-off in the background at start-up: it may take longer than a refresh.
            async with asyncio.timeout(max(self.timeout_s * 4, 15.0)):
                answers = await asyncio.gather(
                    *(self._run(self._query_range, q, start, end, step_s) for q in queries.values())
                )
        except Exception as exc:
            raise PrometheusError(
                f"Prometheus at {self.url}: {describe(exc, self.timeout_s)}"
            ) from None
        out: dict[str, list[float]] = {}
        for key, result in zip(queries, answers, strict=True):
            for item in result:
                name = _history_name(key, labels_of(item), self.pool_label)
                if name is not None:
                    out[name] = _on_grid(item.get("values", []), grid)
        return out

    # --- blocking one-off queries (the slo and capacity commands) -------------------------

    def query(self, promql: str, at: float | None = None) -> Vector:
        """One instant query at ``at`` (now by default), blocking; raises `PrometheusError`."""
        try:
            self._prepare()
            return self._query(promql, self._clock() if at is None else at)
        except Exception as exc:
            raise PrometheusError(
                f"Prometheus at {self.url}: {describe(exc, self.timeout_s)}"
            ) from None

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> Vector:
        """One range query, blocking; raises `PrometheusError`."""
        try:
            self._prepare()
            return self._query_range(promql, start, end, step_s)
        except Exception as exc:
            raise PrometheusError(
                f"Prometheus at {self.url}: {describe(exc, self.timeout_s)}"
            ) from None

    async def aclose(self) -> None:
        """Close the HTTP session and the thread pool; `collect` refuses afterwards."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._prom.close()


def _history_name(key: str, labels: Mapping[str, str], pool_label: str) -> str | None:
    """The hub's history key for one series of a history query."""
    if not key.endswith("."):
        return key
    group, figure = key.rstrip(".").split(".")
    if group == "pool":
        pool = labels.get(pool_label)
        return f"pool.{pool}.{figure}" if pool else None
    index = next((labels[k].removeprefix("nvidia") for k in ("gpu", "device") if k in labels), None)
    if index is None or not index.isdigit():
        return None
    host = labels.get("Hostname") or labels.get("hostname") or labels.get("instance", "")
    return f"gpu.{host}/{int(index)}.{figure}"


def _on_grid(values: Iterable[Any], grid: list[float]) -> list[float]:
    """Range-query ``[[ts, "v"], ...]`` placed on ``grid`` (NaN where missing)."""
    by_ts: dict[int, float] = {}
    for pair in values:
        v = value_of({"value": pair})
        try:
            by_ts[round(float(pair[0]) * 1000)] = math.nan if v is None else v
        except (TypeError, ValueError, IndexError):
            continue
    return [by_ts.get(round(t * 1000), math.nan) for t in grid]
