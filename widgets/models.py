"""The Models screen's panels: the inventory, which pool serves which version, retention."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui.analysis.models import Inventory, PoolServing
from widgets.report import ReportPanel
from widgets.text import outside

_STATUS_LEVEL = {"active": "ok", "standby": "", "staging": "warn", "deprecated": "warn",
                 "archived": "dim"}  # fmt: skip
_STATUS_MARK = {"active": "●", "standby": "○", "staging": "◐", "deprecated": "▽", "archived": "▪"}


def pool_version(p: PoolServing) -> str:
    """What a pool serves, in words: ``llama-3.1-8b v1.0``, or the unknown live names."""
    if p.version is not None:
        return f"{p.model} {p.version}"
    if p.configured or p.live_names:
        return f"unknown: {p.configured or ', '.join(p.live_names)}"
    return "unknown"


class InventoryPanel(ReportPanel):
    """Every model and version: status, deploy date, path. ``report`` is an `Inventory`."""

    TITLE = "Model inventory"

    def line_count(self, report: object | None) -> int:
        """A heading, a line per model and per version."""
        if not isinstance(report, Inventory):
            return 1
        return 2 + sum(1 + len(m.versions) for m in report.models)

    def render_report(self, report: object) -> RenderableType:
        """Models with their versions, newest listed first as the inventory has them."""
        inventory: Inventory = report  # type: ignore[assignment]
        dim = self.style("dim")
        source = Text("from ", dim).append_text(outside(inventory.path, dim))
        if not inventory.models:
            return Group(source, Text("empty: set models.inventory or models.models", dim))
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(no_wrap=True, max_width=28, overflow="ellipsis")
        table.add_column(no_wrap=True, max_width=14, overflow="ellipsis")
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, ratio=1, overflow="ellipsis")
        table.add_row(*(Text(h, dim) for h in ("Model", "Version", "Status", "Deployed", "Path")))
        for model in inventory.models:
            for i, v in enumerate(model.versions):
                status = Text(f"{_STATUS_MARK.get(v.status, '·')} {v.status}",
                              self.style(_STATUS_LEVEL.get(v.status, "")))  # fmt: skip
                table.add_row(
                    outside(model.name) if i == 0 else Text(""),
                    outside(v.version),
                    status,
                    Text(v.deployed.isoformat() if v.deployed else "-"),
                    outside(v.path or "-", dim),
                )
        return Group(source, table)


class ServingPanel(ReportPanel):
    """Which version each pool serves, from the config or the names its backends report.

    ``report`` is a tuple of `PoolServing`.
    """

    TITLE = "Pools"

    def line_count(self, report: object | None) -> int:
        """A heading and a row per pool."""
        return 1 + len(report) if isinstance(report, tuple) else 1

    def render_report(self, report: object) -> RenderableType:
        """Pool, version, where that comes from, the live model names."""
        pools: tuple[PoolServing, ...] = report  # type: ignore[assignment]
        dim = self.style("dim")
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(no_wrap=True, max_width=16, overflow="ellipsis")
        table.add_column(no_wrap=True, max_width=40, overflow="ellipsis")
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, ratio=1, overflow="ellipsis")
        table.add_row(*(Text(h, dim) for h in ("Pool", "Version", "From", "Live model names")))
        if not pools:
            table.add_row(Text("no pools seen", dim))
        for p in pools:
            version = outside(pool_version(p), self.style("" if p.version else "warn"))
            table.add_row(
                outside(p.pool, self.pool_style(p.pool)),
                version,
                Text(p.source, dim),
                outside(", ".join(p.live_names) or "-", dim),
            )
        return table


@dataclass(frozen=True)
class Warnings:
    """The retention policy's warnings, one line each."""

    lines: tuple[str, ...]


class RetentionPanel(ReportPanel):
    """Retention warnings: standby and archive counts, old archives, unserved versions."""

    TITLE = "Retention"

    def line_count(self, report: object | None) -> int:
        """A line per warning (one when all is well)."""
        return max(len(report.lines), 1) if isinstance(report, Warnings) else 1

    def render_report(self, report: object) -> RenderableType:
        """Each warning, or that all is within the policy."""
        w: Warnings = report  # type: ignore[assignment]
        if not w.lines:
            return Text(
                "✓ all within the policy (1 standby, 2 archived, 90 days)", self.style("ok")
            )
        lines = []
        for line in w.lines:
            text = Text("▲ ", self.style("warn"))
            text.append_text(outside(line))
            lines.append(text)
        return Group(*lines)
