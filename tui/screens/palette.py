"""The command palette's provider: every action and every runbook, searchable.

Commands about what the current screen shows come first (acks on the Alerts screen,
runbooks on the Runbooks screen); actions that cannot run now (read-only, nothing
configured) are not offered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from widgets.text import clip, literal_markup, outside_content, safe

Command = tuple[str, Callable[[], Any], str]
"""(text shown, what it does, help line), both as plain text: alert names, summaries,
runbook titles and pool names come from outside and are never read as markup."""


def highlighted(matcher: Matcher, text: str) -> Content:
    """``text`` shown literally, with the characters the query matched highlighted.

    `Matcher.highlight` parses its candidate as markup (an alert named ``[/y]`` would
    crash the palette); this matches the same plain text and styles the same offsets.
    """
    content = outside_content(text)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, content.plain)
    for offset in offsets:
        if not content.plain[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class InferdeckCommands(Provider):
    """Screens, traffic actions, acknowledgements and runbooks."""

    def _commands(self) -> Iterator[Command]:
        app: Any = self.app
        ops = getattr(app, "ops", None)
        can_change = app.check_action("rollback", ())
        screen = type(app.screen).__name__
        contextual: list[Command] = []
        general: list[Command] = []
        for name, label in (("overview", "Overview"), ("gpus", "GPUs"), ("backends", "Backends"),
                            ("alerts", "Alerts"), ("traffic", "Traffic"),
                            ("runbooks", "Runbooks"), ("containers", "Containers"),
                            ("incidents", "Incidents"),
                            ("slo", "SLOs"), ("capacity", "Capacity"),
                            ("models", "Models")):  # fmt: skip
            general.append((f"Go to {label}", partial(app.action_show_screen, name),
                            f"Show the {label} screen"))  # fmt: skip
        general.append(("Pause / resume updates", app.action_toggle_pause, "Freeze the view"))
        for name in getattr(app, "contexts", ()):
            if name != getattr(app, "context", None):
                general.append((f"Switch context: {name}", partial(app.switch_context, name),
                                "Watch this environment of the config instead"))  # fmt: skip
        general.append(("Next theme", app.action_next_theme, "Dark, light, high contrast"))
        if ops is not None and can_change and ops.rollback is not None:
            general.append(("Roll back to the stable pool", app.action_rollback,
                            f"{safe(ops.stable_pool)} to 100% at once (asks first)"))  # fmt: skip
        if ops is not None and can_change and ops.rollback_and_stop is not None:
            what = (f"{safe(ops.stable_pool)} to 100%, then stop {safe(ops.canary_pool)}'s "
                    "containers")  # fmt: skip
            general.append(("Roll back and stop the canary's containers",
                            partial(app.offer, ops.rollback_and_stop), what))  # fmt: skip
        latest = getattr(app, "latest", None)
        if ops is not None and can_change and latest is not None and ops.ack is not None:
            for alert in latest.alerts:
                verb, factory = ("Un-acknowledge", ops.unack) if alert.acknowledged_by else (
                    "Acknowledge", ops.ack)  # fmt: skip
                if factory is None:
                    continue
                make = (partial(factory, alert) if verb == "Un-acknowledge"
                        else partial(factory, alert, "", None))  # fmt: skip
                target = contextual if screen == "AlertsScreen" else general
                target.append(
                    (
                        f"{verb} {clip(safe(alert.name), 60)} ({alert.fingerprint[:8]})",
                        partial(app.offer, make),
                        clip(safe(alert.summary), 120),
                    )
                )
        library = getattr(ops, "runbooks", None)
        if library is not None:
            for entry in library.entries():
                target = contextual if screen == "RunbooksScreen" else general
                book = entry.runbook
                target.append((f"Runbook: {safe(book.title)}",
                               partial(self._open_runbook, entry.name),
                               f"{safe(entry.name)}: open it on the Runbooks screen"))  # fmt: skip
        pilot = getattr(ops, "autopilot", None)
        if pilot is not None and can_change:
            for proposal in pilot.proposals[:1]:
                target = contextual if screen in ("AlertsScreen", "IncidentsScreen") else general
                target.append((f"Apply: {proposal.line()}", app.action_apply_proposal,
                               safe(proposal.reason)))  # fmt: skip
        if ops is not None and can_change:
            for name in app.loadtest_names():
                what = "run the scenario against the config's target (asks first)"
                general.append((f"Load test: {name}", partial(app.start_loadtest, name), what))
        if getattr(app, "_drill_stop", None) is not None:
            general.insert(0, ("Stop the load test", app.action_stop_loadtest, "at once"))
        yield from contextual
        yield from general

    def _open_runbook(self, name: str) -> None:
        app: Any = self.app
        app.action_show_screen("runbooks")
        screen = app.screen
        table = screen.query_one("#runbook-list")
        if name in {k.value for k in table.rows}:
            table.move_cursor(row=table.get_row_index(name))

    async def discover(self) -> Hits:
        """Everything, before the operator types."""
        for text, run, help_text in self._commands():
            yield DiscoveryHit(outside_content(text), run, text=text,
                               help=literal_markup(help_text))  # fmt: skip

    async def search(self, query: str) -> Hits:
        """Fuzzy-matched commands."""
        matcher = self.matcher(query)
        for text, run, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, highlighted(matcher, text), run, text=text,
                          help=literal_markup(help_text))  # fmt: skip
