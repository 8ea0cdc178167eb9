"""Who is acting: ``$USER@host``, plus the SSH client's address when there is one."""

from __future__ import annotations

import getpass
import os
import socket


def current_actor(environ: dict[str, str] | None = None) -> str:
    """``alice@bastion`` or ``alice@bastion (ssh from 10.1.2.3)`` for the audit log."""
    env = os.environ if environ is None else environ
    user = env.get("USER") or env.get("LOGNAME")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    actor = f"{user}@{socket.gethostname()}"
    ssh = env.get("SSH_CLIENT") or env.get("SSH_CONNECTION")
    if ssh:
        actor += f" (ssh from {ssh.split()[0]})"
    return actor
