"""A DataTable fed whole snapshots: rows keyed by identity, updated in place, by meaning."""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple, Self

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.coordinate import Coordinate
from textual.css.styles import RenderStyles
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from tui.model import FleetSnapshot, SourceState
from widgets.panel import styled_runs
from widgets.sources import describe_status, worst_status
from widgets.text import outside, safe

PLACE_METAS = 4096
"""Cell places whose mouse meta a table keeps (`SnapshotTable.place_meta`): a screenful
of a wide table many times over."""

HEADER = "datatable--header"
"""DataTable's component class of the header row."""

DetailField = tuple[str, object, int]
"""(label, value from outside, the width its column cuts it to)."""

Row = tuple[str, list[Text]]
"""(row key, cells)."""

Lines = list[list[Segment]]
"""A rendered cell: its lines of segments."""

_FIGURE = re.compile(r"(-?\d+(?:\.\d+)?)\s*(k|M|µs|us|ms|s|min|m|h|d)?(?![a-zA-Z])")
_SCALE = {"k": 1e3, "M": 1e6, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0,
          "m": 60.0, "h": 3600.0, "d": 86400.0}  # fmt: skip


def sort_value(cell: Text) -> tuple[int, float, str]:
    """How a cell sorts: figures by value (``850ms`` before ``1.2s``), words alphabetically,
    unknown figures (``—``) last."""
    plain = cell.plain.strip()
    if not plain or plain == "—":
        return (2, 0.0, "")
    match = _FIGURE.match(plain.lstrip("~"))
    if match:
        return (0, float(match.group(1)) * _SCALE.get(match.group(2) or "", 1.0), plain)
    return (1, 0.0, plain.lower())


def matches(key: str, cells: Sequence[Text], query: str) -> bool:
    """True when every word of ``query`` is in the row's text (any case) or its key."""
    text = " ".join([key, *(c.plain for c in cells)]).lower()
    return all(word in text for word in query.lower().split())


class KeptStyles:
    """A component's styles whose Rich style is worked out once, for one frame (the rest
    is read from the styles themselves)."""

    def __init__(self, styles: RenderStyles) -> None:
        self._styles = styles
        self.rich_style: Style = styles.rich_style

    def __getattr__(self, name: str) -> Any:
        return getattr(self._styles, name)


