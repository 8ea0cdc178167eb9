"""An ``https`` backend: its certificate is checked against the system's CAs (honouring
``SSL_CERT_FILE``, as OpenSSL does), with certificates made by the real ``openssl``."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.real_servers import require_binary
from tui.model import Health
from tui.sources.scrape import ScrapeSource, ScrapeTarget

ROOT = Path(__file__).resolve().parents[2]
PAGE = b'# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name="m"} 4\n'


def _openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(
        [require_binary("openssl", "openssl"), *map(str, args)],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test CA (``ca.pem``) and a server certificate for 127.0.0.1 it signed."""
    where = tmp_path_factory.mktemp("tls")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=inferdeck test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=where)  # fmt: skip
    (where / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=where)  # fmt: skip
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2",
             "-extfile", "server.ext", cwd=where)  # fmt: skip
    return where


@pytest.fixture
async def https_backend(certificates: Path) -> AsyncIterator[str]:
    """A vLLM-like ``/metrics`` and ``/health`` over TLS on loopback; its base URL."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                body = PAGE if head.startswith(b"GET /metrics") else b""
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client closed, or refused our certificate
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()


async def test_an_https_backend_signed_by_a_trusted_ca_is_read(
    https_backend: str, certificates: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates / "ca.pem"))
    source = ScrapeSource([ScrapeTarget("tls-0", "p", https_backend)], timeout_s=5.0)
    got = [b for c in [await source.collect(), await source.collect()] for b in c.backends or ()]
    await source.aclose()
    assert [(b.health, b.running) for b in got] == [(Health.UP, 4.0), (Health.UP, 4.0)]


async def test_an_https_backend_whose_certificate_is_not_trusted_is_down_and_says_why(
    https_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    source = ScrapeSource([ScrapeTarget("tls-0", "p", https_backend)], timeout_s=5.0)
    got = (await source.collect()).backends or ()
    await source.aclose()
    assert [b.health for b in got] == [Health.DOWN]
    assert got[0].reason.startswith("cannot connect: ")
    assert "CERTIFICATE_VERIFY_FAILED" in got[0].reason, got[0].reason


async def test_a_dashboard_started_without_openssl_reads_an_https_backend(
    https_backend: str, certificates: Path
) -> None:
    # as `inferdeck` starts: asyncio imported without ssl (`tui.tls_on_demand`), which the
    # scrape's first TLS connection imports and hands to asyncio
    script = (
        "import sys\n"
        "from tui import tls_on_demand\n"
        "assert tls_on_demand.defer()\n"
        "import asyncio\n"
        "from tui.sources.scrape import ScrapeSource, ScrapeTarget\n"
        "assert 'ssl' not in sys.modules\n"
        "async def main():\n"
        f"    source = ScrapeSource([ScrapeTarget('tls-0', 'p', {https_backend!r})], timeout_s=5)\n"
        "    got = (await source.collect()).backends\n"
        "    await source.aclose()\n"
        "    print([(b.health.value, b.running, b.reason) for b in got])\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, "SSL_CERT_FILE": str(certificates / "ca.pem")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == f"[('{Health.UP.value}', 4.0, '')]"
