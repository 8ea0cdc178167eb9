"""The model inventory: versions and their status, which pool serves which, retention.

The handbook's ``model-inventory.yml`` as data (`Inventory`), the pools' versions from the
config and from the live ``model_name`` each backend reports (`serving`), and the
retention policy's warnings (`retention_warnings`): more than one standby, more than two
archived, an archive older than 90 days, an active version no pool serves, a pool
serving a version the inventory does not know.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from tui.model import Backend

Status = Literal["active", "standby", "staging", "deprecated", "archived"]
STATUSES: tuple[str, ...] = ("active", "standby", "staging", "deprecated", "archived")

STANDBY_KEEP = 1
"""Versions kept on standby for a quick rollback."""
ARCHIVE_KEEP = 2
"""Versions kept in the archive."""
ARCHIVE_DAYS = 90
"""Days in the archive before a version is deleted."""


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One version of a model as the inventory lists it.

    ``served_as`` is the name the engine reports (``--served-model-name``) when it is
    neither the path nor ``NAME:VERSION``; ``archived`` is the day it went to the archive.
    """

    version: str
    status: Status
    deployed: dt.date | None = None
    path: str = ""
    served_as: str = ""
    archived: dt.date | None = None


@dataclass(frozen=True, slots=True)
class InventoryModel:
    """A model and its versions."""

    name: str
    versions: tuple[ModelVersion, ...]


@dataclass(frozen=True, slots=True)
class Inventory:
    """Every model the operator tracks; ``path`` is the file it came from (or "inline")."""

    models: tuple[InventoryModel, ...]
    path: str = "inline"

    def find(self, ref: str) -> tuple[InventoryModel, ModelVersion] | None:
        """The version ``ref`` names: ``NAME:VERSION``, a bare version unique across the
        inventory, a served name, a path, or a path's last folder."""
        for model in self.models:
            for v in model.versions:
                names = {f"{model.name}:{v.version}", v.served_as, v.path}
                if v.path:
                    names.add(posixpath.basename(v.path.rstrip("/")))
                if ref in names - {""}:
                    return model, v
        bare = [(m, v) for m in self.models for v in m.versions if v.version == ref]
        return bare[0] if len(bare) == 1 else None


@dataclass(frozen=True, slots=True)
class PoolServing:
    """What one pool serves: the names its backends report and the inventory's version."""

    pool: str
    live_names: tuple[str, ...]
    configured: str | None  # the config's NAME:VERSION (or version) for this pool
    model: str | None  # the inventory model it matched
    version: str | None  # the inventory version it matched
    source: str  # "config", "live" or "unknown"


def serving(
    inventory: Inventory, backends: Iterable[Backend], pool_versions: Mapping[str, str]
) -> tuple[PoolServing, ...]:
    """Each pool (configured or seen live) and the inventory version it serves.

    The config's pool → version mapping wins; else the backends' live model names.
    """
    live: dict[str, set[str]] = {}
    for b in backends:
        seen = live.setdefault(b.pool, set())
        if b.model:
            seen.add(b.model)
    out = []
    for pool in sorted(set(live) | set(pool_versions)):
        names = tuple(sorted(live.get(pool, ())))
        configured = pool_versions.get(pool)
        if configured is not None:
            found, source = inventory.find(configured), "config"
        else:
            found = next((f for n in names if (f := inventory.find(n))), None)
            source = "live" if found else "unknown"
        model, version = (found[0].name, found[1].version) if found else (None, None)
        out.append(PoolServing(pool, names, configured, model, version, source))
    return tuple(out)


def retention_warnings(
    inventory: Inventory, pools: Iterable[PoolServing], today: dt.date
) -> tuple[str, ...]:
    """Every way the inventory and the fleet break the retention policy, one line each."""
    warnings: list[str] = []
    listed = list(pools)
    served = {(p.model, p.version) for p in listed}
    for model in inventory.models:
        by_status: dict[str, list[ModelVersion]] = {}
        for v in model.versions:
            by_status.setdefault(v.status, []).append(v)
        standby = by_status.get("standby", [])
        if len(standby) > STANDBY_KEEP:
            names = ", ".join(v.version for v in standby)
            warnings.append(
                f"{model.name}: {len(standby)} standby versions ({names}); keep {STANDBY_KEEP}"
            )
        archived = by_status.get("archived", [])
        if len(archived) > ARCHIVE_KEEP:
            names = ", ".join(v.version for v in archived)
            warnings.append(
                f"{model.name}: {len(archived)} archived versions ({names}); keep {ARCHIVE_KEEP}"
            )
        for v in archived:
            if v.archived is not None and (today - v.archived).days > ARCHIVE_DAYS:
                warnings.append(
                    f"{model.name} {v.version}: archived {(today - v.archived).days} days ago"
                    f" (since {v.archived.isoformat()}); delete after {ARCHIVE_DAYS}"
                )
        for v in by_status.get("active", []):
            if (model.name, v.version) not in served:
                warnings.append(f"{model.name} {v.version}: active but no pool serves it")
    for p in listed:
        if p.version is None and (p.configured or p.live_names):
            what = p.configured or ", ".join(p.live_names)
            warnings.append(f"pool {p.pool}: serves {what}, which the inventory does not know")
    return tuple(warnings)
