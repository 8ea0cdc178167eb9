"""What the fleet looks like at one instant: frozen dataclasses shared by every layer.

Sources produce these, the hub merges them into a `FleetSnapshot`, widgets render them.
Nothing here does I/O or imports Textual. Units are in the field names where they are
not obvious: seconds for latencies, 0..1 for ratios (``kv_cache_usage``, ``error_rate``),
percent only where the field says ``_pct``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


class SourceState(enum.StrEnum):
    """How a data source is doing, as the hub last saw it."""

    OK = "ok"
    STALE = "stale"  # last good data is older than the source's staleness limit
    ERROR = "error"  # the last poll failed; the message says why
    UNAVAILABLE = "unavailable"  # cannot work here at all (e.g. no NVIDIA driver)
    PENDING = "pending"  # no poll has finished yet


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source's state: the name, the state, why, and when it last succeeded."""

    name: str
    state: SourceState
    message: str = ""
    last_ok: float | None = None  # epoch seconds of the last good poll
    duration_s: float | None = None  # how long the last poll took


class Health(enum.StrEnum):
    """A backend's health as its `/health` endpoint and scrape tell it."""

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"


class OverallState(enum.StrEnum):
    """The one-word answer to "is the fleet healthy?" shown in the header."""

    OK = "OK"
    WARNING = "WARNING"  # a warning-level alert fires, or a source is failing or stale
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"
    UNKNOWN = "UNKNOWN"  # no data yet
    NO_DATA = "NO DATA"  # no source answers: nothing shown is current


@dataclass(frozen=True, slots=True)
class Quantiles:
    """Latency quantiles in seconds over the source's window; None where there was no data."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    mean: float | None = None


NO_QUANTILES = Quantiles()


@dataclass(frozen=True, slots=True)
class GpuProcess:
    """A process holding memory on a GPU."""

    pid: int
    name: str
    used_mib: float | None = None
    container: str | None = None


@dataclass(frozen=True, slots=True)
class Gpu:
    """One GPU at one instant (from DCGM exporter or NVML)."""

    host: str
    index: int
    name: str = ""
    uuid: str = ""
    util_pct: float | None = None
    mem_used_mib: float | None = None
    mem_total_mib: float | None = None
    temp_c: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    sm_clock_mhz: float | None = None
    processes: tuple[GpuProcess, ...] = ()
    # figures the GPU's reader does not export at all ("power_limit": DCGM exporter's
    # default counters leave it out), as opposed to ones it could not read this time
    unexported: frozenset[str] = frozenset()
    # what DCGM exporter's Kubernetes mapping labels the GPU with (its pod and container)
    workloads: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A stable identity across hosts: ``host/index``."""
        return f"{self.host}/{self.index}"

    @property
    def mem_ratio(self) -> float | None:
        """Memory used as a 0..1 ratio, when both figures are known."""
        if self.mem_used_mib is None or not self.mem_total_mib:
            return None
        return self.mem_used_mib / self.mem_total_mib


@dataclass(frozen=True, slots=True)
class Traffic:
    """Request and token flow over the source's window (rates per second unless named)."""

    prompt_tokens_per_s: float | None = None
    generation_tokens_per_s: float | None = None
    requests_per_min: float | None = None
    error_rate: float | None = None  # 5xx answers / all answers, 0..1
    errors_per_min: float | None = None


