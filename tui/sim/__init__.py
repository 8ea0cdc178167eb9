"""A vLLM-faithful simulated fleet: engines, GPUs, faults, HTTP servers, load.

The demo's default data and the test bed. Public entry points: ``SimConfig``,
``SimFleet`` (virtual time, in-process), ``SimServer`` / ``SimRuntime`` (real HTTP servers on
loopback) and ``PortInUse``. Never imports Textual.
"""

from tui.sim.config import SimConfig, parse_pools
from tui.sim.fleet import FAULT_KINDS, FaultError, SimBackend, SimFleet
from tui.sim.server import PortInUse, SimRuntime, SimServer

__all__ = [
    "FAULT_KINDS",
    "FaultError",
    "PortInUse",
    "SimBackend",
    "SimConfig",
    "SimFleet",
    "SimRuntime",
    "SimServer",
    "parse_pools",
]
