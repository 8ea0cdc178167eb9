"""`RunbookStep`: one runbook step as an executor action (kind ``runbook.step``).

A step is resolved (inputs substituted, URL and weights checked) before anything runs,
so a bad input stops the runbook before its first step. Container and traffic steps call
the actions that `StepOps` builds (``tui.ops.containers.actions`` /
``tui.ops.traffic.weights`` through
`tui.ops.context.Operations`, or `tui.ops.runbooks.config_ops` from the config) and run them
inside this step: one executor execution, one audit pair, per step.
"""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlparse

from tui.ops.executor import Action, ActionResult, Plan, Progress
from tui.ops.runbooks.model import (
    CheckSpec,
    ContainerSpec,
    RunbookError,
    RunSpec,
    Step,
    StepType,
    TrafficSpec,
    WaitSpec,
)
from tui.ops.runbooks.placeholders import PlaceholderError, substitute
from tui.ops.runbooks.process import clean, run_streaming, wait_for_http

SHELL = "/bin/sh"


class StepOps(Protocol):
    """What container and traffic steps need; `tui.ops.context.Operations` fits it.

    Each factory is None when the config does not provide it (no docker, no router).
    """

    @property
    def container(self) -> Callable[[str, str], Action] | None:
        """``(verb, name) -> action``: restart, stop or start a container."""
        ...

    @property
    def set_weights(self) -> Callable[[Mapping[str, float]], Action] | None:
        """``{pool: percent} -> action``: set the traffic split."""
        ...

    @property
    def rollback(self) -> Callable[[], Action] | None:
        """``() -> action``: the stable pool to 100% at once."""
        ...


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def visible(text: str) -> str:
    """Control characters escaped (``\\x1b``), so a hostile value cannot paint the screen."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A step with its inputs substituted: exactly what it will do."""

    argv: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    weights: Mapping[str, float] = field(default_factory=dict)
    container: str = ""
    prompt: str = ""


def _sub(step: Step, text: str, values: Mapping[str, str]) -> str:
    try:
        return substitute(text, values)
    except PlaceholderError as exc:
        raise RunbookError(f"step '{step.name}': {exc}") from None


def resolve(runbook_name: str, step: Step, values: Mapping[str, str]) -> Resolved:
    """Substitute ``values`` into ``step``; `RunbookError` when a value makes it invalid."""
    spec = step.spec
    if isinstance(spec, RunSpec):
        env = {k: _sub(step, v, values) for k, v in spec.env}
        cwd = _sub(step, spec.cwd, values) if spec.cwd is not None else None
        if spec.script is not None:  # "$0" is the runbook's name, inputs are "$1"..
            args = tuple(_sub(step, a, values) for a in spec.args)
            return Resolved(argv=(SHELL, "-c", spec.script, runbook_name, *args), env=env, cwd=cwd)
        return Resolved(argv=tuple(_sub(step, a, values) for a in spec.argv), env=env, cwd=cwd)
    if isinstance(spec, WaitSpec):
        url = _sub(step, spec.url, values)
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise RunbookError(f"step '{step.name}': wait url must be http(s) with a host: {url!r}")
        return Resolved(url=url)
    if isinstance(spec, ContainerSpec):
        name = _sub(step, spec.name, values)
        if not name:
            raise RunbookError(f"step '{step.name}': the container name is empty")
        return Resolved(container=name)
    if isinstance(spec, TrafficSpec):
        weights: dict[str, float] = {}
        for pool, weight in spec.weights:
            text = _sub(step, weight, values)
            try:
                number = float(text)
            except ValueError:
                number = -1.0
            if not 0 <= number <= 100:
                raise RunbookError(f"step '{step.name}': weight {text!r} is not a percentage")
            weights[_sub(step, pool, values)] = number
        if weights and abs(sum(weights.values()) - 100) > 1e-6:
            raise RunbookError(f"step '{step.name}': weights add up to {sum(weights.values()):g}")
        return Resolved(weights=weights)
    assert isinstance(spec, CheckSpec)
    return Resolved(prompt=_sub(step, spec.prompt, values))


