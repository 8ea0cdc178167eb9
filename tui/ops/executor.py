"""The executor: the only way an action runs.

For every action it (1) refuses in read-only mode, saying why; (2) shows the action's
plan through the caller's confirmation callback, which expires after
``confirm_timeout_s`` (60 s: an expired confirmation cancels, audited); (3) only then
takes the machine-wide lock (`tui.ops.lock`) — never while a person reads — and refuses
while another action runs, in this process or another inferdeck on the machine; (4)
audits the intent before running and the result after, with the actor, the duration and
one action ``id`` shared by every record of the execution. Refusals and cancellations
are audited too.

**Rollback preempts.** An action that says ``preempts = True`` (`Rollback`) never waits
behind another: when the lock is held it takes the rollback lock, writes a preempt
marker naming the holder's action id, waits at most ``preempt_wait_s`` (1 s) for the
holder to let go, and runs — with the lock if it came, else without it (its result says
so). The holder's executor polls the marker every `tui.ops.lock.POLL_S` while an
*interruptible* action (a rollout) runs and interrupts it: the rollout stops at once,
changes nothing more, and its result is audited as ``preempted``.

**Stale confirmations.** Before asking, the executor notes the lock's change count;
after taking the lock, if any action ran meanwhile, it makes the plan again and cancels
(audited) when it is no longer the plan the person confirmed. A rollback's own plan is
never stale: "the stable pool to 100 %" means the same whatever ran meanwhile.

**Stopping.** `Executor.interrupt` stops running interruptible actions (hangup,
terminate, quitting): a rollout puts back the split it started from and reports. When
the task awaiting an execution is cancelled (an app exits), the action is interrupted
the same way, waited for, and its result recorded before the cancellation goes on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tui.ops.action import Action as Action
from tui.ops.action import ActionResult as ActionResult
from tui.ops.action import Plan as Plan
from tui.ops.action import Progress as Progress
from tui.ops.actor import current_actor
from tui.ops.audit import AuditLog
from tui.ops.lock import POLL_S, Busy, Holder, MachineLock, Preempt

if TYPE_CHECKING:
    from tui.config import Config


class Outcome(enum.StrEnum):
    """How an execution ended."""

    DONE = "done"
    FAILED = "failed"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    PREEMPTED = "preempted"  # a rollback took over while it ran


class Stop(enum.StrEnum):
    """Why a running action is told to stop, and so what it leaves behind."""

    PREEMPTED = "preempted"  # a rollback took over: change nothing more, end now
    RESTORE = "restore"  # hangup, terminate, quit: put back what was there, then end


@runtime_checkable
class Interruptible(Protocol):
    """An action that can be stopped while it runs (a rollout); called from any thread."""

    def interrupt(self, stop: Stop, reason: str) -> None:
        """Ask the running action to end soon (within a fraction of a second)."""
        ...


@dataclass(frozen=True, slots=True)
class Execution:
    """The executor's answer: the outcome, a one-line message, and the action's result."""

    outcome: Outcome
    message: str
    result: ActionResult | None = None
    duration_s: float = 0.0
    action_id: str = ""  # the ``id`` of its audit records

    @property
    def ok(self) -> bool:
        """True when the action ran and succeeded."""
        return self.outcome is Outcome.DONE


Confirm = Callable[[Action, Plan], Awaitable[bool]]
"""Asks the operator; True to go ahead. The TUI shows a modal, the CLI asks on the terminal."""

CONFIRM_TIMEOUT_S = 60.0
PREEMPT_WAIT_S = 1.0
LOCK_WAIT_S = 0.2  # a lock found busy this briefly is another executor's probe, not a run


@dataclass
class _Run:
    """One action running now in this executor."""

    action: Action
    holder: Holder
    done: threading.Event = field(default_factory=threading.Event)
    preempt: Preempt | None = None


class Executor:
    """Runs actions: guard, confirm (with expiry), lock or preempt, audit."""

    def __init__(
        self,
        audit: AuditLog,
        *,
        read_only: str | None = None,
        lock_path: Path | None = None,
        actor: str | None = None,
        clock: Callable[[], float] = time.time,
        confirm_timeout_s: float = CONFIRM_TIMEOUT_S,
        preempt_wait_s: float = PREEMPT_WAIT_S,
        note: str | None = None,
    ) -> None:
        """``read_only``: None when actions may run, else the reason they may not.

        ``lock_path``: the machine-wide lock (default ``mutation.lock`` beside the audit
        log); ``note``: said once at start when the lock or the log is not the machine's
        shared one (`tui.ops.places`).
        """
        self.audit = audit
        self.read_only = read_only
        self.lock = MachineLock(lock_path or audit.path.with_name("mutation.lock"))
        self.lock_path = self.lock.path
        self.actor = actor or current_actor()
        self.clock = clock
        self.confirm_timeout_s = confirm_timeout_s
        self.preempt_wait_s = preempt_wait_s
        self.note = note
        self._runs: dict[str, _Run] = {}

    @property
    def running(self) -> str | None:
        """What runs now in this executor (``kind target``), for "X is running"; or None."""
        run = next(iter(self._runs.values()), None)
        return f"{run.action.kind} {run.action.target}" if run else None

    async def execute(
        self, action: Action, confirm: Confirm, progress: Progress | None = None
    ) -> Execution:
        """Run ``action`` if allowed and confirmed; every path is audited under one id.

        ``progress`` receives the action's progress lines as they come (from its thread).
        """
        action_id = uuid.uuid4().hex
        base = {"id": action_id, "actor": self.actor, "action": action.kind,
                "target": action.target, "params": action.params()}  # fmt: skip
        preempts = bool(getattr(action, "preempts", False))
        if self.read_only is not None:
            return self._refused(base, f"read-only ({self.read_only})")
        if not preempts and (busy := await self._busy()):
            return self._refused(base, f"another action is running ({busy})")
        seen = self.lock.changes()
        plan = action.plan()
        asked = await self._ask(action, confirm, plan, base)
        if asked is not None:
            return asked
        holder = Holder(self.actor, os.getpid(), action.kind, action.target, action_id,
                        self.clock())  # fmt: skip
        with contextlib.ExitStack() as held:
            try:
                preempting = await self._acquire(held, holder, preempts)
            except Busy as busy:
                what = "another rollback is running" if preempts else "another action is running"
                return self._refused(base, f"{what} ({busy})")
            if not preempts and self.lock.changes() != seen:
                stale = self._stale(action, plan, seen, base)
                if stale is not None:
                    return stale
            return await self._run(action, plan, base, progress, holder, preempting)
        raise AssertionError("unreachable")  # pragma: no cover  (mypy: ExitStack may swallow)

    # -- the steps ---------------------------------------------------------------------

    def _refused(self, base: dict[str, Any], why: str) -> Execution:
        message = f"refused: {why}"
        self.audit.append({**base, "event": "refused", "reason": message})
        return Execution(Outcome.REFUSED, message, action_id=base["id"])

    async def _busy(self) -> str | None:
        """Who holds the lock now (this process included), else None; nothing is kept."""
        if self.running:
            return f"{self.actor}, pid {os.getpid()}: {self.running}"
        try:
            with contextlib.ExitStack() as probe:
                await self._hold(probe, Holder(self.actor, os.getpid()), LOCK_WAIT_S)
        except Busy as busy:
            return str(busy)
        return None

    async def _hold(self, held: contextlib.ExitStack, holder: Holder, wait_s: float) -> None:
        """Take the action lock into ``held``, trying for ``wait_s`` without blocking the
        event loop (a run of this very process may be the one to let go); else `Busy`."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                held.enter_context(self.lock.hold(holder))
                return
            except Busy:
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(0.02)

    async def _ask(
        self, action: Action, confirm: Confirm, plan: Plan, base: dict[str, Any]
    ) -> Execution | None:
        """None when confirmed; else the (audited) cancellation: declined or expired."""
        try:
            ok = await asyncio.wait_for(confirm(action, plan), self.confirm_timeout_s)
        except TimeoutError:
            message = (
                f"cancelled: the confirmation expired after {self.confirm_timeout_s:g}s; "
                "nothing was changed"
            )
            self.audit.append({**base, "event": "cancelled", "plan": plan.title,
                               "reason": message})  # fmt: skip
            return Execution(Outcome.CANCELLED, message, action_id=base["id"])
        if ok:
            return None
        self.audit.append({**base, "event": "cancelled", "plan": plan.title})
        return Execution(Outcome.CANCELLED, "cancelled: nothing was changed", action_id=base["id"])

    async def _acquire(
        self, held: contextlib.ExitStack, holder: Holder, preempts: bool
    ) -> str | None:
        """Take the lock into ``held``; a preempting action may go on without it.

        Returns what a preempting action did to get going (for its audit), else None.
        """
        if not preempts:
            await self._hold(held, holder, LOCK_WAIT_S)
            return None
        fd = held.enter_context(self.lock.rollback(holder))
        try:
            await self._hold(held, holder, 0.0)
            return None
        except Busy as busy:
            victim, shown = busy.holder, str(busy)
        MachineLock.mark(fd, Preempt(victim.id if victim else "", holder.id, self.actor,
                                     self.clock()))  # fmt: skip
        try:
            await self._hold(held, holder, self.preempt_wait_s)
        except Busy:
            return (
                f"preempted {shown}, which had not let go after {self.preempt_wait_s:g}s: "
                "went ahead without the lock"
            )
        return f"preempted {shown}"

    def _stale(
        self, action: Action, plan: Plan, seen: int, base: dict[str, Any]
    ) -> Execution | None:
        """Cancel (audited) when what ran meanwhile changed this action's plan."""
        if action.plan() == plan:
            return None
        ran = [" ".join(line.split()[1:]) for line in self.lock.changed_since(seen)]
        message = (
            f"cancelled: {', '.join(ran) or 'another action'} ran while this waited for "
            "confirmation and its plan is no longer the one confirmed; nothing was "
            "changed: look again"
        )
        self.audit.append({**base, "event": "cancelled", "plan": plan.title, "reason": message})
        return Execution(Outcome.CANCELLED, message, action_id=base["id"])

    async def _run(
        self,
        action: Action,
        plan: Plan,
        base: dict[str, Any],
        progress: Progress | None,
        holder: Holder,
        preempting: str | None,
    ) -> Execution:
        intent = {**base, "event": "intent", "plan": [plan.title, *plan.lines]}
        if preempting:
            intent["preempting"] = preempting
        self.audit.append(intent)
        run = _Run(action, holder)
        self._runs[holder.id] = run
        started = time.monotonic()

        muted = threading.Event()  # once the caller is gone, its progress sink may be too

        def report(line: str) -> None:
            if progress is not None and not muted.is_set():
                progress(line)

        future: concurrent.futures.Future[ActionResult] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()  # a cancelled await must not cancel the run
        threading.Thread(target=self._work, args=(run, report, future), daemon=True,
                         name=f"inferdeck-{action.kind}").start()  # fmt: skip
        if isinstance(action, Interruptible):
            threading.Thread(target=self._watch, args=(run,), daemon=True,
                             name="inferdeck-preempt-watch").start()  # fmt: skip
        try:
            result = await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:
            muted.set()
            self._stop_one(run, Stop.RESTORE, "inferdeck stopped while it ran")
            result = await _outlast(future, 30.0 if isinstance(action, Interruptible) else 5.0)
            self._finish(run, base, result, started, preempting)
            raise
        return self._finish(run, base, result, started, preempting)

    @staticmethod
    def _work(run: _Run, report: Progress, future: concurrent.futures.Future[ActionResult]) -> None:
        try:
            result = run.action.run(report)
        except Exception as exc:
            result = ActionResult(False, f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        finally:
            run.done.set()
        future.set_result(result)

    def _watch(self, run: _Run) -> None:
        """Poll the preempt marker while ``run`` runs; interrupt it when it is named."""
        while not run.done.wait(POLL_S):
            found = self.lock.preempted(run.holder.id)
            if found is not None:
                run.preempt = found
                self._stop_one(run, Stop.PREEMPTED, found.reason())
                return

    @staticmethod
    def _stop_one(run: _Run, stop: Stop, reason: str) -> None:
        if isinstance(run.action, Interruptible) and not run.done.is_set():
            run.action.interrupt(stop, reason)

    def _finish(
        self,
        run: _Run,
        base: dict[str, Any],
        result: ActionResult,
        started: float,
        preempting: str | None,
    ) -> Execution:
        self._runs.pop(run.holder.id, None)
        duration = time.monotonic() - started
        outcome = Outcome.DONE if result.ok else Outcome.FAILED
        details = dict(result.details)
        if run.preempt is not None:
            details["preempted_by"] = run.preempt.by
            if not result.ok:
                outcome = Outcome.PREEMPTED
        if preempting:
            details["preempting"] = preempting
        self.lock.record_change(run.holder.id, run.action.kind, run.action.target)
        self.audit.append({**base, "event": "result", "outcome": outcome.value,
                           "message": result.message, "details": details,
                           "duration_s": round(duration, 4)})  # fmt: skip
        done = ActionResult(result.ok, result.message, details)
        return Execution(outcome, result.message, done, duration, base["id"])

    # -- stopping from outside ---------------------------------------------------------

    def interrupt(self, reason: str, stop: Stop = Stop.RESTORE) -> bool:
        """Tell every running interruptible action to stop; True when there was one.

        Safe from a signal handler or any thread; returns at once.
        """
        runs = [r for r in self._runs.values() if isinstance(r.action, Interruptible)]
        for run in runs:
            self._stop_one(run, stop, reason)
        return bool(runs)

    async def stop_all(self, reason: str, timeout_s: float = 30.0) -> None:
        """Interrupt running actions (putting back what they changed) and wait for them
        to record their results, at most ``timeout_s``."""
        self.interrupt(reason)
        deadline = time.monotonic() + timeout_s
        while self._runs and time.monotonic() < deadline:
            await asyncio.sleep(0.02)


async def _outlast(future: concurrent.futures.Future[ActionResult], wait_s: float) -> ActionResult:
    """The action's result once it ends, at most ``wait_s`` from now, even through
    further cancellations (an app closing cancels its tasks more than once)."""
    deadline = time.monotonic() + wait_s
    while not future.done() and time.monotonic() < deadline:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.02)
    if not future.done():
        return ActionResult(False, "inferdeck stopped while it ran: outcome unknown")
    return future.result()


async def always(action: Action, plan: Plan) -> bool:
    """A confirmation that says yes (``--yes``)."""
    del action, plan
    return True


def executor_for(config: Config | None, *, read_only_flag: bool = False) -> Executor:
    """The executor: locked and audited in the machine's shared places (else the config's
    ``lock_file``/``audit_log``, else the user's state folder, with a `Executor.note`
    saying so; see `tui.ops.places`), read-only when ``--read-only`` was given
    (``read_only_flag``) or the config says so."""
    from tui.config import read_only_reason
    from tui.ops.places import places_for

    places = places_for(config)
    audit = AuditLog(places.audit, mode=0o660 if places.shared else 0o600)
    reason = read_only_reason(config, read_only_flag)
    return Executor(audit, read_only=reason, lock_path=places.lock, note=places.note)
