"""Configuration of the simulated fleet: pools, GPUs, seed, load and wire-format switches."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

MetricsGeneration = Literal["current", "legacy"]

VLLM_RELEASES: dict[str, str] = {"current": "0.33.0", "legacy": "0.10.2"}
"""The vLLM release each metric generation serves exactly (and ``/version`` answers)."""

SIM_ENGINES: tuple[str, ...] = ("vllm", "sglang", "tgi", "llamacpp")
"""Engines a simulated backend can be (its /metrics names, labels and buckets)."""

BUCKET_FAMILIES: tuple[str, ...] = (
    "request_latency",
    "time_to_first_token",
    "inter_token_latency",
    "iteration_tokens",
    "request_params_n",
    "request_num_preemptions",
    "request_tokens",
    "kv_cache_residency",
)
"""vLLM 0.33's histogram bucket families (``vllm/v1/metrics/buckets.py``), the keys its
``--custom-histogram-buckets`` takes. ``kv_cache_residency`` is accepted as vLLM accepts it;
its histograms only exist with ``--kv-cache-metrics``, which the simulator does not serve."""

_POOL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _default_pools() -> dict[str, int]:
    return {"blue": 2, "green": 1}


@dataclass(frozen=True)
class SimConfig:
    """Everything that shapes a simulated fleet. Same config (and seed) => same run.

    ``weights`` is the router's traffic split per pool in percent; ``None`` means the first
    pool gets 90, the second 10 and any further pool 0. ``port_base`` 0 picks free ports.
    ``load_target`` (a base URL) makes the load generator send real HTTP requests there
    (e.g. through nginx) instead of feeding the engines directly.
    """

    pools: dict[str, int] = field(default_factory=_default_pools)
    gpus: int = 4
    seed: int = 7
    rps: float = 20.0
    port_base: int = 18000
    vllm_metrics: MetricsGeneration = "current"
    openmetrics_escaped: bool = False
    weights: dict[str, float] | None = None
    diurnal_amplitude: float = 0.15
    diurnal_period_s: float = 600.0
    host: str = "127.0.0.1"
    load: bool = True
    load_target: str | None = None
    engine: str = "vllm"
    dcgm_power_limit: bool = False  # the GPU exporter also exports the power limit
    engines: dict[str, str] | None = None  # pool -> engine, overriding ``engine``
    # vLLM's --custom-histogram-buckets: bucket family -> bounds replacing its defaults
    histogram_buckets: Mapping[str, Sequence[float]] | None = None

    def __post_init__(self) -> None:
        if not self.pools:
            raise ValueError("at least one pool is needed")
        for name, count in self.pools.items():
            if not _POOL_NAME.match(name):
                raise ValueError(f"bad pool name {name!r}: use lowercase letters, digits, _")
            if count < 1:
                raise ValueError(f"pool {name!r} needs at least one backend, got {count}")
        if self.gpus < 0:
            raise ValueError(f"gpus must be >= 0, got {self.gpus}")
        if self.rps < 0:
            raise ValueError(f"rps must be >= 0, got {self.rps}")
        if not 0 <= self.port_base <= 65535 - 100:
            raise ValueError(f"port_base must be 0 or a port <= 65435, got {self.port_base}")
        if self.vllm_metrics not in ("current", "legacy"):
            raise ValueError(f"vllm_metrics must be current or legacy, got {self.vllm_metrics!r}")
        if not 0 <= self.diurnal_amplitude < 1:
            raise ValueError("diurnal_amplitude must be in [0, 1)")
        if self.diurnal_period_s <= 0:
            raise ValueError("diurnal_period_s must be > 0")
        if self.weights is not None:
            check_weights(self.weights, self.pools)
        if self.histogram_buckets is not None:
            if self.vllm_metrics == "legacy":
                raise ValueError(
                    "custom histogram buckets need --vllm-metrics current:"
                    " vLLM 0.10.2 has no --custom-histogram-buckets"
                )
            checked = check_histogram_buckets(self.histogram_buckets)
            object.__setattr__(self, "histogram_buckets", checked)
        for pool, engine in {"": self.engine, **(self.engines or {})}.items():
            if engine not in SIM_ENGINES:
                raise ValueError(
                    f"unknown engine {engine!r}{f' for pool {pool!r}' if pool else ''}"
                    f" (choose one of {', '.join(SIM_ENGINES)})"
                )
            if pool and pool not in self.pools:
                raise ValueError(f"engine given for unknown pool {pool!r}")

    def engine_of(self, pool: str) -> str:
        """The engine the backends of ``pool`` simulate."""
        return (self.engines or {}).get(pool, self.engine)

    def initial_weights(self) -> dict[str, float]:
        """The router weights at start (percent per pool)."""
        if self.weights is not None:
            return {p: float(self.weights.get(p, 0.0)) for p in self.pools}
        defaults = [90.0, 10.0]
        return {p: (defaults[i] if i < len(defaults) else 0.0) for i, p in enumerate(self.pools)}


def check_weights(weights: dict[str, float], pools: dict[str, int]) -> None:
    """Raise ValueError (one line) unless ``weights`` names known pools with sane values."""
    for pool, weight in weights.items():
        if pool not in pools:
            raise ValueError(f"unknown pool {pool!r} (pools: {', '.join(pools)})")
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
            raise ValueError(f"weight of pool {pool!r} must be a number >= 0, got {weight!r}")
    if weights and sum(weights.values()) <= 0:
        raise ValueError("weights must not all be 0")


def check_histogram_buckets(buckets: object) -> dict[str, tuple[float, ...]]:
    """Validate bucket overrides as vLLM's ``ObservabilityConfig`` does; one-line ValueError.

    A known family, a non-empty list of finite, positive, strictly increasing numbers.
    """
    if not isinstance(buckets, Mapping):
        raise ValueError(
            "custom histogram buckets must be a mapping of bucket family to a list of bounds"
        )
    out: dict[str, tuple[float, ...]] = {}
    for family, bounds in buckets.items():
        if family not in BUCKET_FAMILIES:
            raise ValueError(
                f"custom_histogram_buckets: unknown bucket family {family!r};"
                f" known families: {', '.join(sorted(BUCKET_FAMILIES))}"
            )
        if not isinstance(bounds, list | tuple):
            raise ValueError(f"custom_histogram_buckets[{family!r}]: expected a list of bounds")
        if not bounds:
            raise ValueError(f"custom_histogram_buckets[{family!r}]: bucket list must not be empty")
        for bound in bounds:
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise ValueError(
                    f"custom_histogram_buckets[{family!r}]: bound {bound!r} must be a number"
                )
            if not math.isfinite(bound) or bound <= 0:
                raise ValueError(
                    f"custom_histogram_buckets[{family!r}]: bound {bound!r}"
                    " must be finite and greater than 0"
                )
        if any(a >= b for a, b in itertools.pairwise(bounds)):
            raise ValueError(
                f"custom_histogram_buckets[{family!r}]: bounds {list(bounds)}"
                " must be strictly increasing"
            )
        out[str(family)] = tuple(float(b) for b in bounds)
    return out


def parse_histogram_buckets(text: str) -> dict[str, tuple[float, ...]]:
    """``--custom-histogram-buckets`` JSON (vLLM's form) into checked bounds; one-line error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"custom histogram buckets: not JSON ({exc.msg})") from None
    return check_histogram_buckets(data)


def parse_pools(text: str) -> dict[str, int]:
    """Parse ``"blue=2,green=1"`` into ``{"blue": 2, "green": 1}`` (order kept).

    A count may name the pool's engine (``green=1:sglang``; see `parse_pool_engines`).
    Raises ValueError with a one-line message on malformed input.
    """
    return parse_pool_engines(text)[0]


def parse_pool_engines(text: str) -> tuple[dict[str, int], dict[str, str]]:
    """Parse ``"blue=2:vllm,green=1:sglang"`` into pools and the engines named per pool.

    Pools without ``:ENGINE`` are left out of the second mapping (they take the default).
    """
    pools: dict[str, int] = {}
    engines: dict[str, str] = {}
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise ValueError(f"no pools in {text!r}: expected e.g. blue=2,green=1")
    for item in items:
        name, sep, count_text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"bad pool {item!r}: expected NAME=COUNT, e.g. blue=2")
        if not _POOL_NAME.match(name):
            raise ValueError(f"bad pool name {name!r}: use lowercase letters, digits, _")
        count_text, colon, engine = count_text.partition(":")
        if colon:
            engine = engine.strip().lower()
            if engine not in SIM_ENGINES:
                raise ValueError(
                    f"unknown engine {engine!r} for pool {name!r}"
                    f" (choose one of {', '.join(SIM_ENGINES)})"
                )
            engines[name] = engine
        try:
            count = int(count_text.strip())
        except ValueError:
            raise ValueError(
                f"bad backend count {count_text.strip()!r} for pool {name!r}"
            ) from None
        if count < 1:
            raise ValueError(f"pool {name!r} needs at least one backend, got {count}")
        if name in pools:
            raise ValueError(f"pool {name!r} given twice")
        pools[name] = count
    return pools, engines
