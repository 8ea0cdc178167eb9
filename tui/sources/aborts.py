"""The engine's finished requests by reason, read from each backend's ``/metrics``.

Without Prometheus, the timeout rate comes from two readings of
``vllm:request_success_total{finished_reason=...}`` some seconds apart: the aborted
requests' share of all that finished in between (an abort is a client or proxy giving up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx

from tui.analysis.budget import TimeoutRate
from tui.sources._http_auth import Credentials, CredentialsError
from tui.sources._vllm_names import spellings
from tui.sources.promtext import ExpositionError, parse_exposition

SOURCE = 'engine aborts (vllm:request_success_total{finished_reason="abort"}, scraped)'
_NAMES = frozenset(spellings("vllm:request_success_total"))


def finished_by_reason(
    urls: Iterable[tuple[str, Credentials | None]], timeout_s: float = 2.0
) -> dict[str, float]:
    """Requests finished so far, by ``finished_reason``, summed over the backends that answer."""
    totals: dict[str, float] = {}
    for url, credentials in urls:
        try:
            headers = credentials.headers() if credentials else {}
            text = httpx.get(f"{url}/metrics", headers=headers, timeout=timeout_s).text
            samples = parse_exposition(text, lambda name: name in _NAMES)
        except (httpx.HTTPError, ExpositionError, CredentialsError):
            continue
        for s in samples:
            reason = s.labels.get("finished_reason", "")
            totals[reason] = totals.get(reason, 0.0) + s.value
    return totals


def abort_share(before: Mapping[str, float], after: Mapping[str, float]) -> TimeoutRate:
    """Aborted / all finished between two readings (None when nothing finished)."""
    finished = sum(after.values()) - sum(before.values())
    if finished <= 0:
        return TimeoutRate(None, f"{SOURCE}: no requests finished")
    aborted = after.get("abort", 0.0) - before.get("abort", 0.0)
    return TimeoutRate(max(aborted, 0.0) / finished, SOURCE)
