"""``--no-record``: the dashboard's flight recorder off for one run, before or after
``demo``, whatever the config's ``recording:`` section says (the dashboard itself in a
terminal: tests/e2e/test_no_record_tmux.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.commands.dashboard import without_recording
from tui.commands.main import build_parser
from tui.config import Config, parse_config
from tui.recording.recorder import recorder_for


def config_in(tmp_path: Path) -> Config:
    text = (f"state_dir: {tmp_path}\naudit_log: {tmp_path / 'audit.jsonl'}\n"
            f"recording:\n  enabled: true\n  keep_mb: 64\n")  # fmt: skip
    return parse_config(text, str(tmp_path / "inferdeck.yaml"))


@pytest.mark.parametrize(
    "argv",
    [["--no-record", "-c", "x.yaml"], ["-c", "x.yaml", "--no-record"],
     ["--no-record", "demo"], ["demo", "--no-record"]],
)  # fmt: skip
def test_no_record_turns_a_recording_config_off(tmp_path: Path, argv: list[str]) -> None:
    config = config_in(tmp_path)
    assert recorder_for(config) is not None  # the config records
    args = build_parser(argv).parse_args(argv)
    assert recorder_for(without_recording(args, config)) is None


def test_without_the_flag_the_config_says(tmp_path: Path) -> None:
    config = config_in(tmp_path)
    for argv in (["-c", "x.yaml"], ["demo"]):
        args = build_parser(argv).parse_args(argv)
        assert without_recording(args, config) is config
