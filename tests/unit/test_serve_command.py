"""`inferdeck serve`'s command line: loopback and read-only unless told otherwise."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pytest

from tui.commands.main import build_parser
from tui.commands.serve import dashboard_command, demo_config_text, is_loopback
from tui.config import parse_config


def _args(*words: str) -> argparse.Namespace:
    argv = ["serve", *words]
    return build_parser(argv).parse_args(argv)


def test_loopback_and_read_only_by_default() -> None:
    args = _args()
    assert (args.host, args.port, args.allow_actions) == ("127.0.0.1", 8000, False)
    words = shlex.split(dashboard_command("/etc/inferdeck.yaml", args))
    assert words[-3:] == ["-c", "/etc/inferdeck.yaml", "--read-only"]


def test_allow_actions_drops_read_only_and_flags_pass_through() -> None:
    args = _args("--allow-actions", "--theme", "inferdeck-light", "--wall")
    words = shlex.split(dashboard_command("/tmp/a b.yaml", args))
    assert "--read-only" not in words
    assert words[words.index("-c") + 1] == "/tmp/a b.yaml"  # quoted for the shell
    assert words[-3:] == ["--theme", "inferdeck-light", "--wall"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_demo_config_is_a_valid_config_for_odd_names(tmp_path: Path) -> None:
    description = {
        "control": "http://127.0.0.1:18000",
        "gpu_exporter": "http://127.0.0.1:18100/metrics",
        "backends": [{"name": "blue: 0 # x", "pool": "blue", "url": "http://127.0.0.1:18001"}],
    }
    config = parse_config(demo_config_text(description, tmp_path), "demo.yaml")
    assert config.backends[0].name == "blue: 0 # x"
    assert config.traffic is not None and config.traffic.sim_control == "http://127.0.0.1:18000"
