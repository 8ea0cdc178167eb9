"""The Runbooks screen (`6`, `r`): pick a runbook, dry-run it (`d`), run it (`enter`).

Running goes step by step through the executor: each step shows its plan and asks
first, manual checks ask the operator, and output streams into the log line by line.
A step's question opens over the runbook list, beside the output, so what the last step
printed stays in view while the next one asks. The run ends with one line per step.
`x` cancels a running runbook (its current command's process group is killed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from tui.model import Backend, FleetSnapshot
from tui.ops.executor import Action, Plan
from tui.ops.runbooks.context import BACKEND_KEY
from tui.ops.runbooks.model import RunbookError
from tui.screens.confirm import ConfirmScreen
from tui.screens.live import LiveScreen
from widgets.footer import KeysFooter
from widgets.header import FleetHeader
from widgets.text import outside, safe


def readable(text: str) -> str:
    """Text written by a person (a description, a check's question) for the screen: its
    lines and tabs kept, every other control character shown as a control picture."""
    return "\n".join(
        "\t".join(safe(part) for part in line.split("\t")) for line in text.splitlines()
    )


class StepConfirmScreen(ConfirmScreen):
    """The confirmation of a runbook step, over the runbook list and beside the output:
    the operator reads what the last step printed while deciding on the next one."""

    DEFAULT_CSS = """
    StepConfirmScreen { align: left top; }
    StepConfirmScreen > Vertical { max-width: 100%; height: 100%; max-height: 100%; }
    """

    def __init__(self, plan: Plan, width: int) -> None:
        """``width``: the columns it may cover (the runbook list's), from the left edge."""
        super().__init__(plan)
        self.columns = width

    def on_mount(self) -> None:
        """Fit the dialog to the runbook list, then focus as every confirmation does."""
        self.query_one(Vertical).styles.width = max(self.columns, 30)
        super().on_mount()


class BackendPicker(ModalScreen[str | None]):
    """Which backend a runbook targets, when the fleet has several: enter picks, esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="backend-picker-cancel")]
    DEFAULT_CSS = """
    BackendPicker { align: center middle; }
    BackendPicker > Vertical { width: 80%; max-width: 100; height: auto; max-height: 80%;
                               border: thick $primary; background: $surface; padding: 1 2; }
    BackendPicker OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, runbook: str, backends: list[Backend]) -> None:
        """``backends``: the choices, from the config and the fleet as last seen."""
        super().__init__()
        self.runbook, self.backends = runbook, backends

    def compose(self) -> ComposeResult:
        """The question and one line per backend: name, pool, URL, container."""
        with Vertical():
            yield Static(Text(f"Run {safe(self.runbook)} on which backend?", style="bold"))
            yield OptionList(
                *(
                    Option(
                        Text(safe(f"{b.name:<16} {b.pool:<8} {b.url}")
                             + (f"  [{safe(b.container)}]" if b.container else "")),
                        id=b.name,
                    )
                    for b in self.backends
                ),
                id="backend-choices",
            )  # fmt: skip

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a backend picks it."""
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Escape: no backend, nothing runs."""
        self.dismiss(None)


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
    RunbooksScreen #runbook-list { width: 2fr; border: round $primary 40%;
        border-title-color: $text; }
    RunbooksScreen #runbook-right { width: 3fr; }
    RunbooksScreen #runbook-about { height: auto; max-height: 40%; border: round $primary 40%;
                                    padding: 0 1; }
    RunbooksScreen #runbook-log { height: 1fr; border: round $primary 40%;
        border-title-color: $text; }
    """

    _start_when_mounted: tuple[str, dict[str, str]] | None = None
    """A run asked for (`start`) before the screen was mounted."""

    def compose(self) -> ComposeResult:
        """Header, the list beside the description and the log, footer."""
        yield FleetHeader(clock=self.clock)  # type: ignore[arg-type]
        with Horizontal(id="runbook-body"):
            table: DataTable[Text] = DataTable(id="runbook-list", cursor_type="row")
            table.border_title = "Runbooks"
            yield table
            with Vertical(id="runbook-right"):
                yield Static(id="runbook-about")
                # min_width=1: wrap at the log's own width (the default, 78, wraps wider
                # than a narrow log and the part past its edge is never seen).
                log = RichLog(
                    id="runbook-log", markup=False, highlight=False, wrap=True, min_width=1
                )
                log.border_title = "Output"
                yield log
        yield KeysFooter()

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
        if (pending := self._start_when_mounted) is not None:
            self._start_when_mounted = None
            self.call_after_refresh(self.start, *pending)

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
            text.append("\n" + readable(book.description))
        for i, step in enumerate(book.steps, 1):
            text.append(f"\n{i}. {safe(step.name)} [{safe(step.type)}]")
        about.update(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """`enter` on a runbook (the table has the focus): run it, unless read-only."""
        if self.app.check_action("run_runbook", ()):
            self.action_run_runbook()
        else:
            self.app.refuse("run_runbook")  # type: ignore[attr-defined]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Describe the runbook under the cursor."""
        self._describe(event.row_key.value if event.row_key else None)

    def _log(self, line: str, style: str = "") -> None:
        self.query_one("#runbook-log", RichLog).write(outside(line, style))

    # --- actions -------------------------------------------------------------------------

    def _fleet(self) -> tuple[Backend, ...]:
        latest = getattr(self.app, "latest", None)
        return tuple(latest.backends) if latest is not None else ()

    def _with_backend(self, name: str, then: Callable[[dict[str, str]], object]) -> None:
        """Call ``then`` with the run's inputs: the backend picked first when the runbook
        targets one (``{backend.url}``…) and the fleet has several to choose from."""
        library = self._library()
        backends = library.context.backends(self._fleet())
        if not library.targets_a_backend(name) or len(backends) < 2:
            then({})
            return

        def picked(choice: str | None) -> None:
            if choice is not None:
                then({BACKEND_KEY: choice})

        self.app.push_screen(BackendPicker(name, backends), picked)

    def action_dry_run(self) -> None:
        """Show what every step would do, with the inputs' defaults; run nothing."""
        library, name = self._library(), self._selected()
        if library is None or name is None:
            return

        def show(given: dict[str, str]) -> None:
            try:
                previews = library.dry_run(name, given, fleet=self._fleet())
            except RunbookError as exc:
                self._refused(exc)
                return
            self._log(f"dry run of {name} — nothing will run", "bold")
            for preview in previews:
                self._log(f"{preview.index}. {preview.title}")
                for line in preview.lines:
                    self._log(f"   {line}")

        self._with_backend(name, show)

    def action_run_runbook(self) -> None:
        """Run the selected runbook step by step."""
        library, name = self._library(), self._selected()
        if library is None or name is None:
            return
        if library.running:
            self.notify(f"{safe(library.running)} is running; x cancels it", severity="warning",
                        markup=False)  # fmt: skip
            return
        self._with_backend(name, lambda given: self._run(name, given))

    def start(self, name: str, given: dict[str, str]) -> None:
        """Select runbook ``name`` and run it with ``given`` (an alert's labels as inputs);
        the backend is asked for only when ``given`` names none and the runbook needs one.
        Called before this screen is first mounted, it starts once it is."""
        if not self.is_mounted:
            self._start_when_mounted = (name, given)
            return
        library = self._library()
        if library is None:
            return
        table = self.query_one("#runbook-list", DataTable)
        if name in {k.value for k in table.rows}:
            table.move_cursor(row=table.get_row_index(name))
        if library.running:
            self.notify(f"{safe(library.running)} is running; x cancels it", severity="warning",
                        markup=False)  # fmt: skip
            return
        if BACKEND_KEY in given:
            self._run(name, given)
        else:
            self._with_backend(name, lambda picked: self._run(name, {**given, **picked}))

    def _refused(self, exc: Exception) -> None:
        """A run that cannot start (an unknown target, a bad input): said in one line."""
        self._log(f"not run: {exc}", "bold")
        self.notify(safe(str(exc)), title="runbook not run", severity="error", markup=False)

    def action_cancel_runbook(self) -> None:
        """Cancel the running runbook."""
        library = self._library()
        if library is not None and library.running:
            library.cancel()
            self._log("cancel requested", "bold")

    @work(group="runbook", exclusive=True, exit_on_error=False)
    async def _run(self, name: str, given: dict[str, str]) -> None:
        library = self._library()

        async def ask(plan: Plan) -> bool:
            width = self.query_one("#runbook-list", DataTable).region.right
            answer: bool = await self.app.push_screen_wait(StepConfirmScreen(plan, width))
            return answer

        async def confirm(action: Action, plan: Plan) -> bool:
            return await ask(plan)

        async def ask_check(question: Any) -> bool:
            title = f"Manual check {question.index}/{question.total}: {question.step}"
            lines = (*readable(question.prompt).splitlines(), "",
                     "Apply = done and fine; Cancel = stop here.")  # fmt: skip
            return await ask(Plan(title, lines))

        def progress(event: Any) -> None:
            if event.kind == "start":
                self._log(f"▶ {event.index}. {event.step}", "bold")
            elif event.kind == "line":
                self._log(f"   {event.text}")
            else:
                self._log(f"  {event.outcome}: {event.text}", "bold")

        self._log(f"running {name}" + (f" on {given[BACKEND_KEY]}" if given else ""), "bold")
        try:
            report = await library.run(name, given, confirm=confirm, ask_check=ask_check,
                                       progress=progress, fleet=self._fleet())  # fmt: skip
        except RunbookError as exc:  # raised before the first step: nothing ran
            self._refused(exc)
            return
        for line in report.summary():
            self._log(line, "bold")
        self.notify(
            safe(report.verdict()),
            severity="information" if report.ok else "error",
            markup=False,
        )
