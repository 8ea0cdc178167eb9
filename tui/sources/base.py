"""The one protocol every data source implements, and the errors sources raise."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tui.model import Collected


class SourceUnavailable(Exception):
    """The source cannot work on this machine at all (e.g. no NVIDIA driver); say why."""


@runtime_checkable
class Source(Protocol):
    """A data source the hub polls: a name, an interval, and ``collect()``.

    ``collect`` returns what it found or raises; the hub turns an exception into an
    ``error`` status with the exception's message (``SourceUnavailable`` into
    ``unavailable``). It must not block the event loop: network I/O is async, blocking
    libraries run in a thread.
    """

    name: str
    interval: float

    async def collect(self) -> Collected:
        """Poll the external system once."""
        ...

    async def aclose(self) -> None:
        """Release connections; called once when the hub stops."""
        ...
