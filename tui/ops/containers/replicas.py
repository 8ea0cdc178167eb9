"""Replicas a scaler added to nginx's upstream, recorded beside the upstream file.

The config lists each pool's servers; a scale-out adds servers the config does not
know. They are kept in ``.FILE.replicas.json`` beside the upstream include file
(``{"blue": [{"name": "...", "server": "127.0.0.1:18401"}]}``, written atomically), and
the nginx router renders the config's servers *and* these, so a later traffic change
keeps the replicas in their pool instead of dropping them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from tui.ops.files import write_atomic


def replicas_path(upstream_file: str | Path) -> Path:
    """Where the replicas of this upstream file are recorded."""
    path = Path(upstream_file).expanduser()
    return path.with_name(f".{path.name}.replicas.json")


def read_replicas(upstream_file: str | Path) -> dict[str, list[dict[str, str]]]:
    """Pool -> its added replicas (name, server); empty when none (or unreadable)."""
    try:
        data = json.loads(replicas_path(upstream_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(pool): [
            {"name": str(r["name"]), "server": str(r["server"])}
            for r in entries
            if isinstance(r, dict) and "name" in r and "server" in r
        ]
        for pool, entries in data.items()
        if isinstance(entries, list)
    }


def write_replicas(upstream_file: str | Path, replicas: Mapping[str, list[dict[str, str]]]) -> None:
    """Record the replicas (atomically); pools without any are left out."""
    data = {pool: list(entries) for pool, entries in replicas.items() if entries}
    write_atomic(replicas_path(upstream_file), json.dumps(data, indent=2, sort_keys=True) + "\n")


def with_replicas(
    servers: Mapping[str, Sequence[str]], upstream_file: str | Path
) -> dict[str, tuple[str, ...]]:
    """The config's servers by pool with the recorded replicas of each pool added."""
    added = read_replicas(upstream_file)
    merged = {pool: tuple(found) for pool, found in servers.items()}
    for pool, entries in added.items():
        if pool in merged:
            extra = [r["server"] for r in entries if r["server"] not in merged[pool]]
            merged[pool] = (*merged[pool], *extra)
    return merged
