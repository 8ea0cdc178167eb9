"""asyncio without OpenSSL until something imports ``ssl`` (`tui.tls_on_demand`).

Each case runs in a fresh interpreter: the test process has asyncio and ssl loaded long
since. The round trip over TLS after a deferred start is in
``tests/integration/test_scrape_tls.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui import tls_on_demand

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                         text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_the_command_line_imports_asyncio_without_openssl() -> None:
    got = _run("""
        import contextlib, io, sys
        from tui.commands.main import main
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            main(["--help"])
        import asyncio.sslproto
        print(asyncio.sslproto.ssl is None, "ssl" in sys.modules, "_ssl" in sys.modules)
    """)
    assert got == "True False False"


def test_the_first_import_of_ssl_hands_it_to_asyncio() -> None:
    got = _run("""
        import sys
        from tui import tls_on_demand
        assert tls_on_demand.defer()
        import asyncio.base_events, asyncio.selector_events, asyncio.sslproto
        assert "ssl" not in sys.modules and asyncio.sslproto.ssl is None
        import ssl
        modules = [sys.modules[name] for name in tls_on_demand.ASYNCIO_TLS_MODULES]
        finders = [f for f in sys.meta_path if type(f).__module__ == "tui.tls_on_demand"]
        print(all(m.ssl is ssl for m in modules),
              asyncio.sslproto.SSLAgainErrors == (ssl.SSLWantReadError, ssl.SSLSyscallError),
              [f.find_spec("ssl", None) for f in finders])
    """)
    assert got == "True True [None]"  # it answers once


def test_ssl_imported_by_a_library_arrives_too() -> None:
    # httpx (the one-off calls) imports ssl when it is imported
    got = _run("""
        from tui import tls_on_demand
        assert tls_on_demand.defer()
        import httpx, ssl, asyncio.sslproto
        print(asyncio.sslproto.ssl is ssl)
    """)
    assert got == "True"


def test_too_late_changes_nothing() -> None:
    # this process imported asyncio long ago
    finders = list(sys.meta_path)
    assert tls_on_demand.defer() is False
    assert sys.meta_path == finders


@pytest.mark.parametrize("already", ["import ssl", "import asyncio"])
def test_a_process_that_loaded_either_already_is_left_alone(already: str) -> None:
    got = _run(f"""
        import sys
        {already}
        from tui import tls_on_demand
        deferred = tls_on_demand.defer()
        import asyncio.sslproto, ssl
        print(deferred, asyncio.sslproto.ssl is ssl)
    """)
    assert got == "False True"
