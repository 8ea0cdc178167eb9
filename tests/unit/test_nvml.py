"""The nvml source with a fake binding, the binding with a fake pynvml, and the real one here."""

from __future__ import annotations

import asyncio
import ctypes.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tui.sources._nvml_binding import DeviceReading, NvmlBinding, NvmlUnavailable, ProcessReading
from tui.sources.base import Source, SourceUnavailable
from tui.sources.nvml import NvmlSource, container_id_from_cgroup

CID = "3f2a" + "0" * 56 + "beef"


class FakeBinding:
    """A test double of the thin binding interface (`tui.sources.nvml.NvmlApi`)."""

    def __init__(self, fail_init: str | None = None) -> None:
        self.fail_init = fail_init
        self.inits = 0
        self.shut = False

    def init(self) -> None:
        self.inits += 1
        if self.fail_init:
            raise NvmlUnavailable(self.fail_init)

    def shutdown(self) -> None:
        self.shut = True

    def device_count(self) -> int:
        return 2

    def read_device(self, index: int) -> DeviceReading:
        if index == 1:
            raise RuntimeError("GPU is lost")
        return DeviceReading(
            name="NVIDIA H100 80GB HBM3",
            uuid="GPU-1",
            util_gpu_pct=87.0,
            mem_used_bytes=40 * 1024**3,
            mem_total_bytes=80 * 1024**3,
            temp_c=71.0,
            power_mw=512_000.0,
            power_limit_mw=700_000.0,
            sm_clock_mhz=1980.0,
        )

    def processes(self, index: int) -> list[ProcessReading]:
        return [ProcessReading(101, 2 * 1024**3), ProcessReading(202, None)]

    def process_name(self, pid: int) -> str:
        return "python3" if pid == 101 else ""


def _proc_tree(root: Path) -> None:
    (root / "101").mkdir(parents=True)
    (root / "101" / "cgroup").write_text(f"0::/system.slice/docker-{CID}.scope\n")
    (root / "202").mkdir()
    (root / "202" / "cgroup").write_text("0::/user.slice/user-1000.slice/session-1.scope\n")
    (root / "202" / "comm").write_text("vllm-worker\n")


async def test_gpus_processes_and_containers_from_fake_binding(tmp_path: Path) -> None:
    _proc_tree(tmp_path)
    source = NvmlSource(FakeBinding(), host="gpu-host", proc_root=str(tmp_path))
    assert isinstance(source, Source)
    got = await source.collect()
    assert got.gpus is not None
    gpu, lost = got.gpus
    assert (gpu.host, gpu.index, gpu.name, gpu.uuid) == (
        "gpu-host",
        0,
        "NVIDIA H100 80GB HBM3",
        "GPU-1",
    )
    assert (gpu.util_pct, gpu.mem_used_mib, gpu.mem_total_mib) == (87.0, 40960.0, 81920.0)
    assert (gpu.temp_c, gpu.power_w, gpu.power_limit_w, gpu.sm_clock_mhz) == (71, 512, 700, 1980)
    p1, p2 = gpu.processes
    assert (p1.pid, p1.name, p1.used_mib, p1.container) == (101, "python3", 2048.0, CID[:12])
    assert (p2.pid, p2.name, p2.used_mib, p2.container) == (202, "vllm-worker", None, None)
    assert lost.index == 1 and "GPU is lost" in lost.name and lost.util_pct is None
    await source.aclose()


async def test_container_resolver_is_used(tmp_path: Path) -> None:
    _proc_tree(tmp_path)
    names = {CID: "vllm-blue-1"}
    source = NvmlSource(FakeBinding(), proc_root=str(tmp_path), container_resolver=names.get)
    got = await source.collect()
    assert got.gpus is not None and got.gpus[0].processes[0].container == "vllm-blue-1"


async def test_unavailable_binding_raises_source_unavailable_once_per_call() -> None:
    binding = FakeBinding(fail_init="Driver Not Loaded")
    source = NvmlSource(binding)
    with pytest.raises(SourceUnavailable, match=r"^NVML: Driver Not Loaded$"):
        await source.collect()
    await source.aclose()
    assert not binding.shut  # never started, nothing to shut down


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"0::/system.slice/docker-{CID}.scope", CID),
        (f"12:memory:/docker/{CID}", CID),
        (f"0::/machine.slice/libpod-{CID}.scope/container", CID),
        (f"0::/machine.slice/libpod-conmon-{CID}.scope", None),
        (f"0::/kubepods.slice/kubepods-besteffort.slice/cri-containerd-{CID}.scope", CID),
        (f"11:cpu:/kubepods/besteffort/pod1234/{CID}", CID),
        (f"0::/system.slice/crio-{CID}.scope", CID),
        ("0::/init.scope", None),
        ("0::/user.slice/user-1000.slice/session-3.scope", None),
    ],
)
def test_container_id_from_cgroup(text: str, expected: str | None) -> None:
    assert container_id_from_cgroup(text) == expected


