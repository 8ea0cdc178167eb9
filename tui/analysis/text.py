"""Text from outside (labels, names, log lines) made harmless for a terminal.

The Textual-free core of the one escaping boundary: the command line prints through
`visible_controls` (``tui.commands.common.terminal_safe``), and the UI builds every
renderable of outside text through ``widgets.text``, which starts from it.
"""

from __future__ import annotations


def visible_controls(value: object) -> str:
    """``value`` as text with every invisible or terminal-controlling character made visible.

    Escape, bell, backspace and the other C0 controls become ``␛``, ``␇``, ``␈``..., DEL
    becomes ``␡``; C1 controls (``\\x9b`` is a CSI on some terminals), bidi overrides and
    isolates (U+202E reverses what follows), zero-width and other format characters,
    line separators and surrogates become their code point, ``<U+202E>``. A hostile
    string is shown literally and changes nothing on the operator's terminal; printable
    text, markup-like brackets included, is left exactly as it was.
    """
    out = []
    for ch in str(value):
        code = ord(ch)
        if code < 0x20:
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("\u2421")
        elif not ch.isprintable():
            out.append(f"<U+{code:04X}>")
        else:
            out.append(ch)
    return "".join(out)


def shown(value: object) -> str:
    """A value from outside, quoted and made inert: control characters escaped.

    ``$(touch x)`` stays as typed (it is only ever data), ``\\x1b[31m`` becomes the four
    characters ``\\x1b`` followed by ``[31m``. Rich markup must still be rendered as plain
    text by the UI (``Text(...)``, never ``from_markup``).
    """
    out = ['"']
    for ch in str(value):
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    out.append('"')
    return "".join(out)


def inert(value: object) -> str:
    """``value`` as it is when every character is printable, else `shown` (quoted)."""
    text = str(value)
    return text if text.isprintable() else shown(text)