class FrameLook(NamedTuple):
    """What every line of one frame of a table shares, worked out once for the frame."""

    rich_style: Style
    background_colors: tuple[Color, Color]
    ordered_columns: list[Any]  # DataTable's Column objects, in screen order
    show_cursor: bool
    show_hover_cursor: bool
    pseudo_classes: object  # Textual's pseudo-class state (focus, hover, ...)
    cell_padding: int
    console: Console
    fixed_rows: int
    fixed_columns: int
    cursor_css_foreground: bool
    cursor_css_background: bool
    size: Size


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

    snapshot: reactive[FleetSnapshot | None] = reactive(None, always_update=True, repaint=False)
    """The snapshot whose rows are listed; only changed cells are updated."""
    _subtitle: str | None = None
    filter_text: reactive[str] = reactive("", init=False)
    """Only rows holding every word of it are listed (``/``)."""
    sort_by: reactive[str | None] = reactive(None, init=False)
    """The column key the rows are sorted by; None: the sources' order."""
    sort_reverse: reactive[bool] = reactive(False, init=False)
    """Sort largest first."""

    def __init__(self, **kwargs: object) -> None:
        # a cell place's last render: (the cell, the drawing state, its look, the render)
        self._same_looks: dict[tuple[int, int], tuple[object, Hashable, Hashable, Lines]] = {}
        self._place_metas: dict[tuple[int, int], Style] = {}
        self._styles_kept: dict[str, Style] = {}
        self._texts_kept: dict[tuple[str, Style], Text] = {}  # this snapshot's cells
        self._texts_before: dict[tuple[str, Style], Text] = {}  # the last snapshot's
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        """Create the columns once; list a snapshot given before the table was in a screen."""
        self.border_title = self.TITLE
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)
        self.rearrange()

    def style(self, name: str) -> Style:
        """The Rich style of one of the component classes (``ok``, ``dim``, ...); kept until
        the styles change (Textual forgets its own copy on every repaint)."""
        style = self._styles_kept.get(name)
        if style is None:
            style = self.get_component_rich_style(f"snapshot-table--{name}", partial=True)
            self._styles_kept[name] = style
        return style

    def styled_text(self, text: str, style: Style) -> Text:
        """``Text(text, style)``: the last snapshot's own object when it had this cell.

        A live table rebuilds every cell of every row each second, and most figures have
        not changed: the same object costs a look-up instead of a new `Text`, and
        `sync_rows` knows it unchanged at once. Only the texts of this snapshot and the
        one before are kept (at most two tables' worth). The table never changes a cell
        it was given, so sharing one is safe; the caller must not change it either. Not
        for a row's first cell: `_keep_order` tells rows apart by that cell's identity.
        """
        key = (text, style)
        kept = self._texts_kept.get(key)
        if kept is None:
            kept = self._texts_before.get(key)
            if kept is None:
                kept = Text(text, style)
            self._texts_kept[key] = kept
        return kept

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """A row's style (header, fixed, zebra stripe), kept until the styles change:
        DataTable works it out from the CSS for every line it draws."""
        if row_index == -1:
            key = "row header"
        elif row_index < self.fixed_rows:
            key = "row fixed"
        elif self.zebra_stripes:
            key = f"row {row_index % 2}"
        else:
            return base_style
        style = self._styles_kept.get(key)
        if style is None:
            style = self._styles_kept[key] = super()._get_row_style(row_index, base_style)
        return style

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
        """Add, update and remove rows to match the snapshot; unchanged cells are left alone.

        A table not in a screen (not yet mounted, or removed as its screen closes) lists
        nothing: its component styles, which colour the cells, exist only while it is in
        the DOM (Textual clears them on removal; `style` would raise KeyError).
        """
        if snapshot is None or not self.is_attached:
            return
        self._texts_before, self._texts_kept = self._texts_kept, {}
        rows = self.arranged(self.rows_of(snapshot))
        self.sync_rows(rows)
        self._keep_order(rows)
        statuses = [st for st in snapshot.sources if st.name in self.SOURCES]
        worst = worst_status(statuses)
        bad = worst is not None and worst.state not in (SourceState.OK, SourceState.PENDING)
        self.set_class(bad, "-source-trouble")
        parts = [self.subtitle(snapshot), self.arrangement(),
                 describe_status(worst, snapshot.taken_at) if bad else ""]  # fmt: skip
        subtitle = " · ".join(p for p in parts if p)
        if subtitle != self._subtitle:  # setting it repaints the whole table
            self._subtitle = self.border_subtitle = subtitle

    def arranged(self, rows: Sequence[Row]) -> list[Row]:
        """The rows that pass the filter, in the chosen sort order."""
        query = self.filter_text
        kept = [r for r in rows if matches(r[0], r[1], query)] if query else list(rows)
        if self._sort_index() is not None:  # a column shown: rows hold every one of COLUMNS
            column = [key for key, _ in self.COLUMNS].index(self.sort_by)  # type: ignore[arg-type]
            kept.sort(key=lambda r: sort_value(r[1][column]), reverse=self.sort_reverse)
        return kept

    def arrangement(self) -> str:
        """The filter and sort in force, for the border: ``filter "blue" · by TTFT ▼``."""
        parts = []
        if self.filter_text:
            parts.append(f"filter {self.filter_text!r}")
        column = self._sort_index()
        if column is not None:
            label = list(self.columns.values())[column].label.plain
            parts.append(f"by {label} {'▼' if self.sort_reverse else '▲'}")
        return " · ".join(parts)

    def _sort_index(self) -> int | None:
        keys = [k.value for k in self.columns]
        return keys.index(self.sort_by) if self.sort_by in keys else None

    def _keep_order(self, rows: Sequence[Row]) -> None:
        """Put the table's rows in ``rows``' order: new rows were added at the end (a
        cleared filter brings rows back after the ones it kept, sorted or not)."""
        wanted = [key for key, _ in rows]
        if [r.key.value for r in self.ordered_rows] == wanted or not self.columns:
            return
        # DataTable sorts by cell values only: find each row by its first cell's identity
        place = {id(self.get_row(key)[0]): at for at, key in enumerate(wanted)}
        self.sort(next(iter(self.columns)), key=lambda cell: place[id(cell)])

    def rearrange(self) -> None:
        """List the current snapshot again under the new filter or sort."""
        if self.snapshot is not None:
            self.snapshot = self.snapshot

    def watch_filter_text(self) -> None:
        """Filter as the operator types."""
        self.rearrange()

    def watch_sort_by(self) -> None:
        """Sort by the new column."""
        self.rearrange()

    def watch_sort_reverse(self) -> None:
        """Flip the order."""
        self.rearrange()

    def cycle_sort(self) -> None:
        """Sort by the next column; after the last, back to the sources' order."""
        keys = [k.value for k in self.columns]
        if self.sort_by not in keys:
            self.sort_by = keys[0] if keys else None
        else:
            at = keys.index(self.sort_by) + 1
            self.sort_by = keys[at] if at < len(keys) else None

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it; a second click flips the order; a third stops."""
        event.stop()
        column = event.column_key.value
        if self.sort_by != column:
            self.sort_reverse = False
            self.sort_by = column
        elif not self.sort_reverse:
            self.sort_reverse = True
        else:
            self.sort_by = None
            self.sort_reverse = False

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
        changed_rows: set[str] = set()
        resized = False
        self._repaint_rows_only = True  # update_cell repaints the whole table: rows instead
        try:
            for key, cells in rows:
                if key not in present:
                    self.add_row(*cells, key=key)
                    resized = True
                    continue
                held = self._data[RowKey(key)]
                # the columns are never moved: their keys' order is the cells' order
                olds = [held[column] for column in self.columns]
                for column, cell, old in zip(self.columns, cells, olds, strict=True):
                    if cell is old:
                        continue
                    if (cell.plain, cell.style, cell.spans) == (old.plain, old.style, old.spans):
                        # the same look: hold the new object (nothing to draw), so that the
                        # next snapshot's kept text (`styled_text`) is known by identity
                        held[column] = cell
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
        if resized or changed_rows:
            self.drop_stale_renders()
        if resized:
            self.refresh()
            return
        self.refresh_rows(changed_rows)

    def refresh_rows(self, keys: set[str]) -> None:
        """Repaint the rows with these keys (those in view), their places found in one pass.

        DataTable's ``refresh_row`` adds up the heights of every row above the one asked
        for: a fleet's table, its rows all changing each second, did that once per row.
        """
        if not keys:
            return
        width = max(
            self.size.width,
            sum(column.get_render_width(self) for column in self.columns.values())
            + self._row_label_column_width,
        )
        y = self.header_height if self.show_header else 0
        for row in self.ordered_rows:
            if row.key.value in keys:
                self._refresh_region(Region(0, y, width, row.height))
            y += row.height

    def drop_stale_renders(self) -> None:
        """Forget the rendered cells, rows and lines of the table as it was.

        DataTable keys its render caches by an update counter that every change moves on,
        so after an update nothing in them can be drawn again; they are dropped only when
        full (10,000 cells, 1,000 rows and lines), which a table updated every second
        reaches in minutes: megabytes an always-on dashboard never gets back.
        """
        for cache in (self._cell_render_cache, self._row_render_cache,
                      self._row_renderable_cache, self._line_cache):  # fmt: skip
            cache.clear()

    _repaint_rows_only = False

    _drawing = False
    _frame: FrameLook | None = None
    _header_kept: KeptStyles | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """Draw the frame's lines, with what they share worked out once (`frame_look`).

        DataTable asks for the table's style, its background and its columns again for
        every line it draws, and the look of every cell reads half a dozen reactives: at
        32 backends that was a third of drawing the table. Nothing they depend on can
        change while one frame is drawn; the next frame works them out afresh.
        """
        self._drawing, self._frame, self._header_kept = True, None, None
        try:
            return super().render_lines(crop)
        finally:
            self._drawing, self._frame, self._header_kept = False, None, None

    def frame_look(self) -> FrameLook:
        """What the lines of the frame being drawn share (worked out afresh between frames)."""
        frame = self._frame
        if frame is None:
            frame = FrameLook(
                super().rich_style,
                super().background_colors,
                super().ordered_columns,
                self.show_cursor,
                self._show_hover_cursor,
                self._pseudo_class_state,
                self.cell_padding,
                self.app.console,
                self.fixed_rows,
                self.fixed_columns,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css",
                super().size,
            )
            if self._drawing:
                self._frame = frame
        return frame

    @property
    def rich_style(self) -> Style:
        """The table's style (the frame's, while one is drawn)."""
        return self.frame_look().rich_style if self._drawing else super().rich_style

    @property
    def background_colors(self) -> tuple[Color, Color]:
        """The table's backgrounds (the frame's, while one is drawn)."""
        return self.frame_look().background_colors if self._drawing else super().background_colors

    @property
    def size(self) -> Size:
        """The content size (the frame's, while one is drawn: DataTable asks three times a
        line)."""
        return self.frame_look().size if self._drawing else super().size

    def get_component_styles(self, *names: str) -> RenderStyles:
        """A component's styles; the header's is the frame's while one is drawn (DataTable
        asks for it, and works out its Rich style, for every line)."""
        if self._drawing and names == (HEADER,):
            if self._header_kept is None:
                self._header_kept = KeptStyles(super().get_component_styles(HEADER))
            return self._header_kept  # type: ignore[return-value]
        return super().get_component_styles(*names)

    @property
    def ordered_columns(self) -> list[Any]:
        """The columns in screen order (the frame's, while one is drawn)."""
        return self.frame_look().ordered_columns if self._drawing else super().ordered_columns

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        """A data row's line as DataTable draws it, the row cursor's state worked out once.

        DataTable asks, for each cell of the line, whether the cursor and the mouse are on
        it and how wide its column is (a dozen calls a cell); with a row cursor, no fixed
        columns and no row labels (every table here), the answers are the row's. The
        header, and any other kind of table, is DataTable's own.
        """
        row_index = self._row_locations.get(row_key)
        if (
            row_index is None  # the header row
            or line_no
            or self.cursor_type != "row"
            or self.fixed_columns
            or (self._labelled_row_exists and self.show_row_labels)
        ):
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        frame = self.frame_look()
        cursor = row_index == cursor_location.row
        hover = row_index == hover_location.row
        row_style = self._get_row_style(row_index, base_style)
        padding = 2 * frame.cell_padding
        render_cell = self._render_cell
        cells: list[list[Segment]] = []
        table_width = self._row_label_column_width
        for column_index, column in enumerate(frame.ordered_columns):
            width = padding + (column.content_width if column.auto_width else column.width)
            table_width += width
            cells.append(render_cell(row_index, column_index, row_style, width, cursor, hover)[0])
        extend_style, _ = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, frame.show_cursor, frame.show_hover_cursor,
            False, False,
        )  # fmt: skip
        extend_style = row_style + extend_style + self.place_meta(row_index, -1)
        cells.append([Segment(" " * max(0, frame.size.width - table_width), extend_style)])
        return [], cells

    def place_meta(self, row_index: int, column_index: int) -> Style:
        """The mouse's meta of a cell place (which row and column a click is on; column -1:
        the blank right of the last column), made once a place: Rich pickles a meta style
        as it is made, and a new one never hits Rich's cache of added styles."""
        meta = self._place_metas.get((row_index, column_index))
        if meta is None:
            where = {"row": row_index, "column": max(column_index, 0)}
            if column_index < 0:
                where["out_of_bounds"] = True
            if len(self._place_metas) >= PLACE_METAS:  # a long table scrolled through
                self._place_metas.clear()
            meta = self._place_metas[(row_index, column_index)] = Style.from_meta(where)
        return meta

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A cell as DataTable renders it, rendered again only when it looks different.

        DataTable renders every cell of a repainted row again after any update (its cache
        is keyed by an update counter); a row whose one figure changed keeps the renders of
        its other cells here, one per cell place.
        """
        if row_index < 0 or column_index < 0:  # the header and row labels: DataTable's cache
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cell = self._data.get(row_key, {}).get(column_key)  # type: ignore[arg-type]
        frame = self.frame_look()
        state: Hashable = (
            row_key, column_key, base_style, width, cursor, hover, frame.show_cursor,
            frame.show_hover_cursor, frame.pseudo_classes,
        )  # fmt: skip
        place = (row_index, column_index)
        held = self._same_looks.get(place)
        if held is not None and held[0] is cell and held[1] == state:
            return held[3]  # the very cell drawn last time (a kept `styled_text`), as it was
        look: Hashable = (
            (cell.plain, str(cell.style), tuple(cell.spans))
            if isinstance(cell, Text)
            else (repr(cell), None, None)
        )
        if held is not None and held[1] == state and held[2] == look:
            self._same_looks[place] = (cell, state, look, held[3])
            return held[3]
        lines = self._render_new_look(
            row_index, column_index, cell, base_style, width, cursor, hover
        )
        self._same_looks[place] = (cell, state, look, lines)
        return lines

    def _render_new_look(
        self,
        row_index: int,
        column_index: int,
        cell: object,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]]:
        """A data cell that looks different from when it was last drawn, rendered."""
        lines = self._render_one_line_cell(
            row_index, column_index, cell, base_style, width, cursor, hover
        )
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return lines

    def _render_one_line_cell(
        self,
        row_index: int,
        column_index: int,
        cell: object,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]] | None:
        """A one-line `Text` cell that fits its column, drawn straight to segments: the
        segments DataTable gets from Rich (``Padding`` in ``Styled`` through
        ``Console.render_lines``), at a tenth of the cost; None for anything else.

        A changed figure is rendered again every second, and Rich's general path (wrap,
        justify, pad, crop, three style passes) was most of a live table's cost.
        """
        if not isinstance(cell, Text) or cell.justify not in (None, "default"):
            return None
        plain = cell.plain
        frame = self.frame_look()
        pad = frame.cell_padding
        room = width - 2 * pad
        if room < 0 or not plain.isprintable() or cell.cell_len > room:
            return None  # a newline, tab or control character, or a cut: Rich's way
        console = frame.console  # its options never justify (Textual's own console)
        row = self.rows.get(self._row_locations.get_key(row_index))  # type: ignore[arg-type]
        if row is None or row.height != 1:
            return None
        fixed = row_index < frame.fixed_rows or column_index < frame.fixed_columns
        component, post = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, frame.show_cursor, frame.show_hover_cursor,
            frame.cursor_css_foreground, frame.cursor_css_background,
        )  # fmt: skip
        pre = base_style + self.place_meta(row_index, column_index) + component
        blank = pre + post
        line = [Segment(" " * pad, blank)] if pad else []
        for start, end, style in styled_runs(cell, console):
            line.append(Segment(plain[start:end], pre + style + post))
        if room > cell.cell_len:
            line.append(Segment(" " * (room - cell.cell_len), blank))
        if pad:
            line.append(Segment(" " * pad, blank))
        return [line]

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._same_looks.clear()

    def notify_style_update(self) -> None:
        """A new theme or style: every cell is rendered again."""
        self._same_looks.clear()
        self._styles_kept.clear()
        self._texts_kept, self._texts_before = {}, {}
        super().notify_style_update()

    def refresh(self, *regions: Region, **kwargs: bool) -> Self:
        """Repaint; while rows are synced, a whole-table repaint waits for the changed rows."""
        if self._repaint_rows_only and not regions and not kwargs:
            return self
        if not regions:  # Textual asks for one when component styles change
            self._styles_kept.clear()
        return super().refresh(*regions, **kwargs)

    def row_text(self, key: str) -> str:
        """Row ``key`` as one line of plain text (what `y` copies): each column's label
        and value, then the values a cell cut, whole."""
        cells = self.get_row(key)
        parts = [f"{column.label.plain}: {' '.join(cell.plain.split())}"
                 for column, cell in zip(self.columns.values(), cells, strict=False)]  # fmt: skip
        if self.detail(key) is not None:
            parts += [f"{label}: {safe(value)}" for label, value, _ in self.detail_fields(key)]
        return " · ".join(parts)

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
