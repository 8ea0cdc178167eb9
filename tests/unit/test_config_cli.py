"""Config mistakes that only the command line can see: one line, exit code 2, before any UI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.commands.main import main
from tui.config import ConfigError
from tui.wiring import demo_config

VALID = (
    "inferdeck-dark, inferdeck-light, inferdeck-high-contrast, inferdeck-colorblind, inferdeck-mono"
)


def _config(tmp_path: Path, text: str = "") -> str:
    path = tmp_path / "c.yaml"
    path.write_text("backends:\n  - {name: a, pool: p, url: 'http://127.0.0.1:9'}\n" + text)
    return str(path)


def test_unknown_theme_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-c", _config(tmp_path), "--theme", "no-such-theme", "snapshot"]) == 2
    assert capsys.readouterr().err == (
        f"inferdeck: error: --theme: unknown theme 'no-such-theme'; choose one of {VALID}\n"
    )


def test_unknown_theme_for_the_demo() -> None:
    description = {"control": "http://h:1", "backends": [], "gpu_exporter": "http://h:2/metrics"}
    with pytest.raises(ConfigError, match=r"^--theme: unknown theme 'x'; choose one of"):
        demo_config(description, theme="x")
    assert demo_config(description).theme == "inferdeck-dark"


def test_bad_keys_stop_the_dashboard_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.app import InferdeckApp

    def started(self: InferdeckApp) -> None:
        raise AssertionError("the dashboard started despite the bad keys")

    monkeypatch.setattr(InferdeckApp, "run", started)
    path = _config(tmp_path, "keys:\n  pause: space\n  pasue: x\n")
    assert main(["-c", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"inferdeck: error: {path}:5: unknown binding id 'pasue' (known: ack,")
    assert err.count("\n") == 1
