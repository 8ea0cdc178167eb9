"""The executor: the only way an action runs.

For every action it (1) refuses in read-only mode, saying why; (2) refuses while another
mutation runs (in this process or another inferdeck on this machine); (3) shows the
action's plan through the caller's confirmation callback; (4) audits the intent before
running and the result after, with the actor and the duration. Refusals and
cancellations are audited too.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import fcntl
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tui.ops.actor import current_actor
from tui.ops.audit import AuditLog

if TYPE_CHECKING:
    from tui.config import Config


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


class Outcome(enum.StrEnum):
    """How an execution ended."""

    DONE = "done"
    FAILED = "failed"
    REFUSED = "refused"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Execution:
    """The executor's answer: the outcome, a one-line message, and the action's result."""

    outcome: Outcome
    message: str
    result: ActionResult | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the action ran and succeeded."""
        return self.outcome is Outcome.DONE


Confirm = Callable[[Action, Plan], Awaitable[bool]]
"""Asks the operator; True to go ahead. The TUI shows a modal, the CLI asks on the terminal."""


class Busy(Exception):
    """Another mutation holds the lock."""


class Executor:
    """Runs actions: guard, lock, confirm, audit."""

    def __init__(
        self,
        audit: AuditLog,
        *,
        read_only: str | None = None,
        lock_path: Path | None = None,
        actor: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``read_only``: None when actions may run, else the reason they may not."""
        self.audit = audit
        self.read_only = read_only
        self.lock_path = lock_path or audit.path.with_name("mutation.lock")
        self.actor = actor or current_actor()
        self.clock = clock
        self.running: str | None = None  # what runs now, for "refused: X is running"

    async def execute(
        self, action: Action, confirm: Confirm, progress: Progress | None = None
    ) -> Execution:
        """Run ``action`` if allowed and confirmed; every path is audited.

        ``progress`` receives the action's progress lines as they come (from its thread).
        """
        base = {"actor": self.actor, "action": action.kind, "target": action.target,
                "params": action.params()}  # fmt: skip
        if self.read_only is not None:
            message = f"refused: read-only ({self.read_only})"
            self.audit.append({**base, "event": "refused", "reason": message})
            return Execution(Outcome.REFUSED, message)
        try:
            with self._lock():
                return await self._confirmed(action, confirm, base, progress)
        except Busy as busy:
            message = f"refused: {busy}"
            self.audit.append({**base, "event": "refused", "reason": message})
            return Execution(Outcome.REFUSED, message)

    async def _confirmed(
        self, action: Action, confirm: Confirm, base: dict[str, Any], progress: Progress | None
    ) -> Execution:
        plan = action.plan()
        if not await confirm(action, plan):
            self.audit.append({**base, "event": "cancelled", "plan": plan.title})
            return Execution(Outcome.CANCELLED, "cancelled: nothing was changed")
        self.audit.append({**base, "event": "intent", "plan": [plan.title, *plan.lines]})
        self.running = f"{action.kind} {action.target}"
        started = time.monotonic()
        lines: list[str] = []

        def report(line: str) -> None:
            lines.append(line)
            if progress is not None:
                progress(line)

        try:
            result = await asyncio.to_thread(action.run, report)
        except Exception as exc:
            result = ActionResult(False, f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        finally:
            self.running = None
        duration = time.monotonic() - started
        outcome = Outcome.DONE if result.ok else Outcome.FAILED
        self.audit.append({**base, "event": "result", "outcome": outcome.value,
                           "message": result.message, "details": result.details,
                           "duration_s": round(duration, 4)})  # fmt: skip
        return Execution(outcome, result.message, result, duration)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One mutation at a time on this machine: an exclusive, non-blocking flock."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
                raise Busy(f"another action is running ({holder or 'unknown'})") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{self.actor}, pid {os.getpid()}".encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


async def always(action: Action, plan: Plan) -> bool:
    """A confirmation that says yes (``--yes``)."""
    del action, plan
    return True


def executor_for(config: Config | None, *, read_only_flag: bool = False) -> Executor:
    """The executor: audited at the config's ``audit_log`` (else in the state folder),
    read-only when ``--read-only`` was given (``read_only_flag``) or the config says so."""
    from tui.ops.audit import audit_log_for

    reason = None
    if read_only_flag:
        reason = "--read-only"
    elif config is not None and config.read_only:
        reason = f"read_only: true in {config.path}"
    return Executor(audit_log_for(config), read_only=reason)
