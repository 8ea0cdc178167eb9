"""DockerSource against a real podman serving the Docker API (see podman_fixture).

The module runs one podman with three containers: ``lab-vllm-blue-1`` (a simulated vLLM
backend, compose project ``lab``, service ``vllm-blue``), ``lab-vllm-green-1`` (prints log
lines, one an error and some hostile, service ``vllm-green``) and ``other-sidecar`` (no
compose labels). Tests that stop or restart a container leave it running again.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.podman_fixture import (  # noqa: F401
    health_status,
    podman_engine,
    require_podman,
    sim_argv,
    sim_port_base,
    wait_healthy,
)
from tests.integration.real_servers import wait_for
from tui.lab.podman import BASE_IMAGE, PodmanEngine
from tui.model import Container
from tui.sources.docker import DockerError, DockerSource

pytestmark = pytest.mark.integration

BLUE, GREEN, OTHER = "lab-vllm-blue-1", "lab-vllm-green-1", "other-sidecar"
HOSTILE = ("$(touch {marker})", "[bold]x[/]", "\x1b[31mred")
GREEN_LINES = (
    "warming up (stderr)",
    "starting worker",
    "loaded model weights",
    *HOSTILE,
    "bad \ufffd byte",
    "RuntimeError: CUDA out of memory",
    "ready",
)


@dataclass
class Stack:
    """The running containers and where the simulated backend answers."""

    engine: PodmanEngine
    blue_port: int
    marker: Path

    @property
    def url(self) -> str:
        """The engine's Docker API URL."""
        return self.engine.url

    def source(
        self, compose_project: str | None = "lab", name_patterns: Sequence[str] = ()
    ) -> DockerSource:
        """A DockerSource on the engine (compose project ``lab`` unless told otherwise)."""
        return DockerSource(
            self.url, compose_project=compose_project, name_patterns=name_patterns, timeout_s=10.0
        )


def _green_script(marker: Path) -> str:
    """A script printing GREEN_LINES (the first on stderr, one invalid UTF-8 byte), then idling."""
    hostile = [h.format(marker=marker) for h in HOSTILE]
    quoted = " ".join(f"'{line}'" for line in ("starting worker", "loaded model weights", *hostile))
    return (
        "trap 'exit 3' TERM; "
        "echo 'warming up (stderr)' >&2; sleep 0.3; "
        f"printf '%s\\n' {quoted}; "
        "printf 'bad \\377 byte\\n'; "
        "printf 'RuntimeError: CUDA out of memory\\n'; "
        "echo ready; "
        "while true; do sleep 0.2; done"
    )