class RunbookStep:
    """One step of one runbook as an `Action`; only the executor calls `run`."""

    kind = "runbook.step"

    def __init__(
        self,
        runbook_name: str,
        step: Step,
        resolved: Resolved,
        *,
        index: int = 1,
        total: int = 1,
        ops: StepOps | None = None,
        cancel: threading.Event | None = None,
        sink: Progress | None = None,
        answer: bool | None = None,
    ) -> None:
        """``sink`` gets every output line too (from the executor's thread); ``answer`` is
        the operator's reply to a check step, asked before it runs (None: no answer)."""
        self.runbook_name, self.step, self.resolved = runbook_name, step, resolved
        self.index, self.total = index, total
        self.ops, self.cancel, self.sink, self.answer = ops, cancel, sink, answer
        self.target = f"{runbook_name}/{step.name}"
        self._inner: Action | None = None
        self._inner_error: str | None = None

    # -- describing ----------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """Runbook, step, type and what exactly it acts on, for the audit log."""
        r = self.resolved
        params: dict[str, Any] = {
            "runbook": self.runbook_name,
            "step": self.step.name,
            "type": self.step.type.value,
            "index": self.index,
        }
        details: dict[StepType, dict[str, Any]] = {
            StepType.RUN: {"argv": list(r.argv), "env": dict(r.env), "cwd": r.cwd},
            StepType.WAIT: {"url": r.url},
            StepType.CONTAINER: {"container": r.container},
            StepType.TRAFFIC: {"weights": dict(r.weights), "rollback": not r.weights},
            StepType.CHECK: {"prompt": r.prompt, "answer": self.answer},
        }
        return {**params, **details[self.step.type]}

    def inner(self) -> Action:
        """The container or traffic action this step runs (built once); raises when unavailable."""
        if self._inner is not None:
            return self._inner
        if self._inner_error is not None:
            raise RunbookError(self._inner_error)
        try:
            self._inner = self._build_inner()
        except Exception as exc:
            self._inner_error = " ".join(str(exc).split()) or type(exc).__name__
            raise RunbookError(self._inner_error) from None
        return self._inner

    def _build_inner(self) -> Action:
        spec, ops = self.step.spec, self.ops
        if isinstance(spec, ContainerSpec):
            if ops is None or ops.container is None:
                raise RunbookError("no container engine configured (sources.docker)")
            return ops.container(spec.action, self.resolved.container)
        if ops is None or (ops.rollback if not self.resolved.weights else ops.set_weights) is None:
            raise RunbookError("no traffic router configured (traffic: in the config)")
        if not self.resolved.weights:
            assert ops.rollback is not None
            return ops.rollback()
        assert ops.set_weights is not None
        return ops.set_weights(dict(self.resolved.weights))

    def title(self) -> str:
        """``runbook NAME, step I/N: STEP``."""
        return f"runbook {self.runbook_name}, step {self.index}/{self.total}: {self.step.name}"

    def describe(self) -> tuple[str, list[str], Plan | None]:
        """Title and detail lines of what this step does (plus the inner action's plan)."""
        step, r = self.step, self.resolved
        title = self.title()
        lines: list[str] = []
        inner_plan: Plan | None = None
        if step.type is StepType.RUN:
            spec = step.spec
            assert isinstance(spec, RunSpec)
            if spec.script is not None:
                lines.append(f"shell script ({SHELL} -c), $0={shlex.quote(self.runbook_name)}:")
                lines += [f"  {visible(line)}" for line in spec.script.splitlines()]
                lines += [f"  ${i}={visible(shlex.quote(a))}" for i, a in enumerate(r.argv[4:], 1)]
            else:
                lines.append(f"$ {visible(shlex.join(r.argv))}")
            lines += [f"env {k}={visible(shlex.quote(v))}" for k, v in r.env.items()]
            if r.cwd:
                lines.append(f"in {visible(r.cwd)}")
        elif step.type is StepType.WAIT:
            spec = step.spec
            assert isinstance(spec, WaitSpec)
            want = f"status {spec.expect_status}"
            if spec.expect_body_contains is not None:
                want += f" and a body containing {visible(repr(spec.expect_body_contains))}"
            lines.append(f"wait until GET {visible(r.url)} answers {want}")
            lines.append(f"every {spec.interval_s:g}s")
        elif step.type is StepType.CHECK:
            first, *more = r.prompt.splitlines() or [""]
            lines.append(f"manual check, the operator confirms: {visible(first)}")
            lines += [f"  {visible(line)}" for line in more]
        else:
            try:
                inner_plan = self.inner().plan()
                lines.append(visible(inner_plan.title))
                lines += [f"  {visible(line)}" for line in inner_plan.lines]
            except Exception as exc:
                lines.append(f"cannot prepare the {step.type.value} action: {exc}")
        lines.append(
            f"timeout {step.timeout_s:g}s; on failure: "
            + ("go on (continue_on_error)" if step.continue_on_error else "stop")
        )
        return title, lines, inner_plan

    def plan(self) -> Plan:
        """What this step will do; a dangerous inner action keeps its typed confirmation."""
        title, lines, inner = self.describe()
        if inner is not None and inner.dangerous:
            return Plan(title, tuple(lines), True, inner.confirm_text)
        return Plan(title, tuple(lines))

    # -- running -------------------------------------------------------------------------

    def run(self, progress: Progress) -> ActionResult:
        """Do the step (blocking), streaming its lines to ``progress`` and the sink."""

        def emit(line: str) -> None:
            progress(line)
            if self.sink is not None:
                self.sink(line)

        runners = {
            StepType.RUN: self._run,
            StepType.WAIT: self._wait,
            StepType.CONTAINER: self._action,
            StepType.TRAFFIC: self._action,
            StepType.CHECK: self._check,
        }
        return runners[self.step.type](emit)

    def _run(self, emit: Progress) -> ActionResult:
        r, timeout = self.resolved, self.step.timeout_s
        try:
            done = run_streaming(
                r.argv, emit, timeout_s=timeout, env=r.env or None, cwd=r.cwd, cancel=self.cancel
            )
        except OSError as exc:
            return ActionResult(False, f"cannot start {r.argv[0]!r}: {exc.strerror or exc}")
        details = {"returncode": done.returncode, "duration_s": round(done.duration_s, 3)}
        if done.timed_out:
            return ActionResult(
                False, f"timed out after {timeout:g}s: killed its process group", details
            )
        if done.cancelled:
            return ActionResult(False, "cancelled: killed its process group", details)
        if done.returncode == 0:
            return ActionResult(True, "exit status 0", details)
        if done.returncode is not None and done.returncode < 0:
            return ActionResult(False, f"killed by signal {-done.returncode}", details)
        return ActionResult(False, f"exit status {done.returncode}", details)

    def _wait(self, emit: Progress) -> ActionResult:
        spec = self.step.spec
        assert isinstance(spec, WaitSpec)
        timeout = self.step.timeout_s
        done = wait_for_http(
            self.resolved.url,
            emit,
            timeout_s=timeout,
            interval_s=spec.interval_s,
            expect_status=spec.expect_status,
            expect_body=spec.expect_body_contains,
            cancel=self.cancel,
        )
        details = {"attempts": done.attempts}
        if done.ok:
            return ActionResult(
                True, f"answered as expected after {done.attempts} attempt(s)", details
            )
        if done.cancelled:
            return ActionResult(False, "cancelled while waiting", details)
        return ActionResult(False, f"timed out after {timeout:g}s: {done.last}", details)

    def _action(self, emit: Progress) -> ActionResult:
        try:
            inner = self.inner()
        except RunbookError as exc:
            return ActionResult(False, str(exc))
        box: dict[str, ActionResult] = {}

        def work() -> None:
            try:
                box["result"] = inner.run(lambda line: emit(clean(line)))
            except Exception as exc:
                box["result"] = ActionResult(
                    False, f"{type(exc).__name__}: {' '.join(str(exc).split())}"
                )

        worker = threading.Thread(target=work, name=f"runbook {self.target}", daemon=True)
        worker.start()
        worker.join(self.step.timeout_s)
        if worker.is_alive():
            return ActionResult(
                False,
                f"no result within {self.step.timeout_s:g}s"
                f" ({inner.kind} {inner.target} may still finish)",
            )
        result = box["result"]
        return ActionResult(
            result.ok,
            result.message,
            {"action": inner.kind, "target": inner.target, **result.details},
        )

    def _check(self, emit: Progress) -> ActionResult:
        prompt = self.resolved.prompt
        if self.answer is True:
            emit(f"confirmed by the operator: {prompt}")
            return ActionResult(True, "confirmed by the operator", {"answer": True})
        if self.answer is False:
            return ActionResult(False, f"the operator did not confirm: {prompt}", {"answer": False})
        return ActionResult(
            False, f"no answer within {self.step.timeout_s:g}s: {prompt}", {"answer": None}
        )
