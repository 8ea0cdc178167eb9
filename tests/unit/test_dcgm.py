"""DCGM samples → GPUs: what a series says of its GPU, remembered between reads."""

from __future__ import annotations

import math
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.sources._dcgm import DCGM_INT32_BLANK, SeriesMemo, gpus_from_samples
from tui.sources.promtext import PromSample

FIELDS = st.sampled_from(
    [
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_POWER_MGMT_LIMIT",
        "DCGM_FI_DEV_ENFORCED_POWER_LIMIT",
        "DCGM_FI_DEV_XID_ERRORS",  # not read
    ]
)
LABELS = st.fixed_dictionaries(
    {},
    optional={
        "gpu": st.sampled_from(["0", "1", "x"]),
        "device": st.sampled_from(["nvidia0", "nvidia2", "mig"]),
        "Hostname": st.sampled_from(["", "node-a", "node-b"]),
        "hostname": st.sampled_from(["node-a", "node-c"]),
        "modelName": st.sampled_from(["H100", "A100"]),
        "UUID": st.sampled_from(["", "GPU-1"]),
        "uuid": st.sampled_from(["GPU-2"]),
        "pod": st.sampled_from(["", "vllm-0", "vllm-1"]),
        "container": st.sampled_from(["vllm-0", "engine"]),
    },
)
VALUES = st.one_of(
    st.floats(-5.0, 1e6),
    st.sampled_from([math.nan, math.inf, -math.inf, float(DCGM_INT32_BLANK), 2.0**47]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(FIELDS, LABELS), min_size=0, max_size=12),
    st.lists(FIELDS, max_size=2),
    st.lists(
        st.lists(st.tuples(st.integers(0, 13), VALUES, st.booleans()), max_size=15), max_size=4
    ),
)
def test_gpus_read_with_a_memo_are_those_read_without(
    series: list[tuple[str, dict[str, str]]],
    sharing: list[str],
    reads: list[list[tuple[int, float, bool]]],
) -> None:
    """Read after read, an exporter's GPUs are the same whether what each series says of
    its GPU is remembered (labels objects that come back from read to read, as the
    series cache gives them) or read from its labels every time; also for a series
    whose labels come as a new object, and for fields sharing one labels object."""
    kept = [(name, MappingProxyType(dict(labels))) for name, labels in series]
    if kept:  # other fields with the very same labels object (as label-less series share one)
        kept += [(name, kept[0][1]) for name in sharing]
    memo: SeriesMemo = {}
    for read in reads:
        samples = []
        for at, value, fresh in read:
            if not kept:
                break
            name, labels = kept[at % len(kept)]
            if fresh:  # the same content in a new object (kept alive by the sample)
                labels = MappingProxyType({**labels, "gpu": labels.get("gpu", "1")})
            samples.append(PromSample(name, labels, value))
        assert gpus_from_samples(samples, "exporter:9400", memo) == gpus_from_samples(
            samples, "exporter:9400"
        )


def test_workloads_and_first_values_per_gpu() -> None:
    """Each GPU lists the pods and containers of all its series once, and takes the first
    usable value of a field (a MIG instance's repeated series do not overwrite it)."""
    a = MappingProxyType({"gpu": "0", "pod": "vllm-0", "container": "engine"})
    b = MappingProxyType({"gpu": "0", "pod": "vllm-1", "container": "engine"})
    samples = [
        PromSample("DCGM_FI_DEV_GPU_UTIL", a, math.nan),
        PromSample("DCGM_FI_DEV_GPU_UTIL", b, 40.0),
        PromSample("DCGM_FI_DEV_GPU_UTIL", a, 90.0),
    ]
    memo: SeriesMemo = {}
    for _ in range(2):
        (gpu,) = gpus_from_samples(samples, "h:1", memo)
        assert gpu.workloads == ("vllm-0", "engine", "vllm-1")
        assert gpu.util_pct == 40.0 and gpu.host == "h:1"
