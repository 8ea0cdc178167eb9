"""One load test from start to report, shared by the command line and the dashboard.

`drill` reads the backends' counters, runs Locust (`tui.loadtest.run`), reports
progress about once a second, stops at once when ``stop`` is set, reads the counters
again and judges the run (`tui.loadtest.report`). `audited` wraps it in the audit
log: refused in read-only mode, an ``intent`` record before and a ``result`` after,
under one id, like every action (a load test does not take the action lock: a
scale-out or a rollback must stay possible while it runs).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from tui.analysis.slo import SloTier
from tui.loadtest import server
from tui.loadtest.report import Report, judge, percentile
from tui.loadtest.run import LoadRun, RunSettings
from tui.loadtest.shape import steps_of, target_at
from tui.ops.executor import Executor


class DrillError(Exception):
    """A load test that could not start (one line: what and why)."""


@dataclass(frozen=True, slots=True)
class Progress:
    """The run so far, once a second."""

    elapsed_s: float
    duration_s: float
    asked: float  # users or requests/s the shape asks for now
    unit: str
    sent: int
    ok: int
    errors: int
    requests_per_s: float  # over the last few seconds
    ttft_p95_s: float | None  # over the last few seconds

    def line(self) -> str:
        """One progress line for the terminal."""
        ttft = "-" if self.ttft_p95_s is None else f"{self.ttft_p95_s:.3f}s"
        return (
            f"{self.elapsed_s:5.0f}/{self.duration_s:.0f}s  asked {self.asked:.0f} {self.unit}"
            f"  {self.requests_per_s:6.1f} req/s  done {self.ok}  errors {self.errors}"
            f"  ttft p95 {ttft}"
        )


def first_model(target: str, timeout_s: float = 5.0) -> str:
    """The first model ``target`` serves (``GET /v1/models``); `DrillError` if none."""
    try:
        response = httpx.get(f"{target.rstrip('/')}/v1/models", timeout=timeout_s)
        response.raise_for_status()
        models = [m.get("id") for m in response.json().get("data", []) if isinstance(m, dict)]
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise DrillError(f"{target} did not list its models: {exc}") from None
    if not models or not isinstance(models[0], str):
        raise DrillError(f"{target} serves no model; pass --model")
    return models[0]


def drill(
    settings: RunSettings,
    tier: SloTier,
    backends: Mapping[str, str],
    *,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    tick_s: float = 1.0,
) -> Report:
    """Run ``settings``' scenario against its target and return the judged report."""
    stop = stop or threading.Event()
    before = server.read_all(backends)
    run = LoadRun(settings)
    run.start()
    steps = steps_of(settings.scenario.to_dict()["stages"])
    unit = "users" if settings.scenario.load == "users" else "req/s"
    records: list[dict[str, Any]] = []
    try:
        while run.running():
            if stop.wait(tick_s):
                run.stop("stopped by the operator")
                break
            records += run.new_records()
            if progress is not None:
                now = run.elapsed()
                recent = [r for r in records if r.get("end", 0.0) >= now - 5.0]
                ttfts = [r["ttft"] for r in recent if r.get("ok") and r.get("ttft") is not None]
                progress(Progress(
                    elapsed_s=now, duration_s=settings.scenario.duration_s,
                    asked=target_at(steps, now) or 0.0, unit=unit, sent=len(records),
                    ok=sum(1 for r in records if r.get("ok")),
                    errors=sum(1 for r in records if not r.get("ok")),
                    requests_per_s=len(recent) / min(5.0, max(now, 1e-9)),
                    ttft_p95_s=percentile(ttfts, 0.95),
                ))  # fmt: skip
    finally:
        run.stop("inferdeck stopped while it ran")
    records += run.new_records()
    run_s = run.elapsed()
    if not run.stopped:  # its course: the stages, and the requests that finished after
        last = max((float(r.get("end", 0.0)) for r in records), default=0.0)
        run_s = max(settings.scenario.duration_s, last)
    if not records and run.exit_code() not in (0, None) and not run.stopped:
        raise DrillError(f"Locust did not run: {run.log_tail(3) or 'no output'}")
    after = server.read_all(backends)
    figures = server.difference(before, after, run_s)
    return judge(records, settings.scenario, tier, target=settings.target, run_s=run_s,
                 stopped=run.stopped, server=figures)  # fmt: skip


def audited(executor: Executor, settings: RunSettings, work: Callable[[], Report]) -> Report:
    """Run ``work`` (the drill) audited as ``loadtest.run``; `DrillError` when read-only."""
    base = {
        "id": uuid.uuid4().hex, "actor": executor.actor, "action": "loadtest.run",
        "target": settings.target,
        "params": {"scenario": settings.scenario.name, "model": settings.model,
                   "duration_s": settings.scenario.duration_s, "peak": settings.scenario.peak,
                   "load": settings.scenario.load},
    }  # fmt: skip
    if executor.read_only is not None:
        message = f"refused: read-only ({executor.read_only})"
        executor.audit.append({**base, "event": "refused", "reason": message})
        raise DrillError(message)
    executor.audit.append(
        {
            **base,
            "event": "intent",
            "plan": [f"load test {settings.scenario.name} on {settings.target}"],
        }
    )
    started = time.monotonic()
    try:
        report = work()
    except BaseException as exc:
        executor.audit.append(
            {
                **base,
                "event": "result",
                "outcome": "failed",
                "message": f"{type(exc).__name__}: {exc}",
                "duration_s": round(time.monotonic() - started, 4),
            }
        )
        raise
    outcome = "done" if report.passed else "failed"
    missed = ", ".join(v.name for v in report.verdicts if not v.met)
    message = (
        "every criterion met"
        if report.passed
        else (report.stopped or (f"not met: {missed}" if missed else "no request ended"))
    )
    executor.audit.append({**base, "event": "result", "outcome": outcome, "message": message,
                           "details": {"requests": report.requests, "ok": report.ok,
                                       "errors": dict(report.errors)},
                           "duration_s": round(time.monotonic() - started, 4)})  # fmt: skip
    return report
