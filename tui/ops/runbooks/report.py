"""What a runbook run reports: per-step outcomes, progress events, check questions."""

from __future__ import annotations

import enum
from dataclasses import dataclass

OUTPUT_TAIL = 200
"""Output lines kept per step in the report (the progress callback sees them all)."""


class StepOutcome(enum.StrEnum):
    """How one step ended."""

    OK = "ok"
    FAILED = "failed"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # not reached: an earlier step stopped the runbook


@dataclass(frozen=True, slots=True)
class StepPreview:
    """Dry run: what one step would do, after substitution."""

    index: int
    name: str
    type: str
    title: str
    lines: tuple[str, ...]
    dangerous: bool = False


@dataclass(frozen=True, slots=True)
class StepReport:
    """What one step did."""

    index: int
    name: str
    type: str
    outcome: StepOutcome
    message: str = ""
    duration_s: float = 0.0
    output: tuple[str, ...] = ()
    continued: bool = False  # it failed and the runbook went on (continue_on_error)


@dataclass(frozen=True, slots=True)
class RunbookReport:
    """The whole run: a report per step, and where and why it stopped (None: it finished)."""

    runbook: str
    steps: tuple[StepReport, ...]
    stopped_at: str | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Finished, and every step succeeded or failed where failure was allowed."""
        return self.stopped_at is None and all(
            s.outcome is StepOutcome.OK or (s.outcome is StepOutcome.FAILED and s.continued)
            for s in self.steps
        )

    def summary(self) -> list[str]:
        """One line per step — number, name, outcome, and why when it did not go well —
        then the `verdict`: ``3. Restart: refused (read-only: --read-only)``."""
        lines = []
        for s in self.steps:
            line = f"{s.index}. {s.name}: {s.outcome.value}" + (", went on" if s.continued else "")
            if s.outcome not in (StepOutcome.OK, StepOutcome.SKIPPED) and s.message:
                line += f" ({s.message})"
            lines.append(line)
        lines.append(self.verdict())
        return lines

    def verdict(self) -> str:
        """The run in one line: where and why it stopped, or that it finished."""
        if self.stopped_at is not None:
            where = next((s.index for s in self.steps if s.name == self.stopped_at), None)
            step = f"step {where} '{self.stopped_at}'" if where else f"'{self.stopped_at}'"
            return f"{self.runbook} stopped at {step}: {self.reason}"
        if self.ok:
            return f"{self.runbook}: all {len(self.steps)} steps ok"
        failed = sum(s.outcome is not StepOutcome.OK for s in self.steps)
        return f"{self.runbook}: finished, {failed} of {len(self.steps)} steps not ok"


@dataclass(frozen=True, slots=True)
class RunbookEvent:
    """Progress: a step ``start``s, prints a ``line``, or ``end``s (with its outcome)."""

    kind: str  # "start" | "line" | "end"
    index: int
    step: str
    text: str = ""
    outcome: StepOutcome | None = None


@dataclass(frozen=True, slots=True)
class CheckQuestion:
    """A manual check to put to the operator."""

    runbook: str
    step: str
    index: int
    total: int
    prompt: str
