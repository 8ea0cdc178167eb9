"""The log viewer: a container's last lines, error lines highlighted, `escape` closes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import RichLog, Static

from tui.model import LogLine
from widgets.text import outside


class LogView(RichLog):
    """Log lines as data: never markup, never terminal escapes; errors in the breach colour.

    | Component class | Used for |
    |---|---|
    | `log-view--error` | a line that looks like an error |
    """

    COMPONENT_CLASSES = {"log-view--error"}
    DEFAULT_CSS = """
    LogView { height: 1fr; & > .log-view--error { color: $slo-breach; text-style: bold; } }
    """

    def show(self, lines: list[LogLine]) -> None:
        """Replace the content with these lines."""
        self.clear()
        error = self.get_component_rich_style("log-view--error", partial=True)
        for line in lines:
            self.write(outside(line.text, error if line.is_error else ""))


class LogsScreen(ModalScreen[None]):
    """A container's last log lines over the current screen."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="logs-close")]
    DEFAULT_CSS = """
    LogsScreen { align: center middle; }
    LogsScreen > Vertical {
        width: 90%; height: 85%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, container: str, lines: list[LogLine]) -> None:
        super().__init__()
        self.container = container
        self.lines = lines

    def compose(self) -> ComposeResult:
        """A title line and the log."""
        with Vertical():
            errors = sum(line.is_error for line in self.lines)
            title = outside(self.container, width=80)
            title.append(f": last {len(self.lines)} lines, {errors} errors")
            yield Static(title)
            yield LogView(wrap=True, highlight=False, markup=False)

    def on_mount(self) -> None:
        """Fill the log and scroll to its end."""
        self.query_one(LogView).show(self.lines)
