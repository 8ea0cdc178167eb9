"""App factory for the Textual tests: a warmed, deterministic hub and a frozen clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tui.app import InferdeckApp
from tui.demo_data import warmed_hub
from tui.sources.simulated import VirtualFleetSource

AppFactory = Callable[..., tuple[InferdeckApp, VirtualFleetSource]]


@pytest.fixture
def make_app() -> AppFactory:
    """Build an app on a simulated fleet advanced in virtual time (no threads, no sockets)."""

    def factory(*, seconds: int = 60, theme: str = "inferdeck-dark", **hub_kwargs: object):
        hub, source = warmed_hub(seconds=seconds, **hub_kwargs)  # type: ignore[arg-type]
        app = InferdeckApp(hub, theme=theme, clock=source.clock, start_hub=False)
        return app, source

    return factory


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The header shows local time: pin the zone so screens are the same on every machine."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
