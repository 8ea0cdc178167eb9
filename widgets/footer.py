"""The footer: the keys an operator needs now, each shown whole, the least needed left out first.

Textual's own footer lists every shown binding in order and lets the width cut the last
one mid-word (at 120 columns `9 Models` fell off). This one ranks the keys: the screen's own
keys (filter, sort, acknowledge, ...) first, then help, quit and the keys that stop harm
(roll back, apply a proposal, stop a load test, a replay's controls), then the other
screens, then the rest (pause, copy, the palette); the key of the screen already on show
comes last. When the width cannot hold them all, keys are left out from the least needed
end, whole. Every key left out is still in the help (`?`), which lists the live bindings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # not exported; the footer's own key widget

SCREEN_ACTION = re.compile(r"^show_screen\('(?P<name>[\w-]+)'\)$")
"""The action of a key that opens one of the app's screens."""

OWN, FIRST, SCREENS, REST, HERE = range(5)
"""How needed a key is, most first: this screen's own; help, quit and the keys that stop
harm; the other screens; the rest; the key of the screen on show."""

FIRST_ACTIONS = ("quit", "toggle_keys", "rollback", "apply_proposal", "stop_loadtest")
"""App keys that rank with help and quit (by action name)."""
FIRST_PREFIXES = ("replay_",)
"""In a replay, its controls are the point of the screen."""
LATER_IDS = ("row-copy", "table-sort-reverse", "pause", "theme")
"""Keys of a screen that rank with the rest: handy, not needed to find one's way."""
PALETTE = "command_palette"


@dataclass(frozen=True, slots=True)
class FooterEntry:
    """One key the footer may show: its binding, whether it can act now, how needed it is."""

    binding: Binding
    key_display: str
    enabled: bool
    tooltip: str
    rank: int

    @property
    def width(self) -> int:
        """Cells it takes in the compact footer: ``k Description`` and a space after."""
        return len(self.key_display) + (1 + len(self.binding.description)) + 1


def fitted(entries: list[FooterEntry], width: int) -> list[FooterEntry]:
    """``entries`` (in display order) without the least needed ones, until they fit
    ``width``; within a rank, the rightmost go first."""
    kept = list(entries)
    by_need = sorted(range(len(entries)), key=lambda i: (entries[i].rank, i), reverse=True)
    for index in by_need:
        if sum(e.width for e in kept) - 1 <= width:  # the last key needs no space after it
            break
        kept.remove(entries[index])
    return kept


class KeysFooter(Footer):
    """The footer every console screen docks at its bottom (compact; ranked; never cut)."""

    _fitted_width = 0

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)

    def rank(self, binding: Binding, own: bool) -> int:
        """How needed ``binding`` is on this screen (`OWN` ... `HERE`)."""
        action = binding.action
        if action == "toggle_pause" and getattr(self.app, "replay", None) is not None:
            return FIRST  # in a replay, `p` plays and pauses the recording
        if binding.id in LATER_IDS or action == PALETTE:
            return REST
        if own:
            return OWN
        if action in FIRST_ACTIONS or action.startswith(FIRST_PREFIXES):
            return FIRST
        match = SCREEN_ACTION.match(action)
        if match is not None:
            return HERE if self._showing(match["name"]) else SCREENS
        return REST

    def _showing(self, name: str) -> bool:
        # by name: asking the app for an installed screen would make it (and import its
        # module) although it is not on show; the app names each one it installs
        return self.screen.name == name

    def entries(self) -> list[FooterEntry]:
        """The keys this screen's live bindings show, one per action, in binding order
        (the palette last)."""
        found: dict[str, FooterEntry] = {}
        palette: FooterEntry | None = None
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if binding.action == PALETTE and self.app.ENABLE_COMMAND_PALETTE:
                palette = FooterEntry(binding, self.app.get_key_display(binding),
                                      active.enabled, active.tooltip, REST)  # fmt: skip
                continue
            if not binding.show or binding.action in found:
                continue
            found[binding.action] = FooterEntry(
                binding,
                self.app.get_key_display(binding),
                active.enabled,
                active.tooltip,
                self.rank(binding, own=active.node is not self.app),
            )
        return [*found.values(), *([palette] if palette is not None else [])]

    def compose(self) -> ComposeResult:
        """The keys that fit the width, most needed kept."""
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        self._fitted_width = width
        for entry in fitted(self.entries(), width):
            yield FooterKey(
                entry.binding.key,
                entry.key_display,
                entry.binding.description,
                entry.binding.action,
                disabled=not entry.enabled,
                tooltip=entry.tooltip or entry.binding.description,
                # born compact: the bound value arriving after mount would add the class
                # then, and restyle each key once more (16 ms of the first frame)
                classes="-compact" if self.compact else "",
            ).data_bind(compact=Footer.compact)

    async def on_resize(self, event: Resize) -> None:
        """Fit the keys to the new width."""
        if event.size.width != self._fitted_width and self._bindings_ready:
            await self.recompose()
