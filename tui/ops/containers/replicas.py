"""Replicas a scaler added to nginx's upstream, recorded beside the upstream file.

The config lists each pool's servers; a scale-out adds servers the config does not
know. They are kept in ``.FILE.replicas.json`` beside the upstream include file
(``{"blue": [{"name": "...", "server": "127.0.0.1:18401", "backend": "blue-r1"}]}``,
written atomically), and the nginx router renders the config's servers *and* these, so
a later traffic change keeps the replicas in their pool instead of dropping them.

The dashboard scrapes them too (`replica_targets`, handed to the scrape source by
`tui.wiring`): each replica is a backend row of its pool, named as the operator knows
it (``blue-r1``), from the scale-out that started it until the scale-in that removes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tui.config import BackendConfig
from tui.ops.files import write_atomic
from tui.sources.scrape import ScrapeTarget


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
            {
                "name": str(r["name"]),
                "server": str(r["server"]),
                **({"backend": str(r["backend"])} if "backend" in r else {}),
            }
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


def backend_name(pool: str, replica: Mapping[str, str]) -> str:
    """The backend name a replica is shown as: recorded, or ``POOL-rN`` from its
    container's ``-rN`` suffix (records written before the name was kept)."""
    if replica.get("backend"):
        return replica["backend"]
    found = re.search(r"-r(\d+)$", replica["name"])
    return f"{pool}-r{found.group(1)}" if found else replica["name"]


def replica_targets(
    upstream_file: str | Path, configured: Sequence[BackendConfig]
) -> Callable[[], list[ScrapeTarget]]:
    """Scrape targets for the replicas recorded beside ``upstream_file`` now: each like
    its pool's first configured backend (model, credentials, engine) at its own server.
    The file is read again only when it changed (one ``stat`` a collect otherwise)."""
    path = replicas_path(upstream_file)
    like = {b.pool: b for b in reversed(configured)}
    cache: dict[str, object] = {"stamp": None, "targets": []}

    def targets() -> list[ScrapeTarget]:
        try:
            stat = path.stat()
            stamp: object = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if stamp != cache["stamp"]:
            found = []
            for pool, entries in read_replicas(upstream_file).items():
                template = like.get(pool)
                for replica in entries:
                    found.append(ScrapeTarget(
                        backend_name(pool, replica), pool, f"http://{replica['server']}",
                        template.model if template else "",
                        template.credentials if template else None,
                        template.engine if template else "",
                    ))  # fmt: skip
            cache["stamp"], cache["targets"] = stamp, found
        return list(cache["targets"])  # type: ignore[call-overload]

    return targets
