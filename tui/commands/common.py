"""What the action commands (``ack``, ``unack``, ``containers``) share on the terminal.

Loading the config (``-c``, ``$INFERDECK_CONFIG``, the default places), building the
executor (lock and audit log the machine's shared ones, else the config's or the state
folder's, with a note on stderr; read-only from ``--read-only`` or the config), asking for
confirmation on the terminal (a dangerous action makes the operator type its target's
name; the question expires after 60 s) unless ``--yes``, and printing the outcome.
Everything from outside is printed with control and bidi characters made visible:
through `say` (lines), `error` (one line on stderr) or `terminal_safe` (a value); JSON
output needs nothing more, ``json.dumps`` escapes them itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from tui.analysis.text import visible_controls
from tui.config import Config, check_theme, context_of, find_config, load_config

if TYPE_CHECKING:  # the executor is imported by the commands that act (the dashboard's
    # first frame does without it)
    from tui.ops.executor import Action, Confirm, Execution, Executor, Plan

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@contextlib.contextmanager
def stopped_by(stop: threading.Event, *signals: signal.Signals) -> Iterator[None]:
    """Set ``stop`` when one of ``signals`` arrives, from a thread of its own.

    A handler that sets a `threading.Event` itself runs in the main thread between two
    bytecodes, and deadlocks when the signal lands while the main thread holds that
    Event's lock (inside ``stop.wait()``): ``inferdeck record`` hung on SIGTERM about
    one time in ten. Here the handler does nothing; Python writes each signal's number
    to a pipe (`signal.set_wakeup_fd`), and a thread reading it sets ``stop``."""
    wanted = {int(s) for s in signals}
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def watch() -> None:
        while data := os.read(read_end, 64):
            if wanted.intersection(data):
                stop.set()

    previous = {s: signal.signal(s, lambda signum, frame: None) for s in signals}
    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    watcher = threading.Thread(target=watch, name="inferdeck-signals", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(write_end)  # the watcher reads the end of the pipe and stops
        watcher.join(1.0)
        os.close(read_end)


def terminal_safe(value: object) -> str:
    """Text for the terminal: control characters shown as control pictures (``␛``), bidi
    overrides and other invisible characters as their code point (``<U+202E>``)."""
    return visible_controls(value)


def say(
    text: object = "", *, file: TextIO | None = None, end: str = "\n", flush: bool = False
) -> None:
    """Print ``text`` with every line made `terminal_safe`; the line breaks stay.

    Build multi-line output with `terminal_safe` around each outside value, so a line
    break inside a value is shown (``␊``) rather than starting a line of its own.
    """
    lines = str(text).split("\n")
    print("\n".join(terminal_safe(line) for line in lines), file=file or sys.stdout, end=end,
          flush=flush)  # fmt: skip


def error(message: str, stream: TextIO | None = None) -> None:
    """``inferdeck: error: MESSAGE`` on one line of stderr."""
    line = " ".join(terminal_safe(message).split())
    print(f"inferdeck: error: {line}", file=stream or sys.stderr)


def load(args: argparse.Namespace, *, required: bool) -> Config | None:
    """The config ``args`` point at; None when none exists and it is not ``required``.

    Raises `tui.config.ConfigError` (exit 2) for a bad file, or a missing one when
    ``required``.
    """
    from tui.config import ConfigError

    path = find_config(getattr(args, "config", None))
    if path is None:
        if required:
            raise ConfigError("no config found: pass -c FILE or set $INFERDECK_CONFIG")
        return None
    return context_of(load_config(path), getattr(args, "context", None))


def load_dashboard_config(args: argparse.Namespace) -> Config:
    """The config to watch, with ``--refresh`` and ``--theme`` applied; a config that
    watches nothing is an error."""
    from tui.config import ConfigError

    path = find_config(getattr(args, "config", None))
    if path is None:
        raise ConfigError(
            "no config found: pass -c FILE, set $INFERDECK_CONFIG, or try `inferdeck demo`"
        )
    config = context_of(load_config(path), getattr(args, "context", None))
    if getattr(args, "refresh", None):
        config = dataclasses.replace(config, refresh_s=args.refresh)
    if getattr(args, "theme", None):
        config = dataclasses.replace(config, theme=check_theme(args.theme))
    s = config.sources
    if not (config.backends or s.prometheus or s.alertmanager or s.docker or s.nvml):
        raise ConfigError(f"{path}:1: nothing to watch: configure backends or a source")
    return config


def executor_for(config: Config | None, args: argparse.Namespace) -> Executor:
    """The executor for a command: read-only with ``--read-only`` or when the config says so.

    When the lock or the audit log is not the machine's shared one, one note on stderr
    says so (`tui.ops.places`).
    """
    from tui.ops.executor import executor_for as ops_executor_for

    executor = ops_executor_for(config, read_only_flag=bool(getattr(args, "read_only", False)))
    if executor.note:
        note(executor.note)
    return executor


def note(message: str) -> None:
    """``inferdeck: note: MESSAGE`` on one line of stderr (a closed stream is ignored)."""
    line = " ".join(terminal_safe(message).split())
    with contextlib.suppress(OSError):
        print(f"inferdeck: note: {line}", file=sys.stderr, flush=True)


async def read_line(stream: TextIO) -> str:
    """One line from ``stream`` without blocking the event loop while none is typed, so
    the confirmation can expire (`tui.ops.executor`); a stream that cannot be watched
    (a regular file, a StringIO) is simply read."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return stream.readline()
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    try:
        loop.add_reader(fd, readable)
    except (NotImplementedError, OSError, ValueError, RuntimeError):
        return stream.readline()
    try:
        await ready
    finally:
        loop.remove_reader(fd)
    return stream.readline()


