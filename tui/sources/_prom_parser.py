"""prometheus_client's text parser, loaded without the rest of its package.

``import prometheus_client.parser`` runs the package's ``__init__`` first, and that imports
its exposition side: an HTTP and WSGI server, urllib, email, gzip, process and platform
collectors (57 modules: ~2 MB of a running dashboard's memory, ~20 ms of CPU to import,
against ~3 ms for the parser and the three modules it imports). A dashboard only reads
exposition text, so it loads ``parser.py`` and its relative imports from the installed
package's own folder as submodules of a private package (`PRIVATE_NAME`): the same code
and verdicts, the real ``prometheus_client`` left untouched in ``sys.modules`` for anything
that imports it whole (the demo's simulator). Where the package is already loaded whole,
or the parser cannot be loaded this way, the ordinary import is used.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
from types import ModuleType

PRIVATE_NAME = "_inferdeck_prometheus_parser"
"""The private package the parser's modules are loaded under (never ``prometheus_client``)."""

_lock = threading.Lock()


def parser_module() -> ModuleType:
    """``prometheus_client.parser``'s code: the package's own module when it is loaded
    whole, else a copy loaded alone (see the module's docstring)."""
    if "prometheus_client" in sys.modules:
        return importlib.import_module("prometheus_client.parser")
    with _lock:
        loaded = sys.modules.get(f"{PRIVATE_NAME}.parser")
        if loaded is not None:
            return loaded
        try:
            return _load_alone()
        except (ImportError, AttributeError, TypeError):  # an unusual install: the usual way
            return importlib.import_module("prometheus_client.parser")


def _load_alone() -> ModuleType:
    """The parser and what it imports relatively, under `PRIVATE_NAME`."""
    found = importlib.util.find_spec("prometheus_client")
    if found is None or not found.submodule_search_locations:
        raise ImportError("prometheus_client is not installed as a package")
    spec = importlib.machinery.ModuleSpec(PRIVATE_NAME, None, is_package=True)
    spec.submodule_search_locations = list(found.submodule_search_locations)
    package = importlib.util.module_from_spec(spec)  # its __init__ is never run
    sys.modules[PRIVATE_NAME] = package
    try:
        return importlib.import_module(f"{PRIVATE_NAME}.parser")
    except BaseException:
        for name in [n for n in sys.modules if n.partition(".")[0] == PRIVATE_NAME]:
            del sys.modules[name]
        raise