@dataclass(frozen=True, slots=True)
class Backend:
    """One inference server (a vLLM engine) as the on-call engineer sees it."""

    name: str
    pool: str
    url: str
    model: str = ""
    health: Health = Health.UNKNOWN
    reason: str = ""  # why it is down or unknown, in one line
    running: float | None = None
    waiting: float | None = None
    kv_cache_usage: float | None = None  # 0..1
    ttft: Quantiles = NO_QUANTILES
    e2e: Quantiles = NO_QUANTILES
    queue_time: Quantiles = NO_QUANTILES
    inter_token: Quantiles = NO_QUANTILES
    traffic: Traffic = field(default_factory=Traffic)
    preemptions_per_min: float | None = None
    # canonical metric name -> the name actually found on the wire (renames, `vllm_` spelling)
    metric_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    container: str | None = None
    last_scrape: float | None = None
    # the inference engine (vllm, sglang, tgi, llamacpp; "unknown" when none matched; ""
    # before the first read) and the figures it does not expose ("ttft", "kv_cache", ...):
    # those show "n/a (ENGINE)" and are left out of the SLO evaluation
    engine: str = ""
    unexposed: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Pool:
    """A group of backends serving one model version (blue = stable, green = new)."""

    name: str
    backends: int
    healthy: int
    running: float | None = None  # None: unknown (e.g. no backend of the pool is up)
    waiting: float | None = None
    kv_cache_usage: float | None = None  # mean over healthy backends, 0..1
    ttft: Quantiles = NO_QUANTILES
    e2e: Quantiles = NO_QUANTILES
    traffic: Traffic = field(default_factory=Traffic)
    weight: float | None = None  # traffic share 0..100, when a router reports it
    # figure -> the engines of up members that do not expose it ("tgi", "llamacpp, tgi"):
    # the pool's figure is computed from the other members, or n/a when none has it
    unexposed: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


class Severity(enum.StrEnum):
    """Alert severity, as alert rules label it."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Alert:
    """A firing (or pending) alert, from Alertmanager, Prometheus or inferdeck's own checks."""

    name: str
    severity: Severity
    summary: str
    labels: Mapping[str, str]
    starts_at: float
    fingerprint: str
    state: str = "firing"
    source: str = "local"
    acknowledged_by: str | None = None
    acknowledged_until: float | None = None
    # Set when the alert's source has stopped answering: epoch seconds of its last good
    # answer. The alert is then *last known*, not live (it may have resolved since).
    last_known_at: float | None = None


@dataclass(frozen=True, slots=True)
class Container:
    """A container of the stack (Docker or podman), as the Containers screen lists it."""

    name: str
    id: str
    image: str = ""
    state: str = "unknown"  # running, exited, restarting, paused, created, dead
    health: str | None = None  # healthy, unhealthy, starting; None without a healthcheck
    restart_count: int = 0
    started_at: float | None = None  # epoch seconds
    created_at: float | None = None
    exit_code: int | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    service: str | None = None  # compose service
    project: str | None = None  # compose project


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a container's log; ``is_error`` when it looks like trouble."""

    text: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Collected:
    """What one poll of one source found. Fields a source does not provide stay None."""

    gpus: tuple[Gpu, ...] | None = None
    backends: tuple[Backend, ...] | None = None
    pools: tuple[Pool, ...] | None = None
    fleet: Pool | None = None  # the whole fleet, aggregated like a pool named "fleet"
    alerts: tuple[Alert, ...] | None = None
    weights: Mapping[str, float] | None = None
    containers: tuple[Container, ...] | None = None
    gpu_problems: tuple[str, ...] = ()  # GPU readers (exporters) that failed, and why


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    """Everything the dashboard shows at one instant. Immutable; replaced, never edited."""

    taken_at: float
    environment: str
    slo_tier: str
    gpus: tuple[Gpu, ...] = ()
    backends: tuple[Backend, ...] = ()
    pools: tuple[Pool, ...] = ()
    fleet: Pool | None = None
    alerts: tuple[Alert, ...] = ()
    weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    containers: tuple[Container, ...] = ()
    gpu_problems: tuple[str, ...] = ()  # e.g. "GPU exporter h:9400: connection refused"
    sources: tuple[SourceStatus, ...] = ()
    # name -> oldest-first samples for charts (bounded by the hub)
    history: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: MappingProxyType({}))
    overall: OverallState = OverallState.UNKNOWN
    overall_reasons: tuple[str, ...] = ()
    freshest_data_at: float | None = None

    def source(self, name: str) -> SourceStatus | None:
        """The status of the named source, if the hub runs one by that name."""
        return next((s for s in self.sources if s.name == name), None)