# --- the binding over a fake pynvml module ---------------------------------------------


class FakeNVMLError(Exception):
    pass


def _fake_pynvml(with_v3: bool) -> Any:
    def not_supported(*_: Any) -> Any:
        raise FakeNVMLError("Not Supported")

    procs = [
        SimpleNamespace(pid=7, usedGpuMemory=1024**2),
        SimpleNamespace(pid=8, usedGpuMemory=2**64 - 1),
    ]
    module = SimpleNamespace(
        NVMLError=FakeNVMLError,
        NVML_TEMPERATURE_GPU=0,
        NVML_CLOCK_SM=1,
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: f"h{i}",
        nvmlDeviceGetName=lambda h: b"Tesla T4",
        nvmlDeviceGetUUID=lambda h: "GPU-x",
        nvmlDeviceGetUtilizationRates=lambda h: SimpleNamespace(gpu=12, memory=3),
        nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(used=1024**3, total=16 * 1024**3),
        nvmlDeviceGetTemperature=lambda h, kind: 44,
        nvmlDeviceGetPowerUsage=not_supported,
        nvmlDeviceGetEnforcedPowerLimit=lambda h: 70_000,
        nvmlDeviceGetClockInfo=lambda h, kind: 585 if kind == 1 else 0,
        nvmlDeviceGetComputeRunningProcesses_v2=lambda h: procs,
        nvmlDeviceGetComputeRunningProcesses=not_supported,
        nvmlSystemGetProcessName=not_supported,
    )
    if with_v3:
        module.nvmlDeviceGetComputeRunningProcesses_v3 = not_supported  # old driver: falls back
    return module


@pytest.mark.parametrize("with_v3", [True, False])
def test_binding_maps_nvml_to_plain_data_with_v3_to_v2_fallback(with_v3: bool) -> None:
    binding = NvmlBinding(_fake_pynvml(with_v3))
    binding.init()
    assert binding.device_count() == 1
    reading = binding.read_device(0)
    assert reading == DeviceReading(
        name="Tesla T4",
        uuid="GPU-x",
        util_gpu_pct=12.0,
        mem_used_bytes=float(1024**3),
        mem_total_bytes=float(16 * 1024**3),
        temp_c=44.0,
        power_mw=None,  # not supported on this GPU: None, not an error
        power_limit_mw=70_000.0,
        sm_clock_mhz=585.0,
    )
    assert binding.processes(0) == [ProcessReading(7, float(1024**2)), ProcessReading(8, None)]
    assert binding.process_name(7) == ""
    binding.shutdown()


def test_binding_init_failure_is_unavailable() -> None:
    module = _fake_pynvml(True)

    def fail() -> None:
        raise FakeNVMLError("NVML Shared Library Not Found")

    module.nvmlInit = fail
    with pytest.raises(NvmlUnavailable, match="Shared Library Not Found"):
        NvmlBinding(module).init()


# --- the real binding on this machine ------------------------------------------------


@pytest.mark.skipif(
    ctypes.util.find_library("nvidia-ml") is not None or Path("/dev/nvidiactl").exists(),
    reason="an NVIDIA driver is installed here: the unavailable path cannot be exercised",
)
async def test_real_pynvml_without_driver_is_unavailable_with_reason() -> None:
    source = NvmlSource()
    with pytest.raises(SourceUnavailable) as info:
        await asyncio.wait_for(source.collect(), 10)
    message = str(info.value)
    assert message.startswith("NVML: ") and len(message) > len("NVML: ")
    assert "\n" not in message
    await source.aclose()


def test_pynvml_is_nvidias_own_binding_without_the_deprecated_shim() -> None:
    """The `pynvml` package is a deprecated shim over nvidia-ml-py: a `.pth` file that puts
    an import hook into every Python process (about 7 ms of each start) and a
    FutureWarning on `import pynvml`. The dependency is nvidia-ml-py, which is the module."""
    probe = (
        "import sys, warnings\n"
        "warnings.simplefilter('error')\n"
        "import pynvml\n"
        "hooks = [type(f).__module__ for f in sys.meta_path]\n"
        "assert '_pynvml_redirector' not in sys.modules, hooks\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
