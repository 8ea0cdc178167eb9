"""`keys:` in the config: ids of real bindings, real key names, no two on one key."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from textual.screen import Screen

import tui.screens
from tui.app import binding_ids, check_keymap, keymap_screens


def test_every_screen_with_bindings_is_checked() -> None:
    defined = {
        cls
        for info in pkgutil.iter_modules(tui.screens.__path__, "tui.screens.")
        for _, cls in inspect.getmembers(importlib.import_module(info.name), inspect.isclass)
        if issubclass(cls, Screen) and cls.__module__.startswith("tui.screens.")
        and any(getattr(b, "id", None) for b in cls.BINDINGS)
    }  # fmt: skip
    assert defined <= set(keymap_screens())
    assert {"quit", "pause", "ack", "traffic-apply", "runbook-run", "logs-close"} <= binding_ids()


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"pause": "space"},
        {"quit": "ctrl+q,f10", "help": "question_mark", "theme": "T", "rollback": "shift+f5"},
        {"pause": "t", "theme": "p"},  # a swap is not a clash
        {"unack": "x"},  # x cancels a runbook, but only on the Runbooks screen
        {"screen-runbooks": "6,f6"},
        {"table-filter": "ctrl+f", "table-sort": "ctrl+o"},
    ],
)
def test_good_keymaps_have_no_problems(keys: dict[str, str]) -> None:
    assert check_keymap(keys) == []


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"pasue": "x"},
         ("pasue", "unknown binding id 'pasue' (known: ack, alert-runbook, backend-picker-")),
        ({"pause": "spacebar"}, ("pause", "'spacebar' is not a key name (")),
        ({"pause": "ctrl+"}, ("pause", "'ctrl+' is not a key name (")),
        ({"pause": "hyperctrl+p"}, ("pause", "'hyperctrl+p' is not a key name (")),
        ({"pause": ""}, ("pause", "'' is not a key name (")),
        ({"pause": "x", "theme": "x"}, ("theme", "theme and pause are both on 'x' (overview")),
        ({"pause": "q"}, ("pause", "pause and quit are both on 'q' (overview screen)")),
        ({"ack": "p"}, ("ack", "ack and pause are both on 'p' (alerts screen)")),
        ({"screen-runbooks": "6,slash"},
         ("screen-runbooks", "screen-runbooks and table-filter are both on 'slash' (overview")),
        ({"ack": "e"},  # the detail screen has both an alert's keys and a container's
         ("ack", "ack and container-restart are both on 'e' (detail screen)")),
        ({"runbook-run": "d"}, ("runbook-run", "runbook-run and runbook-dry-run are both on 'd'")),
    ],
)  # fmt: skip
def test_bad_keymaps_are_reported_by_binding_id(
    keys: dict[str, str], problem: tuple[str, str]
) -> None:
    problems = check_keymap(keys)
    assert problems, keys
    binding_id, message = problems[0]
    assert (binding_id, message[: len(problem[1])]) == problem, message
