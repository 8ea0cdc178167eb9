"""Which backend runs on which GPU, and which alerts belong to what."""

from __future__ import annotations

from tui.analysis.relations import alerts_of_backend, alerts_of_gpu, backends_on, gpus_of
from tui.model import Alert, Backend, FleetSnapshot, Gpu, GpuProcess, Severity
from tui.sources._dcgm import gpus_from_samples
from tui.sources.promtext import PromSample


def test_dcgm_kubernetes_labels_name_the_workload_on_each_gpu() -> None:
    labels = {"gpu": "0", "Hostname": "node-a", "pod": "vllm-blue-0-7f9", "container": "vllm"}
    samples = [
        PromSample("DCGM_FI_DEV_GPU_UTIL", labels, 80.0),
        PromSample("DCGM_FI_DEV_GPU_TEMP", labels, 60.0),
        PromSample("DCGM_FI_DEV_GPU_UTIL", {"gpu": "1", "Hostname": "node-a"}, 0.0),
    ]
    gpus = gpus_from_samples(samples, "default")
    assert [g.workloads for g in gpus] == [("vllm-blue-0-7f9", "vllm"), ()]


def _snapshot() -> FleetSnapshot:
    backends = (
        Backend("blue-0", "blue", "http://a", container="vllm-blue-0-7f9"),
        Backend("green-0", "green", "http://b"),
        Backend("green-1", "green", "http://c", container="vllm-green-1"),
    )
    gpus = (
        Gpu("node-a", 0, workloads=("vllm-blue-0-7f9", "vllm")),  # DCGM's pod label
        Gpu("node-a", 1, workloads=("green-0",)),  # a pod named as the backend
        Gpu("node-b", 0, processes=(GpuProcess(4242, "python", 70e3, "vllm-green-1"),)),  # NVML
        Gpu("node-b", 1),  # spare
    )
    alerts = (
        Alert("KVCacheHigh", Severity.WARNING, "", {"backend": "green-1"}, 0.0, "k"),
        Alert("GPUHot", Severity.WARNING, "", {"gpu": "0", "Hostname": "node-b"}, 0.0, "g"),
        Alert("Down", Severity.CRITICAL, "", {"instance": "vllm-blue-0-7f9:8000"}, 0.0, "d"),
    )
    return FleetSnapshot(taken_at=0.0, environment="t", slo_tier="standard", backends=backends,
                         gpus=gpus, alerts=alerts)  # fmt: skip


def test_backends_and_gpus_map_both_ways() -> None:
    s = _snapshot()
    blue, green0, green1 = s.backends
    assert [g.key for g in gpus_of(blue, s)] == ["node-a/0"]
    assert [g.key for g in gpus_of(green0, s)] == ["node-a/1"]
    assert [g.key for g in gpus_of(green1, s)] == ["node-b/0"]
    assert [[b.name for b in backends_on(g, s)] for g in s.gpus] == [
        ["blue-0"], ["green-0"], ["green-1"], []
    ]  # fmt: skip


def test_alerts_follow_their_labels() -> None:
    s = _snapshot()
    blue, green0, green1 = s.backends
    assert [a.fingerprint for a in alerts_of_backend(green1, s)] == ["k"]
    assert [a.fingerprint for a in alerts_of_backend(blue, s)] == ["d"]  # instance host:port
    assert alerts_of_backend(green0, s) == []
    assert [a.fingerprint for a in alerts_of_gpu(s.gpus[2], s)] == ["g"]
    assert alerts_of_gpu(s.gpus[0], s) == []  # GPU 0 of another host
