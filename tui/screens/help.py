"""The help (`?`): the keys of the screen underneath first, then the keys that work everywhere.

Built from the live bindings of that screen when it opens, so a key remapped in the
config (`keys:`) shows as the operator set it, and keys that cannot act now (read-only)
are left out. Table navigation (Textual's own DataTable keys) is one summary line, not
a list that pushes inferdeck's keys below the fold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from widgets.text import outside

TABLE_KEYS = "↑ ↓ pgup pgdn home end move; enter opens the row's detail; click a header sorts"
"""What the tables' own keys do, in one line."""


@dataclass(frozen=True, slots=True)
class KeyLine:
    """One binding as the help lists it: its keys (as the terminal shows them) and what it does."""

    keys: str
    does: str


def _our_actions(node: object) -> set[str]:
    """The actions bound in the BINDINGS of inferdeck's own classes (not Textual's) of ``node``."""
    return {
        binding.action
        for klass in type(node).__mro__
        if klass.__module__.startswith(("tui.", "widgets."))
        for binding in klass.__dict__.get("BINDINGS", ())
        if isinstance(binding, Binding)
    }


def key_lines(screen: Screen[Any]) -> tuple[list[KeyLine], list[KeyLine]]:
    """(this screen's keys, the keys that work everywhere), from ``screen``'s live bindings."""
    app = screen.app
    local: dict[object, list[str]] = {}
    everywhere: dict[object, list[str]] = {}
    described: dict[object, str] = {}
    for key, active in screen.active_bindings.items():
        binding: Binding = active.binding
        if not active.enabled or not binding.description or binding.system:
            continue
        node = active.node
        if node is app:
            group = everywhere
        elif binding.action in _our_actions(node):
            group = local
        else:
            continue  # Textual's own widget keys: summarised in one line
        identity = (binding.action, binding.description, node is app)
        shown = app.get_key_display(binding) or key
        if shown not in group.setdefault(identity, []):
            group[identity].append(shown)
        described[identity] = binding.description

    def lines(group: dict[object, list[str]]) -> list[KeyLine]:
        return [KeyLine(" ".join(keys), described[identity]) for identity, keys in group.items()]

    return lines(local), lines(everywhere)


def _columns(lines: Iterable[KeyLine], key_style: str, columns: int) -> Table:
    """Key lines in ``columns`` side-by-side pairs of (key, what it does)."""
    grid = Table.grid(padding=(0, 1), expand=True)
    for _ in range(columns):
        grid.add_column(style=key_style, no_wrap=True, justify="right", ratio=None)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    items = list(lines)
    rows = (len(items) + columns - 1) // columns
    for r in range(rows):
        cells: list[RenderableType] = []
        for c in range(columns):
            i = c * rows + r
            if i < len(items):
                cells += [Text(items[i].keys), outside(items[i].does)]
            else:
                cells += [Text(""), Text("")]
        grid.add_row(*cells)
    return grid


class HelpScreen(ModalScreen[None]):
    """Every key of the screen underneath, that screen's first; `esc` or `?` closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help-close"),
        # the app's own help key, by the same id: remapping `help` moves both
        Binding("question_mark", "dismiss", "Close", id="help", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100%; max-width: 110; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen .help-heading { text-style: bold; color: $accent; }
    HelpScreen #help-about { color: $text-muted; }
    """

    def __init__(self, underneath: Screen[Any], about: str = "") -> None:
        """``underneath``: the screen whose keys are listed; ``about``: lines shown last
        (the demo's control URL and fault commands)."""
        super().__init__()
        self.underneath = underneath
        self.about = about
        self.local, self.everywhere = key_lines(underneath)

    def compose(self) -> ComposeResult:
        """This screen's keys, the table line, the global keys, then ``about``."""
        name = getattr(self.underneath, "HELP_NAME", "") or type(self.underneath).__name__
        name = name.removesuffix("Screen")
        columns = 2 if self.app.size.width >= 70 else 1
        with VerticalScroll() as box:
            box.border_title = "Keys (esc or ? closes)"
            yield Static(Text(f"{name} screen"), classes="help-heading")
            if self.local:
                yield Static(_columns(self.local, "bold", columns), id="help-screen-keys")
            if getattr(self.underneath, "HAS_TABLE", False):
                yield Static(Text(TABLE_KEYS), id="help-table")
            yield Static(Text("Everywhere"), classes="help-heading")
            yield Static(_columns(self.everywhere, "bold", columns), id="help-global-keys")
            if self.about:
                yield Static(Group(*(outside(line) for line in self.about.splitlines())),
                             id="help-about")  # fmt: skip
