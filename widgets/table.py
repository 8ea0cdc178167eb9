"""A DataTable fed whole snapshots: rows keyed by identity, updated in place, by meaning."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
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
    DROPPED_FIRST: tuple[str, ...] = ()
    """Columns given up, in this order, when the table is too narrow for all of them, so
    that no cell is ever cut at the table's edge; the columns not named here always stay.
    A wide table gets them all back."""
    _fitted_to: int | None = None
    _rows_given: Sequence[tuple[str, list[Text]]] = ()
    TITLE = ""
    SOURCES: tuple[str, ...] = ("scrape", "prometheus")
    """Names of the sources this table's rows come from; their state is on the border."""

    snapshot: reactive[FleetSnapshot | None] = reactive(None, always_update=True)
    """The snapshot whose rows are listed."""

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
        self.border_subtitle = " · ".join(p for p in parts if p)

    def sync_rows(self, rows: Sequence[tuple[str, list[Text]]]) -> None:
        """Add, update and remove rows to match ``rows`` (key, cells), in that order.

        ``rows`` have a cell for every one of `COLUMNS`; those of the columns given up for
        the width (`DROPPED_FIRST`) are left out here.
        """
        self._rows_given = rows
        if self.DROPPED_FIRST:
            rows = self._fit_columns(rows)
        wanted = {key for key, _ in rows}
        for row_key in list(self.rows):
            if row_key.value not in wanted:
                self.remove_row(row_key)
        present = {k.value for k in self.rows}
        for key, cells in rows:
            if key not in present:
                self.add_row(*cells, key=key)
                continue
            for column, cell, old in zip(self.columns, cells, self.get_row(key), strict=True):
                if (cell.plain, cell.style) != (old.plain, old.style):
                    # a narrower cell too: the column shrinks back once its widest cell is gone
                    self.update_cell(key, column, cell, update_width=cell.cell_len != old.cell_len)

    def _fit_columns(self, rows: Sequence[tuple[str, list[Text]]]) -> list[tuple[str, list[Text]]]:
        """Show the columns that fit the width with these rows; the rows cut to match."""
        shown = self._fit(rows)
        if shown != [key.value for key in self.columns]:
            self.clear(columns=True)  # rare: the width or a long value changed what fits
            for key, label in self.COLUMNS:
                if key in shown:
                    self.add_column(label, key=key)
        kept = [i for i, (key, _) in enumerate(self.COLUMNS) if key in shown]
        return [(name, [cells[i] for i in kept]) for name, cells in rows]

    def _fit(self, rows: Sequence[tuple[str, list[Text]]]) -> list[str]:
        """The keys of the columns that fit the table's width with these rows' content."""
        room = self.scrollable_content_region.width
        pad = 2 * self.cell_padding
        widths = {
            key: pad + max([len(label), *(cells[i].cell_len for _, cells in rows)])
            for i, (key, label) in enumerate(self.COLUMNS)
        }
        need = sum(widths.values())
        for key in self.DROPPED_FIRST:
            if room <= 0 or need <= room:  # not laid out yet, or everything fits
                break
            need -= widths.pop(key)
        return [key for key, _ in self.COLUMNS if key in widths]

    def on_resize(self) -> None:
        """Fit the columns to the new width."""
        if self.DROPPED_FIRST and self.size.width != self._fitted_to:
            self._fitted_to = self.size.width
            if self._rows_given:
                self.sync_rows(self._rows_given)

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
