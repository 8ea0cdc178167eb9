"""The simulator's router: the demo's traffic split, read from the sim's control endpoint."""

from __future__ import annotations

import httpx

from tui.model import Collected


class SimControlSource:
    """Reads ``GET {control}/state`` for the pools' traffic weights (percent)."""

    def __init__(
        self,
        control_url: str,
        *,
        interval: float = 1.0,
        timeout_s: float = 2.0,
        name: str = "sim-router",
    ) -> None:
        self.name = name
        self.interval = interval
        self._url = control_url.rstrip("/") + "/state"
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def collect(self) -> Collected:
        """One read of the router's weights."""
        response = await self._client.get(self._url)
        response.raise_for_status()
        state = response.json()
        weights = state.get("weights") if isinstance(state, dict) else None
        if not isinstance(weights, dict):
            raise ValueError(f"{self._url} answered without a 'weights' mapping")
        return Collected(weights={str(k): float(v) for k, v in weights.items()})

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.aclose()
