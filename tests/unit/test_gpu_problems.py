"""A GPU exporter that fails is named on the GPUs panel, never an unexplained empty list."""

from __future__ import annotations

from tui.hub import merge
from tui.model import Collected, Gpu


def test_the_hub_keeps_every_sources_gpu_problems() -> None:
    a = Collected(gpus=(), gpu_problems=("GPU exporter h:9400: connection refused",))
    b = Collected(gpus=(Gpu(host="g", index=0),), gpu_problems=())
    snapshot = merge([a, b], taken_at=0.0, environment="t", slo_tier="standard")
    assert snapshot.gpu_problems == ("GPU exporter h:9400: connection refused",)
    assert [g.key for g in snapshot.gpus] == ["g/0"]
