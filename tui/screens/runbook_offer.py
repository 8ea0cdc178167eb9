"""Alert → runbook from any screen: ask, then start it on the Runbooks screen.

The Alerts and Incidents screens call `offer_runbook` with the alert's name and labels:
a confirmation ("Run runbook NAME for ALERT?"), then the Runbooks screen comes up and
starts the runbook with its inputs taken from the labels (`inputs_for_alert`), so the
operator lands on step 1's own confirmation. No runbook, no library, read-only: a notice
says why, and nothing runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import App

from tui.ops.executor import Plan
from tui.ops.runbooks.links import inputs_for_alert
from tui.ops.runbooks.model import RunbookError
from tui.screens.confirm import ConfirmScreen
from widgets.text import safe


def offer_runbook(
    app: App[Any], runbook: str | None, alert: str, labels: Mapping[str, str]
) -> None:
    """Offer ``runbook`` for the alert called ``alert`` (with ``labels``) and run it if the
    operator confirms."""
    if not app.check_action("run_runbook", ()):
        app.refuse("run_runbook")  # type: ignore[attr-defined]
        return
    if runbook is None:
        app.notify(safe(f"No runbook for {alert}"), title="runbook", severity="warning",
                   markup=False)  # fmt: skip
        return
    library = getattr(getattr(app, "ops", None), "runbooks", None)
    if library is None:
        app.notify("No runbooks loaded", severity="warning")
        return
    try:
        book = library.get(runbook)
    except RunbookError as exc:
        app.notify(safe(str(exc)), title="runbook", severity="warning", markup=False)
        return
    given = inputs_for_alert(book, labels)
    lines = [safe(book.title), *(f"{key} = {value}" for key, value in given.items())]
    lines.append("Each step asks first, on the Runbooks screen.")
    plan = Plan(f"Run runbook {runbook} for {alert}?", tuple(lines))

    def confirmed(ok: bool | None) -> None:
        if not ok:
            return
        app.action_show_screen("runbooks")  # type: ignore[attr-defined]
        app.get_screen("runbooks").start(runbook, given)  # type: ignore[attr-defined]

    app.push_screen(ConfirmScreen(plan), confirmed)
