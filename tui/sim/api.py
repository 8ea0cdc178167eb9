"""The OpenAI-compatible HTTP surface of one simulated vLLM backend (aiohttp handlers).

Completions wait for their request to finish in the engine (real latency, since the server
advances the fleet in real time); ``"stream": true`` answers with server-sent events, one
chunk per token as the engine produces them, then ``data: [DONE]``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tui.sim.engine import Request
from tui.sim.fleet import SimBackend, SimFleet
from tui.sim.metrics import wants_openmetrics

WORDS: tuple[str, ...] = (
    " the", " fleet", " is", " serving", " tokens", " at", " a", " steady", " pace",
    " and", " every", " request", " gets", " its", " answer", " in", " time", ".",
)  # fmt: skip
"""Filler the simulated model "generates", one word per token."""


def _text(req: Request, start: int, end: int) -> str:
    return "".join(WORDS[(req.id + i) % len(WORDS)] for i in range(start, end))


def _prompt_tokens(body: dict[str, Any], chat: bool) -> int:
    """Rough token count of a prompt: 4 characters a token, plus a few per chat message."""
    if chat:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ValueError("'messages' must be a non-empty list")
        chars = 0
        for message in messages:
            content = message.get("content", "") if isinstance(message, dict) else ""
            chars += len(content if isinstance(content, str) else json.dumps(content))
        return max(1, chars // 4 + 4 * len(messages))
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        prompt = " ".join(str(p) for p in prompt)
    if not isinstance(prompt, str):
        raise ValueError("'prompt' must be a string")
    return max(1, len(prompt) // 4)


def _error(status: int, message: str, kind: str) -> web.Response:
    body = {"object": "error", "message": message, "type": kind, "param": None, "code": status}
    return web.json_response(body, status=status)


class BackendApi:
    """Route handlers for one backend; ``sync`` advances the fleet to the present."""

    def __init__(self, fleet: SimFleet, backend: SimBackend, sync: Callable[[], None]) -> None:
        self.fleet = fleet
        self.backend = backend
        self.sync = sync
        self.models = {b.model for b in fleet.backends}

    def routes(self) -> list[web.RouteDef]:
        """The vLLM endpoints."""
        return [
            web.get("/metrics", self.metrics),
            web.get("/health", self.health),
            web.get("/v1/models", self.list_models),
            web.post("/v1/chat/completions", self.chat),
            web.post("/v1/completions", self.completions),
        ]

    async def metrics(self, request: web.Request) -> web.Response:
        """Prometheus exposition (escaped OpenMetrics only when configured and asked for)."""
        self.sync()
        openmetrics = self.fleet.config.openmetrics_escaped and wants_openmetrics(
            request.headers.get("Accept")
        )
        body, content_type = self.fleet.metrics_response(self.backend.name, openmetrics)
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def health(self, request: web.Request) -> web.Response:
        """200 with an empty body while the engine is alive."""
        return web.Response(status=200)

    async def list_models(self, request: web.Request) -> web.Response:
        """The OpenAI model list with this backend's served model."""
        start = time.monotonic()
        model = self.backend.model
        body = {
            "object": "list",
            "data": [
                {
                    "id": model,
                    "object": "model",
                    "created": int(time.time()),
                    "owned_by": "vllm",
                    "root": model,
                    "parent": None,
                    "max_model_len": self.backend.params.max_model_len,
                }
            ],
        }
        self.backend.http.record("/v1/models", "GET", 200, time.monotonic() - start)
        return web.json_response(body)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/chat/completions``."""
        return await self._complete(request, chat=True)

    async def completions(self, request: web.Request) -> web.StreamResponse:
        """``POST /v1/completions``."""
        return await self._complete(request, chat=False)

    async def _complete(self, request: web.Request, chat: bool) -> web.StreamResponse:
        handler = "/v1/chat/completions" if chat else "/v1/completions"
        started = time.monotonic()
        backend = self.backend

        def answered(status: int) -> None:
            backend.http.record(handler, "POST", status, time.monotonic() - started)

        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            prompt_tokens = _prompt_tokens(body, chat)
            limit = backend.params.max_model_len - prompt_tokens
            max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or limit
            if not isinstance(max_tokens, int) or max_tokens < 1:
                raise ValueError("'max_tokens' must be a positive integer")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            answered(400)
            return _error(400, str(exc), "BadRequestError")
        model = body.get("model") or backend.model
        if model not in self.models:
            answered(404)
            return _error(404, f"The model `{model}` does not exist.", "NotFoundError")
        self.sync()
        req = backend.submit(prompt_tokens, max_tokens, handler, record_http=False)
        if req is None:
            answered(500)
            return _error(500, "simulated internal server error", "InternalServerError")
        engine = backend.engine
        ident = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex
        try:
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                response = await self._stream(request, req, ident, model, chat, include_usage)
                answered(200 if req.finish_reason != "abort" else 500)
                return response
            await req.wait()
        except (asyncio.CancelledError, ConnectionResetError):
            engine.abort(req)  # the client went away
            raise
        if req.finish_reason == "abort":
            answered(500)
            return _error(500, "the engine aborted the request", "InternalServerError")
        answered(200)
        text = _text(req, 0, req.generated)
        choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": req.finish_reason}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        return web.json_response(
            {
                "id": ident,
                "object": "chat.completion" if chat else "text_completion",
                "created": int(time.time()),
                "model": model,
                "choices": [choice],
                "usage": _usage(req),
            }
        )

    async def _stream(
        self,
        request: web.Request,
        req: Request,
        ident: str,
        model: str,
        chat: bool,
        include_usage: bool,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            }
        )
        await response.prepare(request)
        created = int(time.time())
        progress = asyncio.Event()
        req.add_listener(lambda _r: progress.set())

        async def send(choice: dict[str, Any] | None, usage: dict[str, int] | None = None) -> None:
            chunk: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk" if chat else "text_completion",
                "created": created,
                "model": model,
                "choices": [] if choice is None else [{"index": 0, "logprobs": None, **choice}],
            }
            if usage is not None:
                chunk["usage"] = usage
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        if chat:
            await send({"delta": {"role": "assistant", "content": ""}, "finish_reason": None})
        sent = 0
        while True:
            for i in range(sent, req.generated):
                piece = _text(req, i, i + 1)
                last = req.done and i == req.generated - 1
                reason = req.finish_reason if last else None
                if chat:
                    await send({"delta": {"content": piece}, "finish_reason": reason})
                else:
                    await send({"text": piece, "finish_reason": reason})
            sent = req.generated
            if req.done:
                break
            progress.clear()
            await progress.wait()
        if include_usage:
            await send(None, _usage(req))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _usage(req: Request) -> dict[str, int]:
    return {
        "prompt_tokens": req.prompt_tokens,
        "total_tokens": req.prompt_tokens + req.generated,
        "completion_tokens": req.generated,
    }
