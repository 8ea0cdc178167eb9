"""Pytest fixtures over `real_servers`: a simulator, a Prometheus scraping it, an Alertmanager.

Use them from ``tests/integration/conftest.py`` with::

    from tests.integration.conftest_servers import (  # noqa: F401
        alertmanager_server,
        prometheus_server,
        sim_runtime,
    )

(module-scoped, so one module's tests share one stack; each test still gets a clean
Alertmanager from the function-scoped ``alertmanager_server``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.real_servers import (
    ServerProcess,
    running_sim,
    sim_jobs,
    start_alertmanager,
    start_prometheus,
    wait_for,
)


@pytest.fixture(scope="module")
def sim_runtime() -> Iterator[Any]:
    """The simulator (default pools blue=2, green=1, 4 GPUs) on free loopback ports."""
    with running_sim(seed=11, rps=30.0) as runtime:
        yield runtime


@pytest.fixture(scope="module")
def prometheus_server(
    sim_runtime: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A real Prometheus scraping the simulator every second (``pool`` target labels)."""
    server = start_prometheus(
        tmp_path_factory.mktemp("prometheus"), sim_jobs(sim_runtime.description)
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def alertmanager_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real, empty Alertmanager."""
    server = start_alertmanager(tmp_path_factory.mktemp("alertmanager"))
    try:
        yield server
    finally:
        server.stop()


__all__ = ["alertmanager_server", "prometheus_server", "sim_runtime", "wait_for"]
