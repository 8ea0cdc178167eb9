"""The only module that touches pynvml: NVML calls in, plain data out.

`NvmlBinding` wraps the few NVML calls an on-call view needs and returns dataclasses of
plain numbers and strings. A field the GPU or driver does not support comes back as
None; only a missing library or driver (at `NvmlBinding.init`) is an error. Everything
above this module is tested with a fake object implementing the same methods.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any


class NvmlUnavailable(Exception):
    """NVML cannot be used here (no library, no driver, no permission); says why."""


@dataclass(frozen=True, slots=True)
class DeviceReading:
    """One GPU's figures as NVML gives them (bytes, mW, °C, MHz, %); None if unsupported."""

    name: str = ""
    uuid: str = ""
    util_gpu_pct: float | None = None
    mem_used_bytes: float | None = None
    mem_total_bytes: float | None = None
    temp_c: float | None = None
    power_mw: float | None = None
    power_limit_mw: float | None = None
    sm_clock_mhz: float | None = None


@dataclass(frozen=True, slots=True)
class ProcessReading:
    """A compute process on a GPU: host PID and GPU memory in bytes (None if unknown)."""

    pid: int
    used_bytes: float | None = None


def _text(value: Any) -> str:
    """NVML strings are bytes in old bindings and str in new ones."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class NvmlBinding:
    """NVML through pynvml (or a stand-in ``module`` with the same functions, for tests)."""

    def __init__(self, module: Any | None = None) -> None:
        """Use ``module`` as pynvml; by default pynvml is imported by `init`."""
        self._nvml: Any = module
        self._started = False

    def _error_types(self) -> tuple[type[BaseException], ...]:
        """pynvml's error class (every NVML failure derives from it)."""
        error = getattr(self._nvml, "NVMLError", None)
        return (error,) if isinstance(error, type) else (Exception,)

    def init(self) -> None:
        """Load the library and initialise NVML; NvmlUnavailable with the reason if not."""
        if self._started:
            return
        if self._nvml is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the deprecated `pynvml` shim warns
                    import pynvml
            except ImportError as exc:
                raise NvmlUnavailable(f"pynvml is not installed ({exc})") from None
            self._nvml = pynvml
        try:
            self._nvml.nvmlInit()
        except self._error_types() as exc:
            raise NvmlUnavailable(str(exc) or type(exc).__name__) from None
        except OSError as exc:
            raise NvmlUnavailable(f"cannot load libnvidia-ml: {exc}") from None
        self._started = True

    def shutdown(self) -> None:
        """Release NVML (idempotent)."""
        if self._started and self._nvml is not None:
            self._started = False
            try:
                self._nvml.nvmlShutdown()
            except self._error_types():
                pass

    def device_count(self) -> int:
        """How many GPUs NVML sees."""
        return int(self._nvml.nvmlDeviceGetCount())

    def _call(self, fn: str, *args: Any) -> Any:
        """``pynvml.fn(*args)``, or None when NVML fails or the function does not exist."""
        f = getattr(self._nvml, fn, None)
        if f is None:
            return None
        try:
            return f(*args)
        except self._error_types():
            return None

    def read_device(self, index: int) -> DeviceReading:
        """Every figure of GPU ``index`` (unsupported ones None)."""
        nv = self._nvml
        handle = nv.nvmlDeviceGetHandleByIndex(index)
        util = self._call("nvmlDeviceGetUtilizationRates", handle)
        memory = self._call("nvmlDeviceGetMemoryInfo", handle)
        temp = self._call(
            "nvmlDeviceGetTemperature", handle, getattr(nv, "NVML_TEMPERATURE_GPU", 0)
        )
        clock = self._call("nvmlDeviceGetClockInfo", handle, getattr(nv, "NVML_CLOCK_SM", 1))
        return DeviceReading(
            name=_text(self._call("nvmlDeviceGetName", handle) or ""),
            uuid=_text(self._call("nvmlDeviceGetUUID", handle) or ""),
            util_gpu_pct=_num(getattr(util, "gpu", None)),
            mem_used_bytes=_num(getattr(memory, "used", None)),
            mem_total_bytes=_num(getattr(memory, "total", None)),
            temp_c=_num(temp),
            power_mw=_num(self._call("nvmlDeviceGetPowerUsage", handle)),
            power_limit_mw=_num(self._call("nvmlDeviceGetEnforcedPowerLimit", handle)),
            sm_clock_mhz=_num(clock),
        )

    def processes(self, index: int) -> list[ProcessReading]:
        """Compute processes on GPU ``index``: ``_v3``, then ``_v2``, then the plain call."""
        handle = self._nvml.nvmlDeviceGetHandleByIndex(index)
        for fn in (
            "nvmlDeviceGetComputeRunningProcesses_v3",
            "nvmlDeviceGetComputeRunningProcesses_v2",
            "nvmlDeviceGetComputeRunningProcesses",
        ):
            found = self._call(fn, handle)
            if found is not None:
                return [
                    ProcessReading(int(p.pid), _num(getattr(p, "usedGpuMemory", None)))
                    for p in found
                ]
        return []

    def process_name(self, pid: int) -> str:
        """The process's name as NVML reports it ("" when it cannot)."""
        return _text(self._call("nvmlSystemGetProcessName", pid) or "")


def _num(value: Any) -> float | None:
    """A number as float; None for None and for NVML's "not available" values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    # usedGpuMemory is NVML_VALUE_NOT_AVAILABLE (2**64 - 1) when the driver hides it.
    return None if number < 0 or number >= 2**63 else number
