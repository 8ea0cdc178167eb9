"""How a widget tells which of its sources is in trouble, on its border."""

from __future__ import annotations

from tui.model import SourceState, SourceStatus
from widgets.format import age
from widgets.text import clip, literal_markup, safe


def worst_status(statuses: list[SourceStatus]) -> SourceStatus | None:
    """The status that most needs saying: error over unavailable over stale over ok."""
    order = {
        SourceState.OK: 0,
        SourceState.PENDING: 1,
        SourceState.STALE: 2,
        SourceState.UNAVAILABLE: 3,
        SourceState.ERROR: 4,
    }
    return max(statuses, key=lambda s: order[s.state], default=None)


def describe_status(status: SourceStatus | None, now: float) -> str:
    """A border subtitle: ``scrape ok``, ``prometheus STALE 12s``, ``nvml ERROR: ...``."""
    if status is None:
        return ""
    if status.state is SourceState.OK:
        return f"{status.name} ok"
    if status.state is SourceState.STALE:
        stale_for = now - status.last_ok if status.last_ok is not None else None
        return f"{status.name} STALE {age(stale_for)}"
    if status.state is SourceState.PENDING:
        return f"{status.name} connecting…"
    # a border title is parsed as markup: the source's message must stay literal
    message = literal_markup(clip(safe(status.message), 60))
    return f"{status.name} {status.state.value.upper()}: {message}"
