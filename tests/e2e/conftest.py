"""Fixtures for the tests in a real terminal: every terminal and fleet a test starts is
stopped by PID at its teardown, whether the test passed, failed or timed out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.test_demo_tmux import Terminal
from tests.processes import running_sim


@pytest.fixture
def terminals() -> Iterator[Callable[[Terminal], Terminal]]:
    """Hands each Terminal a test opens to its teardown: ``term = terminals(Terminal(...))``;
    each is closed (its command stopped by PID, then its tmux server) after the test."""
    opened: list[Terminal] = []

    def keep(term: Terminal) -> Terminal:
        opened.append(term)
        return term

    try:
        yield keep
    finally:
        for term in reversed(opened):
            term.close()


@pytest.fixture
def fleet() -> Iterator[dict[str, Any]]:
    """A separate `inferdeck sim` fleet on free ports (its description: backends and
    their URLs), stopped by PID after the test."""
    with running_sim("--port-base", "0") as (_, described):
        yield described
