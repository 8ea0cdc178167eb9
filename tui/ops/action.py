"""What an action is: its plan, its result, where it reports progress.

Kept apart from the executor (`tui.ops.executor`, which runs actions) so that what only
defines actions, like the alerts hook the hub runs from the start, loads without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Plan:
    """What exactly will happen, shown in the confirmation: a title and lines of detail."""

    title: str
    lines: tuple[str, ...] = ()
    dangerous: bool = False  # the operator must type `confirm_text` to go ahead
    confirm_text: str = ""  # usually the target's name


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did: ok or not, and a one-line message, plus details for the audit."""

    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[str], None]
"""Where an action reports progress, line by line (a runbook step's output, a rollout)."""


class Action(Protocol):
    """Something that changes the world. Only `Executor.execute` may call `run`."""

    kind: str  # e.g. "traffic.set", "alert.ack", "container.restart", "runbook.step"
    target: str  # what it acts on: a pool, an alert, a container, a runbook

    def params(self) -> dict[str, Any]:
        """The parameters, for the audit log."""
        ...

    def plan(self) -> Plan:
        """The exact change, without making it."""
        ...

    def run(self, progress: Progress) -> ActionResult:
        """Make the change (blocking; the executor runs it in a thread)."""
        ...
