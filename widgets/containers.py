"""The Containers screen's table: the stack's containers, their state, restarts and uptime."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from tui.model import Container, FleetSnapshot
from widgets.format import DASH, age, safe
from widgets.table import SnapshotTable

STATE_LEVEL = {"running": "ok", "restarting": "warn", "paused": "warn", "created": "dim"}


class ContainersTable(SnapshotTable):
    """A row per container; `enter` on one shows its last log lines (the screen's binding)."""

    TITLE = "Containers"
    SOURCES = ("docker",)
    COLUMNS = (
        ("name", "Container"),
        ("service", "Service"),
        ("state", "State"),
        ("health", "Health"),
        ("restarts", "Restarts"),
        ("uptime", "Up for"),
        ("image", "Image"),
    )
    DROPPED_FIRST = ("image", "service", "uptime")
    """Given up in this order on a narrow terminal."""

    def rows_of(self, snapshot: FleetSnapshot) -> Sequence[tuple[str, list[Text]]]:
        """One row per container, by name."""
        return [(c.name, self.cells(c, snapshot.taken_at)) for c in snapshot.containers]

    def subtitle(self, snapshot: FleetSnapshot) -> str:
        """How many are running (or that no container engine is configured)."""
        if snapshot.source("docker") is None:
            return "no container engine configured (sources.docker)"
        running = sum(c.state == "running" for c in snapshot.containers)
        return f"{running}/{len(snapshot.containers)} running · enter: logs"

    def cells(self, container: Container, now: float) -> list[Text]:
        """The row of one container."""
        dim = self.style("dim")
        state = container.state
        if state == "exited" and container.exit_code is not None:
            state = f"exited ({container.exit_code})"
        state_style = self.style(STATE_LEVEL.get(container.state, "down"))
        health = container.health or DASH
        health_style = self.style(
            {"healthy": "ok", "starting": "warn"}.get(container.health or "", "breach")
            if container.health
            else "dim"
        )
        uptime = DASH
        if container.state == "running" and container.started_at:
            uptime = age(now - container.started_at)
        restarts_style = self.style("warn" if container.restart_count else "dim")
        return [
            Text(safe(container.name)),
            Text(safe(container.service or DASH), dim),
            Text(f" {safe(state)} " if container.state != "running" else state, state_style),
            Text(safe(health), health_style),
            Text(str(container.restart_count), restarts_style),
            Text(uptime),
            Text(safe(container.image), dim),
        ]