def print_plan(plan: Plan, stream: TextIO) -> None:
    """The plan, one safe line each."""
    print(terminal_safe(plan.title), file=stream)
    for line in plan.lines:
        print("  " + terminal_safe(line), file=stream)


def terminal_confirm(stdin: TextIO | None = None, stdout: TextIO | None = None) -> Confirm:
    """Show the plan (on stderr by default) and ask: ``y`` to go ahead, or the target's
    name when dangerous.

    End of input or anything else cancels.
    """

    async def confirm(action: Action, plan: Plan) -> bool:
        src, out = stdin or sys.stdin, stdout or sys.stderr  # stdout is for data (--json)
        print_plan(plan, out)
        if plan.dangerous:
            prompt = (
                f"Type {terminal_safe(plan.confirm_text)} to go ahead (anything else cancels): "
            )
        else:
            prompt = "Go ahead? [y/N] "
        print(prompt, end="", file=out, flush=True)
        answer = await read_line(src)
        if not answer:
            print(file=out)
            return False
        answer = answer.rstrip("\r\n")
        if plan.dangerous:
            return answer == plan.confirm_text
        return answer.strip().lower() in ("y", "yes")

    return confirm


def confirm_for(args: argparse.Namespace) -> Confirm:
    """``--yes`` says yes; otherwise the terminal asks."""
    from tui.ops.executor import always

    return always if getattr(args, "yes", False) else terminal_confirm()


def execute(
    executor: Executor, action: Action, args: argparse.Namespace, confirm: Confirm | None = None
) -> int:
    """Run ``action`` through ``executor``; print the outcome; the exit code (0 or 1)."""
    done: Execution = asyncio.run(executor.execute(action, confirm or confirm_for(args)))
    report(done, args)
    return EXIT_OK if done.ok else EXIT_FAILED


def report(done: Execution, args: argparse.Namespace) -> None:
    """The outcome: JSON with ``--json``, else one line (stderr when it did not work)."""
    if getattr(args, "json", False):
        body: dict[str, Any] = {
            "id": done.action_id,
            "outcome": done.outcome.value,
            "message": done.message,
            "details": done.result.details if done.result else {},
            "duration_s": round(done.duration_s, 4),
        }
        print(json.dumps(body, sort_keys=True, default=str))
    elif done.ok:
        print(terminal_safe(done.message))
    else:
        error(done.message)


def guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``run`` with config errors and bad values turned into one line and exit 2."""
    from tui.config import ConfigError

    def wrapper(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (ConfigError, ValueError) as exc:
            error(str(exc))
            return EXIT_USAGE

    wrapper.__name__ = run.__name__
    wrapper.__doc__ = run.__doc__
    return wrapper
