"""Find the machine's own binaries the lab runs, naming the Debian package when one is missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

PACKAGES: dict[str, str] = {
    "nginx": "nginx-light",
    "prometheus": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "promtool": "prometheus",
    "amtool": "prometheus-alertmanager",
    "podman": "podman",
    "runc": "runc",
    "busybox": "busybox-static",
}
"""Binary → the Debian package that provides it."""


class MissingBinary(Exception):
    """One or more binaries are not installed; the message is one line naming the packages."""

    def __init__(self, binaries: list[str]) -> None:
        self.binaries = binaries
        self.packages = list(dict.fromkeys(PACKAGES.get(b, b) for b in binaries))
        names = ", ".join(binaries)
        verb = "is" if len(binaries) == 1 else "are"
        noun = "package" if len(self.packages) == 1 else "packages"
        pkgs = " ".join(self.packages)
        super().__init__(
            f"{names} {verb} not installed: install the Debian {noun} {pkgs} "
            f"(apt-get install -y --no-install-recommends {pkgs})"
        )


def search_path(path: str | None = None) -> str:
    """``$PATH`` plus the ``sbin`` sibling of each ``bin`` directory in it.

    Debian keeps nginx in ``/usr/sbin``, which an ordinary user's ``PATH`` lacks; a ``PATH``
    without any ``bin`` directory (as a test sets up) gets no additions.
    """
    dirs = [d for d in (os.environ.get("PATH", "") if path is None else path).split(os.pathsep)]
    extra = [str(Path(d).parent / "sbin") for d in dirs if d and Path(d).name == "bin"]
    return os.pathsep.join(dict.fromkeys([*dirs, *extra]))


def find(binary: str, path: str | None = None) -> str | None:
    """The full path of ``binary`` on `search_path`, or None."""
    return shutil.which(binary, path=search_path(path))


def require(binaries: Iterable[str], path: str | None = None) -> dict[str, str]:
    """Every binary's full path; `MissingBinary` naming all the missing ones otherwise."""
    found: dict[str, str] = {}
    missing: list[str] = []
    for binary in binaries:
        where = find(binary, path)
        if where is None:
            missing.append(binary)
        else:
            found[binary] = where
    if missing:
        raise MissingBinary(missing)
    return found
