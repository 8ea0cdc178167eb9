"""The Incidents screen's small questions: a line of text (a note), a SEV to set."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.incidents.model import Sev
from widgets.text import outside

SEV_MEANING = {
    Sev.SEV1: "service down — respond within 15 minutes",
    Sev.SEV2: "major degradation (>50% errors) — 30 minutes",
    Sev.SEV3: "minor degradation (elevated latency) — 2 hours",
    Sev.SEV4: "no user impact (warnings) — 1 business day",
}
"""What each SEV means, as the handbook's table says (the config may change the times)."""


class TextPrompt(ModalScreen[str | None]):
    """One line of text (a note, why an incident is resolved): enter gives it, esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="text-prompt-cancel")]
    DEFAULT_CSS = """
    TextPrompt { align: center middle; }
    TextPrompt > Vertical { width: 80%; max-width: 100; height: auto;
                            border: thick $primary; background: $surface; padding: 1 2; }
    TextPrompt #prompt-question { margin-bottom: 1; text-style: bold; }
    """

    def __init__(self, question: str, *, placeholder: str = "", allow_empty: bool = False) -> None:
        """``question``: what to type (outside text allowed: shown literally)."""
        super().__init__()
        self.question, self.placeholder, self.allow_empty = question, placeholder, allow_empty

    def compose(self) -> ComposeResult:
        """The question and the box."""
        with Vertical():
            yield Static(outside(self.question), id="prompt-question")
            yield Input(placeholder=self.placeholder, id="prompt-text")

    def on_mount(self) -> None:
        """Type at once."""
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter gives the text (an empty one only where it is allowed)."""
        text = event.value.strip()
        if text or self.allow_empty:
            self.dismiss(text)

    def action_cancel(self) -> None:
        """Escape: nothing typed, nothing done."""
        self.dismiss(None)


class SevPicker(ModalScreen[Sev | None]):
    """SEV1 to SEV4 with what each means; enter picks, esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sev-picker-cancel")]
    DEFAULT_CSS = """
    SevPicker { align: center middle; }
    SevPicker > Vertical { width: 80%; max-width: 80; height: auto;
                           border: thick $primary; background: $surface; padding: 1 2; }
    SevPicker OptionList { height: auto; }
    """

    def __init__(self, title: str, current: Sev) -> None:
        """``title``: the incident's (shown literally); ``current``: its SEV now."""
        super().__init__()
        self.incident_title, self.current = title, current

    def compose(self) -> ComposeResult:
        """The question and one line per SEV."""
        with Vertical():
            yield Static(Text.assemble(("Set the SEV of ", "bold"), outside(self.incident_title),
                                       (f" (now {self.current})", "bold")))  # fmt: skip
            yield OptionList(
                *(
                    Option(f"{sev}  {meaning}", id=sev.value)
                    for sev, meaning in SEV_MEANING.items()
                ),
                id="sev-choices",
            )

    def on_mount(self) -> None:
        """Start on the current SEV."""
        choices = self.query_one(OptionList)
        choices.highlighted = list(Sev).index(self.current)
        choices.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a SEV picks it."""
        self.dismiss(Sev(event.option.id or self.current))

    def action_cancel(self) -> None:
        """Escape: the SEV stays."""
        self.dismiss(None)
