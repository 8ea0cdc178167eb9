"""The OpenAI-compatible HTTP surface of one simulated vLLM backend (aiohttp handlers).

Completions wait for their request to finish in the engine (real latency, since the server
advances the fleet in real time); ``"stream": true`` answers with server-sent events, one
chunk per token as the engine produces them, then ``data: [DONE]``. As vLLM's OpenAI
server (vllm/entrypoints/openai/protocol.py and api_server.py): errors are
``{"error": {"message", "type", "param", "code"}}``; ``n`` > 1 and a list of prompts
answer with one choice each (prompt by prompt, then the ``n`` of each); every choice
has a ``stop_reason``; ``/v1/models`` lists the model's ``permission``; ``/version``
says the vLLM version the simulator's metric generation stands for.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tui.sim.config import VLLM_RELEASES
from tui.sim.engine import Request
from tui.sim.fleet import SimBackend, SimFleet
from tui.sim.metrics import wants_openmetrics

WORDS: tuple[str, ...] = (
    " the", " fleet", " is", " serving", " tokens", " at", " a", " steady", " pace",
    " and", " every", " request", " gets", " its", " answer", " in", " time", ".",
)  # fmt: skip
"""Filler the simulated model "generates", one word per token."""


def exposition(request: web.Request, body: bytes, content_type: str) -> web.Response:
    """A ``/metrics`` page as exporters serve it: gzipped when the scraper accepts gzip
    (prometheus_client, behind vLLM's ``/metrics``, and Go's promhttp, behind
    dcgm-exporter, do; Prometheus and aiohttp ask for it), plain otherwise."""
    response = web.Response(body=body, headers={"Content-Type": content_type})
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression(web.ContentCoding.gzip)
    return response


def _text(req: Request, start: int, end: int) -> str:
    return "".join(WORDS[(req.id + i) % len(WORDS)] for i in range(start, end))


VLLM_VERSIONS = VLLM_RELEASES
"""What ``/version`` answers for each metric generation the simulator serves."""


def _prompt_tokens(body: dict[str, Any], chat: bool) -> list[int]:
    """Rough token counts of the prompts: 4 characters a token, plus a few per chat message.

    A completion's ``prompt`` may be a string, a list of strings, a list of token ids or a
    list of such lists: one count per prompt.
    """
    if chat:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ValueError("'messages' must be a non-empty list")
        chars = 0
        for message in messages:
            content = message.get("content", "") if isinstance(message, dict) else ""
            chars += len(content if isinstance(content, str) else json.dumps(content))
        return [max(1, chars // 4 + 4 * len(messages))]
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        return [max(1, len(prompt) // 4)]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(t, int) for t in prompt):
            return [len(prompt)]
        if all(isinstance(p, str) for p in prompt):
            return [max(1, len(p) // 4) for p in prompt]
        if all(isinstance(p, list) and p and all(isinstance(t, int) for t in p) for p in prompt):
            return [len(p) for p in prompt]
    raise ValueError("'prompt' must be a string, a list of strings or a list of token ids")


def _error(status: int, message: str, kind: str, param: str | None = None) -> web.Response:
    """vLLM's error body: ``{"error": {"message", "type", "param", "code"}}``."""
    body = {"error": {"message": message, "type": kind, "param": param, "code": status}}
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
            web.get("/version", self.version),
            web.post("/v1/chat/completions", self.chat),
            web.post("/v1/completions", self.completions),
        ]

    async def metrics(self, request: web.Request) -> web.Response:
        """Prometheus exposition (escaped OpenMetrics only when configured and asked for)."""
        self.sync()
        openmetrics = self.fleet.config.openmetrics_escaped and wants_openmetrics(
            request.headers.get("Accept")
        )
        names = request.query.getall("name[]", [])
        body, content_type = self.fleet.metrics_response(self.backend.name, openmetrics, names)
        return exposition(request, body, content_type)

    async def health(self, request: web.Request) -> web.Response:
        """200 with an empty body while the engine is alive."""
        return web.Response(status=200)

    async def version(self, request: web.Request) -> web.Response:
        """``{"version": ...}``: the vLLM release whose metrics this backend serves."""
        return web.json_response({"version": VLLM_VERSIONS[self.fleet.config.vllm_metrics]})

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
                    "permission": [_permission()],
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

        def answered(status: int, response_bytes: int = 0) -> None:
            backend.http.record(
                handler,
                "POST",
                status,
                time.monotonic() - started,
                request.content_length or 0,
                response_bytes,
            )

        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            prompts = _prompt_tokens(body, chat)
            n = body.get("n", 1)
            if n is None:
                n = 1
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ValueError("'n' must be a positive integer")
            max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
            if max_tokens is not None and (
                not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
            ):
                raise ValueError("'max_tokens' must be a positive integer")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            answered(400)
            return _error(400, str(exc), "BadRequestError")
        model = body.get("model") or backend.model
        if model not in self.models:
            answered(404)
            return _error(404, f"The model `{model}` does not exist.", "NotFoundError", "model")
        self.sync()
        reqs: list[Request] = []
        for prompt_tokens in prompts:
            limit = backend.params.max_model_len - prompt_tokens
            for _ in range(n):
                req = backend.submit(prompt_tokens, max_tokens or limit, handler, record_http=False)
                if req is None:
                    for r in reqs:
                        backend.engine.abort(r)
                    answered(500)
                    return _error(500, "simulated internal server error", "InternalServerError")
                reqs.append(req)
        engine = backend.engine
        ident = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex
        try:
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                response = await self._stream(request, reqs, ident, model, chat, include_usage)
                aborted = any(r.finish_reason == "abort" for r in reqs)
                answered(500 if aborted else 200)
                return response
            for req in reqs:
                await req.wait()
        except (asyncio.CancelledError, ConnectionResetError):
            for req in reqs:
                engine.abort(req)  # the client went away
            raise
        if any(r.finish_reason == "abort" for r in reqs):
            answered(500)
            return _error(500, "the engine aborted the request", "InternalServerError")
        choices: list[dict[str, Any]] = []
        for index, req in enumerate(reqs):
            text = _text(req, 0, req.generated)
            choice: dict[str, Any] = {
                "index": index,
                "logprobs": None,
                "finish_reason": req.finish_reason,
                "stop_reason": None,
            }
            if chat:
                choice["message"] = {"role": "assistant", "content": text}
            else:
                choice["text"] = text
            choices.append(choice)
        answer = web.json_response(
            {
                "id": ident,
                "object": "chat.completion" if chat else "text_completion",
                "created": int(time.time()),
                "model": model,
                "choices": choices,
                "usage": _usage(reqs, per_prompt=n),
            }
        )
        body = answer.body
        answered(200, len(body) if isinstance(body, bytes) else 0)  # its Content-Length
        return answer

    async def _stream(
        self,
        request: web.Request,
        reqs: list[Request],
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
        for req in reqs:
            req.add_listener(lambda _r: progress.set())

        async def send(
            index: int | None, choice: dict[str, Any] | None, usage: dict[str, int] | None = None
        ) -> None:
            chunk: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk" if chat else "text_completion",
                "created": created,
                "model": model,
                "choices": [] if choice is None else [{"index": index, "logprobs": None, **choice}],
            }
            if usage is not None:
                chunk["usage"] = usage
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        if chat:
            for index in range(len(reqs)):
                await send(index, {"delta": {"role": "assistant", "content": ""},
                                   "finish_reason": None})  # fmt: skip
        sent = [0] * len(reqs)
        while True:
            for index, req in enumerate(reqs):
                for i in range(sent[index], req.generated):
                    piece = _text(req, i, i + 1)
                    last = req.done and i == req.generated - 1
                    end: dict[str, Any] = {
                        "finish_reason": req.finish_reason if last else None,
                        "stop_reason": None,
                    }
                    if chat:
                        await send(index, {"delta": {"content": piece}, **end})
                    else:
                        await send(index, {"text": piece, **end})
                sent[index] = req.generated
            if all(r.done for r in reqs):
                break
            progress.clear()
            await progress.wait()
        if include_usage:
            await send(None, None, _usage(reqs, per_prompt=len(reqs)))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _usage(reqs: list[Request], per_prompt: int) -> dict[str, int]:
    """Token counts of an answer: each prompt counted once (its ``n`` copies share it)."""
    prompt = sum(r.prompt_tokens for r in reqs[::per_prompt])
    completion = sum(r.generated for r in reqs)
    return {
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion,
        "completion_tokens": completion,
    }


def _permission() -> dict[str, Any]:
    """One ``model_permission`` entry, as vLLM's ModelCard lists it."""
    return {
        "id": f"modelperm-{uuid.uuid4().hex}",
        "object": "model_permission",
        "created": int(time.time()),
        "allow_create_engine": False,
        "allow_sampling": True,
        "allow_logprobs": True,
        "allow_search_indices": False,
        "allow_view": True,
        "allow_fine_tuning": False,
        "organization": "*",
        "group": None,
        "is_blocking": False,
    }
