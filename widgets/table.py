"""A DataTable fed whole snapshots: rows keyed by identity, updated in place, by meaning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.reactive import reactive
from textual.widgets import DataTable

from tui.model import FleetSnapshot, SourceState
from widgets.sources import describe_status, worst_status
from widgets.text import outside, safe

DetailField = tuple[str, object, int]
"""(label, value from outside, the width its column cuts it to)."""


class SnapshotTable(DataTable[Text]):
    """Base of the per-screen tables: subclasses say which rows a snapshot has.

    | Component class | Used for |
    |---|---|
    | `snapshot-table--ok`, `--warn`, `--breach` | figures against their limits (without |
    | | colour, `NO_COLOR`: plain, bold underlined, bold reversed) |
    | `snapshot-table--down` | something not serving |
    | `snapshot-table--blue`, `--green`, `--other` | pool names |
    | `snapshot-table--dim` | unknown figures, units |
    """

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "snapshot-table--ok",
        "snapshot-table--warn",
        "snapshot-table--breach",
        "snapshot-table--down",
        "snapshot-table--blue",
        "snapshot-table--green",
        "snapshot-table--other",
        "snapshot-table--dim",
    }

    DEFAULT_CSS = """
    SnapshotTable {
        height: 1fr;
        border: round $primary 40%;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        & > .snapshot-table--ok { color: $slo-ok; }
        & > .snapshot-table--warn { color: $slo-warn; text-style: bold; }
        & > .snapshot-table--breach { color: $slo-breach; text-style: bold; }
        & > .snapshot-table--down { color: $slo-breach; text-style: bold reverse; }
        & > .snapshot-table--blue { color: $pool-blue; }
        & > .snapshot-table--green { color: $pool-green; }
        & > .snapshot-table--other { color: $pool-other; }
        & > .snapshot-table--dim { color: $muted; }
        &.-source-trouble { border: round $slo-breach; border-subtitle-color: $slo-breach; }
        &:nocolor {
            & > .snapshot-table--ok { color: $foreground; }
            & > .snapshot-table--warn { color: $foreground; text-style: bold underline; }
            & > .snapshot-table--breach { color: $foreground; text-style: bold reverse; }
            & > .snapshot-table--down { color: $foreground; }
        }
    }
    """

    COLUMNS: tuple[tuple[str, str], ...] = ()
    """(key, label) of every column."""
    TITLE = ""
    SOURCES: tuple[str, ...] = ("scrape", "prometheus")
    """Names of the sources this table's rows come from; their state is on the border."""

    snapshot: reactive[FleetSnapshot | None] = reactive(None, always_update=True, repaint=False)
    """The snapshot whose rows are listed; only changed cells are updated."""
    _subtitle: str | None = None

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        """Create the columns once."""
        self.border_title = self.TITLE
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def style(self, name: str) -> Style:
        """The Rich style of one of the component classes (``ok``, ``dim``, ...)."""
        return self.get_component_rich_style(f"snapshot-table--{name}", partial=True)

    def pool_style(self, pool: str) -> Style:
        """A pool's colour."""
        return self.style(pool if pool in ("blue", "green") else "other")

    def rows_of(self, snapshot: FleetSnapshot) -> Sequence[tuple[str, list[Text]]]:
        """(row key, cells) for every row the snapshot has, in display order."""
        raise NotImplementedError

    def subtitle(self, snapshot: FleetSnapshot) -> str:
        """The border subtitle (a count, a state)."""
        return ""

    def watch_snapshot(self, snapshot: FleetSnapshot | None) -> None:
        """Add, update and remove rows to match the snapshot; unchanged cells are left alone."""
        if snapshot is None:
            return
        self.sync_rows(self.rows_of(snapshot))
        statuses = [st for st in snapshot.sources if st.name in self.SOURCES]
        worst = worst_status(statuses)
        bad = worst is not None and worst.state not in (SourceState.OK, SourceState.PENDING)
        self.set_class(bad, "-source-trouble")
        parts = [self.subtitle(snapshot), describe_status(worst, snapshot.taken_at) if bad else ""]
        subtitle = " · ".join(p for p in parts if p)
        if subtitle != self._subtitle:  # setting it repaints the whole table
            self._subtitle = self.border_subtitle = subtitle

    def sync_rows(self, rows: Sequence[tuple[str, list[Text]]]) -> None:
        """Add, update and remove rows to match ``rows`` (key, cells), in that order."""
        wanted = {key for key, _ in rows}
        for row_key in list(self.rows):
            if row_key.value not in wanted:
                self.remove_row(row_key)
        present = {k.value for k in self.rows}
        changed_rows: set[str] = set()
        resized = False
        self._repaint_rows_only = True  # update_cell repaints the whole table: rows instead
        try:
            for key, cells in rows:
                if key not in present:
                    self.add_row(*cells, key=key)
                    resized = True
                    continue
                for column, cell, old in zip(self.columns, cells, self.get_row(key), strict=True):
                    if (cell.plain, cell.style, cell.spans) == (old.plain, old.style, old.spans):
                        continue
                    # widths are measured again only when this cell may change its column's:
                    # wider than the column, or it was the widest and got narrower
                    width = self.columns[column].content_width
                    grows = cell.cell_len > width
                    shrinks = old.cell_len == width and cell.cell_len < width
                    self.update_cell(key, column, cell, update_width=grows or shrinks)
                    changed_rows.add(key)
                    resized = resized or grows or shrinks
        finally:
            self._repaint_rows_only = False
        if resized:
            self.refresh()
            return
        for key in changed_rows:
            self.refresh_row(self.get_row_index(key))

    _repaint_rows_only = False

    def refresh(self, *regions: Region, **kwargs: bool) -> Self:
        """Repaint; while rows are synced, a whole-table repaint waits for the changed rows."""
        if self._repaint_rows_only and not regions and not kwargs:
            return self
        return super().refresh(*regions, **kwargs)

    def detail_fields(self, key: str) -> Sequence[DetailField]:
        """The values of row ``key`` that its cells may cut, with their columns' widths."""
        return ()

    def detail(self, key: str | None) -> Text | None:
        """Every value of row ``key`` in full, or None when no cell of it had to be cut.

        Cells cut long values with ``…`` so one 10,000-character label cannot push the
        other columns off the screen; the screen shows this line for the selected row.
        """
        fields = self.detail_fields(key) if key is not None else ()
        if not any(len(safe(value)) > width for _, value, width in fields):
            return None
        line = Text()
        for label, value, _ in fields:
            if line:
                line.append("  ")
            line.append(f"{label}: ", self.style("dim"))
            line.append_text(outside(value))
        return line
