"""Chart history that a recording derives instead of storing (format version 2 on).

The hub appends one sample of the snapshot's own figures to every chart series each time
new data arrives (`tui.hub.history_sample`). So a frame whose series moved on by exactly
that sample stores only ``"a": N`` ("advance, keep at most N points"), and the reader
appends `sample_of_body` of the frame's recorded body to each series itself. The writer
checks that the advance gives exactly the series the dashboard had (at the stored
precision) and otherwise stores what changed, so a prediction that misses (a Prometheus
prefill, a stale source charted apart from what is shown) costs bytes, never truth.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from tui.recording.precision import figure


def _at(node: Any, *path: str) -> float | None:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def sample_of_body(body: Mapping[str, Any]) -> dict[str, float | None]:
    """The chart sample of a recorded body: the same names and figures as
    `tui.hub.history_sample` takes from the snapshot (None: not known)."""
    sample: dict[str, float | None] = {}
    fleet = body.get("fleet")
    if isinstance(fleet, dict):
        sample.update(
            {
                "fleet.ttft_p50": _at(fleet, "ttft", "p50"),
                "fleet.ttft_p95": _at(fleet, "ttft", "p95"),
                "fleet.e2e_p50": _at(fleet, "e2e", "p50"),
                "fleet.e2e_p95": _at(fleet, "e2e", "p95"),
                "fleet.waiting": _at(fleet, "waiting"),
                "fleet.running": _at(fleet, "running"),
                "fleet.kv": _at(fleet, "kv_cache_usage"),
                "fleet.gen_tps": _at(fleet, "traffic", "generation_tokens_per_s"),
                "fleet.prompt_tps": _at(fleet, "traffic", "prompt_tokens_per_s"),
                "fleet.rpm": _at(fleet, "traffic", "requests_per_min"),
                "fleet.error_rate": _at(fleet, "traffic", "error_rate"),
            }
        )
    for pool in body.get("pools") or ():
        name = pool.get("name")
        sample[f"pool.{name}.waiting"] = _at(pool, "waiting")
        sample[f"pool.{name}.rpm"] = _at(pool, "traffic", "requests_per_min")
    for b in body.get("backends") or ():
        name = b.get("name")
        sample[f"backend.{name}.ttft_p95"] = _at(b, "ttft", "p95")
        sample[f"backend.{name}.running"] = _at(b, "running")
        sample[f"backend.{name}.waiting"] = _at(b, "waiting")
        sample[f"backend.{name}.kv"] = _at(b, "kv_cache_usage")
    for gpu in body.get("gpus") or ():
        key = f"{gpu.get('host')}/{gpu.get('index')}"
        sample[f"gpu.{key}.util"] = _at(gpu, "util_pct")
        sample[f"gpu.{key}.temp"] = _at(gpu, "temp_c")
    return sample


def advance(
    history: Mapping[str, list[float | None]], sample: Mapping[str, float | None], keep: int
) -> dict[str, list[float | None]]:
    """Every series moved on by one sample, as the hub does it: a series the sample does
    not name gets a gap, a new one starts, none holds more than ``keep`` points."""
    return advance_many(history, [sample], keep)


def advance_many(
    history: Mapping[str, list[float | None]],
    samples: Sequence[Mapping[str, float | None]],
    keep: int,
) -> dict[str, list[float | None]]:
    """`advance` by each of ``samples`` in turn, all at once (a replay seeking through
    many frames copies each series once, not once a frame). Exact: keeping the last
    ``keep`` points after each sample or only after the last is the same."""
    out: dict[str, list[float | None]] = {}
    for name, values in history.items():
        out[name] = [*values, *(sample.get(name) for sample in samples)]
    for first, sample in enumerate(samples):
        for name in sample:
            if name not in out:
                out[name] = [later.get(name) for later in samples[first:]]
    for name, values in out.items():
        if len(values) > keep:
            out[name] = values[-keep:]
    return out


def series_bits(history: Mapping[str, tuple[float, ...]]) -> dict[str, bytes]:
    """Each chart series as its doubles' bytes: compared in C, and a gap (NaN) equals
    itself, unlike in a tuple. The writer keeps the last frame's to compare with."""
    return {name: array("d", values).tobytes() for name, values in history.items()}


_DOUBLE = 8


def advanced_by(
    before: Mapping[str, bytes], after: Mapping[str, bytes], sample: Mapping[str, float | None]
) -> int | None:
    """``keep`` when the series ``after`` are `advance` of ``before`` by ``sample`` (both
    as `series_bits` of the hub's series, the sample at the stored precision); None when
    they are not."""
    if not after or after.keys() != before.keys() | sample.keys():
        return None
    keep = max(len(values) for values in after.values()) // _DOUBLE
    for name, now in after.items():
        old = before.get(name, b"")
        points = len(now) // _DOUBLE
        if points != min(len(old) // _DOUBLE + 1, keep):
            return None
        (last,) = struct.unpack_from("d", now, len(now) - _DOUBLE)
        if (None if last != last else figure(last)) != sample.get(name):
            return None
        kept = len(now) - _DOUBLE
        if kept and now[:kept] != old[len(old) - kept :]:
            return None
    return keep
