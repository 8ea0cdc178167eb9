"""``{input}`` placeholders in runbook values: parsing, checking and substitution.

A placeholder is ``{name}`` where ``name`` is a declared input (a Python identifier), or
``{group.field}``, one of the context placeholders the runner fills from the config and
the selected backend (`tui.ops.runbooks.context`); ``{{`` and ``}}`` are literal braces.
Anything else with a brace (``{x!r}``, ``{ x }``, a lone ``{``) is a bad placeholder.
Substitution only ever produces one string from one string: an argv element stays
exactly one argv element, whatever the value holds.
A shell script (``shell: true``) is never substituted; `shell_placeholders` finds the
``{name}`` tokens that would wrongly expect it, so loading can refuse them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?"
_IN_SHELL = re.compile(rf"(?<!\$)\{{{_NAME}\}}")
_TOKEN = re.compile(rf"\{{\{{|\}}\}}|\{{({_NAME})\}}|[{{}}]")


class PlaceholderError(ValueError):
    """A malformed or unknown placeholder; the message says which and why."""


def placeholders(text: str) -> tuple[str, ...]:
    """The input names used in ``text``, in order; `PlaceholderError` on a bad brace."""
    names: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is None:
            raise PlaceholderError(
                f"bad placeholder in {text!r} at character {match.start() + 1}: write {{name}}"
                " with a declared input's name, or {{ and }} for literal braces"
            )
        names.append(match.group(1))
    return tuple(names)


def check(text: str, known: Mapping[str, object] | set[str] | frozenset[str]) -> tuple[str, ...]:
    """Like `placeholders`, and every name must be one of ``known``."""
    names = placeholders(text)
    for name in names:
        if name not in known:
            inputs = ", ".join(sorted(k for k in known if "." not in k)) or "none"
            context = ", ".join(sorted(k for k in known if "." in k))
            raise PlaceholderError(
                f"unknown placeholder {{{name}}} in {text!r} (declared inputs: {inputs}"
                + (f"; context: {context})" if context else ")")
            )
    return names


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` replaced by ``values[name]``, braces unescaped."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        if name is None or name not in values:
            raise PlaceholderError(f"no value for placeholder {token!r} in {text!r}")
        return values[name]

    return _TOKEN.sub(one, text)


def has_placeholder(text: str) -> bool:
    """True when ``text`` holds at least one ``{name}`` (escaped braces do not count)."""
    try:
        return bool(placeholders(text))
    except PlaceholderError:
        return True


def shell_placeholders(script: str) -> tuple[str, ...]:
    """``{name}`` tokens in a shell script (never substituted there, so refused at load).

    Shell syntax stays allowed: ``${VAR}``, brace groups ``{ cmd; }``, ``{{ .Go }}``.
    """
    return tuple(m.group(0) for m in _IN_SHELL.finditer(script))
