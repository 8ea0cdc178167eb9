"""The traffic router's current split, as a source: the upstream file (nginx) or the sim."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from tui.model import Collected


class RouterSource:
    """Reads the split through ``current()`` (blocking; run in a thread) once per interval."""

    def __init__(
        self, current: Callable[[], Mapping[str, float]], *, interval: float = 2.0,
        name: str = "router",
    ) -> None:  # fmt: skip
        self.name = name
        self.interval = interval
        self._current = current

    async def collect(self) -> Collected:
        """The split now, in percent per pool."""
        weights = await asyncio.to_thread(self._current)
        return Collected(weights={str(k): float(v) for k, v in weights.items()})

    async def aclose(self) -> None:
        """Nothing to release."""
