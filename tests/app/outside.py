"""Helpers for the outside-text tests: hostile snapshots, a failing action, the screen as text."""

from __future__ import annotations

import dataclasses
import html
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.widgets._toast import Toast  # not exported; the widget each notice is shown in

from tui.app import LogReader
from tui.model import Alert, FleetSnapshot, Health, LogLine, Severity, SourceState, SourceStatus
from tui.ops.executor import ActionResult, Plan, Progress

FINGERPRINT = "f00dfeedc0ffee00"
"""The hostile alert's fingerprint."""

_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>([^<]*)</text>'
)
_CELL = 12.2  # the width of one cell in Rich's SVG export


def screen_text(app: App[Any]) -> str:
    """What the screen shows, as lines of text (from `App.export_screenshot`)."""
    rows: dict[float, list[tuple[float, float, str]]] = defaultdict(list)
    for m in _TEXT.finditer(app.export_screenshot()):
        text = html.unescape(m[4]).replace("\xa0", " ")
        rows[float(m[2])].append((float(m[1]), float(m[3]), text))
    lines = []
    for y in sorted(rows):
        line, end = "", 0.0
        for x, length, text in sorted(rows[y]):
            line += " " * max(round((x - end) / _CELL), 0) + text
            end = x + length
        lines.append(line)
    return "\n".join(lines)


def toast_texts(app: App[Any]) -> str:
    """The notices on screen, one a line."""
    return "\n".join(toast.render().plain for toast in app.screen.query(Toast))


def raw_controls(text: str) -> set[str]:
    """Characters that would control the terminal or reorder text: none may be shown."""
    return {c for c in text if not (c.isprintable() or c in " \n")}


def hostile_snapshot(base: FleetSnapshot, value: str, *, label: str | None = None) -> FleetSnapshot:
    """``base`` with ``value`` as the environment, an alert's name, labels and summary, a
    down backend's name and reason, a source's error message and a container's name."""
    label = value if label is None else label
    alert = Alert(
        name=value,
        severity=Severity.CRITICAL,
        summary=value,
        labels={"alertname": value, "backend": label, value: value},
        starts_at=base.taken_at - 30,
        fingerprint=FINGERPRINT,
        source="alertmanager",
    )
    backends = list(base.backends)
    backends[0] = dataclasses.replace(
        backends[0], name=value, model=value, health=Health.DOWN, reason=value, container=value
    )
    sources = (
        *base.sources,
        SourceStatus("alertmanager", SourceState.ERROR, f"HTTP/1.1 502 {value}"),
    )
    return dataclasses.replace(
        base,
        environment=value,
        alerts=(alert, *base.alerts),
        backends=tuple(backends),
        sources=sources,
    )


@dataclass
class FailingReload:
    """An action that fails the way an nginx reload does, with nginx's own message."""

    message: str
    kind: str = "traffic.set"
    target: str = "blue"

    def params(self) -> dict[str, Any]:
        """Nothing to audit."""
        return {}

    def plan(self) -> Plan:
        """The message is shown in the plan too."""
        return Plan("Reload nginx", (self.message,))

    def run(self, progress: Progress) -> ActionResult:
        """Fail with the message."""
        progress(self.message)
        return ActionResult(False, self.message)


def log_reader(value: str) -> LogReader:
    """A container log reader whose lines carry ``value``."""

    async def read(container: str) -> list[LogLine]:
        return [LogLine(f"{container}: {value}"), LogLine(value, is_error=True)]

    return read
