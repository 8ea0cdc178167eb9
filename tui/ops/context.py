"""What the TUI needs to act: the executor and a factory for every action it offers.

`Operations` is built from the config by the runner; the app only asks it for actions
(`rollback()`, `set_weights(...)`, `ack(alert)`, ...) and hands them to the executor.
A capability the config does not provide answers None, and the key says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui.model import Alert
from tui.ops.executor import Action, Executor

if TYPE_CHECKING:
    from tui.ops.incidents.desk import IncidentDesk


@dataclass
class Operations:
    """The executor plus factories; each factory is None when it is not configured."""

    executor: Executor
    rollback: Callable[[], Action] | None = None
    rollback_and_stop: Callable[[], Action] | None = None  # also stops the canary's containers
    set_weights: Callable[[Mapping[str, float]], Action] | None = None
    current_weights: Callable[[], Mapping[str, float]] | None = None
    rollout: Callable[..., Action] | None = None
    ack: Callable[[Alert, str, float | None], Action] | None = None
    unack: Callable[[Alert], Action] | None = None
    container: Callable[[str, str], Action] | None = None  # (verb, name) -> action
    runbook_library: Callable[[], Any] | None = None  # makes `runbooks` when first asked
    incidents: IncidentDesk | None = None  # incidents and timelines; note, SEV, resolve
    autopilot: Any = None  # the remediation rules' pilot (tui.ops.autopilot.pilot.Pilot)
    pools: Sequence[str] = field(default_factory=tuple)
    stable_pool: str = "blue"
    canary_pool: str = "green"
    _runbooks: Any = field(default=None, init=False, repr=False)

    @property
    def runbooks(self) -> Any:
        """The runbook library and runner (`tui.ops.runbooks.runner.Runbooks`), or None;
        made the first time something asks (the Runbooks screen, the palette, an alert's
        offer), so the dashboard starts without the runner and its catalogue."""
        if self._runbooks is None and self.runbook_library is not None:
            self._runbooks = self.runbook_library()
        return self._runbooks

    @property
    def read_only(self) -> str | None:
        """Why actions may not run, or None."""
        return self.executor.read_only
