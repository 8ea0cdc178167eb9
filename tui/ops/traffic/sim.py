"""The simulator's router, for the demo: ``GET``/``PUT {control}/weights``.

The simulated fleet splits its own (internal) load between pools by these weights, so a
rollout against the demo moves real simulated requests, errors and latencies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from tui.ops.executor import Progress
from tui.ops.traffic.weights import Applied, RouterError, check_weights, format_split


class SimRouter:
    """Splits the simulator's traffic through its control endpoint."""

    kind = "sim"

    def __init__(self, control_url: str, *, timeout_s: float = 3.0) -> None:
        """``control_url``: the simulator's control base URL (``http://127.0.0.1:18000``)."""
        self.control_url = control_url.rstrip("/")
        self.where = self.control_url + "/weights"
        self.timeout_s = timeout_s
        self._pools: tuple[str, ...] | None = None

    def _call(self, method: str, body: Any = None) -> dict[str, float]:
        import httpx  # loaded at the first request: the dashboard starts without it

        try:
            answer = httpx.request(
                method, self.where, json=body, timeout=self.timeout_s, trust_env=False
            )
        except httpx.HTTPError as exc:
            raise RouterError(
                f"sim router at {self.where}: {type(exc).__name__}: "
                f"{' '.join(str(exc).split()) or 'no answer'}"
            ) from None
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.status_code != 200 or not isinstance(data, dict):
            why = data.get("error") if isinstance(data, dict) else None
            raise RouterError(
                f"sim router refused ({answer.status_code}): {why or answer.text[:200]}"
            )
        weights = data.get("weights")
        if not isinstance(weights, dict):
            raise RouterError(f"{self.where} answered without a 'weights' mapping")
        return {str(p): float(w) for p, w in weights.items()}

    def pools(self) -> tuple[str, ...]:
        """The simulator's pools (asked once)."""
        if self._pools is None:
            self._pools = tuple(self._call("GET"))
        return self._pools

    def current(self) -> dict[str, float]:
        """``GET /weights``."""
        return self._call("GET")

    def describe(self, weights: Mapping[str, float]) -> tuple[str, ...]:
        """The exact request."""
        body = json.dumps(check_weights(weights, self.pools()))
        return (f"PUT {self.where} {body}",)

    def apply(self, weights: Mapping[str, float], progress: Progress | None = None) -> Applied:
        """``PUT /weights`` with every pool, then read it back."""
        wanted = check_weights(weights, self.pools())
        started = time.monotonic()
        self._call("PUT", wanted)
        steps = [f"PUT {self.where}: {format_split(wanted)}"]
        read = self.current()
        if any(abs(read.get(p, 0.0) - w) > 1e-6 for p, w in wanted.items()):
            raise RouterError(
                f"sim router reads back {format_split(read)}, not {format_split(wanted)}"
            )
        steps.append(f"read back: {format_split(read)}")
        if progress is not None:
            for line in steps:
                progress(line)
        return Applied(read, tuple(steps), time.monotonic() - started)
