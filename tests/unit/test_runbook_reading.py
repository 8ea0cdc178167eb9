"""Runbooks as people read them: a readable end summary, whole output lines, multi-line
descriptions shown as lines (issue 8, "Runbooks as people read them")."""

from __future__ import annotations

import sys

from tui.ops.runbooks.process import clean, run_streaming
from tui.ops.runbooks.report import RunbookReport, StepOutcome, StepReport
from tui.screens.runbooks import readable


def test_summary_is_one_readable_line_per_step_and_a_verdict() -> None:
    report = RunbookReport(
        "diagnosis",
        (
            StepReport(
                1, "Service health", "run", StepOutcome.FAILED, "exit status 7", continued=True
            ),
            StepReport(2, "Recent changes", "run", StepOutcome.OK, "exit status 0"),
            StepReport(3, "Restart", "container", StepOutcome.REFUSED, "read-only: --read-only"),
            StepReport(4, "Findings", "check", StepOutcome.SKIPPED),
        ),
        "Restart",
        "read-only: --read-only",
    )
    assert report.summary() == [
        "1. Service health: failed, went on (exit status 7)",
        "2. Recent changes: ok",
        "3. Restart: refused (read-only: --read-only)",
        "4. Findings: skipped",
        "diagnosis stopped at step 3 'Restart': read-only: --read-only",
    ]
    assert report.verdict() == "diagnosis stopped at step 3 'Restart': read-only: --read-only"
    assert not any("['" in line for line in report.summary())
    done = RunbookReport("x", (StepReport(1, "a", "run", StepOutcome.OK, "exit status 0"),))
    assert done.verdict() == "x: all 1 steps ok"


def test_readable_keeps_lines_and_tabs_but_shows_other_controls() -> None:
    text = "Health, recent changes,\nGPU\tand disk.\x1b[31m red\x07\n"
    assert readable(text) == "Health, recent changes,\nGPU\tand disk.␛[31m red␇"
    assert "␊" not in readable("a\nb") and readable("a\r\nb") == "a\nb"


def test_partial_writes_arrive_as_whole_lines() -> None:
    script = (
        "import sys, time\n"
        "for out in (sys.stdout, sys.stderr):\n"
        "    for part in ('curl: (7) Failed to connect to h port 8000 after 0 ms: Co',\n"
        "                 \"uldn't \", 'connect to server\\n'):\n"
        "        out.write(part); out.flush(); time.sleep(0.15)\n"
        "sys.stdout.write('no newline at the end'); sys.stdout.flush()\n"
    )
    lines: list[str] = []
    done = run_streaming([sys.executable, "-c", script], lines.append, timeout_s=20)
    whole = "curl: (7) Failed to connect to h port 8000 after 0 ms: Couldn't connect to server"
    assert done.returncode == 0
    assert lines == [whole, whole, "no newline at the end"]


def test_a_progress_meter_shows_what_a_terminal_would() -> None:
    assert clean("  0 of 100\r 50 of 100\r100 of 100\r\n") == "100 of 100"
    assert clean("done\r") == "done"
