"""Acknowledging alerts in Alertmanager: a silence on all of the alert's labels, and expiry.

`AckAlert` creates a silence (``POST /api/v2/silences``) with one *equality* matcher per
label of the alert — never just ``alertname``, which would hide its siblings on other
instances — ``createdBy`` the actor, a comment and an end time. `UnackAlert` expires the
silences that acknowledge exactly that alert (``DELETE /api/v2/silence/{id}``); a broader
silence someone else made (``alertname=X`` for maintenance) is named, never expired.

Both are executor actions (`tui.ops.executor.Action`): ``run`` blocks (httpx, sync) and the
executor runs it in a thread. Label values travel as JSON data only; in plans they are
quoted with control characters escaped (`shown`). Errors are one line naming the server.

Also here, for every front end: `resolve_alert` (a fingerprint or an alertname naming one
alert) and `parse_duration`/`format_duration` (``30m``, ``1h``, ``2h30m``, ``90s``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tui.analysis.text import inert, shown
from tui.config import AlertmanagerConfig
from tui.model import Alert
from tui.ops.action import ActionResult, Plan, Progress
from tui.sources._http_auth import Credentials, CredentialsError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "AckAlert",
    "AckError",
    "AlertLookupError",
    "AlertmanagerEndpoint",
    "UnackAlert",
    "format_duration",
    "inert",
    "is_ack_of",
    "matcher_lines",
    "parse_duration",
    "resolve_alert",
    "shown",
    "silence_matches",
]


class AckError(Exception):
    """Alertmanager refused or could not be reached; the message is one line."""


# --- text: durations, hostile values ------------------------------------------------------

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_duration(text: str) -> float:
    """Seconds of ``90s``, ``30m``, ``1h``, ``2h30m``, ``1d`` or a bare number of seconds.

    ValueError (naming the text) for anything else, zero or negative.
    """
    raw = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        seconds = float(raw)
    else:
        parts = _DURATION.findall(raw)
        if not parts or "".join(n + u for n, u in parts) != raw:
            raise ValueError(f"bad duration {text!r}: use e.g. 90s, 30m, 1h, 2h30m")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"bad duration {text!r}: must be more than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """``3600`` → ``1h``, ``9000`` → ``2h30m``, ``90`` → ``1m30s``."""
    total = max(0, round(seconds))
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            out += f"{count}{unit}"
    return out or "0s"


def matcher_lines(labels: Mapping[str, str]) -> tuple[str, ...]:
    """One ``name="value"`` line per label, sorted by name, every value `shown`."""
    return tuple(f"{shown(k)[1:-1]}={shown(v)}" for k, v in sorted(labels.items()))


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- resolving ALERT ------------------------------------------------------------------------


class AlertLookupError(Exception):
    """ALERT names no alert, or several; ``candidates`` are the ones to choose from."""

    def __init__(self, message: str, candidates: Sequence[Alert] = ()) -> None:
        super().__init__(message)
        self.candidates = tuple(candidates)


def resolve_alert(
    alerts: Iterable[Alert], query: str, prefer: Callable[[Alert], bool] | None = None
) -> Alert:
    """The alert ``query`` names: a fingerprint (or a unique prefix of 6+ hex digits),
    or an alertname naming exactly one alert — among several, the one ``prefer`` picks
    when it picks exactly one. Raises `AlertLookupError` with the candidates otherwise."""
    listed = list(alerts)
    wanted = query.strip()
    exact = [a for a in listed if a.fingerprint == wanted]
    if exact:
        return exact[0]
    if re.fullmatch(r"[0-9a-f]{6,}", wanted):
        prefixed = [a for a in listed if a.fingerprint.startswith(wanted)]
        if len(prefixed) == 1:
            return prefixed[0]
        if prefixed:
            raise AlertLookupError(f"{wanted} starts {len(prefixed)} fingerprints", prefixed)
    named = [a for a in listed if a.name == wanted]
    if len(named) == 1:
        return named[0]
    if not named:
        raise AlertLookupError(f"no alert is named or fingerprinted {shown(wanted)}")
    if prefer is not None:
        preferred = [a for a in named if prefer(a)]
        if len(preferred) == 1:
            return preferred[0]
    raise AlertLookupError(
        f"{shown(wanted)} names {len(named)} alerts: give the fingerprint of one", named
    )


# --- Alertmanager -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertmanagerEndpoint:
    """Where Alertmanager answers and how to authenticate; requests are blocking."""

    url: str
    credentials: Credentials = field(default_factory=Credentials)
    verify: bool | str = True  # False, True, or a CA bundle file
    timeout_s: float = 5.0
    transport: httpx.BaseTransport | None = None  # replaces the network (tests)

    @classmethod
    def from_config(cls, cfg: AlertmanagerConfig) -> AlertmanagerEndpoint:
        """The endpoint a ``sources.alertmanager`` section describes."""
        return cls(
            url=cfg.url.rstrip("/"),
            credentials=Credentials(cfg.token_env, cfg.token_file, cfg.basic_auth_env),
            verify=cfg.ca_file or cfg.verify_tls,
            timeout_s=cfg.timeout_s,
        )

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """``method path`` → the JSON answer (None when empty); `AckError` otherwise."""
        import httpx  # loaded at the first request: the dashboard starts without it

        where = f"Alertmanager at {self.url}"
        try:
            headers = self.credentials.headers()
            auth = self.credentials.basic_auth()
            with httpx.Client(
                transport=self.transport,
                timeout=self.timeout_s,
                verify=self.verify,
                trust_env=False,
                follow_redirects=False,
            ) as client:
                response = client.request(
                    method, self.url + path, json=body, headers=headers, auth=auth
                )
        except CredentialsError as exc:
            raise AckError(f"{where}: {exc}") from None
        except httpx.TimeoutException:
            raise AckError(f"{where}: no answer within {self.timeout_s:g}s") from None
        except (httpx.HTTPError, OSError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise AckError(f"{where}: {reason}") from None
        if response.status_code >= 300:
            detail = " ".join(response.text.split())[:160]
            raise AckError(
                f"{where}: HTTP {response.status_code} from {method} {path}"
                + (f": {detail}" if detail else "")
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise AckError(f"{where}: bad answer from {method} {path} (not JSON)") from None


def silence_matches(matchers: Any, labels: Mapping[str, str]) -> bool:
    """Whether a silence with ``matchers`` (API v2 shape) silences an alert with ``labels``.

    Alertmanager's rules: a missing label reads as ""; regexes are anchored. (Python's
    ``re`` stands in for Go's RE2; the two agree on the patterns silences use.)
    """
    if not isinstance(matchers, list) or not matchers:
        return False
    for m in matchers:
        if not isinstance(m, Mapping):
            return False
        value = labels.get(str(m.get("name", "")), "")
        wanted = str(m.get("value", ""))
        if m.get("isRegex"):
            try:
                hit = re.fullmatch(f"(?:{wanted})", value) is not None
            except re.error:
                return False
        else:
            hit = value == wanted
        if hit != bool(m.get("isEqual", True)):
            return False
    return True


def is_ack_of(silence: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether ``silence`` acknowledges exactly this label set: one equality matcher per
    label, nothing else (what `AckAlert` creates)."""
    matchers = silence.get("matchers")
    if not isinstance(matchers, list) or len(matchers) != len(labels):
        return False
    seen: dict[str, str] = {}
    for m in matchers:
        if not isinstance(m, Mapping) or m.get("isRegex") or not m.get("isEqual", True):
            return False
        seen[str(m.get("name"))] = str(m.get("value"))
    return seen == dict(labels)


