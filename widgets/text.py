"""The one boundary where text from outside becomes something Rich or Textual renders.

Alert names, labels and annotations, backend names and reasons, HTTP answers, command
and container output, nginx's messages, config values: every such string passes through
here before a table, panel, notice, palette entry, modal, log, title or border shows it.
Two things happen, always both:

- control, bidi and other invisible characters are made visible
  (`tui.analysis.text.visible_controls`): no escape sequence reaches the terminal and
  no U+202E reorders what the operator reads;
- the text is never read as markup: ``[/y]`` is shown as typed and cannot crash a
  notice or the palette, ``[emerg]`` is not swallowed as a style.

Which helper depends on what the receiving API takes:

| API takes | use |
|---|---|
| a `rich.text.Text` (tables, panels, `Static`, `RichLog`, modals) | `outside` |
| a Textual `Content` (command-palette prompts) | `outside_content` |
| a plain string that is not parsed (``notify(..., markup=False)``, ``Text.append``) | `safe` |
| only a markup string (a palette hit's help line, border titles) | `literal_markup` |

Never format outside text into a markup string any other way.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.content import Content

from tui.analysis.text import visible_controls

ELLIPSIS = "…"
"""Ends a value cut to its column's width."""


def safe(value: object) -> str:
    """Outside text as a plain string with control and bidi characters made visible.

    Still plain text, not markup: hand it to `Text(...)`, ``Text.append`` or
    ``notify(..., markup=False)``; for markup-only APIs use `literal_markup`.
    """
    return visible_controls(value)


def clip(value: str, width: int | None) -> str:
    """``value`` cut to ``width`` characters, ending in ``…`` when it was longer."""
    if width is None or len(value) <= width:
        return value
    return value[: max(width - 1, 0)] + ELLIPSIS


def outside(value: object, style: str | Style = "", *, width: int | None = None) -> Text:
    """Outside text as a `Text` that shows it literally; cut to ``width`` with ``…``.

    A table cell built with a ``width`` cannot push the other columns off the screen;
    the full value belongs in a detail line.
    """
    text = Text(safe(value), style=style, no_wrap=width is not None)
    if width is not None and text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    return text


def outside_content(value: object, style: str = "") -> Content:
    """Outside text as a Textual `Content` that shows it literally."""
    return Content.styled(safe(value), style)


def literal_markup(value: object) -> str:
    """A Textual markup string that renders as `safe` ``(value)``, character for character.

    For the APIs that parse every string as markup and take nothing else. In Textual's
    content markup only an unescaped ``[`` opens a tag and ``\\[`` is a literal bracket,
    so escaping every ``[`` is enough (``textual.markup.escape`` is not: it misses
    ``[B]``, ``[/`` at the end and trailing backslashes).
    """
    return safe(value).replace("[", "\\[")
