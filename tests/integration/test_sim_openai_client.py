"""The simulator's API as the official ``openai`` client sees it: chat and completions,
plain and streaming with usage, sync and async, ``n`` and prompt lists, and errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import openai
import pytest

from tui.sim import SimConfig, SimRuntime

pytestmark = pytest.mark.integration

MODEL = "llama-3.1-8b-instruct"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    runtime = SimRuntime(SimConfig(pools={"blue": 1}, gpus=0, port_base=0, rps=0.0, load=False))
    runtime.start()
    try:
        yield runtime.description["backends"][0]["url"]
    finally:
        runtime.stop()


def _client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url + "/v1", api_key="none", max_retries=0)


def test_chat_and_completions_plain(base_url: str) -> None:
    client = _client(base_url)
    chat = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello"}], max_tokens=5
    )
    assert chat.choices[0].message.role == "assistant" and chat.choices[0].message.content
    assert chat.choices[0].finish_reason == "length"
    assert chat.usage is not None and chat.usage.completion_tokens == 5
    assert chat.choices[0].model_extra == {"stop_reason": None}
    done = client.completions.create(model=MODEL, prompt="once upon", max_tokens=4)
    assert done.choices[0].text and done.usage is not None and done.usage.completion_tokens == 4


def test_n_and_a_list_of_prompts_return_as_many_choices(base_url: str) -> None:
    client = _client(base_url)
    chat = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=3, n=3
    )
    assert [c.index for c in chat.choices] == [0, 1, 2]
    done = client.completions.create(model=MODEL, prompt=["a b c d", "e f g h"], n=2, max_tokens=2)
    assert [c.index for c in done.choices] == [0, 1, 2, 3]
    assert done.usage is not None and done.usage.completion_tokens == 8


def test_streaming_with_usage_sync_and_async(base_url: str) -> None:
    client = _client(base_url)
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=4,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"

    async def run() -> tuple[str, int]:
        client = openai.AsyncOpenAI(base_url=base_url + "/v1", api_key="none", max_retries=0)
        stream = await client.completions.create(
            model=MODEL, prompt="x", max_tokens=3, stream=True,
            stream_options={"include_usage": True},
        )  # fmt: skip
        pieces, usage = [], 0
        async for chunk in stream:
            pieces += [c.text for c in chunk.choices]
            usage = chunk.usage.completion_tokens if chunk.usage else usage
        await client.close()
        return "".join(pieces), usage

    text, usage = asyncio.run(run())
    assert text and usage == 3


def test_errors_come_back_as_the_clients_exceptions(base_url: str) -> None:
    client = _client(base_url)
    with pytest.raises(openai.NotFoundError) as missing:
        client.completions.create(model="nope", prompt="x", max_tokens=1)
    assert missing.value.status_code == 404
    assert "does not exist" in missing.value.message
    body = missing.value.body
    assert isinstance(body, dict) and body["type"] == "NotFoundError" and body["code"] == 404
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model=MODEL, prompt="x", max_tokens=0)
    raw = httpx.post(base_url + "/v1/completions", json={"model": MODEL, "prompt": 3})
    assert raw.status_code == 400
    assert set(raw.json()) == {"error"}
    assert set(raw.json()["error"]) == {"message", "type", "param", "code"}


def test_models_with_permission_and_version(base_url: str) -> None:
    client = _client(base_url)
    (model,) = client.models.list().data
    assert model.id == MODEL and model.owned_by == "vllm"
    permission = (model.model_extra or {})["permission"]
    assert permission[0]["object"] == "model_permission"
    assert httpx.get(base_url + "/version").json() == {"version": "0.33.0"}


def test_the_http_instrumentation_counts_body_sizes(base_url: str) -> None:
    _client(base_url).completions.create(model=MODEL, prompt="size me", max_tokens=2)
    text = httpx.get(base_url + "/metrics").text
    sums = {
        line.split("{")[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(("http_request_size_bytes_sum", "http_response_size_bytes_sum"))
        and 'handler="/v1/completions"' in line
    }
    assert sums["http_request_size_bytes_sum"] > 0 and sums["http_response_size_bytes_sum"] > 0