@pytest.fixture(scope="module")
def stack(
    podman_engine: PodmanEngine,  # noqa: F811 (the imported fixture)
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """The three containers, running, with the backend healthy."""
    marker = tmp_path_factory.mktemp("hostile") / "touched"
    base = sim_port_base()
    engine = podman_engine
    engine.run_backend(BLUE, sim_argv(base), port=base + 1, project="lab", service="vllm-blue")
    engine.run_backend(
        GREEN,
        ["sh", "-c", _green_script(marker)],
        labels={"io.inferdeck.note": HOSTILE[0].format(marker=marker)},
        project="lab",
        service="vllm-green",
    )
    engine.run_backend(OTHER, ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"])
    assert wait_healthy(base + 1), "the simulated backend never answered /health"
    yield Stack(engine, base + 1, marker)


def _by_name(containers: tuple[Container, ...]) -> dict[str, Container]:
    return {c.name: c for c in containers}


async def test_lists_exactly_the_projects_containers(stack: Stack) -> None:
    source = stack.source()
    collected = await source.collect()
    assert collected.containers is not None
    found = _by_name(collected.containers)
    assert set(found) == {BLUE, GREEN}
    assert source.latest == collected.containers
    now = time.time()
    for c in found.values():
        assert c.state == "running"
        assert c.image == BASE_IMAGE
        assert c.restart_count == 0
        assert c.started_at is not None and 0 < now - c.started_at < 120
        assert c.created_at is not None and c.created_at <= c.started_at
        assert c.exit_code is None and c.health is None
        assert c.project == "lab" and len(c.id) == 64
    assert found[BLUE].service == "vllm-blue"
    assert found[GREEN].service == "vllm-green"
    await source.aclose()


async def test_name_patterns_select_containers(stack: Stack) -> None:
    only_other = await stack.source(compose_project=None, name_patterns=("other-*",)).collect()
    assert [c.name for c in only_other.containers or ()] == [OTHER]
    assert only_other.containers and only_other.containers[0].service is None
    both = await stack.source(name_patterns=("other-*",)).collect()
    assert [c.name for c in both.containers or ()] == [BLUE, GREEN, OTHER]
    greens = await stack.source(compose_project=None, name_patterns=("*-green-?",)).collect()
    assert [c.name for c in greens.containers or ()] == [GREEN]
    nothing = await stack.source(compose_project="no-such-project").collect()
    assert nothing.containers == ()


async def test_logs_returns_last_lines_with_error_flagged(stack: Stack) -> None:
    source = stack.source()
    assert wait_for(lambda: len(source.logs_sync(GREEN, 100)) >= len(GREEN_LINES), 10)
    last = await source.logs(GREEN, lines=2)
    assert [(line.text, line.is_error) for line in last] == [
        ("RuntimeError: CUDA out of memory", True),
        ("ready", False),
    ]
    everything = await source.logs(GREEN)
    assert [line.text for line in everything] == [
        line.format(marker=stack.marker) for line in GREEN_LINES
    ]
    assert [line.text for line in everything if line.is_error] == [
        "RuntimeError: CUDA out of memory"
    ]


async def test_hostile_names_labels_and_logs_are_data(stack: Stack) -> None:
    source = stack.source()
    found = _by_name(await source.list_containers())
    assert found[GREEN].labels["io.inferdeck.note"] == f"$(touch {stack.marker})"
    texts = [line.text for line in await source.logs(GREEN, lines=100)]
    assert f"$(touch {stack.marker})" in texts
    assert "[bold]x[/]" in texts and "\x1b[31mred" in texts
    with pytest.raises(DockerError) as info:
        await source.logs(f"$(touch {stack.marker})")
    assert "\n" not in str(info.value)
    import docker

    with pytest.raises(docker.errors.APIError):
        stack.engine.client().containers.create(BASE_IMAGE, ["true"], name="$(touch /tmp/x)")
    assert not stack.marker.exists()


async def test_stop_then_start(stack: Stack) -> None:
    source = stack.source()
    assert source.stop(BLUE, timeout=5) == "exited"
    blue = _by_name(await source.list_containers())[BLUE]
    assert blue.state == "exited" and blue.exit_code == 0
    assert health_status(stack.blue_port) is None
    assert source.start(BLUE) == "running"
    blue = _by_name(await source.list_containers())[BLUE]
    assert blue.state == "running" and blue.exit_code is None
    assert wait_healthy(stack.blue_port)


async def test_restart_cycles_the_container(stack: Stack) -> None:
    source = stack.source()
    before = _by_name(await source.list_containers())[BLUE]
    assert source.restart(BLUE, timeout=5) == "running"
    after = _by_name(await source.list_containers())[BLUE]
    assert after.state == "running"
    assert before.started_at is not None and after.started_at is not None
    assert after.started_at > before.started_at
    assert after.restart_count >= before.restart_count
    assert wait_healthy(stack.blue_port)


async def test_actions_refuse_containers_outside_the_stack(stack: Stack) -> None:
    with pytest.raises(DockerError, match="not one of the stack's containers"):
        stack.source().stop(OTHER, timeout=1)
    other = _by_name(await stack.source(name_patterns=("other-*",)).list_containers())[OTHER]
    assert other.state == "running"


async def test_container_for_pid(stack: Stack) -> None:
    source = stack.source()
    containers = _by_name(await source.list_containers())
    pid = stack.engine.client().api.inspect_container(BLUE)["State"]["Pid"]
    assert source.container_for_pid(pid) == BLUE
    assert source.container_name(containers[GREEN].id[:12]) == GREEN
    assert source.container_for_pid(os.getpid()) is None


async def test_missing_socket_is_a_one_line_error(tmp_path: Path) -> None:
    url = f"unix://{tmp_path}/absent.sock"
    started = time.monotonic()
    with pytest.raises(DockerError) as info:
        await DockerSource(url, timeout_s=2).collect()
    assert time.monotonic() - started < 2
    assert str(info.value) == f"docker at {url}: no such socket"


async def test_refused_socket_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))  # the file stays; nobody listens on it
    with pytest.raises(DockerError) as info:
        await DockerSource(f"unix://{path}", timeout_s=2).collect()
    assert str(info.value) == f"docker at unix://{path}: connection refused"


async def test_silent_socket_times_out(tmp_path: Path) -> None:
    path = tmp_path / "silent.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        s.listen(8)  # accepts connections, never answers
        started = time.monotonic()
        with pytest.raises(DockerError) as info:
            await DockerSource(f"unix://{path}", timeout_s=1).collect()
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert str(info.value).startswith(f"docker at unix://{path}: no answer within")


def test_engine_stops_by_pid_leaving_nothing(tmp_path: Path) -> None:
    require_podman()
    engine = PodmanEngine(tmp_path / "second")
    engine.start()
    pid = engine.pid
    assert pid is not None and engine.socket.exists()
    engine.stop()
    assert engine.pid is None and not engine.socket.exists()
    assert not Path(f"/proc/{pid}").exists()
