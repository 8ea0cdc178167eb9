"""``inferdeck runbook list | show NAME | run NAME [--dry-run] [--backend NAME] [--input K=V]``.

Without a config only the shipped runbooks are offered; with one, the operator's folder
(``runbooks_dir``, relative to the config file) adds to and overrides them. ``run``
goes through the executor (audit log, read-only from ``--read-only`` or the config)
and asks on the terminal before each step unless ``--yes``. A manual ``check`` step is
always asked: ``--yes`` confirms plans, never a person's check (without a terminal the
answer is no, and the runbook stops there). A runbook that targets a backend
(``{backend.url}``…) takes it from ``--backend NAME`` (or ``--input backend=NAME``), or the
config's only backend; see `tui.ops.runbooks.context`. Exit status: 0 every step ok (or a dry
run), 1 a step failed, was refused or cancelled, 2 usage, config or runbook errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from collections.abc import Callable
from typing import TextIO

from tui.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    error,
    executor_for,
    load,
    say,
    terminal_confirm,
    terminal_safe,
)
from tui.config import ConfigError
from tui.ops.executor import always
from tui.ops.runbooks import context as run_context
from tui.ops.runbooks.catalog import Catalog, load_catalog, operator_dir
from tui.ops.runbooks.config_ops import ops_from_config
from tui.ops.runbooks.model import (
    CheckSpec,
    ContainerSpec,
    Runbook,
    RunSpec,
    Step,
    TrafficSpec,
    WaitSpec,
)
from tui.ops.runbooks.runner import AskCheck, CheckQuestion, RunbookEvent, RunbookReport, Runbooks


def add_runbook_arguments(
    parser: argparse.ArgumentParser,
    common: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Add ``list``, ``show NAME`` and ``run NAME`` (``dest="runbook_command"``).

    ``common`` adds the program's common flags to each, so ``run NAME --yes`` works.
    """
    commands = parser.add_subparsers(dest="runbook_command", metavar="list|show|run")
    commands.required = True
    listing = commands.add_parser("list", help="every runbook, and where it comes from")
    show = commands.add_parser("show", help="a runbook's inputs and steps")
    show.add_argument("name", metavar="NAME")
    run = commands.add_parser("run", help="run a runbook step by step (or --dry-run)")
    run.add_argument("name", metavar="NAME")
    run.add_argument(
        "--dry-run", action="store_true", help="show what each step would do; run nothing"
    )
    run.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set an input (repeatable); the value is one argument, never shell code;"
        " also a context value outright (backend.container=NAME)",
    )
    run.add_argument(
        "--backend",
        metavar="NAME",
        help="the backend the runbook targets ({backend.url}, {backend.container}...);"
        " needed when the config has several",
    )
    for sub in (listing, show, run):
        if common is not None:
            common(sub)


