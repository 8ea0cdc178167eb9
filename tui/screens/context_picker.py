"""The context picker (`X`): which environment of the config to watch (prod-us, staging)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from widgets.text import outside


class ContextPicker(ModalScreen[str | None]):
    """One line per context of the config; enter switches to it, esc stays."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="context-picker-cancel")]
    DEFAULT_CSS = """
    ContextPicker { align: center middle; }
    ContextPicker > Vertical { width: 80%; max-width: 60; height: auto;
                               border: thick $primary; background: $surface; padding: 1 2; }
    ContextPicker OptionList { height: auto; }
    """

    def __init__(self, contexts: tuple[str, ...], current: str | None) -> None:
        """``contexts``: the config's context names; ``current``: the one on screen."""
        super().__init__()
        self.contexts, self.current = contexts, current

    def compose(self) -> ComposeResult:
        """The question and one line per context."""
        with Vertical():
            yield Static(Text("Switch to which context?", "bold"))
            options = []
            for name in self.contexts:
                label = outside(name)
                if name == self.current:
                    label.append("  (on screen)")
                options.append(Option(label, id=name))
            yield OptionList(*options, id="context-choices")

    def on_mount(self) -> None:
        """Start on the current context."""
        choices = self.query_one(OptionList)
        if self.current in self.contexts:
            choices.highlighted = self.contexts.index(self.current)
        choices.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a context picks it."""
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Escape: stay."""
        self.dismiss(None)
