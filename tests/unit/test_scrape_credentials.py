"""A backend behind a bearer token: the scrape source sends it; a missing one fails early."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tui.config import ConfigError, load_config, parse_config
from tui.model import Health
from tui.sources._http_auth import Credentials
from tui.sources.scrape import ScrapeSource, ScrapeTarget
from tui.wiring import sources_for

SECRET = "s3cret-token"
METRICS = b'# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="m"} 2\n'


def _answer(status: str, body: bytes = b"") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


async def _needs_token(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Like vLLM behind an authenticating proxy: 401 on every path without the token."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    path = head.split(" ")[1]
    headers = [line.lower() for line in head.split("\r\n")[1:]]
    if f"authorization: bearer {SECRET}" not in headers:
        writer.write(_answer("401 Unauthorized", b"missing or bad token"))
    else:
        writer.write(_answer("200 OK", METRICS if path == "/metrics" else b""))
    await writer.drain()
    writer.close()


@pytest.fixture
async def guarded_url() -> AsyncIterator[str]:
    """A real loopback server that wants ``Authorization: Bearer SECRET``."""
    server = await asyncio.start_server(_needs_token, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()


async def _collect_one(source: ScrapeSource) -> tuple[Health, str, float | None]:
    got = await source.collect()
    await source.aclose()
    (backend,) = got.backends or ()
    return backend.health, backend.reason, backend.running


async def test_token_from_the_environment_is_sent(
    guarded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLLM_TOKEN", SECRET)
    target = ScrapeTarget("blue-0", "blue", guarded_url, credentials=Credentials("VLLM_TOKEN"))
    assert await _collect_one(ScrapeSource([target])) == (Health.UP, "", 2.0)


async def test_without_a_token_the_backend_is_down_with_http_401(guarded_url: str) -> None:
    health, reason, _ = await _collect_one(ScrapeSource([ScrapeTarget("b", "p", guarded_url)]))
    assert (health, reason) == (Health.DOWN, "HTTP 401 from /health")


async def test_config_token_file_reaches_the_scrape_source(
    guarded_url: str, tmp_path: Path
) -> None:
    (tmp_path / "vllm-token").write_text(SECRET + "\n")
    config_file = tmp_path / "c.yaml"
    config_file.write_text(  # a relative token_file is beside the config file
        f"backends:\n  - {{name: b, pool: p, url: '{guarded_url}', token_file: vllm-token}}\n"
    )
    (source,) = sources_for(load_config(config_file))
    assert isinstance(source, ScrapeSource)
    assert await _collect_one(source) == (Health.UP, "", 2.0)


async def test_a_token_rotated_between_scrapes_is_the_one_sent_next(
    guarded_url: str, tmp_path: Path
) -> None:
    """Token files are rewritten by their issuer (Vault agent, a Kubernetes projected
    token): each scrape must send the file's token as it is then, not the first one."""
    token = tmp_path / "token"
    token.write_text("expired-token")
    target = ScrapeTarget("b", "p", guarded_url, credentials=Credentials(token_file=str(token)))
    source = ScrapeSource([target])
    before = (await source.collect()).backends or ()
    token.write_text(SECRET)
    after = (await source.collect()).backends or ()
    await source.aclose()
    assert [(b.health, b.reason) for b in before] == [(Health.DOWN, "HTTP 401 from /health")]
    assert [(b.health, b.running) for b in after] == [(Health.UP, 2.0)]


async def test_a_token_file_gone_after_start_marks_the_backend_down(
    guarded_url: str, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text(SECRET)
    target = ScrapeTarget("b", "p", guarded_url, credentials=Credentials(token_file=str(token)))
    source = ScrapeSource([target])
    token.unlink()
    health, reason, _ = await _collect_one(source)
    assert health is Health.DOWN
    assert reason.startswith(f"cannot read token file {token}")
    assert SECRET not in reason


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("token_env: UNSET_VAR", "token_env: environment variable UNSET_VAR is not set"),
        ("token_file: /nonexistent/token", "token_file: cannot read token file /nonexistent/token"),
        ("token_file: empty", "token_file: token file "),
    ],
)
def test_a_token_that_cannot_be_read_is_a_config_error_at_load(
    backend: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSET_VAR", raising=False)
    (tmp_path / "empty").write_text("\n")
    config_file = tmp_path / "c.yaml"
    config_file.write_text(
        f"backends:\n  - name: b\n    {backend}\n    pool: p\n    url: http://h:1\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(config_file)
    message = str(info.value).replace(str(config_file), "c.yaml")
    assert message.startswith(f"c.yaml:3: backend 'b': {expected}"), message
    assert "\n" not in message


def test_prometheus_and_alertmanager_tokens_are_checked_at_load_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("UNSET_VAR", raising=False)
    for section in ("prometheus", "alertmanager"):
        for key in ("token_env", "basic_auth_env"):
            with pytest.raises(ConfigError) as info:
                parse_config(
                    f"sources:\n  {section}:\n    url: http://h:1\n    {key}: UNSET_VAR\n",
                    "c.yaml",
                )
            assert str(info.value).startswith(
                f"c.yaml:4: sources.{section}: {key}: environment variable UNSET_VAR"
            ), str(info.value)
