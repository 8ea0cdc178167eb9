"""Container actions: restart, stop and start a stack container, through the executor.

Each action wraps `tui.sources.docker.DockerSource`'s blocking ``restart``/``stop``/
``start``, which refuse any container outside the configured stack. Plans name the
container, its image, its state and when it started (from the source's last listing:
``plan()`` does no I/O). Stop and restart are *dangerous* — the operator types the
container's name: a restart drops the backend's in-flight requests and takes it out of
service for as long as the model takes to load, which for a real vLLM is minutes.
After acting, the container is listed again and the result says its new state (and,
for a restart, that it really started again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tui.analysis.text import inert, shown
from tui.model import Container
from tui.ops.executor import Action, ActionResult, Plan, Progress
from tui.sources.docker import DockerError, DockerSource

__all__ = [
    "VERBS",
    "ContainerAction",
    "RestartContainer",
    "StartContainer",
    "StopContainer",
    "container_action",
    "container_action_factory",
]


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "unknown"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class ContainerAction:
    """What restart, stop and start share: the target, the plan, the re-listing."""

    kind = "container.action"
    verb = "act on"
    dangerous = False
    expected_state = "running"

    def __init__(
        self,
        source: DockerSource,
        name: str,
        container: Container | None = None,
        *,
        timeout_s: int = 10,
    ) -> None:
        """``container``: what is known of it now (default: the source's last listing);
        ``timeout_s``: seconds to wait for a clean stop before SIGKILL."""
        self.source, self.name, self.timeout_s = source, name, timeout_s
        self.container = container or next((c for c in source.latest if c.name == name), None)
        self.target = name

    def params(self) -> dict[str, Any]:
        """For the audit log."""
        c = self.container
        return {
            "engine": self.source.url,
            "container": self.name,
            "id": c.id if c else None,
            "image": c.image if c else None,
            "state": c.state if c else None,
            "timeout_s": self.timeout_s,
        }

    def _details(self) -> tuple[str, ...]:
        c = self.container
        if c is None:
            return (
                "not in the stack's last listing: image and state unknown",
                "(the engine refuses containers outside the stack)",
            )
        lines = [
            f"image: {inert(c.image or 'unknown')}",
            f"state now: {c.state}" + (f" ({c.health})" if c.health else ""),
            f"started: {_when(c.started_at)}",
        ]
        if c.project or c.service:
            project, service = shown(c.project or "-"), shown(c.service or "-")
            lines.append(f"compose: project {project}, service {service}")
        return tuple(lines)

    def _consequence(self) -> tuple[str, ...]:
        return ()

    def plan(self) -> Plan:
        """The container, its image and state, and what will happen."""
        return Plan(
            f"{self.verb.capitalize()} container {inert(self.name)}",
            (f"engine: {self.source.url}", *self._details(), *self._consequence()),
            dangerous=self.dangerous,
            confirm_text=self.name if self.dangerous else "",
        )

    def _act(self) -> str:
        raise NotImplementedError

    def _relisted(self) -> Container | None:
        try:
            listed = self.source.list_containers_sync()
        except DockerError:
            return None
        return next((c for c in listed if c.name == self.name), None)

    def _check(self, after: Container | None) -> str | None:
        """Why the action did not do what it should, or None."""
        state = after.state if after is not None else None
        if state != self.expected_state:
            return f"{self.name} is {state or 'gone'}, not {self.expected_state}"
        return None

    def run(self, progress: Progress) -> ActionResult:
        """Act, list again, and say the new state."""
        progress(f"{self.verb} {self.name}")
        state = self._act()
        after = self._relisted()
        details: dict[str, Any] = {
            "state": after.state if after else state,
            "started_at": after.started_at if after else None,
            "previous_started_at": self.container.started_at if self.container else None,
            "exit_code": after.exit_code if after else None,
        }
        problem = self._check(after)
        if problem is not None:
            return ActionResult(False, f"{self.verb} {self.name}: {problem}", details)
        return ActionResult(True, f"{self.verb} {self.name}: now {details['state']}", details)


class RestartContainer(ContainerAction):
    """Restart a stack container (dangerous: its backend leaves service meanwhile)."""

    kind = "container.restart"
    verb = "restart"
    dangerous = True

    def _consequence(self) -> tuple[str, ...]:
        return (
            f"stop (SIGTERM, SIGKILL after {self.timeout_s}s), then start again",
            "in-flight requests on it fail; it serves again once its model has loaded",
        )

    def _act(self) -> str:
        return self.source.restart(self.name, timeout=self.timeout_s)

    def _check(self, after: Container | None) -> str | None:
        problem = super()._check(after)
        if problem is None and after is not None and self.container is not None:
            before = self.container.started_at
            if before is not None and after.started_at is not None and after.started_at <= before:
                return "its start time did not move: it was not restarted"
        return problem


class StopContainer(ContainerAction):
    """Stop a stack container (dangerous: it serves nothing until started)."""

    kind = "container.stop"
    verb = "stop"
    dangerous = True
    expected_state = "exited"

    def _consequence(self) -> tuple[str, ...]:
        return (
            f"SIGTERM, SIGKILL after {self.timeout_s}s; it stays stopped until started",
            "in-flight requests on it fail",
        )

    def _act(self) -> str:
        return self.source.stop(self.name, timeout=self.timeout_s)


class StartContainer(ContainerAction):
    """Start a stopped stack container."""

    kind = "container.start"
    verb = "start"

    def _consequence(self) -> tuple[str, ...]:
        return ("start it again with its existing configuration",)

    def _act(self) -> str:
        return self.source.start(self.name)


VERBS: dict[str, type[ContainerAction]] = {
    "restart": RestartContainer,
    "stop": StopContainer,
    "start": StartContainer,
}
"""Each container verb and its action."""


def container_action(
    source: DockerSource, verb: str, name: str, container: Container | None = None
) -> ContainerAction:
    """The action for ``verb`` (restart, stop, start) on ``name``; ValueError otherwise."""
    try:
        cls = VERBS[verb]
    except KeyError:
        raise ValueError(f"unknown container action {verb!r} (known: {', '.join(VERBS)})") from None
    return cls(source, name, container)


def container_action_factory(source: DockerSource) -> Callable[[str, str], Action]:
    """``(verb, name) -> Action`` for `tui.ops.context.Operations.container`."""

    def make(verb: str, name: str) -> Action:
        return container_action(source, verb, name)

    return make
