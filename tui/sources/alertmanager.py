"""The alertmanager source: alerts and the silences that acknowledge them (API v2).

Each `AlertmanagerSource.collect` reads ``GET /api/v2/alerts`` and ``GET /api/v2/silences``
concurrently (httpx, async) and returns `tui.model.Alert` objects: active and suppressed
ones, each acknowledged by the silence that silences it (``createdBy``, ``endsAt``).

Label and annotation values are kept exactly as Alertmanager gives them — they may hold
shell metacharacters, Rich markup or terminal escapes, and stay plain data here.
Failures (refused, timeout, HTTP error, not JSON) raise one line naming the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import httpx

from tui.model import Alert, Collected
from tui.sources._alerting import parse_rfc3339, severity_of
from tui.sources._http_auth import Credentials, CredentialsError
from tui.sources._httpx_errors import describe_error
from tui.sources.promtext import one_line

__all__ = ["AlertmanagerError", "AlertmanagerSource", "alerts_from_api"]


class AlertmanagerError(Exception):
    """Alertmanager could not answer; the message is one line naming the server."""


def _labels(raw: Any) -> dict[str, str]:
    """A label or annotation mapping as ``str → str`` (values kept verbatim)."""
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in raw.items()}


def _acknowledgement(
    silenced_by: Any, silences: Mapping[str, Mapping[str, Any]]
) -> tuple[str | None, float | None]:
    """``(createdBy, endsAt)`` of the latest-ending silence among ``silenced_by``."""
    best: tuple[str | None, float | None] = (None, None)
    for sid in silenced_by if isinstance(silenced_by, list) else []:
        silence = silences.get(str(sid))
        if silence is None:
            continue
        ends = parse_rfc3339(silence.get("endsAt"))
        if best[0] is None or (ends or 0.0) > (best[1] or 0.0):
            best = (str(silence.get("createdBy", "")), ends)
    return best


def alerts_from_api(alerts: Any, silences: Any, *, source: str = "alertmanager") -> list[Alert]:
    """``/api/v2/alerts`` and ``/api/v2/silences`` JSON → `Alert`s, newest first.

    Raises ValueError when either is not the list Alertmanager answers with.
    """
    if not isinstance(alerts, list) or not isinstance(silences, list):
        raise ValueError("expected JSON lists")
    by_id = {str(s.get("id")): s for s in silences if isinstance(s, Mapping)}
    out: list[Alert] = []
    for a in alerts:
        if not isinstance(a, Mapping):
            continue
        labels = _labels(a.get("labels"))
        annotations = _labels(a.get("annotations"))
        raw_status = a.get("status")
        status: Mapping[str, Any] = raw_status if isinstance(raw_status, Mapping) else {}
        by, until = _acknowledgement(status.get("silencedBy"), by_id)
        out.append(
            Alert(
                name=labels.get("alertname", ""),
                severity=severity_of(labels.get("severity")),
                summary=annotations.get("summary") or annotations.get("description") or "",
                labels=MappingProxyType(labels),
                starts_at=parse_rfc3339(a.get("startsAt")) or 0.0,
                fingerprint=str(a.get("fingerprint", "")),
                state=str(status.get("state", "active")),
                source=source,
                acknowledged_by=by,
                acknowledged_until=until,
            )
        )
    return sorted(out, key=lambda x: (-x.starts_at, x.name, x.fingerprint))


class AlertmanagerSource:
    """Reads alerts and silences from Alertmanager; implements the `Source` protocol."""

    def __init__(
        self,
        url: str,
        *,
        interval: float = 5.0,
        name: str = "alertmanager",
        token_env: str | None = None,
        token_file: str | None = None,
        basic_auth_env: str | None = None,
        verify_tls: bool = True,
        ca_file: str | None = None,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Poll the Alertmanager at ``url`` (``http(s)://host:port``, optional prefix).

        Credentials as for the prometheus source: a bearer token from ``token_env`` or
        ``token_file``, or ``user:password`` from ``basic_auth_env``. ``timeout_s``
        bounds a whole `collect`; ``transport`` replaces the network (tests).
        """
        self.name = name
        self.interval = interval
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._credentials = Credentials(token_env, token_file, basic_auth_env)
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout_s),
            verify=ca_file or verify_tls,
            follow_redirects=False,
            trust_env=False,
        )

    async def _get(self, path: str) -> Any:
        """GET ``path`` → JSON; raises AlertmanagerError with one line."""
        try:
            headers = self._credentials.headers()
            basic = self._credentials.basic_auth()
            response = await self._client.get(self.url + path, headers=headers, auth=basic)
        except CredentialsError as exc:
            raise AlertmanagerError(f"Alertmanager at {self.url}: {exc}") from None
        except (httpx.HTTPError, OSError) as exc:
            reason = describe_error(exc, path, self.timeout_s)
            raise AlertmanagerError(f"Alertmanager at {self.url}: {reason}") from None
        if response.status_code != 200:
            detail = one_line(response.text, 80)
            raise AlertmanagerError(
                f"Alertmanager at {self.url}: HTTP {response.status_code} from {path}"
                + (f": {detail}" if detail else "")
            )
        try:
            return response.json()
        except ValueError:
            raise AlertmanagerError(
                f"Alertmanager at {self.url}: bad answer from {path} (not JSON)"
            ) from None

    async def collect(self) -> Collected:
        """One read of alerts and silences → `Collected` with ``alerts``."""
        try:
            async with asyncio.timeout(self.timeout_s):
                alerts, silences = await asyncio.gather(
                    self._get("/api/v2/alerts"), self._get("/api/v2/silences")
                )
        except TimeoutError:
            raise AlertmanagerError(
                f"Alertmanager at {self.url}: timeout after {self.timeout_s:g}s"
            ) from None
        try:
            found = alerts_from_api(alerts, silences, source=self.name)
        except ValueError as exc:
            raise AlertmanagerError(f"Alertmanager at {self.url}: bad answer: {exc}") from None
        return Collected(alerts=tuple(found))

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()
