"""Fixtures for the tests in a real terminal: every terminal and fleet a test starts is
stopped by PID at its teardown, whether the test passed, failed or timed out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, TypeVar

import pytest

from tests.e2e.test_demo_tmux import Terminal
from tests.processes import running_sim

AnyTerminal = TypeVar("AnyTerminal", bound=Terminal)


class Terminals(Protocol):
    """What the `terminals` fixture gives: hand it a terminal, get the same one back."""

    def __call__(self, term: AnyTerminal, /) -> AnyTerminal: ...


@pytest.fixture
def terminals() -> Iterator[Terminals]:
    """Hands each Terminal a test opens to its teardown: ``term = terminals(Terminal(...))``;
    each is closed (its command stopped by PID, then its tmux server) after the test."""
    opened: list[Terminal] = []

    def keep(term: AnyTerminal, /) -> AnyTerminal:
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
