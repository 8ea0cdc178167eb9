"""The runbooks on offer: shipped ones plus the operator's own, which override by name.

Shipped runbooks live in ``tui/data/runbooks/``; the operator's in the config's
``runbooks_dir``. A file there whose runbook ``name`` equals a shipped one replaces it, and
the listing says so. Every file is validated; problems are collected as
``FILE:LINE: what is wrong`` lines rather than hiding the good runbooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tui.config import Config
from tui.ops.runbooks.model import Runbook, RunbookError
from tui.ops.runbooks.schema import parse_runbook

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "data" / "runbooks"
"""Where inferdeck's own runbooks are."""


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One runbook on offer and where it came from."""

    runbook: Runbook
    origin: str  # "shipped" or "operator"
    overrides: str | None = None  # the shipped file an operator's runbook replaces

    @property
    def name(self) -> str:
        """The runbook's name."""
        return self.runbook.name

    def describe_origin(self) -> str:
        """``shipped``, ``operator (PATH)`` or ``operator (PATH), overrides shipped``."""
        if self.origin == "shipped":
            return "shipped"
        text = f"operator ({self.runbook.path})"
        return f"{text}, overrides shipped" if self.overrides else text


@dataclass(slots=True)
class Catalog:
    """Runbooks by name, plus the problems found while loading them."""

    entries: dict[str, CatalogEntry] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        """Every runbook's name, sorted."""
        return sorted(self.entries)

    def get(self, name: str) -> Runbook | None:
        """The runbook called ``name``, or None."""
        entry = self.entries.get(name)
        return entry.runbook if entry is not None else None

    def for_alert(self, alertname: str) -> list[Runbook]:
        """The runbooks that answer the alert ``alertname``, most severe first."""
        rank = {"critical": 0, "warning": 1, "info": 2}
        found = [e.runbook for e in self.entries.values() if alertname in e.runbook.alerts]
        return sorted(found, key=lambda r: (rank.get(r.severity, 3), r.name))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _read(path: Path) -> Runbook:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RunbookError(f"{path}:0: cannot read the runbook: {exc}") from None
    return parse_runbook(text, str(path))


def _load_dir(folder: Path, catalog: Catalog) -> dict[str, Runbook]:
    found: dict[str, Runbook] = {}
    for path in _files(folder):
        try:
            runbook = _read(path)
        except RunbookError as exc:
            catalog.errors.append(str(exc))
            continue
        if runbook.name in found:
            first = found[runbook.name].path
            catalog.errors.append(
                f"{path}:1: runbook name '{runbook.name}' is also used by {first}"
            )
            continue
        found[runbook.name] = runbook
    return found


def operator_dir(config: Config | None) -> Path | None:
    """The config's ``runbooks_dir``; a relative one is relative to the config file."""
    if config is None or not config.runbooks_dir:
        return None
    folder = Path(config.runbooks_dir).expanduser()
    if not folder.is_absolute() and config.path:
        folder = Path(config.path).parent / folder
    return folder


def load_catalog(
    runbooks_dir: str | Path | None = None, *, shipped_dir: Path | None = SHIPPED_DIR
) -> Catalog:
    """Shipped runbooks, then the operator's from ``runbooks_dir`` (same name overrides)."""
    catalog = Catalog()
    shipped = _load_dir(shipped_dir, catalog) if shipped_dir is not None else {}
    for name, runbook in shipped.items():
        catalog.entries[name] = CatalogEntry(runbook, "shipped")
    if runbooks_dir is not None:
        folder = Path(runbooks_dir).expanduser()
        if not folder.is_dir():
            catalog.errors.append(f"{folder}:0: runbooks_dir is not a folder")
        else:
            for name, runbook in _load_dir(folder, catalog).items():
                overrides = shipped[name].path if name in shipped else None
                catalog.entries[name] = CatalogEntry(runbook, "operator", overrides)
    return catalog


def from_runbooks(runbooks: Iterable[Runbook]) -> Catalog:
    """A catalog of the given runbooks (tests, embedding)."""
    catalog = Catalog()
    for runbook in runbooks:
        catalog.entries[runbook.name] = CatalogEntry(runbook, "operator")
    return catalog
