"""What a runbook is once validated: typed, frozen steps (see `tui.ops.runbooks.schema`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tui.config import ConfigError


class RunbookError(ConfigError):
    """A runbook problem, phrased as ``FILE:LINE: what is wrong`` (exit status 2)."""


class StepType(enum.StrEnum):
    """What a step does."""

    RUN = "run"
    WAIT = "wait"
    CONTAINER = "container"
    TRAFFIC = "traffic"
    CHECK = "check"


DEFAULT_TIMEOUT_S = {
    StepType.RUN: 120.0,
    StepType.WAIT: 300.0,
    StepType.CONTAINER: 120.0,
    StepType.TRAFFIC: 120.0,
    StepType.CHECK: 1800.0,
}
"""A step's timeout when it names none (a check waits up to 30 minutes for its answer)."""

SEVERITIES = ("critical", "warning", "info")
CONTAINER_ACTIONS = ("restart", "stop", "start")


@dataclass(frozen=True, slots=True)
class InputSpec:
    """A named parameter; ``default`` None means the operator must give it.

    ``pattern`` (a regular expression the whole value must match) lets the input stand
    inside a longer command argument (``"http://{host}:8000"``); without one it may only
    be a whole argument. Its value is checked before the first step runs.
    """

    name: str
    default: str | None = None
    description: str = ""
    pattern: str | None = None


@dataclass(frozen=True, slots=True)
class RunSpec:
    """A command: ``argv`` (placeholders as whole elements, or patterned inputs inside one),
    or a ``script`` for sh -c."""

    argv: tuple[str, ...] = ()
    script: str | None = None  # with shell: true; inputs arrive as "$1".. (args) or env
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None


@dataclass(frozen=True, slots=True)
class WaitSpec:
    """Poll ``url`` every ``interval_s`` until it answers ``expect_status`` (and the text)."""

    url: str
    expect_status: int = 200
    expect_body_contains: str | None = None
    interval_s: float = 2.0


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """Restart, stop or start the container ``name``."""

    action: str
    name: str


@dataclass(frozen=True, slots=True)
class TrafficSpec:
    """Set weights (pool → percent, placeholders allowed) or roll back."""

    weights: tuple[tuple[str, str], ...] = ()
    rollback: bool = False


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A manual step: the question the operator answers yes to."""

    prompt: str


Spec = RunSpec | WaitSpec | ContainerSpec | TrafficSpec | CheckSpec


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a runbook."""

    name: str
    type: StepType
    spec: Spec
    timeout_s: float
    continue_on_error: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class Runbook:
    """A validated runbook; ``path`` is where it was read from."""

    name: str
    title: str
    steps: tuple[Step, ...]
    description: str = ""
    severity: str = "info"
    alerts: tuple[str, ...] = ()
    inputs: tuple[InputSpec, ...] = ()
    path: str = "<runbook>"

    def input(self, name: str) -> InputSpec | None:
        """The declared input called ``name``."""
        return next((i for i in self.inputs if i.name == name), None)
