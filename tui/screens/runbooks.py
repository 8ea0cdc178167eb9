"""The Runbooks screen (`6`, `r`): pick a runbook, dry-run it (`d`), run it (`enter`).

Running goes step by step through the executor: each step shows its plan and asks
first, manual checks ask the operator, and output streams into the log line by line.
`x` cancels a running runbook (its current command's process group is killed).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, RichLog, Static

from tui.model import FleetSnapshot
from tui.ops.executor import Plan
from tui.screens.confirm import ConfirmScreen
from tui.screens.live import LiveScreen
from widgets.header import FleetHeader
from widgets.text import outside, safe


class RunbooksScreen(LiveScreen):
    """Runbooks on the left; the chosen one's steps and its live output on the right."""

    BINDINGS = [
        Binding("enter", "run_runbook", "Run", id="runbook-run",
                tooltip="Run the selected runbook step by step (each step asks first)"),
        Binding("d", "dry_run", "Dry run", id="runbook-dry-run",
                tooltip="Show what every step would do; runs nothing"),
        Binding("x", "cancel_runbook", "Cancel run", id="runbook-cancel",
                tooltip="Stop the running runbook"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    RunbooksScreen #runbook-body { height: 1fr; }
    RunbooksScreen #runbook-list { width: 2fr; border: round $primary 40%; }
    RunbooksScreen #runbook-right { width: 3fr; }
    RunbooksScreen #runbook-about { height: auto; max-height: 40%; border: round $primary 40%;
                                    padding: 0 1; }
    RunbooksScreen #runbook-log { height: 1fr; border: round $primary 40%; }
    """

    def compose(self) -> ComposeResult:
        """Header, the list beside the description and the log, footer."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        with Horizontal(id="runbook-body"):
            table: DataTable[Text] = DataTable(id="runbook-list", cursor_type="row")
            table.border_title = "Runbooks"
            yield table
            with Vertical(id="runbook-right"):
                yield Static(id="runbook-about")
                log = RichLog(id="runbook-log", markup=False, highlight=False, wrap=True)
                log.border_title = "Output"
                yield log
        yield Footer()

    def on_mount(self) -> None:
        """List the runbooks once."""
        table = self.query_one("#runbook-list", DataTable)
        table.add_columns("Runbook", "Severity", "For alerts")
        library = self._library()
        if library is None:
            self.query_one("#runbook-about", Static).update("No runbooks loaded.")
            return
        for entry in library.entries():
            book = entry.runbook
            alerts = ", ".join(book.alerts) or "—"
            table.add_row(outside(entry.name, width=40), outside(book.severity or "—", width=12),
                          outside(alerts, width=60), key=entry.name)  # fmt: skip
        self._describe(self._selected())

    def show(self, snapshot: FleetSnapshot) -> None:
        """Keep the header current."""
        self.query_one(FleetHeader).snapshot = snapshot

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Running follows the app's read-only rule; a dry run is always allowed."""
        if action == "run_runbook":
            return self.app.check_action("run_runbook", parameters)
        return True

    # --- helpers -------------------------------------------------------------------------

    def _library(self) -> Any:
        ops = getattr(self.app, "ops", None)
        return getattr(ops, "runbooks", None)

    def _selected(self) -> str | None:
        table = self.query_one("#runbook-list", DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _describe(self, name: str | None) -> None:
        library = self._library()
        about = self.query_one("#runbook-about", Static)
        if library is None or name is None:
            return
        book = library.get(name)
        text = outside(book.title, "bold")
        if book.description:
            text.append("\n" + safe(book.description))
        for i, step in enumerate(book.steps, 1):
            text.append(f"\n{i}. {safe(step.name)} [{safe(step.type)}]")
        about.update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """`enter` on a runbook (the table has the focus): run it, unless read-only."""
        if self.app.check_action("run_runbook", ()):
            self.action_run_runbook()
        else:
            self.notify("Read-only: runbooks can be dry-run (d), not run", severity="warning")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Describe the runbook under the cursor."""
        self._describe(event.row_key.value if event.row_key else None)

    def _log(self, line: str, style: str = "") -> None:
        self.query_one("#runbook-log", RichLog).write(outside(line, style))

    # --- actions -------------------------------------------------------------------------

    def action_dry_run(self) -> None:
        """Show what every step would do, with the inputs' defaults; run nothing."""
        library, name = self._library(), self._selected()
        if library is None or name is None:
            return
        self._log(f"dry run of {name} — nothing will run", "bold")
        for preview in library.dry_run(name, {}):
            self._log(f"{preview.index}. {preview.title}")
            for line in preview.lines:
                self._log(f"   {line}")

    def action_run_runbook(self) -> None:
        """Run the selected runbook step by step."""
        library, name = self._library(), self._selected()
        if library is None or name is None:
            return
        if library.running:
            self.notify(f"{safe(library.running)} is running; x cancels it", severity="warning",
                        markup=False)  # fmt: skip
            return
        self._run(name)

    def action_cancel_runbook(self) -> None:
        """Cancel the running runbook."""
        library = self._library()
        if library is not None and library.running:
            library.cancel()
            self._log("cancel requested", "bold")

    @work(group="runbook", exclusive=True, exit_on_error=False)
    async def _run(self, name: str) -> None:
        library = self._library()
        self._log(f"running {name}", "bold")

        async def ask_check(question: Any) -> bool:
            title = f"Manual check {question.index}/{question.total}: {question.step}"
            plan = Plan(title, (question.prompt, "", "Apply = done and fine; Cancel = stop here."))
            answer: bool = await self.app.push_screen_wait(ConfirmScreen(plan))
            return answer

        def progress(event: Any) -> None:
            if event.kind == "start":
                self._log(f"▶ {event.index}. {event.step}", "bold")
            elif event.kind == "line":
                self._log(f"   {event.text}")
            else:
                self._log(f"  {event.outcome}: {event.text}", "bold")

        confirm = self.app._confirm  # type: ignore[attr-defined]
        report = await library.run(name, {}, confirm=confirm, ask_check=ask_check,
                                   progress=progress)  # fmt: skip
        self._log(report.summary(), "bold")
        self.notify(safe(report.summary()), severity="information" if report.ok else "error",
                    markup=False)  # fmt: skip
