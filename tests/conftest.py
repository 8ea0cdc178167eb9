"""Every test stops what it started: a process a test (or its fixtures) left running fails
that test, by name, and is killed; one left by a module or session fixture fails the run.

Processes are found through /proc (see tests/leaks.py), so this holds on Linux; elsewhere
it does nothing.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests import leaks, processes

TOKEN = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
# a process told to stop (tmux kill-server, SIGTERM) may take a moment to go
GRACE_S = float(os.environ.get("INFERDECK_TEST_LEAK_GRACE_S", "5"))
CHECKING = leaks.PROC.is_dir()

_session_leftovers: list[leaks.Process] = []


def pytest_configure(config: pytest.Config) -> None:
    """Mark everything started from here on as this run's (fixtures wider than a test)."""
    os.environ[leaks.MARK] = f"{TOKEN} fixtures"


@pytest.fixture(autouse=True)
def _stops_what_it_started(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if a process it started runs on after its teardown; kill it."""
    if not CHECKING:
        yield
        return
    before = leaks.running_now()
    os.environ[leaks.MARK] = f"{TOKEN} {request.node.nodeid}"
    try:
        yield
    finally:
        os.environ[leaks.MARK] = f"{TOKEN} fixtures"
    # runs after the test's other function fixtures are torn down (set up first, torn down last)
    new = leaks.not_adopted(leaks.census(TOKEN, besides=before).values())
    left = leaks.settle(new, GRACE_S)
    if left:
        leaks.kill(left)
        pytest.fail(
            f"{request.node.nodeid} left {len(left)} process(es) running "
            "(now killed); stop what a test starts, by PID, in a fixture:\n"
            + "\n".join(p.describe() for p in left),
            pytrace=False,
        )


@pytest.hookimpl(trylast=True)  # after the runner has torn down session fixtures
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Kill and report what module and session fixtures left running; fail the run."""
    if not CHECKING:
        return
    left = leaks.settle(leaks.census(TOKEN).values(), GRACE_S)
    if left:
        leaks.kill(left)
        _session_leftovers.extend(left)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the processes fixtures left running (see `pytest_sessionfinish`)."""
    if _session_leftovers:
        terminalreporter.section("processes left running by fixtures (now killed)", red=True)
        for process in _session_leftovers:
            terminalreporter.write_line(process.describe())


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[Any]]]:
    """Starts a process for the test: ``spawn(argv, **popen_arguments)``, in a process
    group of its own. After the test, pass or fail, each is stopped by its PID with its
    group (SIGTERM, SIGKILL after a grace period) and reaped."""
    started: list[subprocess.Popen[Any]] = []

    def start(argv: list[str], **popen: Any) -> subprocess.Popen[Any]:
        proc: subprocess.Popen[Any] = subprocess.Popen(argv, start_new_session=True, **popen)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in reversed(started):
            processes.stop(proc)
