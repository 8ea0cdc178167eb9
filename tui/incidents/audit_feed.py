"""Reading the audit log incrementally: the records appended since the last read.

The audit log (`tui.ops.audit`) is append-only JSON lines. A reading position is the
file's identity (device, inode) and a byte offset; only whole lines are consumed, so a
record still being written is read next time. A log replaced by another file (another
inode, or shorter than the offset) is read again from its start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_READ = 4 << 20
"""At most this many bytes per read, so a huge backlog is taken in steps."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where reading stopped: which file, and how far into it."""

    device: int = 0
    inode: int = 0
    offset: int = 0

    def dumps(self) -> str:
        """As text, for the store's cursors table."""
        return f"{self.device}:{self.inode}:{self.offset}"

    @classmethod
    def loads(cls, text: str | None) -> Position:
        """From `dumps` text; the start of no file for None or garbage."""
        try:
            device, inode, offset = (int(x) for x in (text or "").split(":"))
        except ValueError:
            return cls()
        return cls(device, inode, offset)


def read_new(path: Path, position: Position) -> tuple[list[dict[str, Any]], Position]:
    """The records after ``position`` and the position after them.

    A missing file reads as nothing; a torn or foreign line is skipped. (One ``stat``
    when nothing was added: the flight recorder asks once a second.)
    """
    try:
        st = os.stat(path)
    except OSError:
        return [], position
    if (st.st_dev, st.st_ino, st.st_size) == (position.device, position.inode, position.offset):
        return [], position
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return [], position
    try:
        st = os.fstat(fd)
        same = (st.st_dev, st.st_ino) == (position.device, position.inode)
        offset = position.offset if same and st.st_size >= position.offset else 0
        data = os.pread(fd, min(MAX_READ, max(0, st.st_size - offset)), offset)
    finally:
        os.close(fd)
    end = data.rfind(b"\n") + 1  # only whole lines
    records = []
    for line in data[:end].splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records, Position(st.st_dev, st.st_ino, offset + end)
