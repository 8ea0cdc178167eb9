"""Context placeholders: a runbook's targets taken from the config and the chosen backend.

A shipped runbook does not hard-code ``127.0.0.1:8000`` or ``vllm``; it writes
``{backend.url}``, ``{backend.container}``, ``{prometheus.url}``… and the runner fills them
in, before the first step, from:

- the *selected backend*: ``--backend NAME`` (or ``--input backend=NAME``) on the command
  line, a picker on the Runbooks screen; the only one when the fleet has one;
- the config's ``backends:`` overlaid with the fleet as last seen (the TUI's snapshot,
  whose backends the hub already linked to their containers);
- the container engine (``sources.docker``), asked once, for a backend's container (by the
  ``inferdeck.backend`` label or the container's name, as the hub links them);
- ``sources.prometheus.url``, ``sources.alertmanager.url``, ``traffic.*_pool``.

A value can also be given outright (``--input backend.container=llm-7``). A placeholder
whose value is unknown refuses the run in one line that says what is missing — never a
default. Every value must match its placeholder's pattern (`CONTEXT`), so a context
placeholder may stand inside a longer argument (``"{backend.url}/health"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from tui.config import Config
from tui.model import Backend, Container
from tui.ops.runbooks.model import (
    CheckSpec,
    ContainerSpec,
    Runbook,
    RunbookError,
    RunSpec,
    TrafficSpec,
    WaitSpec,
)
from tui.ops.runbooks.placeholders import placeholders

URL_PATTERN = r"https?://[A-Za-z0-9.:_\[\]-]+(?:/[A-Za-z0-9._~/-]*)?"
"""A base URL: scheme, host, port, a plain path; no credentials, query, quotes or spaces."""
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:-]*"
MODEL_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_./:-]*"


@dataclass(frozen=True, slots=True)
class ContextPlaceholder:
    """What a context placeholder stands for, and the pattern its value must match."""

    description: str
    pattern: str


CONTEXT: dict[str, ContextPlaceholder] = {
    "backend.name": ContextPlaceholder("the selected backend's name", NAME_PATTERN),
    "backend.pool": ContextPlaceholder("its pool", NAME_PATTERN),
    "backend.url": ContextPlaceholder("its base URL (no trailing /)", URL_PATTERN),
    "backend.model": ContextPlaceholder("the model it serves", MODEL_PATTERN),
    "backend.container": ContextPlaceholder(
        "its container (from sources.docker: label inferdeck.backend, or the name)",
        NAME_PATTERN,
    ),
    "prometheus.url": ContextPlaceholder("sources.prometheus.url", URL_PATTERN),
    "alertmanager.url": ContextPlaceholder("sources.alertmanager.url", URL_PATTERN),
    "traffic.stable_pool": ContextPlaceholder("traffic.stable_pool", NAME_PATTERN),
    "traffic.canary_pool": ContextPlaceholder("traffic.canary_pool", NAME_PATTERN),
}
"""Every context placeholder a runbook may use."""

BACKEND_KEY = "backend"
"""``--input backend=NAME`` selects the backend (unless the runbook declares such an input)."""

Containers = Callable[[], Sequence[Container]]
"""Lists the stack's containers (raises when the engine cannot be reached)."""


def context_used(runbook: Runbook) -> tuple[str, ...]:
    """The context placeholders ``runbook`` uses, in the order of first use."""
    found: dict[str, None] = {}
    for step in runbook.steps:
        spec = step.spec
        texts: list[str] = []
        if isinstance(spec, RunSpec):
            texts += [*spec.argv, *spec.args, *(v for _, v in spec.env), spec.cwd or ""]
        elif isinstance(spec, WaitSpec):
            texts += [spec.url, spec.expect_body_contains or ""]
        elif isinstance(spec, ContainerSpec):
            texts.append(spec.name)
        elif isinstance(spec, TrafficSpec):
            texts += [text for pair in spec.weights for text in pair]
        elif isinstance(spec, CheckSpec):
            texts.append(spec.prompt)
        for text in texts:
            found.update((name, None) for name in placeholders(text) if name in CONTEXT)
    return tuple(found)


def docker_containers(config: Config | None) -> Containers | None:
    """The config's container engine as a lister (None without ``sources.docker``)."""
    docker = config.sources.docker if config is not None else None
    if docker is None:
        return None

    def listing() -> Sequence[Container]:
        from tui.sources.docker import DockerSource

        source = DockerSource(
            docker.url,
            interval=docker.interval_s,
            compose_project=docker.compose_project,
            name_patterns=docker.name_patterns,
            log_lines=docker.log_lines,
        )
        return source.list_containers_sync()

    return listing


