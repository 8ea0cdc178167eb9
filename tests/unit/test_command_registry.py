"""The command line loads only the command it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.commands.main import build_parser
from tui.commands.registry import COMMANDS, command_in


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["demo"], "demo"),
        (["-c", "demo", "traffic", "show"], "traffic"),  # -c's value is not the command
        (["--theme", "x", "--json", "alerts"], "alerts"),
        (["-c", "f.yaml"], None),  # the dashboard
        (["nonsense"], None),
    ],
)
def test_the_command_is_the_first_word_that_is_not_a_flag(
    argv: list[str], command: str | None
) -> None:
    assert command_in(argv) == command


def test_every_command_is_listed_and_parses_its_help() -> None:
    parser = build_parser()  # everything, as --help and the tests see it
    for name in COMMANDS:
        with pytest.raises(SystemExit) as done:
            parser.parse_args([name, "--help"])
        assert done.value.code == 0


def test_starting_the_demo_imports_no_other_command_or_the_container_client() -> None:
    code = (
        "import sys\n"
        "from tui.commands.main import build_parser\n"
        "build_parser(['demo']).parse_args(['demo'])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('tui', 'docker')))))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "tui.commands.dashboard" in loaded
    others = {
        c.module_name for n, c in COMMANDS.items() if c.module_name != COMMANDS["demo"].module_name
    }
    assert not others & set(loaded)
    assert not [
        m for m in loaded if m == "docker" or m.startswith(("docker.", "tui.sources.docker"))
    ]


def test_a_command_runs_with_the_cycle_collector_on_and_main_leaves_it_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gc

    import tui.commands.alerts
    from tui.commands.main import main

    seen: list[bool] = []

    def run_alerts(args: object) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(tui.commands.alerts, "run_alerts", run_alerts)
    assert main(["alerts"]) == 0
    assert seen == [True]  # off only while the dashboard starts
    assert main(["-c", str(tmp_path / "missing.yaml")]) == 2  # the dashboard never started
    assert gc.isenabled()
