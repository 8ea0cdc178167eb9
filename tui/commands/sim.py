"""Command-line entry points: ``inferdeck sim`` and ``inferdeck sim fault``.

``tui.commands.main`` wires these into its subcommands (also as ``python -m tui.commands sim``,
which the lab uses to start backends).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable

import httpx

from tui.commands.common import error, say, stopped_by
from tui.sim.config import SIM_ENGINES, SimConfig, parse_histogram_buckets, parse_pool_engines
from tui.sim.fleet import FAULT_KINDS

DEFAULT_CONTROL = "http://127.0.0.1:18000"
"""The control endpoint of a simulator started with the default port base."""


class PoolCounts(dict[str, int]):
    """Backends per pool, and the engines named per pool (``green=1:sglang``)."""

    engines: dict[str, str]


def pools_argument(text: str) -> PoolCounts:
    """``blue=2,green=1:sglang`` as an argparse type: a bad value is argparse's one-line error."""
    try:
        pools, engines = parse_pool_engines(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    out = PoolCounts(pools)
    out.engines = engines
    return out


def histogram_buckets_argument(text: str) -> dict[str, tuple[float, ...]]:
    """vLLM's ``--custom-histogram-buckets`` JSON as an argparse type (one-line error)."""
    try:
        return parse_histogram_buckets(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's flags to ``parser``."""
    parser.add_argument(
        "--pools", type=pools_argument, default={"blue": 2, "green": 1},
        metavar="POOL=N[:ENGINE],...",
        help="backends per pool, optionally each pool's engine (default: blue=2,green=1;"
        " e.g. blue=2:vllm,green=1:sglang)",
    )  # fmt: skip
    parser.add_argument(
        "--engine", choices=SIM_ENGINES, default="vllm",
        help="the engine every backend simulates: its /metrics names, labels and buckets"
        " (default: vllm; a pool's :ENGINE wins)",
    )  # fmt: skip
    parser.add_argument("--gpus", type=int, default=4, help="simulated GPUs (default: 4)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument(
        "--rps", type=float, default=20.0,
        help="requests/s for the whole fleet, split across pools by the router's weights"
        " (default: 20)",
    )  # fmt: skip
    rate.add_argument(
        "--rps-per-backend", type=float, default=None, metavar="RPS",
        help="requests/s per backend instead: the fleet's rate is RPS x the number of backends",
    )  # fmt: skip
    parser.add_argument(
        "--port-base", type=int, default=18000, metavar="PORT",
        help="control on PORT, backends on PORT+1.., GPU exporter on PORT+100; 0: free ports",
    )  # fmt: skip
    parser.add_argument(
        "--vllm-metrics", choices=("current", "legacy"), default="current",
        help="serve exactly what vLLM 0.33.0 serves (current), or exactly what vLLM 0.10.2"
        " serves (legacy: the deprecated names, none of the newer ones)",
    )  # fmt: skip
    parser.add_argument(
        "--custom-histogram-buckets", type=histogram_buckets_argument, default=None,
        metavar="JSON",
        help="as vLLM's flag: bucket family -> bounds replacing its defaults, e.g."
        ' \'{"time_to_first_token": [0.1, 0.5, 2]}\' (current metrics only)',
    )  # fmt: skip
    parser.add_argument(
        "--openmetrics-escaped", action="store_true",
        help="answer OpenMetrics scrapes with ':' escaped to '_' in sample names",
    )  # fmt: skip
    parser.add_argument(
        "--dcgm-power-limit", action="store_true",
        help="the GPU exporter also exports the power limit (DCGM_FI_DEV_POWER_MGMT_LIMIT),"
        " as one configured with a counters file listing it; by default it does not",
    )  # fmt: skip
    parser.add_argument(
        "--load-target", metavar="URL", default=None,
        help="send the load as real HTTP requests to URL (e.g. nginx) instead of internally",
    )  # fmt: skip
    parser.add_argument(
        "--no-load", dest="load", action="store_false", help="run no load generator"
    )


def fleet_rps(args: argparse.Namespace) -> float:
    """The fleet's request rate: ``--rps``, or ``--rps-per-backend`` times the backends."""
    per_backend = getattr(args, "rps_per_backend", None)
    if per_backend is None:
        return float(args.rps)
    if per_backend < 0:
        raise ValueError(f"--rps-per-backend must be >= 0, got {per_backend:g}")
    return float(per_backend) * sum(dict(args.pools).values())


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """The SimConfig the parsed flags describe."""
    return SimConfig(
        pools=dict(args.pools),
        engine=getattr(args, "engine", "vllm"),
        engines=dict(getattr(args.pools, "engines", {})) or None,
        gpus=args.gpus,
        seed=args.seed,
        rps=fleet_rps(args),
        port_base=args.port_base,
        vllm_metrics=args.vllm_metrics,
        histogram_buckets=getattr(args, "custom_histogram_buckets", None),
        openmetrics_escaped=args.openmetrics_escaped,
        dcgm_power_limit=getattr(args, "dcgm_power_limit", False),
        load=args.load,
        load_target=args.load_target,
    )


def run_sim(args: argparse.Namespace) -> int:
    """Run the simulator until SIGINT/SIGTERM; the description is the first stdout line."""
    try:
        config = config_from_args(args)
    except ValueError as exc:
        error(str(exc))
        return 2
    stop = threading.Event()
    from tui.sim.server import PortInUse, SimRuntime  # aiohttp only when a fleet runs

    runtime = SimRuntime(config)
    with stopped_by(stop, signal.SIGINT, signal.SIGTERM):
        try:
            try:
                description = runtime.start()
            except PortInUse as exc:
                error(f"port {exc.port} is already in use")
                return 2
            print(json.dumps(description), flush=True)
            while not stop.wait(0.5):
                pass
            return 0
        finally:
            runtime.stop()


def add_sim_command_arguments(
    parser: argparse.ArgumentParser, common: Callable[[argparse.ArgumentParser], None]
) -> None:
    """``inferdeck sim`` flags and its ``fault`` subcommand (``common`` adds the common flags)."""
    add_sim_arguments(parser)
    sim_commands = parser.add_subparsers(dest="sim_command", metavar="fault")
    fault = sim_commands.add_parser("fault", help="inject or clear a fault on a backend")
    common(fault)
    add_fault_arguments(fault)


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``BACKEND KIND [--value X] [--control URL]`` to ``parser``."""
    parser.add_argument("backend", metavar="BACKEND", help="backend name, e.g. blue-0")
    parser.add_argument("kind", metavar="KIND", choices=FAULT_KINDS, help=", ".join(FAULT_KINDS))
    parser.add_argument("--value", type=float, default=None, help="fault parameter")
    parser.add_argument(
        "--control", default=DEFAULT_CONTROL, metavar="URL",
        help=f"the simulator's control endpoint (default: {DEFAULT_CONTROL})",
    )  # fmt: skip


def run_fault(args: argparse.Namespace) -> int:
    """POST the fault to the control endpoint; one line out. 0 ok, 1 unreachable, 2 refused."""
    url = args.control.rstrip("/") + "/faults"
    body = {"backend": args.backend, "kind": args.kind, "value": args.value}
    try:
        response = httpx.post(url, json=body, timeout=10.0)
    except httpx.HTTPError as exc:
        error(f"cannot reach the simulator at {args.control}: {exc}")
        return 1
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200:
        reason = payload.get("error") if isinstance(payload, dict) else None
        error(str(reason or f"HTTP {response.status_code} from {url}"))
        return 2
    faults = payload.get("faults") or {}
    active = ", ".join(f"{k}={v:g}" for k, v in faults.items()) or "none"
    say(f"{args.backend}: {args.kind} applied (active faults: {active})")
    return 0