class RunContext:
    """Where the context placeholders' values come from: see the module docstring."""

    def __init__(self, config: Config | None = None, containers: Containers | None = None):
        """``containers`` finds a backend's container when the fleet has not named it."""
        self.config = config
        self.containers = containers

    def backends(self, fleet: Sequence[Backend] = ()) -> list[Backend]:
        """The backends a runbook may target: the config's (their name, pool, URL and model
        as configured), with the fleet's container and model filled in, then the backends
        only the fleet knows (found through Prometheus, say)."""
        found: dict[str, Backend] = {}
        if self.config is not None:
            for b in self.config.backends:
                found[b.name] = Backend(name=b.name, pool=b.pool, url=b.url, model=b.model)
        for seen in fleet:
            configured = found.get(seen.name)
            if configured is None:
                found[seen.name] = seen
            else:
                found[seen.name] = replace(
                    configured,
                    model=configured.model or seen.model,
                    container=configured.container or seen.container,
                )
        return list(found.values())

    def values(
        self,
        runbook: Runbook,
        *,
        backend: str | None = None,
        given: Mapping[str, str] | None = None,
        fleet: Sequence[Backend] = (),
    ) -> dict[str, str]:
        """The value of every context placeholder ``runbook`` uses; `RunbookError` (one
        line, before anything runs) for one that is unknown or does not match its pattern.

        ``given`` holds values given outright (``backend.container=NAME``).
        """
        given = given or {}
        needed = [name for name in context_used(runbook) if name not in given]
        values = {name: given[name] for name in given if name in CONTEXT}
        target: Backend | None = None
        if any(name.startswith("backend.") for name in needed):
            target = self._backend(runbook, backend, fleet)
        for name in needed:
            values[name] = self._value(runbook, name, target)
        for name, value in values.items():
            if re.fullmatch(CONTEXT[name].pattern, value) is None:
                raise RunbookError(
                    f"runbook '{runbook.name}': {{{name}}} = {value!r} does not match"
                    f" {CONTEXT[name].pattern!r}"
                )
        return values

    def _backend(self, runbook: Runbook, name: str | None, fleet: Sequence[Backend]) -> Backend:
        backends = self.backends(fleet)
        names = ", ".join(b.name for b in backends)
        needs = f"runbook '{runbook.name}' targets a backend"
        if name is not None:
            chosen = next((b for b in backends if b.name == name), None)
            if chosen is None:
                raise RunbookError(
                    f"{needs}: there is no backend '{name}' (backends: {names or 'none'})"
                )
            return chosen
        if len(backends) == 1:
            return backends[0]
        if not backends:
            raise RunbookError(f"{needs}, and the config has none (backends: in the config)")
        raise RunbookError(f"{needs}: choose one of {names} (--backend NAME)")

    def _value(self, runbook: Runbook, name: str, target: Backend | None) -> str:
        needs = f"runbook '{runbook.name}' needs {{{name}}}"
        config = self.config
        if target is not None and name.startswith("backend."):
            field = name.removeprefix("backend.")
            if field == "container":
                return self._container(needs, target)
            value = {
                "name": target.name,
                "pool": target.pool,
                "url": target.url.rstrip("/"),
                "model": target.model,
            }[field]
            if not value:
                raise RunbookError(
                    f"{needs}: backend '{target.name}' has no {field}"
                    f" (set it in the config, or --input {name}=VALUE)"
                )
            return value
        sources = config.sources if config is not None else None
        traffic = config.traffic if config is not None else None
        found: str | None = {
            "prometheus.url": sources.prometheus.url if sources and sources.prometheus else None,
            "alertmanager.url": sources.alertmanager.url
            if sources and sources.alertmanager
            else None,
            "traffic.stable_pool": traffic.stable_pool if traffic else None,
            "traffic.canary_pool": traffic.canary_pool if traffic else None,
        }.get(name)
        if found is None:
            raise RunbookError(
                f"{needs}: {CONTEXT[name].description} is not in the config"
                f" (or give --input {name}=VALUE)"
            )
        return found.rstrip("/") if name.endswith(".url") else found

    def _container(self, needs: str, target: Backend) -> str:
        if target.container:
            return target.container
        hint = "--input backend.container=NAME"
        if self.containers is None:
            raise RunbookError(
                f"{needs}: no container known for backend '{target.name}'"
                f" (no sources.docker in the config; or {hint})"
            )
        try:
            listed = tuple(self.containers())
        except Exception as exc:
            problem = " ".join(str(exc).split()) or type(exc).__name__
            raise RunbookError(
                f"{needs}: the container engine did not answer ({problem}; or {hint})"
            ) from None
        from tui.hub import link_containers  # the hub's own rule; loaded only when needed

        (linked,) = link_containers((target,), listed)
        if not linked.container:
            raise RunbookError(
                f"{needs}: no container of the stack runs backend '{target.name}'"
                f" (label inferdeck.backend={target.name}, or a name ending in -{target.name};"
                f" or {hint})"
            )
        return linked.container


def names_and_descriptions() -> Iterable[tuple[str, str]]:
    """Each context placeholder with what it stands for (for ``runbook show`` and docs)."""
    return ((f"{{{name}}}", spec.description) for name, spec in CONTEXT.items())
