"""`inferdeck snapshot` prints outside text made visible: no clipboard writes, no screen
clears, no reordered text on the operator's terminal."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HOSTILE = "evil\x1b]52;c;SGVsbG8=\x07\x1b[2J\u202egnp.exe"
SHOWN = "evil␛]52;c;SGVsbG8=␇␛[2J<U+202E>gnp.exe"
METRICS = (
    'vllm:num_requests_running{{model_name="{model}"}} 1\n'
    'vllm:num_requests_waiting{{model_name="{model}"}} 0\n'
)


class _Backend(BaseHTTPRequestHandler):
    """A vLLM-like backend whose model label carries terminal escapes and a bidi override."""

    def do_GET(self) -> None:
        body = METRICS.format(model=HOSTILE).encode() if self.path == "/metrics" else b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def backend_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def snapshot(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.commands", "snapshot", "-c", str(config),
         "--interval", "0.2", *extra],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def raw(text: str) -> set[str]:
    return {c for c in text if not (c.isprintable() or c in " \n")}


@pytest.fixture
def config(tmp_path: Path, backend_url: str) -> Path:
    path = tmp_path / "inferdeck.yaml"
    path.write_text(
        'environment: "prod\\e[2J"\n'
        "backends:\n"
        '  - name: "evil\\e]52;c;SGVsbG8=\\a\\e[2J\\u202egnp.exe"\n'
        "    pool: blue\n"
        f"    url: {backend_url}\n"
    )
    return path


def test_snapshot_shows_escapes_in_backend_names_instead_of_obeying_them(config: Path) -> None:
    result = snapshot(config)
    assert result.returncode == 0, result.stderr
    assert not raw(result.stdout) and not raw(result.stderr)
    assert f"  {SHOWN} blue     up" in result.stdout
    assert result.stdout.startswith("prod␛[2J: ")


def test_snapshot_json_keeps_the_values_and_escapes_them(config: Path) -> None:
    result = snapshot(config, "--json")
    assert result.returncode == 0, result.stderr
    assert not raw(result.stdout)
    backend = json.loads(result.stdout)["backends"][0]
    assert backend["name"] == HOSTILE
    assert backend["model"] == HOSTILE