def parse_inputs(items: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` items → a dict; ValueError for one without ``=``."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--input {item!r}: write KEY=VALUE")
        values[key] = value
    return values


def run_runbook(args: argparse.Namespace) -> int:
    """Do what ``args.runbook_command`` says; the exit status."""
    try:
        config = load(args, required=False)
        catalog = load_catalog(operator_dir(config))
        for problem in catalog.errors:
            error(problem)
        command = args.runbook_command
        if command == "list":
            _list(catalog, getattr(args, "json", False))
            return EXIT_USAGE if catalog.errors else EXIT_OK
        if catalog.errors:
            return EXIT_USAGE
        runbooks = Runbooks(
            executor_for(config, args),
            catalog,
            ops=ops_from_config(config),
            context=run_context.RunContext(config, run_context.docker_containers(config)),
        )
        runbook = runbooks.get(args.name)
        if command == "show":
            _show(runbook, catalog)
            return EXIT_OK
        inputs = parse_inputs(getattr(args, "input", []) or [])
        if getattr(args, "backend", None):
            inputs[run_context.BACKEND_KEY] = args.backend
        if getattr(args, "dry_run", False):
            _dry_run(runbooks, runbook, inputs)
            return EXIT_OK
        return _run(runbooks, runbook, inputs, args)
    except (ConfigError, ValueError) as exc:
        error(str(exc))
        return EXIT_USAGE


def _list(catalog: Catalog, as_json: bool) -> None:
    rows = [catalog.entries[name] for name in catalog.names()]
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "name": e.name,
                        "title": e.runbook.title,
                        "severity": e.runbook.severity,
                        "alerts": list(e.runbook.alerts),
                        "origin": e.origin,
                        "path": e.runbook.path,
                        "overrides": e.overrides,
                    }
                    for e in rows
                ],
                indent=2,
            )
        )
        return
    for e in rows:
        alerts = ",".join(e.runbook.alerts) or "-"
        say(
            f"{e.name:<20} {e.runbook.severity:<8} {alerts:<32} "
            f"{e.runbook.title}  [{e.describe_origin()}]"
        )


def step_summary(step: Step) -> str:
    """One line saying what a step does, placeholders unresolved."""
    spec = step.spec
    if isinstance(spec, RunSpec):
        if spec.script is not None:
            args = " ".join(shlex.quote(a) for a in spec.args)
            return f"sh -c {shlex.quote(spec.script)}" + (f" -- {args}" if args else "")
        return shlex.join(spec.argv)
    if isinstance(spec, WaitSpec):
        body = f" containing {spec.expect_body_contains!r}" if spec.expect_body_contains else ""
        return f"wait for GET {spec.url} → {spec.expect_status}{body} (every {spec.interval_s:g}s)"
    if isinstance(spec, ContainerSpec):
        return f"{spec.action} container {spec.name}"
    if isinstance(spec, TrafficSpec):
        if spec.rollback:
            return "roll back traffic to the stable pool"
        return "set traffic " + " ".join(f"{p}={w}" for p, w in spec.weights)
    assert isinstance(spec, CheckSpec)
    return f"check: {spec.prompt}"


def _show(runbook: Runbook, catalog: Catalog) -> None:
    entry = catalog.entries[runbook.name]
    out = [
        f"{runbook.name}: {runbook.title}  [{entry.describe_origin()}]",
        f"severity {runbook.severity}; answers {', '.join(runbook.alerts) or 'no alert'}",
    ]
    out += [f"  {line}" for line in runbook.description.strip().splitlines()]
    if runbook.inputs:
        out.append("inputs:")
        for spec in runbook.inputs:
            default = "(required)" if spec.default is None else f"= {spec.default}"
            out.append(
                f"  {spec.name} {default}" + (f"  — {spec.description}" if spec.description else "")
            )
    used = run_context.context_used(runbook)
    if used:
        out.append("from the config and the selected backend (--backend NAME):")
        out += [f"  {{{name}}}  — {run_context.CONTEXT[name].description}" for name in used]
    out.append("steps:")
    for i, step in enumerate(runbook.steps, 1):
        flags = f"timeout {step.timeout_s:g}s" + (
            ", continue_on_error" if step.continue_on_error else ""
        )
        out.append(f"  {i}. {step.name} [{step.type.value}] ({flags})")
        out.append(f"     {step_summary(step)}")
    for line in out:
        print(terminal_safe(line))


def _dry_run(runbooks: Runbooks, runbook: Runbook, inputs: dict[str, str]) -> None:
    previews = runbooks.dry_run(runbook, inputs)  # an unknown target refuses before output
    print(terminal_safe(f"dry run of {runbook.name} — nothing will run"))
    for preview in previews:
        danger = " (dangerous: asks for the target's name)" if preview.dangerous else ""
        print(terminal_safe(f"{preview.index}. {preview.name} [{preview.type}]{danger}"))
        for line in preview.lines:
            print("   " + terminal_safe(line))


def terminal_check(stdin: TextIO | None = None, stdout: TextIO | None = None) -> AskCheck:
    """Ask a check step's question on the terminal; end of input answers no."""

    async def ask(question: CheckQuestion) -> bool:
        src, out = stdin or sys.stdin, stdout or sys.stdout
        first, *more = question.prompt.splitlines() or [""]
        print(terminal_safe(f"CHECK [{question.index}/{question.total}] {first}"), file=out)
        for line in more:
            print("  " + terminal_safe(line), file=out)
        print("Done and confirmed? [y/N] ", end="", file=out, flush=True)
        answer = await asyncio.to_thread(src.readline)
        if not answer:
            print(file=out)
        return answer.strip().lower() in ("y", "yes")

    return ask


def _printer(out: TextIO) -> Callable[[RunbookEvent], None]:
    def show(event: RunbookEvent) -> None:
        if event.kind == "start":
            print(terminal_safe(f"==> {event.text}"), file=out, flush=True)
        elif event.kind == "line":
            print("    " + terminal_safe(event.text), file=out, flush=True)
        else:
            outcome = event.outcome.value if event.outcome else "?"
            print(
                terminal_safe(f"<== {event.step}: {outcome} — {event.text}"), file=out, flush=True
            )

    return show


def _run(
    runbooks: Runbooks, runbook: Runbook, inputs: dict[str, str], args: argparse.Namespace
) -> int:
    confirm = always if getattr(args, "yes", False) else terminal_confirm()
    report: RunbookReport = asyncio.run(
        runbooks.run(
            runbook,
            inputs,
            confirm=confirm,
            ask_check=terminal_check(),
            progress=_printer(sys.stderr if getattr(args, "json", False) else sys.stdout),
        )
    )
    if getattr(args, "json", False):
        print(
            json.dumps(
                {
                    "runbook": report.runbook,
                    "ok": report.ok,
                    "stopped_at": report.stopped_at,
                    "reason": report.reason,
                    "steps": [
                        {
                            "index": s.index,
                            "name": s.name,
                            "type": s.type,
                            "outcome": s.outcome.value,
                            "message": s.message,
                            "duration_s": round(s.duration_s, 3),
                            "continued": s.continued,
                        }
                        for s in report.steps
                    ],
                },
                sort_keys=True,
            )
        )
    else:
        for line in report.summary():
            print(terminal_safe(line))
    return EXIT_OK if report.ok else EXIT_FAILED
