"""Text from outside (labels, names, log lines) made harmless for a terminal."""

from __future__ import annotations


def visible_controls(value: object) -> str:
    """``value`` as text with control characters shown as Unicode control pictures.

    Escape, bell, backspace and the rest become ``␛``, ``␇``, ``␈``..., DEL becomes ``␡``
    and other non-printable characters ``�``: a hostile string is shown literally and
    changes nothing on the operator's terminal.
    """
    out = []
    for ch in str(value):
        code = ord(ch)
        if code < 0x20:
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("\u2421")
        elif not ch.isprintable():
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)
