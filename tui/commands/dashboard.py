"""``inferdeck demo``, ``inferdeck [-c FILE]`` and ``inferdeck screenshots``: the dashboard."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.commands.common import load_dashboard_config, say
from tui.config import Config
from tui.wiring import StartError, demo_config, run_app, simulated_fleet

if TYPE_CHECKING:  # the simulator (and aiohttp) is imported only when a demo needs it
    from tui.sim.config import SimConfig


def add_wall_argument(parser: argparse.ArgumentParser) -> None:
    """``--wall``: the NOC wall instead of the console."""
    parser.add_argument(
        "--wall",
        action="store_true",
        default=argparse.SUPPRESS,  # `inferdeck --wall demo` keeps the flag given before
        help="NOC wall: read-only, big figures, cycles views (wall: in the config), "
        "high-contrast theme unless --theme",
    )


NO_RECORD_HELP = "do not record what the dashboard shows (the config's recording: enabled: false)"


def add_record_argument(parser: argparse.ArgumentParser) -> None:
    """``--no-record``: the dashboard's flight recorder off."""
    parser.add_argument(
        "--no-record",
        action="store_true",
        default=argparse.SUPPRESS,  # `inferdeck --no-record demo` keeps the flag given before
        help=NO_RECORD_HELP,
    )


def without_recording(args: argparse.Namespace, config: Config) -> Config:
    """``config`` with its flight recorder off when ``--no-record`` was given."""
    if not getattr(args, "no_record", False):
        return config
    from tui.recording.config import recording_off

    return recording_off(config)


def wall_theme(args: argparse.Namespace, config: Config) -> Config:
    """On the wall, the high-contrast theme unless ``--theme`` names another."""
    if not getattr(args, "wall", False) or getattr(args, "theme", None):
        return config
    from themes import WALL_THEME

    return dataclasses.replace(config, theme=WALL_THEME)


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """``--seed``, ``--pools``, ``--gpus``, ``--rps``, ``--tier``, ``--port-base``, ``--wall``,
    ``--no-record``."""
    add_wall_argument(parser)
    add_record_argument(parser)
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    parser.add_argument(
        "--pools",
        default="blue=2,green=1",
        help="pools and backend counts, optionally each pool's engine (blue=2:vllm,green=1:sglang)",
    )
    parser.add_argument(
        "--engine",
        default="vllm",
        choices=("vllm", "sglang", "tgi", "llamacpp"),
        help="the engine every simulated backend is (default vllm)",
    )
    parser.add_argument("--gpus", type=int, default=4, help="simulated GPUs")
    parser.add_argument(
        "--rps", type=float, default=20.0, help="requests/s for the whole simulated fleet"
    )
    parser.add_argument("--tier", default=None, help="SLO tier: standard, enhanced, premium")
    parser.add_argument(
        "--port-base",
        type=int,
        default=18000,
        help="simulator ports from here (control; backends +1..; GPUs +100)",
    )


def demo_config_from(description: Mapping[str, Any], args: argparse.Namespace) -> Config:
    """The demo's config, with ``--refresh``, ``--tier``, ``--theme`` and ``--read-only``."""
    return demo_config(
        description,
        refresh_s=getattr(args, "refresh", None),
        tier=getattr(args, "tier", None),
        theme=getattr(args, "theme", None),
        read_only=bool(getattr(args, "read_only", False)),
    )


def sim_config_from(args: argparse.Namespace) -> SimConfig:
    """The simulated fleet ``demo`` (and ``snapshot --demo``) start: pools, GPUs, seed, load."""
    from tui.sim.config import SimConfig, parse_pool_engines

    try:
        pools, engines = parse_pool_engines(getattr(args, "pools", "blue=2,green=1"))
        return SimConfig(
            pools=pools,
            engines=engines or None,
            engine=getattr(args, "engine", None) or "vllm",
            gpus=getattr(args, "gpus", 4),
            seed=getattr(args, "seed", 7),
            rps=getattr(args, "rps", 20.0),
            port_base=getattr(args, "port_base", 18000),
        )
    except ValueError as exc:
        raise StartError(str(exc)) from None


def demo_extras(config: Config, description: dict) -> Config:
    """The demo's config with what judging needs (`tui.judging.demo_extras`)."""
    from tui import judging

    pool_models = ((b["pool"], b.get("model", "")) for b in description["backends"])
    return judging.demo_extras(config, pool_models)


def run_demo(args: argparse.Namespace) -> int:
    """`inferdeck demo`: start the simulated fleet in-process and open the overview on it."""
    with simulated_fleet(sim_config_from(args)) as description:
        # the judging screens get max_num_seqs, a cost table and an inventory to show
        config = demo_extras(demo_config_from(description, args), description)
        return run_app(
            without_recording(args, wall_theme(args, config)),
            description["control"],
            f"demo · control {description['control']}",
            read_only_flag=bool(getattr(args, "read_only", False)),
            debug=bool(getattr(args, "debug", False)),
            immediate_alerts=True,
            sandbox=True,
            wall=bool(getattr(args, "wall", False)),
        )


def run_dashboard(args: argparse.Namespace) -> int:
    """`inferdeck [-c FILE]`: the dashboard on a real stack."""
    config = without_recording(args, wall_theme(args, load_dashboard_config(args)))
    return run_app(
        config,
        None,
        "",
        read_only_flag=bool(getattr(args, "read_only", False)),
        debug=bool(getattr(args, "debug", False)),
        wall=bool(getattr(args, "wall", False)),
    )


def add_screenshots_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dir``: where the pictures go."""
    parser.add_argument("--dir", default="screenshots", help="where to write (default screenshots)")


def run_screenshots(args: argparse.Namespace) -> int:
    """`inferdeck screenshots`: regenerate the README's pictures from the demo."""
    from tui.screenshots import regenerate

    for path in regenerate(Path(args.dir)):
        say(path)
    return 0
