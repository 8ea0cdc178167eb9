"""A guard against a Textual timer that never ends (Textual 8.2.8, pinned).

`MessagePump.set_timer` makes a one-shot `textual.timer.Timer` that skips missed ticks.
Given a negative delay, its skip arithmetic counts backwards and the timer loops forever
without yielding: the event loop spins at 100% of a core and the screen freezes. A
toast gets such a delay when it is mounted just after its notification expired (`Toast`
takes `Notification.time_left`, checked a moment earlier) — a race a loaded machine
wins now and then, and a frozen on-call console is the worst way to lose it.

`never_negative_timers()` makes every timer's interval at least `SHORTEST_S`: a timer
due in the past fires at once, as was meant.
"""

from __future__ import annotations

import functools
from typing import Any

from textual.timer import Timer

SHORTEST_S = 0.001
"""The shortest interval a timer is given (seconds)."""


def never_negative_timers() -> None:
    """Clamp every Textual timer's interval to at least `SHORTEST_S` (once; idempotent)."""
    original = Timer.__init__
    if getattr(original, "clamped", False):
        return

    @functools.wraps(original)
    def clamped(self: Timer, event_target: Any, interval: float, *args: Any, **kwargs: Any) -> None:
        original(self, event_target, max(interval, SHORTEST_S), *args, **kwargs)

    clamped.clamped = True  # type: ignore[attr-defined]
    Timer.__init__ = clamped  # type: ignore[method-assign]
