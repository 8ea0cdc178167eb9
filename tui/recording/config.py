"""The config's optional ``recording:`` section: where recordings go and how big they grow.

`tui.config` keeps the section as its raw YAML node; `recording_config` validates it here
with ``FILE:LINE: what is wrong`` errors. With no section, every dashboard records with
these defaults::

    recording:
      enabled: true            # false: the dashboard records nothing
      dir: ~/recordings        # default STATE_DIR/recordings
      keyframe_every: 900      # frames between whole snapshots (the rest: what changed)
      segment_mb: 16           # a segment file closes before it grows past this ...
      segment_minutes: 60      # ... or once it is this old
      keep_mb: 512             # all segments in the folder together stay within this
      keep_days: 7             # segments older than this are deleted
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tui.config import Config, ConfigError, _mapping, _positive, _scalar, _where
from tui.ops.places import state_dir_of

RECORDINGS_DIR = "recordings"

MB = 1 << 20


@dataclass(frozen=True, slots=True)
class Limits:
    """How big recordings may grow (the config's ``recording:`` section)."""

    keyframe_every: int = 900  # frames between keyframes (a keyframe: the whole snapshot)
    segment_bytes: int = 16 * MB  # a segment closes before it grows past this
    segment_s: float = 3600.0  # ... or once it is this old
    keep_bytes: int = 512 * MB  # the folder's segments together stay within this
    keep_s: float = 7 * 86400.0  # segments older than this are deleted


@dataclass(frozen=True, slots=True)
class RecordingConfig:
    """The validated ``recording:`` section."""

    enabled: bool = True
    dir: str | None = None  # default STATE_DIR/recordings
    limits: Limits = field(default_factory=Limits)


def recording_config(config: Config | None) -> RecordingConfig:
    """The config's ``recording:`` section, validated; the defaults without one."""
    node = getattr(config, "recording", None) if config is not None else None
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
        return RecordingConfig()
    path = (config.path if config is not None else None) or "<config>"
    fields = _mapping(
        path,
        node,
        "recording",
        {
            "enabled": lambda n: _scalar(path, n, bool, "enabled"),
            "dir": lambda n: _scalar(path, n, str, "dir"),
            "keyframe_every": lambda n: _whole(path, n, "keyframe_every", 1, 100_000),
            "segment_mb": lambda n: _positive(path, n, "segment_mb"),
            "segment_minutes": lambda n: _positive(path, n, "segment_minutes"),
            "keep_mb": lambda n: _positive(path, n, "keep_mb"),
            "keep_days": lambda n: _positive(path, n, "keep_days"),
        },
    )
    base = Limits()
    limits = Limits(
        keyframe_every=fields.get("keyframe_every", base.keyframe_every),
        segment_bytes=int(fields.get("segment_mb", base.segment_bytes / MB) * MB),
        segment_s=fields.get("segment_minutes", base.segment_s / 60) * 60,
        keep_bytes=int(fields.get("keep_mb", base.keep_bytes / MB) * MB),
        keep_s=fields.get("keep_days", base.keep_s / 86400) * 86400,
    )
    if limits.keep_bytes < 2 * limits.segment_bytes:
        raise ConfigError(
            f"{_where(path, node)}: recording: keep_mb must be at least twice segment_mb"
            " (the folder holds the segment being written and at least one before it)"
        )
    return RecordingConfig(fields.get("enabled", True), fields.get("dir"), limits)


def _whole(path: str, node: yaml.Node, key: str, low: int, high: int) -> int:
    value = int(_scalar(path, node, int, key))
    if not low <= value <= high:
        raise ConfigError(f"{_where(path, node)}: '{key}' must be {low}..{high}")
    return value


def recordings_dir(config: Config | None, section: RecordingConfig | None = None) -> Path:
    """Where the dashboard's recordings go: the section's ``dir`` (``~`` expanded,
    relative to the config's folder), else ``STATE_DIR/recordings``."""
    section = section or recording_config(config)
    if section.dir:
        folder = Path(section.dir).expanduser()
        if not folder.is_absolute() and config is not None and config.path:
            folder = Path(config.path).parent / folder
        return folder
    return state_dir_of(config) / RECORDINGS_DIR


def recording_off(config: Config) -> Config:
    """``config`` with its flight recorder off (``--no-record``): as if its ``recording:``
    section said ``enabled: false``."""
    import dataclasses

    return dataclasses.replace(config, recording=yaml.compose("enabled: false"))
