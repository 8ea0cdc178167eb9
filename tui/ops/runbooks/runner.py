"""Runbooks: the library on offer and the runner that plays one, step by step.

`Runbooks` is what a front end holds (the TUI as ``Operations.runbooks``, the CLI):
``entries()``/``get()``/``for_alert()`` list the catalogue, ``dry_run()`` says exactly
what every step would do and runs nothing, ``run()`` plays a runbook and ``cancel()``
stops it. Every step is one executor execution (kind ``runbook.step``, target
``RUNBOOK/STEP``), so each is guarded, confirmed and audited. Output reaches the
``progress`` callback line by line while the step runs, always on the event loop's
thread. The first failure stops the runbook unless the step says ``continue_on_error``.

A ``check`` step is asked through ``ask_check`` *before* its execution (so no lock is held
while a person thinks) and its answer is audited with it; the executor's plan
confirmation is skipped for checks, since the question is the confirmation. In read-only
mode a check is not asked: the executor refuses it like every other step.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence

from tui.config import Config
from tui.model import Backend
from tui.ops.executor import Action, Confirm, Executor, Outcome, Plan
from tui.ops.runbooks.catalog import Catalog, CatalogEntry, load_catalog, operator_dir
from tui.ops.runbooks.config_ops import ops_from_config
from tui.ops.runbooks.context import (
    BACKEND_KEY,
    CONTEXT,
    RunContext,
    context_used,
    docker_containers,
)
from tui.ops.runbooks.model import Runbook, RunbookError, StepType
from tui.ops.runbooks.report import (
    OUTPUT_TAIL,
    CheckQuestion,
    RunbookEvent,
    RunbookReport,
    StepOutcome,
    StepPreview,
    StepReport,
)
from tui.ops.runbooks.steps import RunbookStep, StepOps, resolve, visible

__all__ = [
    "AskCheck",
    "CheckQuestion",
    "RunbookError",
    "RunbookEvent",
    "RunbookReport",
    "Runbooks",
    "StepOutcome",
    "StepPreview",
    "StepReport",
    "load_catalog",
    "resolve_inputs",
]

AskCheck = Callable[[CheckQuestion], Awaitable[bool]]
"""Asks the operator a check step's question; True when they confirm it."""

OnEvent = Callable[[RunbookEvent], None]


def resolve_inputs(runbook: Runbook, given: Mapping[str, str]) -> dict[str, str]:
    """Defaults overlaid with ``given``; `RunbookError` for an unknown or a missing input,
    or a value its input's ``pattern`` does not match (as a whole).

    ``given`` may also hold the backend to target (``backend``) and context values given
    outright (``backend.container``…): `RunContext.values` takes those; they are not
    returned here.
    """
    declared = {i.name for i in runbook.inputs}
    for key in given:
        if key not in declared and key not in CONTEXT and key != BACKEND_KEY:
            known = ", ".join(sorted(declared)) or "none"
            raise RunbookError(
                f"{runbook.path}:1: runbook '{runbook.name}' has no input '{key}' (inputs: {known})"
            )
    values: dict[str, str] = {}
    for spec in runbook.inputs:
        value = given.get(spec.name, spec.default)
        if value is None:
            raise RunbookError(
                f"{runbook.path}:1: runbook '{runbook.name}' needs input"
                f" '{spec.name}' (--input {spec.name}=VALUE)"
            )
        if spec.pattern is not None and re.fullmatch(spec.pattern, value) is None:
            raise RunbookError(
                f"{runbook.path}:1: runbook '{runbook.name}': input '{spec.name}' ="
                f" {visible(repr(value))} does not match its pattern {spec.pattern!r}"
            )
        values[spec.name] = str(value)
    return values


_OUTCOMES = {
    Outcome.DONE: StepOutcome.OK,
    Outcome.FAILED: StepOutcome.FAILED,
    Outcome.REFUSED: StepOutcome.REFUSED,
    Outcome.CANCELLED: StepOutcome.CANCELLED,
}


