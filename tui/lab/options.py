"""What ``lab up`` is asked for, and how the lab fails: shared by the stack and its parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

COMPOSE_PROJECT = "inferdeck-lab"
"""The compose project label the lab's containers carry."""


class LabError(Exception):
    """``lab up`` or ``lab down`` failed; the message is one line."""


class AlreadyRunning(LabError):
    """``lab up`` found a running lab in the same folder."""


@dataclass
class LabOptions:
    """What ``lab up`` was asked for."""

    dir: Path
    pools: dict[str, int] = field(default_factory=lambda: {"blue": 2, "green": 1})
    engines: dict[str, str] = field(default_factory=dict)  # pool -> engine (default vllm)
    gpus: int = 4
    rps: float = 20.0
    seed: int = 7
    containers: bool = False
    fast_alerts: bool = True
