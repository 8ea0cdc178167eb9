"""``inferdeck models [--json]``: the model inventory, what each pool serves, retention.

The inventory comes from ``models.inventory`` (a ``model-inventory.yml``) or inline
``models.models``; each pool's version from ``models.pools`` or from the model names its
backends report live. Without anything to watch, only the inventory is judged.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tui.analysis.models import Inventory, PoolServing
from tui.commands._observe import add_observe_arguments, observed
from tui.commands.common import load
from tui.commands.slo import terminal_safe_lines
from tui.commands.snapshot import to_jsonable
from tui.config import Config
from tui.judging import models_report

__all__ = ["describe", "models_report", "run_models"]


def add_models_arguments(parser: argparse.ArgumentParser) -> None:
    """``--demo``, ``--samples``, ``--interval``."""
    add_observe_arguments(parser)


def _watches(config: Config) -> bool:
    s = config.sources
    return bool(config.backends or s.prometheus)


def run_models(args: argparse.Namespace) -> int:
    """`inferdeck models`: print the report (exit 0)."""
    config = None if getattr(args, "demo", False) else load(args, required=True)
    if config is not None and not _watches(config):
        report = models_report(config, ())
    else:
        with observed(args) as seen:
            report = models_report(seen.config, seen.snapshot.backends)
    if getattr(args, "json", False):
        print(json.dumps(to_jsonable(report), indent=2, sort_keys=True, default=str))
    else:
        print(terminal_safe_lines(describe(report)))
    return 0


def describe(report: dict[str, Any]) -> str:
    """The report for the terminal."""
    inventory: Inventory = report["inventory"]
    lines = [f"Model inventory ({inventory.path})"]
    if not inventory.models:
        lines.append("  empty: set models.inventory or models.models (see example.yaml)")
    for model in inventory.models:
        lines.append(f"  {model.name}")
        for v in model.versions:
            deployed = v.deployed.isoformat() if v.deployed else "-"
            lines.append(f"    {v.version:<10} {v.status:<11} {deployed:<11} {v.path}")
    lines.append("Pools")
    p: PoolServing
    for p in report["pools"]:
        version = f"{p.model} {p.version}" if p.version else "unknown version"
        live = ", ".join(p.live_names) or "-"
        lines.append(f"  {p.pool:<10} {version} ({p.source}; live: {live})")
    lines.append("Retention" + (": all within the policy" if not report["warnings"] else ""))
    lines += [f"  ! {w}" for w in report["warnings"]]
    return "\n".join(lines)
