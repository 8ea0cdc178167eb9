"""Filter and sort for the screens built around one table (`/`, `esc`, `o`, `O`)."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input

from tui.screens.live import LiveScreen
from widgets.table import SnapshotTable


class FilteredScreen(LiveScreen):
    """A live screen whose tables can be filtered as you type and sorted by any column.

    Subclasses yield `filter_line()` in their compose and name their main table in
    `table`; the keys act on the table in focus (the Incidents screen's timeline too),
    else on the main one.
    """

    HAS_TABLE = True
    """The help adds a line for the table's own keys."""
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="table-filter",
                tooltip="Show only the rows holding what you type"),
        Binding("escape", "clear_filter", "Clear filter", id="table-filter-clear",
                tooltip="List every row again"),
        Binding("o", "sort", "Sort", id="table-sort", tooltip="Sort by the next column"),
        Binding("O", "sort_reverse", "Reverse", id="table-sort-reverse",
                tooltip="Flip the sort order", show=False),
        Binding("y", "copy_row", "Copy", id="row-copy",
                tooltip="Copy the selected row to the clipboard (OSC 52: works over SSH)"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    FilteredScreen #table-filter { dock: bottom; height: 1; border: none; padding: 0 1;
                                   margin-bottom: 1; display: none; }
    FilteredScreen #table-filter.-shown { display: block; }
    """

    _filtering: SnapshotTable | None = None
    """The table the filter line types into (focus moves to the line while typing)."""

    @property
    def table(self) -> SnapshotTable:
        """The main table: `/` filters it and `o` sorts it unless another is in focus."""
        raise NotImplementedError

    @property
    def target(self) -> SnapshotTable:
        """The table the keys act on: the one in focus, else the one being filtered, else
        the main one."""
        focused = self.focused
        if isinstance(focused, SnapshotTable):
            return focused
        return self._filtering or self.table

    def filter_line(self) -> Input:
        """The line the filter is typed into (hidden until `/`)."""
        return Input(placeholder="filter: words from any column · enter keeps · esc clears",
                     id="table-filter")  # fmt: skip

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`esc` clears a filter only when there is one."""
        if action == "clear_filter":
            lines = self.query("#table-filter").results(Input)
            return any(line.has_class("-shown") for line in lines)
        return True

    def action_filter(self) -> None:
        """Show the filter line and type into it."""
        self._filtering = table = self.target
        line = self.query_one("#table-filter", Input)
        with line.prevent(Input.Changed):
            line.value = table.filter_text  # each table keeps its own filter
        line.add_class("-shown")
        self.set_focus(line)  # at once: keys typed right after `/` go into the line
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        """Drop the filter: every row again, the cursor back in the table."""
        line = self.query_one("#table-filter", Input)
        table = self.target
        line.value = ""
        line.remove_class("-shown")
        table.filter_text = ""
        table.focus()
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the operator types."""
        if event.input.id == "table-filter":
            self.target.filter_text = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """`enter` keeps the filter and goes back to the table."""
        if event.input.id == "table-filter":
            if not event.value:
                self.action_clear_filter()
            self.target.focus()

    def action_sort(self) -> None:
        """Sort by the next column."""
        self.target.cycle_sort()

    def action_sort_reverse(self) -> None:
        """Flip the sort order."""
        table = self.target
        table.sort_reverse = not table.sort_reverse

    def action_copy_row(self) -> None:
        """Copy the selected row, as plain text, to the operator's clipboard."""
        table = self.target
        if table.row_count == 0:
            self.notify("Nothing selected to copy", severity="warning")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        copy = getattr(self.app, "copy_text", None)
        if key is not None and copy is not None:
            copy(table.row_text(key))
