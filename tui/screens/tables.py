"""The GPUs (`2`), Backends (`3`) and Containers (`c`) screens: one full table each."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from tui.model import FleetSnapshot
from tui.screens.filtering import FilteredScreen
from tui.screens.live import show_line
from widgets.backends import BackendsDetailTable
from widgets.containers import ContainersTable
from widgets.footer import KeysFooter
from widgets.gpu_table import GpuTable
from widgets.header import FleetHeader
from widgets.table import SnapshotTable


class TableScreen(FilteredScreen):
    """A header, one snapshot table, the selected row in full when a cell cut it, the footer.

    `/` filters the table as you type (`esc` clears), `o` sorts by the next column and
    `O` flips the order (a click on a header does both).
    """

    TABLE: type[SnapshotTable] = SnapshotTable
    DETAIL: str | None = None
    """What `enter` on a row opens the detail of: backend, gpu, alert or container."""
    DEFAULT_CSS = """
    TableScreen #row-detail { height: auto; max-height: 6; padding: 0 1; display: none; }
    """

    def compose(self) -> ComposeResult:
        """Header, table, detail line, filter line, footer."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        yield self.TABLE()
        yield Static(id="row-detail")
        yield self.filter_line()
        yield KeysFooter()

    @property
    def table(self) -> SnapshotTable:
        """This screen's table."""
        return self.query_one(self.TABLE)

    def show(self, snapshot: FleetSnapshot) -> None:
        """Hand the snapshot to the header and the table."""
        self.query_one(FleetHeader).snapshot = snapshot
        self.query_one(self.TABLE).snapshot = snapshot
        self._show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """`enter` on a row: its detail screen."""
        open_detail = getattr(self.app, "open_detail", None)
        if self.DETAIL is not None and event.row_key.value is not None and open_detail:
            open_detail(self.DETAIL, event.row_key.value)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The cursor moved: show the new row in full if a cell cut it."""
        self._show_detail()

    def _show_detail(self) -> None:
        table = self.query_one(self.TABLE)
        key = None
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        detail = table.detail(key)
        line = self.query_one("#row-detail", Static)
        show_line(line, detail)


class GpusScreen(TableScreen):
    """Every GPU across hosts, with history and processes."""

    TABLE = GpuTable
    DETAIL = "gpu"


class BackendsScreen(TableScreen):
    """Every backend with every figure: quantiles, token rates, errors, its container."""

    TABLE = BackendsDetailTable
    DETAIL = "backend"


class ContainersScreen(TableScreen):
    """The stack's containers; `enter` shows the selected one's detail and last log lines."""

    TABLE = ContainersTable
    DETAIL = "container"
    BINDINGS = [
        Binding("e", "container('restart')", "Restart", id="container-restart",
                tooltip="Restart the selected container (type its name to confirm)"),
        Binding("s", "container('stop')", "Stop", id="container-stop",
                tooltip="Stop the selected container (type its name to confirm)"),
        Binding("S", "container('start')", "Start", id="container-start",
                tooltip="Start the selected container (asks first)"),
    ]  # fmt: skip

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Container actions follow the app's read-only rule."""
        return self.app.check_action(action, parameters) and super().check_action(
            action, parameters
        )

    def action_container(self, verb: str) -> None:
        """Restart, stop or start the selected container, through the executor."""
        ops = getattr(self.app, "ops", None)
        table = self.query_one(ContainersTable)
        if ops is None or ops.container is None:
            self.notify("No container engine configured (sources.docker)", severity="warning")
            return
        if table.row_count == 0:
            return
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if name is not None:
            make = ops.container
            self.app.offer(lambda: make(verb, name))  # type: ignore[attr-defined]
