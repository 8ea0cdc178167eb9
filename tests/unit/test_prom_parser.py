"""prometheus_client's parser is loaded without its package's exposition server, and the
package itself stays whole for whatever imports it (the demo's simulator)."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import pytest

from tui.sources import _prom_parser
from tui.sources._prom_parser import PRIVATE_NAME, parser_module

PAGE = (
    "# TYPE vllm:num_requests_running gauge\n"
    'vllm:num_requests_running{model_name="m"} 3\n'
    "# TYPE http_requests counter\n"
    'http_requests_total{code="200"} 7\n'
)
SERVER_SIDE = ("prometheus_client", "prometheus_client.exposition", "http.server", "wsgiref",
               "urllib.request", "email.parser")  # fmt: skip


def run(script: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return out.stdout.split("\n")


def test_reading_metrics_loads_the_parser_alone_and_its_verdicts_stand() -> None:
    lines = run(
        "import sys\n"
        "from tui.sources.promtext import parse_exposition\n"
        f"got = parse_exposition({PAGE!r})\n"
        "print(sorted((s.name, dict(s.labels), s.value) for s in got))\n"
        f"print([m for m in {SERVER_SIDE!r} if m in sys.modules])\n"
        "from tui.sources.promtext import ExpositionError\n"
        "try:\n"
        "    parse_exposition('up{a=\"1\" 2\\n')\n"
        "except ExpositionError as exc:\n"
        "    print('refused:', exc)\n"
    )
    assert lines[0] == (
        "[('http_requests_total', {'code': '200'}, 7.0), "
        "('vllm:num_requests_running', {'model_name': 'm'}, 3.0)]"
    )
    assert lines[1] == "[]"  # no HTTP server, urllib or email: ~2 MB and ~20 ms saved
    assert lines[2].startswith("refused: line 1")


def test_the_package_imported_whole_afterwards_is_the_real_one() -> None:
    lines = run(
        "import sys\n"
        "import tui.sources.promtext\n"
        "import prometheus_client\n"
        "from prometheus_client import CollectorRegistry, Counter, generate_latest\n"
        "registry = CollectorRegistry()\n"
        "Counter('served', 'requests', registry=registry).inc()\n"
        "print(b'served_total 1.0' in generate_latest(registry))\n"
        "print(prometheus_client.__spec__.name, 'prometheus_client.parser' in sys.modules)\n"
    )
    assert lines[:2] == ["True", "prometheus_client False"]


def test_a_package_loaded_whole_first_is_the_one_used() -> None:
    import prometheus_client.parser  # this process: the tests load it whole (the simulator)

    assert parser_module() is prometheus_client.parser


def test_an_install_it_cannot_load_alone_falls_back_to_the_usual_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "prometheus_client", raising=False)
    for name in [n for n in sys.modules if n.partition(".")[0] == PRIVATE_NAME]:
        monkeypatch.delitem(sys.modules, name)

    def broken(name: str) -> None:
        raise ImportError(f"no spec for {name}")

    monkeypatch.setattr(_prom_parser.importlib.util, "find_spec", broken)
    module = parser_module()
    assert isinstance(module, ModuleType) and module.__name__ == "prometheus_client.parser"
    assert not any(n.partition(".")[0] == PRIVATE_NAME for n in sys.modules)
