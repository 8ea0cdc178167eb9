"""OpenSSL loaded only when something needs TLS: ~4 MB of a running dashboard.

Importing asyncio imports Python's ``ssl`` module, for TLS connections a dashboard whose
targets are all ``http://`` never makes, and ``ssl`` loads OpenSSL: measured, 4.2 MB of
a scraping dashboard's resident memory (57.4 against 53.2 MB, 20 s after start) and
~13 ms of its start.

`defer`, called before anything imports asyncio, imports it while ``ssl`` cannot be
imported: asyncio's modules then hold ``ssl = None``, as on a Python built without it.
It also asks to be told of the first ``import ssl`` made afterwards, by anyone (an
``https`` target's connection, httpx, the docker SDK): that import runs as usual, and
hands asyncio's modules the module (`give_asyncio`) before anything can use it, so
TLS works exactly as if asyncio had imported it itself.

One difference remains: ``ssl=True`` passed to asyncio in a process that has never
imported ``ssl`` fails (no default context can be made). Everything in this project
that opens TLS imports ``ssl`` first.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importlib.abc brings importlib.resources, tempfile, ...: ~12 ms
    from importlib.abc import Loader

ASYNCIO_TLS_MODULES = ("asyncio.base_events", "asyncio.selector_events", "asyncio.sslproto")
"""The asyncio modules that import ``ssl`` when they are imported (CPython 3.11; an https
scrape from a deferred start, ``tests/integration/test_scrape_tls.py``, checks whichever
Python runs the tests)."""


def defer() -> bool:
    """Import asyncio without ``ssl``; give it ``ssl`` when something imports it.

    Returns False, and changes nothing, where it is too late (asyncio or ``ssl`` is
    already imported) or ``ssl`` is already known to be missing.
    """
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        return False
    sys.modules["ssl"] = None  # type: ignore[assignment]  # `import ssl` raises ImportError
    try:
        import asyncio  # noqa: F401  # its modules take ssl = None
    finally:
        del sys.modules["ssl"]
    sys.meta_path.insert(0, _WhenSslIsImported())
    return True


def give_asyncio(ssl: ModuleType) -> None:
    """Hand ``ssl`` to asyncio's modules, as importing them with it would have."""
    for name in ASYNCIO_TLS_MODULES:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "ssl", None) is None:
            module.ssl = ssl  # type: ignore[attr-defined]
    sslproto = sys.modules.get("asyncio.sslproto")
    if sslproto is not None and not hasattr(sslproto, "SSLAgainErrors"):
        # what sslproto works out when it is imported with ssl (the errors a TLS read or
        # write raises while it waits for more bytes)
        sslproto.SSLAgainErrors = (ssl.SSLWantReadError, ssl.SSLSyscallError)  # type: ignore[attr-defined]


class _WhenSslIsImported:
    """Finds ``ssl`` once, the usual way, with a loader that then calls `give_asyncio` (a
    meta path finder: the import system asks it for every module not yet imported).

    It stays in ``sys.meta_path`` afterwards, answering None: taking it out while another
    thread's import walks the list could make that walk skip the finder after it.
    """

    found = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """The stdlib's spec for ``ssl`` (with `_ThenGiveAsyncio`); None for the rest."""
        if fullname != "ssl" or self.found:
            return None
        self.found = True  # once: the import system holds ssl's module lock meanwhile
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenGiveAsyncio(spec.loader)  # type: ignore[assignment]
        return spec


class _ThenGiveAsyncio:
    """``ssl``'s own loader, then `give_asyncio` (a loader, as the import system asks)."""

    def __init__(self, loader: Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """What the stdlib's loader creates (the default module)."""
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Run ``ssl``, then hand it to asyncio."""
        self._loader.exec_module(module)
        give_asyncio(module)
