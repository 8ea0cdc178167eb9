"""A frame's shape and leaves, read straight from the snapshot (the recorder's hot path).

Most frames differ from the one before only in figures. The writer finds which by
comparing leaves (`tui.recording.format.flatten`, `leaf_changes`). Building the whole
JSON body first (`tui.recording.writer.body_of`, then `flatten`) made every object of
the snapshot twice a second; `flat_body` walks the snapshot once, at the stored
precision, and gives exactly ``flatten(body_of(snapshot))`` without making the body. The
body is made only when it is written whole (a keyframe) or its structure changed.

`SamplePlan` does the same for the chart sample a reader derives from a frame
(`tui.recording.history.sample_of_body`): where in the leaves each charted figure is,
for one shape, so a frame's sample is a few lookups.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat
from types import MappingProxyType
from typing import Any

from tui.model import FleetSnapshot
from tui.model_json import Precision, to_jsonable
from tui.recording.format import flatten, flatten_into, leaf_paths
from tui.recording.history import number, sample_paths
from tui.recording.precision import relative_to

_PLAIN = frozenset({int, str, bool, type(None)})
_SORTED: dict[type, tuple[str, ...] | None] = {}


def _sorted_fields(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names in sorted order (as `flatten` walks its JSON object);
    None for anything else. Cached per type: the same tuple every frame."""
    try:
        return _SORTED[kind]
    except KeyError:
        names = (
            tuple(sorted(f.name for f in dataclasses.fields(kind)))
            if dataclasses.is_dataclass(kind)
            else None
        )
        _SORTED[kind] = names
        return names


def _body_fields() -> tuple[str, ...]:
    names = _sorted_fields(FleetSnapshot)
    assert names is not None
    return tuple(name for name in names if name != "history")


_BODY_FIELDS = _body_fields()


def flat_body(snapshot: FleetSnapshot) -> tuple[tuple[Any, ...], list[Any]]:
    """``flatten(body_of(snapshot))``, without making the body."""
    precision = relative_to(snapshot.taken_at)
    shape: list[Any] = [_BODY_FIELDS]
    leaves: list[Any] = []
    for name in _BODY_FIELDS:
        _walk(getattr(snapshot, name), precision, name, shape, leaves)
    return tuple(shape), leaves


def _walk(value: Any, precision: Precision, key: str, shape: list[Any], leaves: list[Any]) -> None:
    """`to_jsonable` then `flatten_into`, in one pass: the same cases in the same order.
    (A dataclass's or a list's leaves are taken in its own loop: most items are leaves,
    and a call for each was most of the cost.)"""
    kind = type(value)
    if kind is float:
        leaves.append(None if value != value else precision(key, value))
        return
    if kind in _PLAIN:
        leaves.append(value)
        return
    names = _sorted_fields(kind)  # a class itself is of kind `type`: not a dataclass
    if names is not None:
        shape.append(names)
        fields = zip(names, map(getattr, repeat(value), names), strict=True)
        _walk_items(fields, precision, shape, leaves)
        return
    if kind is tuple or kind is list:  # exactly these: neither an enum nor a mapping
        shape.append(len(value))
        _walk_items(zip(repeat(key), value, strict=False), precision, shape, leaves)
        return
    if isinstance(value, enum.Enum):
        flatten_into(value.value, shape, leaves)
        return
    if isinstance(value, Mapping | MappingProxyType):
        items = {str(k): v for k, v in value.items()}
        keys = tuple(sorted(items))
        shape.append(keys)
        for k in keys:
            _walk(items[k], precision, k, shape, leaves)
        return
    if isinstance(value, tuple | list):
        shape.append(len(value))
        _walk_items(zip(repeat(key), value, strict=False), precision, shape, leaves)
        return
    flatten_into(to_jsonable(value, precision, key), shape, leaves)  # a set, or anything else


def _walk_items(
    items: Iterable[tuple[str, Any]], precision: Precision, shape: list[Any], leaves: list[Any]
) -> None:
    """A dataclass's fields or a list's items, as (the key a float is rounded by, value)."""
    for key, item in items:
        sort = type(item)
        if sort is float:
            leaves.append(None if item != item else precision(key, item))
        elif sort in _PLAIN:
            leaves.append(item)
        else:
            _walk(item, precision, key, shape, leaves)


@dataclass(frozen=True, slots=True)
class SamplePlan:
    """Where a frame's chart figures are among its leaves, for one shape.

    ``figures``: each series' name and its leaf's index (None: the figure is not there in
    this shape); ``names``: the leaves the series' names were made of (a pool's, a
    backend's name, a GPU's host and index), with their values: the plan holds while
    they do.
    """

    shape: tuple[Any, ...]
    figures: tuple[tuple[str, int | None], ...]
    names: tuple[tuple[int, Any], ...]

    @classmethod
    def of(cls, body: Mapping[str, Any], shape: tuple[Any, ...]) -> SamplePlan:
        """The plan for ``body`` (of ``shape``)."""
        paths = leaf_paths(body)
        where = {path: index for index, path in enumerate(paths)}
        figures, named_by = sample_paths(body)
        leaves = flatten(body)[1]
        named, depths = set(named_by), {len(part) for part in named_by}
        names = [  # every leaf at or under a name's path (a name is text; be sure anyway)
            (index, leaves[index])
            for index, path in enumerate(paths)
            if any(path[:depth] in named for depth in depths)
        ]
        return cls(
            shape=shape,
            figures=tuple((name, where.get(path)) for name, path in figures.items()),
            names=tuple(names),
        )

    def holds(self, shape: tuple[Any, ...], leaves: list[Any]) -> bool:
        """Whether this plan reads a frame of this shape and these leaves."""
        if shape != self.shape:
            return False
        for index, value in self.names:
            leaf = leaves[index]
            if leaf != value or type(leaf) is not type(value):
                return False
        return True

    def sample(self, leaves: list[Any]) -> dict[str, float | None]:
        """``sample_of_body`` of the frame whose leaves these are."""
        return {
            name: None if index is None else number(leaves[index]) for name, index in self.figures
        }
