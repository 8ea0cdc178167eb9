"""The queueing model of one vLLM engine, advanced in explicit virtual time.

A request waits in a FIFO queue until the scheduler admits it: admission needs a free batch
slot (``max_num_seqs``), room in the KV cache for its prompt, and room in the iteration's
token budget. The engine then runs iterations back to back while anything is running. One
iteration prefills the newly admitted requests (each yields its first token) and decodes one
token for every other running request; it lasts
``(step_base + step_per_seq * batch + prefill_per_token * prefill_tokens) * slowdown``,
so TTFT = queue time + prefill and inter-token latency grows with the batch. Every running
request holds KV blocks for its prompt and generated tokens; when a step would not fit, the
most recently admitted request is preempted (its blocks freed, it returns to the head of the
queue and is recomputed later), counted in ``num_preemptions``.

Nothing here reads a clock or does I/O: ``step(dt)`` moves virtual time, so a run is a pure
function of the seed and the calls made.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tui.sim.stats import Hist, family_buckets

FINISH_REASONS: tuple[str, ...] = ("stop", "length", "abort", "error", "repetition")
"""The ``finished_reason`` values an engine counts (``error`` and ``repetition`` only show in
newer releases; the simulated model never stops on repetition, so that one stays 0)."""


@dataclass(frozen=True)
class EngineParams:
    """Capacity and speed of one engine (an 8B model on one H100, roughly)."""

    max_num_seqs: int = 64
    block_size: int = 16
    num_gpu_blocks: int = 2048
    max_model_len: int = 8192
    max_num_batched_tokens: int = 8192
    step_base_s: float = 0.008
    step_per_seq_s: float = 0.0002
    prefill_per_token_s: float = 0.00004
    gpu_memory_utilization: float = 0.9
    prefix_hit_ratio: float = 0.25  # mean share of a prompt found in the prefix cache
    watermark_blocks: int = 20  # blocks kept free at admission so running requests can grow


@dataclass(eq=False)
class Request:
    """A request inside the engine, and the handle its submitter awaits.

    Times are engine (virtual) seconds. ``listeners`` are called on every progress (new
    tokens) and once more when the request finishes.
    """

    id: int
    prompt_tokens: int
    max_tokens: int
    target_tokens: int
    arrival: float
    scheduled_at: float | None = None
    first_token_at: float | None = None
    finished_at: float | None = None
    generated: int = 0
    finish_reason: str | None = None
    cached_tokens: int = 0
    preemptions: int = 0
    listeners: list[Callable[[Request], None]] = field(default_factory=list)
    _prefilled: bool = False  # KV currently holds its tokens

    @property
    def done(self) -> bool:
        """Whether the request has finished (any reason)."""
        return self.finish_reason is not None

    @property
    def ttft(self) -> float | None:
        """Time to first token, seconds."""
        return None if self.first_token_at is None else self.first_token_at - self.arrival

    @property
    def queue_time(self) -> float | None:
        """Seconds spent waiting before first being scheduled."""
        return None if self.scheduled_at is None else self.scheduled_at - self.arrival

    @property
    def e2e(self) -> float | None:
        """End-to-end latency, seconds."""
        return None if self.finished_at is None else self.finished_at - self.arrival

    def add_listener(self, callback: Callable[[Request], None]) -> None:
        """Call ``callback(self)`` on progress and on completion."""
        self.listeners.append(callback)

    async def wait(self) -> Request:
        """Wait (in the loop that advances the engine) until the request finishes."""
        if self.done:
            return self
        future: asyncio.Future[Request] = asyncio.get_running_loop().create_future()

        def _on_progress(req: Request) -> None:
            if req.done and not future.done():
                future.set_result(req)

        self.add_listener(_on_progress)
        return await future

    def _notify(self) -> None:
        for callback in list(self.listeners):
            callback(self)


class EngineStats:
    """Cumulative counters and histograms, exactly what vLLM's metrics expose.

    ``buckets`` overrides bucket families as vLLM's ``--custom-histogram-buckets`` does
    (family -> bounds); the rest keep vLLM's defaults.
    """

    def __init__(
        self, max_model_len: int, buckets: Mapping[str, Sequence[float]] | None = None
    ) -> None:
        def family(name: str) -> tuple[float, ...]:
            return family_buckets(name, max_model_len, buckets)

        latency = family("request_latency")
        itl = family("inter_token_latency")
        lengths = family("request_tokens")
        self.ttft = Hist(family("time_to_first_token"))
        self.inter_token = Hist(itl)
        self.time_per_output_token_request = Hist(itl)
        self.e2e = Hist(latency)
        self.queue = Hist(latency)
        self.inference = Hist(latency)
        self.prefill = Hist(latency)
        self.decode = Hist(latency)
        self.iteration_tokens = Hist(family("iteration_tokens"))
        self.params_n = Hist(family("request_params_n"))
        self.request_num_preemptions = Hist(family("request_num_preemptions"))
        self.request_prompt_tokens = Hist(lengths)
        self.request_generation_tokens = Hist(lengths)
        self.request_max_num_generation_tokens = Hist(lengths)
        self.request_params_max_tokens = Hist(lengths)
        self.request_prefill_kv_computed = Hist(lengths)
        self.prompt_tokens = 0
        self.prompt_tokens_cached = 0  # of prompt_tokens, found in the (local) prefix cache
        self.generation_tokens = 0
        self.preemptions = 0
        self.success: dict[str, int] = dict.fromkeys(FINISH_REASONS, 0)
        self.prefix_queries = 0
        self.prefix_hits = 0
        self.busy_s = 0.0  # virtual seconds spent running iterations
        self.batch_s = 0.0  # integral of batch size over busy time


@dataclass
class _Iteration:
    start: float
    end: float
    count: int  # identical iterations run back to back (no admission in between)
    step_s: float
    batch: list[Request]
    prefill: list[Request]


class Engine:
    """One engine: waiting queue, running batch, KV cache, iterations in virtual time."""

    def __init__(
        self,
        params: EngineParams | None = None,
        seed: int = 0,
        buckets: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        """``buckets``: vLLM bucket families overridden (see `EngineStats`)."""
        self.params = params or EngineParams()
        self.rng = random.Random(seed)
        self.now = 0.0
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []
        self.stats = EngineStats(self.params.max_model_len, buckets)
        self.slowdown = 1.0  # service-time multiplier (latency fault, GPU throttling)
        self.kv_fraction = 1.0  # share of the KV cache usable (kv-pressure fault)
        self.frozen = False  # a hung engine makes no progress
        self._next_id = 0
        self._pending: _Iteration | None = None

    # ----------------------------------------------------------------- state
    @property
    def num_running(self) -> int:
        """Requests in the running batch."""
        return len(self.running)

    @property
    def num_waiting(self) -> int:
        """Requests in the waiting queue."""
        return len(self.waiting)

    @property
    def capacity_blocks(self) -> int:
        """KV blocks usable now (fewer under the kv-pressure fault)."""
        return max(1, int(self.params.num_gpu_blocks * self.kv_fraction))

    def _blocks(self, tokens: int) -> int:
        return -(-tokens // self.params.block_size)

    @property
    def used_blocks(self) -> int:
        """KV blocks held by running requests."""
        return sum(self._blocks(r.prompt_tokens + r.generated) for r in self.running)

    @property
    def kv_usage(self) -> float:
        """KV-cache usage, 0..1 (blocks held / blocks usable)."""
        return min(1.0, self.used_blocks / self.capacity_blocks)

    # ------------------------------------------------------------ submission
    def submit(
        self, prompt_tokens: int, max_tokens: int, output_tokens: int | None = None
    ) -> Request:
        """Queue a request arriving now; returns its handle.

        ``output_tokens`` is how many tokens the model would produce before stopping; it is
        drawn from the engine's RNG (100-300-ish) when not given and capped by max_tokens.
        """
        prompt_tokens = max(1, min(int(prompt_tokens), self.params.max_model_len - 1))
        max_tokens = max(1, min(int(max_tokens), self.params.max_model_len - prompt_tokens))
        if output_tokens is None:
            output_tokens = int(self.rng.triangular(60, 360, 180))
        self._next_id += 1
        req = Request(
            id=self._next_id,
            prompt_tokens=prompt_tokens,
            max_tokens=max_tokens,
            target_tokens=max(1, min(int(output_tokens), max_tokens)),
            arrival=self.now,
        )
        self.waiting.append(req)
        return req

    def abort(self, req: Request) -> None:
        """Abort a request (client went away): counted with finished_reason ``abort``."""
        if req.done:
            return
        if req in self.waiting:
            self.waiting.remove(req)
        elif req in self.running:
            self.running.remove(req)
        if self._pending is not None and req in self._pending.batch:
            self._pending.batch.remove(req)
            if req in self._pending.prefill:
                self._pending.prefill.remove(req)
        self._finish(req, "abort")

    def record_error(self) -> None:
        """Count a request that failed before reaching the engine (newer ``error`` reason)."""
        self.stats.success["error"] += 1

    # ---------------------------------------------------------------- time
    def step(self, dt: float) -> None:
        """Advance virtual time by ``dt`` seconds, running every iteration that fits."""
        if dt < 0:
            raise ValueError("time only moves forward")
        end = self.now + dt
        if self.frozen:
            if self._pending is not None:
                self._pending.start += dt
                self._pending.end += dt
            self.now = end
            return
        while True:
            if self._pending is None:
                self._pending = self._start_iteration(end)
                if self._pending is None:
                    self.now = end
                    return
            it = self._pending
            if it.end <= end:
                self._account_busy(it, self.now, it.end)
                self.now = it.end
                self._pending = None
                self._finish_iteration(it)
            else:
                self._account_busy(it, self.now, end)
                self.now = end
                return

    def _account_busy(self, it: _Iteration, start: float, end: float) -> None:
        span = max(0.0, end - max(start, it.start))
        self.stats.busy_s += span
        self.stats.batch_s += span * len(it.batch)

    # ----------------------------------------------------------- scheduling
    def _start_iteration(self, end: float) -> _Iteration | None:
        p = self.params
        self._make_room()
        used = self.used_blocks
        budget = p.max_num_batched_tokens
        capacity = self.capacity_blocks
        prefill: list[Request] = []
        prefill_tokens = 0
        while self.waiting and len(self.running) < p.max_num_seqs:
            req = self.waiting[0]
            if self._blocks(req.prompt_tokens + req.target_tokens) > capacity:
                self.waiting.popleft()
                self._finish(req, "abort")  # could never complete, even alone
                continue
            need = self._blocks(req.prompt_tokens + req.generated)
            watermark = p.watermark_blocks if self.running else 0
            compute = req.prompt_tokens + req.generated
            if used + need + watermark > capacity or (prefill and compute > budget):
                break
            self.waiting.popleft()
            if req.scheduled_at is None:
                req.scheduled_at = self.now
                req.cached_tokens = self._prefix_hit(req.prompt_tokens)
                self.stats.prefix_queries += req.prompt_tokens
                self.stats.prefix_hits += req.cached_tokens
                self.stats.prompt_tokens += req.prompt_tokens
                self.stats.prompt_tokens_cached += req.cached_tokens
                compute -= req.cached_tokens
            used += need
            budget -= compute
            prefill_tokens += compute
            req._prefilled = True
            self.running.append(req)
            prefill.append(req)
        if not self.running:
            return None
        n = len(self.running)
        step_s = p.step_base_s + p.step_per_seq_s * n + p.prefill_per_token_s * prefill_tokens
        step_s *= self.slowdown
        count = 1
        if not prefill:
            remaining = min(r.target_tokens - r.generated for r in self.running)
            by_time = max(1, int((end - self.now) / step_s))
            count = max(1, min(remaining, by_time, self._steps_that_fit()))
        self.stats.iteration_tokens.observe(float(n - len(prefill) + prefill_tokens), count)
        return _Iteration(
            start=self.now,
            end=self.now + step_s * count,
            count=count,
            step_s=step_s,
            batch=list(self.running),
            prefill=prefill,
        )

    def _prefix_hit(self, prompt_tokens: int) -> int:
        share = min(0.9, self.rng.expovariate(1.0 / self.params.prefix_hit_ratio))
        blocks = int(prompt_tokens * share) // self.params.block_size
        return min(blocks * self.params.block_size, prompt_tokens - 1)

    def _steps_that_fit(self) -> int:
        """How many decode steps the running batch can take before the KV cache is full."""
        cap = self.capacity_blocks
        tokens = [r.prompt_tokens + r.generated for r in self.running]

        def fits(k: int) -> bool:
            return sum(self._blocks(t + k) for t in tokens) <= cap

        hi = min(r.target_tokens - r.generated for r in self.running)
        if fits(hi):
            return hi
        lo = 0
        while lo < hi - 1:
            mid = (lo + hi) // 2
            if fits(mid):
                lo = mid
            else:
                hi = mid
        return lo

    def _make_room(self) -> None:
        """Preempt the newest running requests until one more decode step fits."""
        while self.running and self._steps_that_fit() < 1:
            victim = self.running.pop()
            victim._prefilled = False
            victim.preemptions += 1
            self.stats.preemptions += 1
            self.waiting.appendleft(victim)

    def _finish_iteration(self, it: _Iteration) -> None:
        stats = self.stats
        new_tokens = 0
        prefilled = set(it.prefill)
        running = set(self.running)
        decoding = 0
        for req in it.batch:
            if req.done or req not in running:
                continue
            if req in prefilled:
                req.generated += 1
                new_tokens += 1
                if req.first_token_at is None:
                    req.first_token_at = it.end
                    stats.ttft.observe(it.end - req.arrival)
            else:
                req.generated += it.count
                new_tokens += it.count
                decoding += 1
        stats.generation_tokens += new_tokens
        stats.inter_token.observe(it.step_s, decoding * it.count)
        for req in it.batch:
            if req.done or req not in running:
                continue
            if req.generated >= req.target_tokens:
                self.running.remove(req)
                reason = "length" if req.target_tokens >= req.max_tokens else "stop"
                self._finish(req, reason)
            elif req.listeners:
                req._notify()

    def _finish(self, req: Request, reason: str) -> None:
        req.finished_at = self.now
        req.finish_reason = reason
        req._prefilled = False
        s = self.stats
        s.success[reason] = s.success.get(reason, 0) + 1
        if reason != "abort" and req.scheduled_at is not None and req.first_token_at is not None:
            e2e = self.now - req.arrival
            prefill = req.first_token_at - req.scheduled_at
            decode = self.now - req.first_token_at
            s.e2e.observe(e2e)
            s.queue.observe(req.scheduled_at - req.arrival)
            s.inference.observe(self.now - req.scheduled_at)
            s.prefill.observe(prefill)
            s.decode.observe(decode)
            s.request_num_preemptions.observe(req.preemptions)
            s.request_prefill_kv_computed.observe(req.prompt_tokens - req.cached_tokens)
            if req.generated > 1:
                s.time_per_output_token_request.observe(decode / (req.generated - 1))
            s.request_prompt_tokens.observe(req.prompt_tokens)
            s.request_generation_tokens.observe(req.generated)
            s.request_max_num_generation_tokens.observe(req.max_tokens)
            s.request_params_max_tokens.observe(req.max_tokens)
            s.params_n.observe(1)
        req._notify()

    def abort_all(self) -> list[Request]:
        """Drop every queued and running request without counting them (the process died)."""
        victims = list(self.waiting) + list(self.running)
        self.waiting.clear()
        self.running.clear()
        self._pending = None
        for req in victims:
            req.finished_at = self.now
            req.finish_reason = "abort"
            req._notify()
        return victims
