"""The lab's load generator: the simulator's arrival process as real HTTP requests.

``inferdeck lab load --target URL`` (which ``lab up`` starts) runs
`tui.sim.load.HttpLoadGenerator` alone (no simulated backends of its own), so nginx's
weights decide which backend answers. It logs its counts every few seconds and stops on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time

from tui.sim.config import SimConfig
from tui.sim.load import ArrivalProcess, HttpLoadGenerator

DEFAULT_MODEL = "llama-3.1-8b-instruct"
REPORT_S = 10.0


async def run(target: str, rps: float, seed: int, model: str) -> None:
    """Send load to ``target`` until SIGTERM/SIGINT; print counts as JSON lines."""
    defaults = SimConfig()
    process = ArrivalProcess(rps, defaults.diurnal_amplitude, defaults.diurnal_period_s, seed)
    generator = HttpLoadGenerator(target, process, model)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(generator.run())
    print(json.dumps({"load": "started", "target": target, "rps": rps}), flush=True)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REPORT_S)
        report = {"time": round(time.time(), 1), **generator.counts.as_dict()}
        print(json.dumps(report), flush=True)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