def _live(silence: Any) -> bool:
    status = silence.get("status") if isinstance(silence, Mapping) else None
    return isinstance(status, Mapping) and status.get("state") in ("active", "pending")


class AckAlert:
    """Acknowledge ``alert``: a silence on all its labels for ``duration_s``."""

    kind = "alert.ack"

    def __init__(
        self,
        endpoint: AlertmanagerEndpoint,
        alert: Alert,
        actor: str,
        comment: str | None = None,
        duration_s: float = 3600.0,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``comment`` defaults to ``ack: <actor>``; ``actor`` becomes ``createdBy``."""
        if duration_s <= 0:
            raise ValueError("the acknowledgement must last more than zero seconds")
        self.endpoint, self.alert, self.actor = endpoint, alert, actor
        self.comment = comment or f"ack: {actor}"
        self.duration_s = float(duration_s)
        self.clock = clock
        self.target = f"{alert.name} {alert.fingerprint}"

    def params(self) -> dict[str, Any]:
        """Labels, duration, comment and server, for the audit log."""
        return {
            "alertmanager": self.endpoint.url,
            "fingerprint": self.alert.fingerprint,
            "labels": dict(self.alert.labels),
            "duration_s": self.duration_s,
            "comment": self.comment,
        }

    def plan(self) -> Plan:
        """Every equality matcher, the duration and the comment."""
        until = self.clock() + self.duration_s
        return Plan(
            f"Acknowledge {shown(self.alert.name)} for {format_duration(self.duration_s)}",
            (
                f"Alertmanager: {self.endpoint.url}",
                f"fingerprint: {self.alert.fingerprint}",
                "silence matching all of (equality matchers):",
                *(f"  {line}" for line in matcher_lines(self.alert.labels)),
                f"duration: {format_duration(self.duration_s)} (until about {_when(until)})",
                f"comment: {shown(self.comment)}",
                f"created by: {shown(self.actor)}",
            ),
        )

    def silence(self, now: float) -> dict[str, Any]:
        """The silence request body for an ack made at ``now``."""
        return {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in sorted(self.alert.labels.items())
            ],
            "startsAt": _rfc3339(now),
            "endsAt": _rfc3339(now + self.duration_s),
            "createdBy": self.actor,
            "comment": self.comment,
        }

    def run(self, progress: Progress) -> ActionResult:
        """POST the silence; the result names its id and end."""
        if not self.alert.labels:
            return ActionResult(False, "the alert has no labels: a silence needs matchers")
        now = self.clock()
        body = self.silence(now)
        progress(f"creating a silence with {len(body['matchers'])} matchers")
        answer = self.endpoint.request("POST", "/api/v2/silences", body)
        sid = answer.get("silenceID") if isinstance(answer, Mapping) else None
        if not sid:
            return ActionResult(False, f"Alertmanager at {self.endpoint.url}: no silence id")
        return ActionResult(
            True,
            f"acknowledged {shown(self.alert.name)} for {format_duration(self.duration_s)}"
            f" (silence {sid})",
            {"silence_id": str(sid), "ends_at": body["endsAt"]},
        )


class UnackAlert:
    """Un-acknowledge ``alert``: expire the silences that acknowledge exactly it."""

    kind = "alert.unack"

    def __init__(self, endpoint: AlertmanagerEndpoint, alert: Alert) -> None:
        """Acts on the live silences found when it runs."""
        self.endpoint, self.alert = endpoint, alert
        self.target = f"{alert.name} {alert.fingerprint}"

    def params(self) -> dict[str, Any]:
        """The alert and the server, for the audit log."""
        return {
            "alertmanager": self.endpoint.url,
            "fingerprint": self.alert.fingerprint,
            "labels": dict(self.alert.labels),
        }

    def plan(self) -> Plan:
        """Which silences will be expired."""
        by = self.alert.acknowledged_by
        return Plan(
            f"Un-acknowledge {shown(self.alert.name)}",
            (
                f"Alertmanager: {self.endpoint.url}",
                f"fingerprint: {self.alert.fingerprint}",
                "expire every live silence whose matchers are exactly:",
                *(f"  {line}" for line in matcher_lines(self.alert.labels)),
                f"acknowledged by: {shown(by)}" if by else "acknowledged by: nobody known",
                "broader silences (covering other alerts too) are left alone",
            ),
        )

    def run(self, progress: Progress) -> ActionResult:
        """Find the acknowledging silences and expire each."""
        silences = self.endpoint.request("GET", "/api/v2/silences")
        if not isinstance(silences, list):
            return ActionResult(False, f"Alertmanager at {self.endpoint.url}: bad silence list")
        labels = self.alert.labels
        live = [s for s in silences if _live(s)]
        acks = [s for s in live if is_ack_of(s, labels)]
        broader = [
            str(s.get("id"))
            for s in live
            if s not in acks and silence_matches(s.get("matchers"), labels)
        ]
        expired = []
        for silence in acks:
            sid = str(silence.get("id"))
            progress(f"expiring silence {sid}")
            self.endpoint.request("DELETE", f"/api/v2/silence/{sid}")
            expired.append(sid)
        details = {"expired": expired, "broader": broader}
        note = f"; still silenced by broader silence(s) {', '.join(broader)}" if broader else ""
        if not expired:
            return ActionResult(
                False, f"no acknowledgement of {shown(self.alert.name)} to expire{note}", details
            )
        return ActionResult(
            True,
            f"un-acknowledged {shown(self.alert.name)} (expired {', '.join(expired)}){note}",
            details,
        )
