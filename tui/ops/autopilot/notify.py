"""Notify webhooks: a Slack-compatible one (``{"text": ...}``, what Slack's incoming
webhooks and Mattermost take) and a generic one (the proposal as JSON fields)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tui.ops.autopilot.config import Webhook


def payload(webhook: Webhook, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body for ``webhook``: Slack's ``text`` or the generic fields."""
    if webhook.format == "slack":
        text = f"[inferdeck] {fields.get('message') or fields.get('reason')}"
        text += f" ({fields.get('environment', 'default')}: {fields.get('target')}, "
        text += f"rule {fields.get('rule')}: {fields.get('reason')})"
        return {"text": text}
    return {"source": "inferdeck", "time": time.time(), **fields}


def post(webhook: Webhook, fields: Mapping[str, Any], timeout_s: float = 5.0) -> str | None:
    """POST to ``webhook``; None when it answered 2xx, else why not (one line)."""
    import httpx  # loaded at the first request: the dashboard starts without it

    try:
        answer = httpx.post(webhook.url, json=payload(webhook, fields), timeout=timeout_s)
    except httpx.HTTPError as exc:
        return f"{webhook.url}: {type(exc).__name__}: {exc}"
    if not 200 <= answer.status_code < 300:
        return f"{webhook.url} answered {answer.status_code}"
    return None
