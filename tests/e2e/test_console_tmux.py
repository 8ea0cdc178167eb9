"""The console driven blind in a real terminal (tmux) at 80x24 and 200x60: help, filter,
sort (on the Backends screen and the overview), drill down, copy."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Terminals
from tests.e2e.test_demo_tmux import Terminal
from tests.integration.real_servers import free_port_block


class SizedTerminal(Terminal):
    """The demo in tmux at ``width`` x ``height``, with tmux keeping OSC 52 copies."""

    def __init__(self, command: list[str], width: int, height: int) -> None:
        super().__init__(command)
        try:
            subprocess.run([*self.tmux, "set-option", "-s", "set-clipboard", "on"], check=True)
            subprocess.run([*self.tmux, "resize-window", "-t", self.name, "-x", str(width),
                            "-y", str(height)], check=True)  # fmt: skip
        except BaseException:
            self.close()
            raise

    def buffers(self) -> str:
        """tmux's paste buffers (an OSC 52 copy adds one)."""
        return subprocess.run([*self.tmux, "list-buffers"], capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.press(key)


@pytest.fixture(params=[(80, 24), (200, 60)], ids=["80x24", "200x60"])
def console(request: pytest.FixtureRequest) -> Iterator[tuple[SizedTerminal, str]]:
    width, height = request.param
    base = free_port_block()
    term = SizedTerminal([sys.executable, "-m", "tui.commands", "demo", "--port-base", str(base)],
                         width, height)  # fmt: skip
    try:
        term.wait_for(lambda s: " OK " in s and "blue-0" in s, timeout=60, what="the overview")
        yield term, f"http://127.0.0.1:{base}"
    finally:
        term.close()


def test_help_opens_on_question_mark_and_closes_with_escape(
    console: tuple[SizedTerminal, str],
) -> None:
    term, control = console
    term.keys("3")
    term.wait_for(lambda s: "Backends" in s and "green-0" in s, timeout=15, what="Backends")
    term.keys("?")
    term.wait_for(lambda s: "Everywhere" in s, timeout=15, what="the help")
    screen = term.screen()
    assert "Backends screen" in screen
    assert screen.index("Backends screen") < screen.index("Everywhere") < screen.index("Quit")
    assert f"Demo control URL: {control}" in screen
    assert "Cursor up" not in screen
    term.keys("Escape")
    term.wait_for(lambda s: "Everywhere" not in s, timeout=15, what="the help closed by esc")
    term.keys("?")
    term.wait_for(lambda s: "Everywhere" in s, timeout=15, what="the help again")
    term.keys("?")
    term.wait_for(lambda s: "Everywhere" not in s, timeout=15, what="the help closed by ?")


def rows(screen: str) -> list[str]:
    """The names in the first column of the table rows on screen."""
    cells = [line.split("│") for line in screen.splitlines() if line.startswith("│ ")]
    return [c[1].split()[0] for c in cells if len(c) > 2 and c[1].split()]


def test_slash_filters_and_o_sorts_the_backends(console: tuple[SizedTerminal, str]) -> None:
    term, _ = console
    term.keys("3")
    term.wait_for(lambda s: "blue-1" in s and "green-0" in s, timeout=15, what="Backends")
    term.keys("/")
    term.wait_for(lambda s: "filter: words" in s, timeout=15, what="the filter line")
    term.keys("g", "r", "e", "e", "n")
    term.wait_for(lambda s: "green-0" in s and "blue-0" not in s,
                  timeout=15, what="only green-0 listed")  # fmt: skip
    term.keys("Enter")
    term.keys("Escape")
    term.wait_for(
        lambda s: "blue-0" in s and "filter: words" not in s, timeout=15, what="every row"
    )
    term.keys("o", "O")
    term.wait_for(
        lambda s: [r for r in rows(s) if r in ("blue-0", "blue-1", "green-0")]
        == ["green-0", "blue-1", "blue-0"],
        timeout=15, what="sorted by backend, reversed",
    )  # fmt: skip


def backends_box(screen: str) -> list[str]:
    """The backend names listed in the overview's Backends box (below its title)."""
    lines = screen.splitlines()
    top = next((i for i, line in enumerate(lines) if "─ Backends ─" in line), len(lines))
    return [r for r in rows("\n".join(lines[top:])) if r in ("blue-0", "blue-1", "green-0")]


def test_slash_filters_and_o_sorts_the_overviews_backends(
    console: tuple[SizedTerminal, str],
) -> None:
    term, _ = console
    term.wait_for(lambda s: backends_box(s) == ["blue-0", "blue-1", "green-0"], timeout=15,
                  what="the overview's backends")  # fmt: skip
    term.keys("/")
    term.wait_for(lambda s: "filter: words" in s, timeout=15, what="the filter line")
    term.keys("g", "r", "e", "e", "n")
    term.wait_for(lambda s: backends_box(s) == ["green-0"], timeout=15, what="only green-0")
    screen = term.screen()
    assert "GPUs" in screen and "Latency" in screen  # still the overview
    term.keys("Enter")
    term.keys("Escape")
    term.wait_for(lambda s: backends_box(s) == ["blue-0", "blue-1", "green-0"]
                  and "filter: words" not in s, timeout=15, what="every backend")  # fmt: skip
    term.keys("o", "O")
    term.wait_for(lambda s: backends_box(s) == ["green-0", "blue-1", "blue-0"], timeout=15,
                  what="sorted by backend, reversed")  # fmt: skip


def test_enter_opens_a_backends_detail_and_escape_goes_back(
    console: tuple[SizedTerminal, str],
) -> None:
    term, _ = console
    term.keys("Enter")  # on the overview's backends table
    term.wait_for(lambda s: "Backend blue-0" in s and "TTFT p50/95/99" in s, timeout=15,
                  what="blue-0's detail")  # fmt: skip
    term.keys("Escape")  # alone: ESC and a key at once read as alt+key
    term.wait_for(lambda s: "Backend blue-0" not in s, timeout=15, what="back to the overview")
    term.keys("2")
    term.wait_for(lambda s: "GPUs" in s and "Util" in s, timeout=15, what="the GPUs screen")
    term.keys("Enter")
    term.wait_for(lambda s: "GPU inferdeck-sim/0" in s, timeout=15, what="GPU 0's detail")
    term.keys("Escape")
    term.wait_for(lambda s: "GPU inferdeck-sim/0" not in s, timeout=15, what="back to GPUs")


def test_y_copies_the_selected_backend_through_osc52_into_tmux(
    console: tuple[SizedTerminal, str],
) -> None:
    term, _ = console
    term.keys("3")
    term.wait_for(lambda s: "blue-1" in s and "green-0" in s, timeout=15, what="Backends")
    before = term.buffers()
    term.keys("y")
    term.wait_for(lambda s: term.buffers() != before, timeout=15, what="a tmux paste buffer")
    copied = subprocess.run([*term.tmux, "show-buffer"], capture_output=True, text=True,
                            check=True).stdout  # fmt: skip
    assert copied.startswith("Backend: blue-0 · Pool: blue · Health: up"), copied


def test_context_switch_on_a_real_fleet(
    tmp_path: Path, fleet: dict[str, Any], terminals: Terminals
) -> None:
    """`--context staging` watches staging's backend; X then prod-us watches prod's, and the
    header names the context on screen."""
    staging, prod = fleet["backends"][1]["url"], fleet["backends"][2]["url"]
    config = tmp_path / "contexts.yaml"
    config.write_text(
        f"state_dir: {tmp_path}\n"
        "contexts:\n"
        "  staging:\n"
        f"    backends: [{{name: stage-0, pool: blue, url: '{staging}'}}]\n"
        "  prod-us:\n"
        "    production: true\n"
        f"    backends: [{{name: prod-0, pool: blue, url: '{prod}'}}]\n"
    )
    term = terminals(SizedTerminal([sys.executable, "-m", "tui.commands", "-c", str(config),
                                    "--context", "staging"], 80, 24))  # fmt: skip
    term.wait_for(lambda s: "env staging" in s and "stage-0" in s and "up" in s,
                  timeout=30, what="the staging context")  # fmt: skip
    term.keys("X")
    term.wait_for(lambda s: "Switch to which context?" in s, timeout=15, what="the picker")
    term.keys("Down", "Enter")
    term.wait_for(lambda s: "env prod-us" in s and "prod-0" in s and "stage-0" not in s,
                  timeout=30, what="the prod-us context")  # fmt: skip
