"""The handbook's infrastructure alert thresholds, as data (GPU, KV cache)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GpuLimits:
    """When a GPU figure is a problem: the seed's GPUMemoryPressure / GPUHighTemperature rules."""

    util_saturated_pct: float = 95.0  # "saturated" in the key-metrics table
    memory_ratio: float = 0.90  # GPUMemoryPressure: FB used / total > 0.9
    temperature_c: float = 80.0  # GPUHighTemperature: > 80 °C


GPU_LIMITS = GpuLimits()
"""The limits the panels colour GPUs by."""

KV_CACHE_LIMIT = 0.90
"""KV-cache use past which vLLM starts preempting requests and latency suffers."""