class Runbooks:
    """The runbook catalogue plus a runner bound to one executor; one run at a time."""

    def __init__(
        self,
        executor: Executor,
        catalog: Catalog | Callable[[], Catalog] | None = None,
        *,
        ops: StepOps | None = None,
        context: RunContext | None = None,
    ) -> None:
        """``ops`` builds container and traffic actions (None: those steps fail, saying why);
        ``context`` fills ``{backend.url}`` and the other context placeholders (None: each
        one a runbook uses refuses the run, since nothing is known). ``catalog`` may be a
        function that loads it: it is called when a runbook is first asked for (parsing
        every runbook is no work for the dashboard's first frame)."""
        self.executor = executor
        self._catalog = catalog if catalog is not None else load_catalog
        self.ops = ops
        self.context = context if context is not None else RunContext()
        self._cancel = threading.Event()
        self._cancelled: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.running: str | None = None
        """The runbook being run now, or None."""

    @classmethod
    def from_config(
        cls, config: Config | None, executor: Executor, *, ops: StepOps | None = None
    ) -> Runbooks:
        """Shipped runbooks plus the config's ``runbooks_dir``; ``ops`` defaults to the
        config's docker source and traffic router
        (`tui.ops.runbooks.config_ops.ops_from_config`)."""
        folder = operator_dir(config)
        return cls(
            executor,
            lambda: load_catalog(folder),
            ops=ops if ops is not None else ops_from_config(config),
            context=RunContext(config, docker_containers(config)),
        )

    # -- the catalogue -------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        """Every runbook on offer (read from disk the first time it is asked for)."""
        if not isinstance(self._catalog, Catalog):
            self._catalog = self._catalog()
        return self._catalog

    def entries(self) -> list[CatalogEntry]:
        """Every runbook on offer with its origin, sorted by name."""
        return [self.catalog.entries[name] for name in self.catalog.names()]

    def get(self, name: str) -> Runbook:
        """The runbook called ``name``; `RunbookError` naming the ones there are."""
        runbook = self.catalog.get(name)
        if runbook is None:
            raise RunbookError(
                f"no runbook '{name}' (there are: {', '.join(self.catalog.names())})"
            )
        return runbook

    def for_alert(self, alertname: str) -> list[Runbook]:
        """The runbooks that answer ``alertname``."""
        return self.catalog.for_alert(alertname)

    # -- preparing -----------------------------------------------------------------------

    def targets_a_backend(self, runbook: Runbook | str) -> bool:
        """True when the runbook uses ``{backend.*}``: a run needs a backend chosen."""
        book = self.get(runbook) if isinstance(runbook, str) else runbook
        return any(name.startswith("backend.") for name in context_used(book))

    def prepare(
        self,
        runbook: Runbook,
        given: Mapping[str, str] | None = None,
        *,
        fleet: Sequence[Backend] = (),
    ) -> list[RunbookStep]:
        """Every step resolved with the inputs and the context (see
        `tui.ops.runbooks.context`); a bad input or an unknown context value fails here,
        before anything runs. ``fleet``: the backends as last seen (the TUI's snapshot)."""
        given = given or {}
        values = resolve_inputs(runbook, given)
        backend = given.get(BACKEND_KEY) if runbook.input(BACKEND_KEY) is None else None
        values.update(self.context.values(runbook, backend=backend, given=given, fleet=fleet))
        total = len(runbook.steps)
        return [
            RunbookStep(
                runbook.name,
                step,
                resolve(runbook.name, step, values),
                index=i,
                total=total,
                ops=self.ops,
                cancel=self._cancel,
            )
            for i, step in enumerate(runbook.steps, 1)
        ]

    def dry_run(
        self,
        runbook: Runbook | str,
        given: Mapping[str, str] | None = None,
        *,
        fleet: Sequence[Backend] = (),
    ) -> list[StepPreview]:
        """What every step would do — exact argv, probe, action plans — running nothing."""
        book = self.get(runbook) if isinstance(runbook, str) else runbook
        previews = []
        for action in self.prepare(book, given, fleet=fleet):
            title, lines, inner = action.describe()
            previews.append(
                StepPreview(
                    action.index,
                    action.step.name,
                    action.step.type.value,
                    title,
                    tuple(lines),
                    bool(inner and inner.dangerous),
                )
            )
        return previews

    # -- running -------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the run: kill the running command's process group, skip the rest."""
        self._cancel.set()
        loop, flag = self._loop, self._cancelled
        if loop is not None and flag is not None and not loop.is_closed():
            loop.call_soon_threadsafe(flag.set)

    async def run(
        self,
        runbook: Runbook | str,
        given: Mapping[str, str] | None = None,
        *,
        confirm: Confirm,
        ask_check: AskCheck | None = None,
        progress: OnEvent | None = None,
        fleet: Sequence[Backend] = (),
    ) -> RunbookReport:
        """Play ``runbook`` step by step through the executor; see the module docstring.

        `RunbookError` (before anything runs) for an unknown runbook, a bad input or an
        unknown context value.
        """
        book = self.get(runbook) if isinstance(runbook, str) else runbook
        actions = self.prepare(book, given, fleet=fleet)
        if self.running is not None:
            return RunbookReport(
                book.name, (), book.steps[0].name, f"refused: runbook {self.running} is running"
            )
        self.running, self._loop = book.name, asyncio.get_running_loop()
        self._cancel.clear()
        self._cancelled = asyncio.Event()
        try:
            return await self._play(book, actions, confirm, ask_check, progress or (lambda e: None))
        except asyncio.CancelledError:
            self._cancel.set()  # the awaiting task was cancelled: kill what runs in the thread
            raise
        finally:
            self.running, self._loop, self._cancelled = None, None, None

    async def _play(
        self,
        book: Runbook,
        actions: list[RunbookStep],
        confirm: Confirm,
        ask_check: AskCheck | None,
        emit: OnEvent,
    ) -> RunbookReport:
        reports: list[StepReport] = []
        stopped_at, reason = None, ""
        for action in actions:
            step = action.step
            if stopped_at is not None:
                reports.append(
                    StepReport(action.index, step.name, step.type.value, StepOutcome.SKIPPED)
                )
                continue
            if self._cancel.is_set():
                stopped_at, reason = step.name, "cancelled by the operator"
                reports.append(
                    StepReport(
                        action.index, step.name, step.type.value, StepOutcome.CANCELLED, reason
                    )
                )
                continue
            emit(RunbookEvent("start", action.index, step.name, action.title()))
            report = await self._one(book, action, confirm, ask_check, emit)
            emit(RunbookEvent("end", action.index, step.name, report.message, report.outcome))
            reports.append(report)
            if report.outcome is not StepOutcome.OK and not report.continued:
                stopped_at, reason = step.name, report.message or report.outcome.value
        return RunbookReport(book.name, tuple(reports), stopped_at, reason)

    async def _one(
        self,
        book: Runbook,
        action: RunbookStep,
        confirm: Confirm,
        ask_check: AskCheck | None,
        emit: OnEvent,
    ) -> StepReport:
        step, loop = action.step, asyncio.get_running_loop()
        tail: deque[str] = deque(maxlen=OUTPUT_TAIL)

        def deliver(line: str) -> None:
            tail.append(line)
            emit(RunbookEvent("line", action.index, step.name, line))

        def sink(line: str) -> None:  # from the executor's thread to the event loop's
            loop.call_soon_threadsafe(deliver, line)

        action.sink = sink
        if step.type is StepType.CHECK and self.executor.read_only is None:
            answer = await self._ask(book, action, ask_check)
            if answer is _CANCELLED:
                return StepReport(
                    action.index,
                    step.name,
                    step.type.value,
                    StepOutcome.CANCELLED,
                    "cancelled by the operator",
                )
            action.answer = answer if isinstance(answer, bool) else None
        execution = await self.executor.execute(action, _skip_for_checks(confirm))
        outcome = _OUTCOMES[execution.outcome]
        if self._cancel.is_set() and outcome is StepOutcome.FAILED:
            outcome = StepOutcome.CANCELLED
        continued = outcome in (StepOutcome.FAILED, StepOutcome.REFUSED) and step.continue_on_error
        return StepReport(
            action.index,
            step.name,
            step.type.value,
            outcome,
            execution.message,
            execution.duration_s,
            tuple(tail),
            continued,
        )

    async def _ask(
        self, book: Runbook, action: RunbookStep, ask_check: AskCheck | None
    ) -> bool | object | None:
        """The operator's answer; None when none came in time; `_CANCELLED` on cancel."""
        if ask_check is None:
            return False
        question = CheckQuestion(
            book.name, action.step.name, action.index, action.total, action.resolved.prompt
        )
        asked = asyncio.ensure_future(ask_check(question))
        assert self._cancelled is not None
        stop = asyncio.ensure_future(self._cancelled.wait())
        done, _ = await asyncio.wait(
            {asked, stop}, timeout=action.step.timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        for task in (asked, stop):
            if not task.done():
                task.cancel()
        if asked in done and not asked.cancelled() and asked.exception() is None:
            return bool(asked.result())
        if stop in done:
            return _CANCELLED
        return None


_CANCELLED = object()


def _skip_for_checks(confirm: Confirm) -> Confirm:
    """The caller's confirmation, except for check steps (their question was the confirmation)."""

    async def wrapped(action: Action, plan: Plan) -> bool:
        if isinstance(action, RunbookStep) and action.step.type is StepType.CHECK:
            return True
        return await confirm(action, plan)

    return wrapped
