"""The confirmation every action goes through: its plan, Cancel by default.

Dangerous actions (rollback, stop, anything the action marks so) also ask the operator
to type the target's name before Apply can be pressed. The executor cancels a
confirmation left open too long; the screen says after how long.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.ops.executor import Plan
from widgets.text import outside, safe


class ConfirmScreen(ModalScreen[bool]):
    """Shows a plan; dismisses with True only when the operator chose Apply."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm-cancel")]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 80%; max-width: 100; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ConfirmScreen.-dangerous > Vertical { border: thick $error; }
    ConfirmScreen #plan-title { text-style: bold; margin-bottom: 1; }
    ConfirmScreen #plan-lines { margin-bottom: 1; }
    ConfirmScreen #typed { margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """

    def __init__(self, plan: Plan, *, expires_s: float | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.expires_s = expires_s

    def compose(self) -> ComposeResult:
        """Title, plan lines, the typed confirmation when dangerous, Cancel and Apply."""
        with Vertical():
            yield Static(outside(self.plan.title), id="plan-title")
            yield Static(Text("\n").join(outside(line) for line in self.plan.lines),
                         id="plan-lines")  # fmt: skip
            if self.plan.dangerous:
                yield Static(
                    Text.assemble("Type ", outside(self.plan.confirm_text), " to confirm:"),
                    id="typed-help",
                )
                yield Input(placeholder=safe(self.plan.confirm_text), id="typed")
            if self.expires_s is not None:
                yield Static(f"Cancelled by itself after {self.expires_s:g}s.", id="expiry")
            with Horizontal():
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Apply", id="apply", variant="error" if self.plan.dangerous
                             else "warning", disabled=self.plan.dangerous)  # fmt: skip

    def on_mount(self) -> None:
        """Cancel has the focus: enter alone never applies anything."""
        self.set_class(self.plan.dangerous, "-dangerous")
        target = "#typed" if self.plan.dangerous else "#cancel"
        self.query_one(target).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Apply is enabled only once the target's name is typed exactly."""
        self.query_one("#apply", Button).disabled = event.value != self.plan.confirm_text

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the box applies only when the name is right."""
        if event.value == self.plan.confirm_text:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Apply or Cancel."""
        self.dismiss(event.button.id == "apply")

    def action_cancel(self) -> None:
        """Escape cancels."""
        self.dismiss(False)
