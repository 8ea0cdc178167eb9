"""The leak check in tests/conftest.py: a test that leaves a process running (its own
child, or a daemon that left the process tree, as a tmux server does) errors by name, and
the process is killed; a test that stops what it started passes; what a module or session
fixture leaves is killed and reported after the run, which fails."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests import leaks

ROOT = Path(__file__).resolve().parents[2]

LEAKY = """
import subprocess

import pytest


@pytest.fixture(scope="module")
def server():
    yield subprocess.Popen(["sleep", "303"])  # never stopped


def test_uses_a_module_fixture(server):
    assert server.poll() is None


def test_leaves_a_child():
    subprocess.Popen(["sleep", "300"], env={})  # an environment without the mark


def test_leaves_a_daemon():
    # setsid -f forks: sleep is no child of pytest's, like a tmux server
    subprocess.run(["setsid", "-f", "sleep", "301"], check=True)


def test_stops_what_it_started():
    child = subprocess.Popen(["sleep", "302"])
    child.terminate()
    child.wait()


@pytest.fixture(scope="module")
def engine():
    held = []
    yield held
    for proc in held:
        proc.terminate()
        proc.wait()


def test_restarts_a_module_fixtures_server(engine):
    from tests import leaks

    engine.append(subprocess.Popen(["sleep", "304"]))  # the fixture's, started again here
    leaks.adopt(engine[-1].pid)
"""


def run_pytest(folder: Path) -> subprocess.CompletedProcess[str]:
    """pytest on ``folder`` with tests/conftest.py as a plugin, as the suite has it."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "--rootdir", str(folder), str(folder)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
             "INFERDECK_TEST_LEAK_GRACE_S": "0.5"},
    )  # fmt: skip


def test_a_test_that_leaves_a_process_running_errors_by_name_and_it_is_killed(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    done = run_pytest(tmp_path)
    out = done.stdout
    assert done.returncode == 1, out
    assert "5 passed, 2 errors" in out, out
    assert "ERROR at teardown of test_leaves_a_child" in out
    assert "ERROR at teardown of test_leaves_a_daemon" in out
    assert "test_stops_what_it_started" not in out.split("short test summary")[0]
    assert "test_uses_a_module_fixture" not in out.split("short test summary")[0]
    assert "sleep 304" not in out  # adopted by its module fixture, which stopped it
    # the module fixture's server, after the run: reported, not blamed on a test
    report = out.split("processes left running by fixtures (now killed)")[1]
    assert re.search(r"pid \d+: sleep 303 \(started by fixtures\)", report), out
    named = {int(pid): cmd for pid, cmd in re.findall(r"pid (\d+): (sleep 30[0-3])", out)}
    assert sorted(named.values()) == ["sleep 300", "sleep 301", "sleep 303"], out
    for pid in named:  # killed by the check: gone, or a zombie not yet reaped
        assert not leaks.running(pid), f"pid {pid} runs on"
