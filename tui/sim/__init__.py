"""A vLLM-faithful simulated fleet: engines, GPUs, faults, HTTP servers, load.

The demo's default data and the test bed. Public entry points: ``SimConfig``,
``SimFleet`` (virtual time, in-process), ``SimServer`` / ``SimRuntime`` (real HTTP servers on
loopback) and ``PortInUse``. Never imports Textual.
"""

import importlib
from typing import Any

_WHERE = {
    "SimConfig": "tui.sim.config",
    "parse_pools": "tui.sim.config",
    "FAULT_KINDS": "tui.sim.fleet",
    "FaultError": "tui.sim.fleet",
    "SimBackend": "tui.sim.fleet",
    "SimFleet": "tui.sim.fleet",
    "PortInUse": "tui.sim.server",
    "SimRuntime": "tui.sim.server",
    "SimServer": "tui.sim.server",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Import on first use: the CLI loads the simulator (and aiohttp) only when it runs it."""
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'tui.sim' has no attribute {name!r}")
