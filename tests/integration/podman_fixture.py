"""A real podman serving the Docker API, per test module, in a temporary directory.

Import the fixture into a test module (``from tests.integration.podman_fixture import
podman_engine  # noqa: F401``). The engine keeps its storage, run directory and socket
under the module's tmp dir, and is stopped by PID at the end, removing the containers it
ran. Missing podman/runc/busybox fails in CI and skips elsewhere, naming the package.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence

import httpx
import pytest

from tests.integration.real_servers import free_port_block, require_binary, wait_for
from tui.lab.podman import PodmanEngine

REQUIRED = (("podman", "podman"), ("runc", "runc"), ("busybox", "busybox-static"))


def require_podman() -> None:
    """Fail (CI) or skip (elsewhere) unless podman, runc and busybox are installed."""
    for binary, package in REQUIRED:
        require_binary(binary, package)


@pytest.fixture(scope="module")
def podman_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodmanEngine]:
    """A started `PodmanEngine` with the base image imported; stopped by PID afterwards."""
    require_podman()
    engine = PodmanEngine(tmp_path_factory.mktemp("podman"))
    engine.start()
    try:
        engine.ensure_base_image()
        yield engine
    finally:
        engine.stop()


def sim_port_base(attempts: int = 50) -> int:
    """A port base whose control (N), backend (N+1) and GPU exporter (N+100) ports are free."""
    return free_port_block((0, 1, 100), attempts)


def sim_argv(port_base: int, pool: str = "blue", extra: Sequence[str] = ()) -> list[str]:
    """``python -m tui.commands sim`` serving one backend of ``pool`` on ``port_base + 1``."""
    return [
        sys.executable,
        "-m",
        "tui.commands",
        "sim",
        "--port-base",
        str(port_base),
        "--pools",
        f"{pool}=1",
        "--gpus",
        "0",
        "--no-load",
        *extra,
    ]


def health_status(port: int) -> int | None:
    """The status of ``GET http://127.0.0.1:PORT/health``, None when nothing answers."""
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code
    return None


def wait_healthy(port: int, timeout_s: float = 15.0) -> bool:
    """Whether ``/health`` on ``port`` answers 200 within ``timeout_s``."""
    return bool(wait_for(lambda: health_status(port) == 200, timeout_s, 0.1))


__all__ = [
    "health_status",
    "podman_engine",
    "require_podman",
    "sim_argv",
    "sim_port_base",
    "wait_healthy",
]
