"""Where the action lock and the audit trail live: one of each per machine.

Every user's inferdecks on one machine must see the same lock (so two people cannot act
at once) and write the same audit trail. The default is the shared folder
``/var/lib/inferdeck`` (``$INFERDECK_SHARED_DIR`` names another — tests use it), used
when it exists and this user may write there and to the files in it; an administrator
creates it once, e.g. ``install -d -m 2770 -g oncall /var/lib/inferdeck``, and the files
inferdeck creates there are group-writable. inferdeck never creates the shared folder
itself. When it cannot be used, the lock and the trail fall back to the user's state
folder and `Places.note` says so (the CLI prints it on stderr, the TUI shows a notice).
The config's ``lock_file`` and ``audit_log`` name a place explicitly and win; without a
shared folder the lock sits beside the audit log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui.ops.audit import state_dir_of

if TYPE_CHECKING:
    from tui.config import Config

SHARED_DIR = Path("/var/lib/inferdeck")
SHARED_DIR_ENV = "INFERDECK_SHARED_DIR"
AUDIT_NAME = "audit.jsonl"
LOCK_NAME = "mutation.lock"


@dataclass(frozen=True, slots=True)
class Places:
    """The audit log and the lock file to use, and a note when they are not shared."""

    audit: Path
    lock: Path
    shared: bool
    note: str | None = None


def shared_dir(environ: dict[str, str] | None = None) -> Path:
    """``$INFERDECK_SHARED_DIR``, else ``/var/lib/inferdeck``."""
    env = os.environ if environ is None else environ
    return Path(env[SHARED_DIR_ENV]).expanduser() if env.get(SHARED_DIR_ENV) else SHARED_DIR


def usable(folder: Path) -> bool:
    """The folder exists, and this user may create files there and write the ones in it."""
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return False
    for name in (AUDIT_NAME, LOCK_NAME):
        existing = folder / name
        if existing.exists() and not os.access(existing, os.R_OK | os.W_OK):
            return False
    return True


def places_for(config: Config | None, environ: dict[str, str] | None = None) -> Places:
    """The lock and the audit log for ``config`` (see the module's docstring)."""
    audit_set = config.audit_log if config is not None else None
    lock_set = config.lock_file if config is not None else None
    shared = shared_dir(environ)
    is_shared = usable(shared)
    base = shared if is_shared else state_dir_of(config)
    audit = Path(audit_set).expanduser() if audit_set else base / AUDIT_NAME
    if lock_set:
        lock = Path(lock_set).expanduser()
    else:  # not shared: beside the audit log, as before there was a shared folder
        lock = base / LOCK_NAME if is_shared else audit.with_name(LOCK_NAME)
    fell = [what for what, named in (("action lock", lock_set), ("audit log", audit_set))
            if not named]  # fmt: skip
    note = None
    if fell and not is_shared:
        things = "the " + " and the ".join(fell)
        note = (
            f"{shared} is not a folder this user can write to: {things} "
            f"{'are' if len(fell) > 1 else 'is'} this user's own, in {base} (other users' "
            f"inferdecks are not seen); create {shared} writable by the on-call group to share"
        )
    return Places(audit, lock, is_shared, note)
