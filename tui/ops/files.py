"""Files that must never be seen half-written: the upstream include, acks, published alerts.

A crash (even ``kill -9``) at any point leaves the old content or the new one.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(target: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a temporary file beside ``target``, fsync it, rename it over."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def backup_path(path: str | os.PathLike[str]) -> Path:
    """Where `write_atomic` keeps the previous content: ``PATH.bak``."""
    target = Path(path)
    return target.with_name(target.name + ".bak")


def write_atomic(
    path: str | os.PathLike[str], text: str | bytes, backup: bool = False, mode: int = 0o644
) -> None:
    """Replace ``path`` with ``text``: write beside it, fsync, rename, fsync the folder.

    With ``backup`` the previous content is first kept as ``PATH.bak`` (itself replaced
    atomically, so a crash never leaves a torn backup either). Bytes are written as they
    are. The folder is created when missing; ``mode`` applies to the new file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if backup and target.exists():
        _replace(backup_path(target), target.read_bytes(), mode)
    _replace(target, text if isinstance(text, bytes) else text.encode("utf-8"), mode)
    _fsync_dir(target.parent)


def remove_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files a killed writer left beside ``path``; the ones removed."""
    target = Path(path)
    removed: list[Path] = []
    for tmp in target.parent.glob(f".{target.name}.*.tmp"):
        pid = tmp.name[len(target.name) + 2 : -len(".tmp")]
        if pid.isdigit() and _pid_alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid != 0
