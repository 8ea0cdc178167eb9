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

from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from tui.recording.precision import figure


def number(node: Any) -> float | None:
    """A charted figure as a reader takes it from a recorded body: a number, as a float;
    anything else (text, a boolean, null) is not known."""
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and type(step) is int:
            node = node[step]
        else:
            return None
    return node


_FLEET = {
    "fleet.ttft_p50": ("ttft", "p50"),
    "fleet.ttft_p95": ("ttft", "p95"),
    "fleet.e2e_p50": ("e2e", "p50"),
    "fleet.e2e_p95": ("e2e", "p95"),
    "fleet.waiting": ("waiting",),
    "fleet.running": ("running",),
    "fleet.kv": ("kv_cache_usage",),
    "fleet.gen_tps": ("traffic", "generation_tokens_per_s"),
    "fleet.prompt_tps": ("traffic", "prompt_tokens_per_s"),
    "fleet.rpm": ("traffic", "requests_per_min"),
    "fleet.error_rate": ("traffic", "error_rate"),
}
_POOL = {"waiting": ("waiting",), "rpm": ("traffic", "requests_per_min")}
_BACKEND = {
    "ttft_p95": ("ttft", "p95"),
    "running": ("running",),
    "waiting": ("waiting",),
    "kv": ("kv_cache_usage",),
}
_GPU = {"util": ("util_pct",), "temp": ("temp_c",)}


def sample_paths(
    body: Mapping[str, Any],
) -> tuple[dict[str, tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Where in a recorded body each charted figure is (series name -> keys and list
    indexes), and where the parts of those names are (a pool's, a backend's name, a
    GPU's host and index): the same names as `tui.hub.history_sample` gives."""
    figures: dict[str, tuple[Any, ...]] = {}
    named_by: list[tuple[Any, ...]] = []
    if isinstance(body.get("fleet"), dict):
        figures.update({name: ("fleet", *path) for name, path in _FLEET.items()})
    for i, pool in enumerate(body.get("pools") or ()):
        named_by.append(("pools", i, "name"))
        name = pool.get("name")
        figures.update({f"pool.{name}.{f}": ("pools", i, *p) for f, p in _POOL.items()})
    for i, backend in enumerate(body.get("backends") or ()):
        named_by.append(("backends", i, "name"))
        name = backend.get("name")
        figures.update({f"backend.{name}.{f}": ("backends", i, *p) for f, p in _BACKEND.items()})
    for i, gpu in enumerate(body.get("gpus") or ()):
        named_by += [("gpus", i, "host"), ("gpus", i, "index")]
        key = f"{gpu.get('host')}/{gpu.get('index')}"
        figures.update({f"gpu.{key}.{f}": ("gpus", i, *p) for f, p in _GPU.items()})
    return figures, named_by


def sample_of_body(body: Mapping[str, Any]) -> dict[str, float | None]:
    """The chart sample of a recorded body: the same names and figures as
    `tui.hub.history_sample` takes from the snapshot (None: not known)."""
    figures, _ = sample_paths(body)
    return {name: number(_at(body, path)) for name, path in figures.items()}


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


def _same_points(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """The same doubles, bit for bit (a gap, NaN, equals itself; -0.0 is not 0.0)."""
    return array("d", a).tobytes() == array("d", b).tobytes()


def advanced_by(
    before: Mapping[str, tuple[float, ...]],
    after: Mapping[str, tuple[float, ...]],
    sample: Mapping[str, float | None],
    *,
    moved_on: bool = False,
) -> int | None:
    """``keep`` when the series ``after`` are `advance` of ``before`` by ``sample`` (the
    hub's series; the sample at the stored precision); None when they are not.

    ``moved_on``: the hub vouches that each series of ``after`` is its series in
    ``before`` moved on by one point (`tui.hub.History.advanced`), so only the new
    points and the lengths are checked. Otherwise the points kept are compared too:
    the hub's consecutive series share their points (`tui.hub.History`), so by
    reference, in C; only where that fails as the doubles they are (a gap, NaN, is not
    equal to itself as a float). Comparing them touches every point of every series,
    most of the check's cost once a second with cold caches."""
    if not after or after.keys() != before.keys() | sample.keys():
        return None
    keep = max(len(values) for values in after.values())
    for name, now in after.items():
        old = before.get(name, ())
        points = len(now)
        if points != min(len(old) + 1, keep):
            return None
        last = now[-1]
        if (None if last != last else figure(last)) != sample.get(name):
            return None
        kept = points - 1
        if kept and not moved_on:
            new_part, old_part = now[:kept], old[len(old) - kept :]
            if new_part != old_part and not _same_points(new_part, old_part):
                return None
    return keep
