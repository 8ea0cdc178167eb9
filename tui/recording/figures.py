"""What a recording says about a span of time: the key figures as chart series, and the
span cut out as a recording of its own (for the post-incident document).

`key_figures` reads the fleet's latency p95 (TTFT and E2E), error rate, waiting queue and
mean GPU utilisation from every frame in the span, with the SLO tier's limits; `cut`
writes the frames and events of a span to one file that replays anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui.analysis.slo import DEFAULT_TIER, TIERS
from tui.analysis.textchart import buckets
from tui.incidents.export import Chart
from tui.recording.config import Limits
from tui.recording.reader import Recording
from tui.recording.writer import RecordingWriter

WIDTH = 60
"""Columns of each chart."""


def _fleet(body: dict[str, Any], *path: str) -> float | None:
    value: Any = body.get("fleet")
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return float(value) if isinstance(value, int | float) else None


def _gpu_util(body: dict[str, Any]) -> float | None:
    utils = [g.get("util_pct") for g in body.get("gpus", ()) if isinstance(g, dict)]
    known = [float(u) for u in utils if isinstance(u, int | float)]
    return sum(known) / len(known) if known else None


def frames_between(recording: Recording, start: float, end: float) -> range:
    """The indexes of the frames taken in [start, end] (the frame shown at ``start`` too)."""
    times = recording.times
    first = next((i for i, t in enumerate(times) if t >= start), len(times))
    if first > 0 and (first == len(times) or times[first] > start):
        first -= 1  # the frame on screen when the span began
    last = max((i for i, t in enumerate(times) if t <= end), default=-1)
    return range(max(first, 0), last + 1)


def key_figures(
    recording: Recording, start: float, end: float, tier: str, width: int = WIDTH
) -> tuple[Chart, ...]:
    """The key figures over [start, end], one chart each, worst value per column."""
    limits = TIERS.get(tier, DEFAULT_TIER)
    series: dict[str, list[tuple[float, float | None]]] = {
        k: [] for k in ("ttft", "e2e", "errors", "queue", "gpu")
    }
    for index in frames_between(recording, start, end):
        body = recording.snapshot_json(index)
        at = max(recording.times[index], start)
        series["ttft"].append((at, _fleet(body, "ttft", "p95")))
        series["e2e"].append((at, _fleet(body, "e2e", "p95")))
        rate = _fleet(body, "traffic", "error_rate")
        series["errors"].append((at, None if rate is None else rate * 100))
        series["queue"].append((at, _fleet(body, "waiting")))
        series["gpu"].append((at, _gpu_util(body)))

    columns = max(1, min(width, len(series["ttft"])))  # no wider than there are frames

    def chart(key: str, title: str, unit: str, limit: float | None) -> Chart:
        return Chart(title, unit, tuple(buckets(series[key], start, end, columns)), limit)

    return (
        chart("ttft", "Latency: TTFT p95", "s", limits.ttft_p95_s),
        chart("e2e", "Latency: E2E p95", "s", limits.e2e_p95_s),
        chart("errors", "Error rate", "%", limits.error_rate_max * 100),
        chart("queue", "Queue: requests waiting", "", None),
        chart("gpu", "GPU utilisation (mean)", "%", None),
    )


def cut(recording: Recording, start: float, end: float, path: Path | str) -> int:
    """Write the frames and events of [start, end] to one recording file at ``path``;
    the number of frames written (0: nothing was recorded then, and no file is left)."""
    indexes = frames_between(recording, start, end)
    if not indexes:
        return 0
    header = recording.header
    writer = RecordingWriter(
        Path(path).parent,
        Limits(keyframe_every=header.keyframe_every),
        environment=header.environment,
        slo_tier=header.slo_tier,
        refresh_s=header.refresh_s,
        name=str(path),
    )
    events = [e for e in recording.events if start <= e.at <= end]
    for index in indexes:
        at = recording.times[index]
        while events and events[0].at <= at:
            event = events.pop(0)
            writer.event(event.source, event.at, event.record)
        writer.frame(recording.snapshot(index))
    for event in events:
        writer.event(event.source, event.at, event.record)
    writer.close()
    return len(indexes)
