"""The load generator: a seeded arrival process, fed to the engines or sent over HTTP.

``ArrivalProcess`` draws a non-homogeneous Poisson process (the configured rate with a
sinusoidal "diurnal" swing, by thinning) and each request's size. The fleet consumes it in
virtual time when the load is internal (``SimFleet.advance`` splits arrivals by the router's
weights). ``HttpLoadGenerator`` consumes the same process in real time and POSTs each request
to ``load_target`` (e.g. nginx in the lab), so the router there decides the split; it bounds
concurrency and counts successes and failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when HTTP load runs: the in-process demo fleet never needs it
    import aiohttp

MAX_TOKENS_CHOICES: tuple[int, ...] = (256, 512, 512, 1024)
"""``max_tokens`` values clients send (some requests therefore stop on ``length``)."""


@dataclass(frozen=True)
class Arrival:
    """One request arriving at virtual time ``at``."""

    at: float
    prompt_tokens: int
    max_tokens: int
    handler: str  # "/v1/chat/completions" or "/v1/completions"


class ArrivalProcess:
    """Seeded arrivals at ``rps * (1 + amplitude * sin(2 pi t / period))`` per second."""

    def __init__(self, rps: float, amplitude: float, period_s: float, seed: int) -> None:
        self.rps = rps
        self.amplitude = amplitude
        self.period_s = period_s
        self.rng = random.Random(f"arrivals-{seed}")
        self._t = 0.0
        self._next: Arrival | None = None

    def rate(self, t: float) -> float:
        """Arrivals per second at virtual time ``t``."""
        return self.rps * (1.0 + self.amplitude * math.sin(2.0 * math.pi * t / self.period_s))

    def _draw(self) -> Arrival | None:
        peak = self.rps * (1.0 + self.amplitude)
        if peak <= 0:
            return None
        while True:
            self._t += self.rng.expovariate(peak)
            if self.rng.random() * peak <= self.rate(self._t):
                break
        prompt = int(min(2000.0, max(20.0, self.rng.lognormvariate(5.5, 0.6))))
        max_tokens = self.rng.choice(MAX_TOKENS_CHOICES)
        handler = "/v1/completions" if self.rng.random() < 0.2 else "/v1/chat/completions"
        return Arrival(self._t, prompt, max_tokens, handler)

    def until(self, t: float) -> list[Arrival]:
        """Every arrival with time <= ``t`` not returned before, in order."""
        out: list[Arrival] = []
        while True:
            if self._next is None:
                self._next = self._draw()
                if self._next is None:
                    return out
            if self._next.at > t:
                return out
            out.append(self._next)
            self._next = None


def prompt_text(tokens: int) -> str:
    """A filler prompt of roughly ``tokens`` tokens (the sim counts 4 characters a token)."""
    return ("lorem ipsum " * (tokens // 3 + 1))[: tokens * 4]


@dataclass
class LoadCounts:
    """What the HTTP load generator saw."""

    sent: int = 0
    ok: int = 0
    failed: int = 0
    dropped: int = 0  # not sent because the concurrency bound was reached

    def as_dict(self) -> dict[str, int]:
        """A JSON-able copy."""
        return {"sent": self.sent, "ok": self.ok, "failed": self.failed, "dropped": self.dropped}


class HttpLoadGenerator:
    """Sends the arrival process as real HTTP requests to ``target`` (a base URL)."""

    def __init__(
        self,
        target: str,
        process: ArrivalProcess,
        model: str,
        max_concurrency: int = 256,
        timeout_s: float = 120.0,
    ) -> None:
        self.target = target.rstrip("/")
        self.process = process
        self.model = model
        self.max_concurrency = max_concurrency
        self.timeout_s = timeout_s
        self.counts = LoadCounts()
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Send requests until cancelled (then cancels what is still in flight)."""
        import aiohttp

        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        connector = aiohttp.TCPConnector(limit=self.max_concurrency)
        start = time.monotonic()
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            try:
                while True:
                    now = time.monotonic() - start
                    for arrival in self.process.until(now):
                        self._launch(session, arrival)
                    await asyncio.sleep(0.02)
            finally:
                for task in list(self._in_flight):
                    task.cancel()
                for task in list(self._in_flight):
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    def _launch(self, session: aiohttp.ClientSession, arrival: Arrival) -> None:
        if len(self._in_flight) >= self.max_concurrency:
            self.counts.dropped += 1
            return
        task = asyncio.create_task(self._send(session, arrival))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _send(self, session: aiohttp.ClientSession, arrival: Arrival) -> None:
        text = prompt_text(arrival.prompt_tokens)
        body: dict[str, object] = {"model": self.model, "max_tokens": arrival.max_tokens}
        if arrival.handler == "/v1/completions":
            body["prompt"] = text
        else:
            body["messages"] = [{"role": "user", "content": text}]
        self.counts.sent += 1
        from aiohttp import ClientError

        try:
            async with session.post(self.target + arrival.handler, json=body) as resp:
                await resp.read()
                if resp.status < 400:
                    self.counts.ok += 1
                else:
                    self.counts.failed += 1
        except (ClientError, TimeoutError, OSError):
            self.counts.failed += 1
