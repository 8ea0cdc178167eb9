"""The escaping boundary itself: visible controls and bidi, literal markup, cut values."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.content import Content

from tui.analysis.text import visible_controls
from tui.commands.common import say, terminal_safe
from widgets.text import clip, literal_markup, outside, safe

MARKUPISH = st.text(st.sampled_from(list("[]/\\=@$#bBx \x1b\u202e")), max_size=30)


def test_controls_bidi_and_c1_are_shown_not_obeyed() -> None:
    assert visible_controls("a\x1b[2Jb\x07") == "a␛[2Jb␇"
    assert visible_controls("\u202egnp.exe") == "<U+202E>gnp.exe"
    assert visible_controls("\x9b2J\u2066\u200b\u2028") == "<U+009B>2J<U+2066><U+200B><U+2028>"
    assert visible_controls("[bold]ünï 漢字 ✓") == "[bold]ünï 漢字 ✓"  # printable text as is


@settings(max_examples=500, deadline=None)
@given(st.one_of(MARKUPISH, st.text(max_size=40)))
def test_literal_markup_renders_exactly_the_safe_text(value: str) -> None:
    assert Content.from_markup(literal_markup(value)).plain == safe(value)
    assert all(c.isprintable() for c in safe(value))


def test_long_values_are_cut_with_an_ellipsis() -> None:
    assert clip("x" * 10, 4) == "xxx…" and clip("abc", 4) == "abc"
    cell = outside("y" * 10_000, width=40)
    assert cell.cell_len == 40 and cell.plain.endswith("…")
    assert outside("[/y]").plain == "[/y]"


def test_commands_print_every_line_made_safe() -> None:
    out = io.StringIO()
    say("first \x1b]52;c;SGVsbG8=\x07\nsecond \u202e", file=out)
    assert out.getvalue() == "first ␛]52;c;SGVsbG8=␇\nsecond <U+202E>\n"
    assert terminal_safe("a\nb") == "a␊b"
