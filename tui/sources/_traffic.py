"""Per-second counter rates → the model's `Traffic`, the same for every source."""

from __future__ import annotations

from collections.abc import Mapping

from tui.model import Traffic


def traffic_from(
    counters: Mapping[str, float | None], http_all: float | None, http_5xx: float | None
) -> Traffic:
    """Tokens/s, requests/min and the 5xx share of completion requests, from rates per second.

    ``counters`` holds rates by canonical vLLM counter name; ``http_all`` and ``http_5xx``
    are the rates of completion answers, all and 5xx. With no answers at all the error
    rate is 0, not unknown: nothing failed.
    """
    requests = counters.get("vllm:request_success_total")
    errors_per_min: float | None = None
    error_rate: float | None = None
    if http_all is not None:
        errors = http_5xx or 0.0
        errors_per_min = errors * 60.0
        error_rate = errors / http_all if http_all > 0 else 0.0
    return Traffic(
        prompt_tokens_per_s=counters.get("vllm:prompt_tokens_total"),
        generation_tokens_per_s=counters.get("vllm:generation_tokens_total"),
        requests_per_min=None if requests is None else requests * 60.0,
        error_rate=error_rate,
        errors_per_min=errors_per_min,
    )
