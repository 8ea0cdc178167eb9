"""The lab's folder layout and its record, ``lab.json``: what ``lab up`` started, and where.

``lab.json`` is rewritten (atomically) after every part ``lab up`` starts, so a failure or
an interrupt half-way still leaves a record ``lab down`` can stop everything from.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.lab.nginx import NginxLayout, write_atomic
from tui.lab.procs import Proc, alive

STATE_FILE = "lab.json"
CONFIG_FILE = "inferdeck.yaml"


def default_dir() -> Path:
    """``$XDG_STATE_HOME/inferdeck/lab``, else ``~/.local/state/inferdeck/lab``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "inferdeck" / "lab"


@dataclass(frozen=True)
class LabPaths:
    """Every path under the lab's folder."""

    root: Path

    @property
    def state(self) -> Path:
        """``lab.json``."""
        return self.root / STATE_FILE

    @property
    def config(self) -> Path:
        """The inferdeck config for ``inferdeck -c``."""
        return self.root / CONFIG_FILE

    @property
    def logs(self) -> Path:
        """One log per part."""
        return self.root / "logs"

    @property
    def nginx(self) -> NginxLayout:
        """nginx's prefix folder, config and upstream include."""
        return NginxLayout(self.root / "nginx")

    @property
    def prometheus(self) -> Path:
        """Prometheus's config, rule copies and storage."""
        return self.root / "prometheus"

    @property
    def alertmanager(self) -> Path:
        """Alertmanager's config and storage."""
        return self.root / "alertmanager"

    @property
    def prometheus_data(self) -> Path:
        """Prometheus's TSDB (``--storage.tsdb.path``): the lab's alone, new at every up."""
        return self.prometheus / "data"

    @property
    def alertmanager_data(self) -> Path:
        """Alertmanager's silences and notification log: the lab's alone, new at every up."""
        return self.alertmanager / "data"

    @property
    def podman(self) -> Path:
        """The private podman's state (``--containers``)."""
        return self.root / "podman"

    def create(self) -> None:
        """Make the folders (the lab's folder is private: 0700)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for folder in (self.logs, self.nginx.root, self.nginx.temp, self.prometheus,
                       self.alertmanager):  # fmt: skip
            folder.mkdir(parents=True, exist_ok=True)

    def reset_storage(self) -> None:
        """Empty Prometheus's and Alertmanager's storage, so a new lab never sees the last
        one's series and alerts (its targets' ports are gone: ghost ``LLMServiceDown``).

        Only those two folders go; everything else in the lab's folder stays. A symbolic
        link in their place is removed, never followed.
        """
        for folder in (self.prometheus_data, self.alertmanager_data):
            if folder.is_symlink() or folder.is_file():
                folder.unlink()
            elif folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)


def read_state(paths: LabPaths) -> dict[str, Any] | None:
    """The recorded lab, or None when there is none (or the record is unreadable)."""
    try:
        data = json.loads(paths.state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(paths: LabPaths, state: dict[str, Any]) -> None:
    """Record ``state`` in ``lab.json`` (atomically); ``pids`` is derived from ``procs``."""
    state["pids"] = {name: p["pid"] for name, p in state.get("procs", {}).items()}
    write_atomic(paths.state, json.dumps(state, indent=2) + "\n")


def remove_state(paths: LabPaths) -> None:
    """Delete ``lab.json`` (idempotent)."""
    with contextlib.suppress(FileNotFoundError):
        paths.state.unlink()


def procs_of(state: dict[str, Any]) -> dict[str, Proc]:
    """The recorded processes by part name."""
    return {name: Proc.from_dict(p) for name, p in state.get("procs", {}).items()}


def liveness(state: dict[str, Any]) -> dict[str, bool]:
    """Whether each recorded process still runs."""
    return {name: alive(proc) for name, proc in procs_of(state).items()}
