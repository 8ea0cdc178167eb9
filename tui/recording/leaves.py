"""A frame's shape and leaves, read straight from the snapshot (the recorder's hot path).

Most frames differ from the one before only in figures. The writer finds which by
comparing leaves (`tui.recording.format.flatten`, `leaf_changes`). Building the whole
JSON body first (`body_of`, then `flatten`) made every object of
the snapshot twice a second; `flat_body` walks the snapshot once, at the stored
precision, and gives exactly ``flatten(body_of(snapshot))`` without making the body. The
body is made only when it is written whole (a keyframe) or its structure changed.

The walk reads each dataclass by a `_Plan` made once per type from the model's type
hints: the fields that hold leaves are read several at once and kept by cached rules,
in C. A value that breaks the hints is caught, and that frame is read the exact way.

`SamplePlan` does the same for the chart sample a reader derives from a frame
(`tui.recording.history.sample_of_body`): where in the leaves each charted figure is,
for one shape, so a frame's sample is a few lookups.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter, call
from types import MappingProxyType
from typing import Any

from tui.model import FleetSnapshot
from tui.model_json import Precision, to_jsonable
from tui.recording.format import flatten, flatten_into, leaf_paths
from tui.recording.history import number, sample_paths
from tui.recording.precision import (
    RELATIVE_KEYS,
    TIME_DIGITS,
    TIME_KEYS,
    figure_of,
    relative_to,
)

_PLAIN = frozenset({int, str, bool, type(None)})
_LEAVES = frozenset({float, int, str, bool, type(None)})
"""The types a leaf may have (`flatten`'s, with the JSON body's floats)."""


def _figure_leaf(value: Any) -> Any:
    """A figure field's leaf: a float at the stored precision (NaN: null), anything else
    as it is. (Not cached: about half a frame's figures are new, and a cache lookup cost
    more than the rounding it saved, in time and in cold cache lines.)"""
    if type(value) is float:
        return None if value != value else figure_of(value)
    return value


@functools.lru_cache(maxsize=1024, typed=True)
def _time_leaf(value: Any) -> Any:
    """A time field's leaf (`TIME_KEYS`): a float to the millisecond (NaN: null)."""
    if type(value) is float:
        return None if value != value else round(value, TIME_DIGITS)
    return value


def _enum_leaf(value: Any) -> Any:
    """An enum field's leaf: the member's value (anything else as it is)."""
    return value.value if isinstance(value, enum.Enum) else value


_Run = tuple[Callable[[Any], Any] | None, tuple[Callable[[Any], Any], ...], str]
"""A step of `_Plan`: ``(getter, leaf rules, "")`` reads fields that are leaves, all at
once (``getter`` gives a tuple when there are several); ``(None, (), name)`` walks the
field ``name`` (a nested value, or a moment kept relative to the frame's time)."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """How the walk reads one dataclass: its field names in sorted order (as `flatten`
    walks its JSON object), and its fields in that order as `_Run` steps: the fields its
    type hints say are leaves (numbers, text, enums) are read several at once and kept
    by a rule chosen once per field, in C (`operator.call` over cached rules), not one
    Python step per leaf."""

    names: tuple[str, ...]
    steps: tuple[_Run, ...]


def _leaf_rule(name: str, hint: Any) -> Callable[[Any], Any] | None:
    """How a field of this name and type hint is kept as a leaf; None: it is walked."""
    if name in RELATIVE_KEYS:
        return None  # by the frame's own time: `relative_to`
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_leaf
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if all(member in _LEAVES for member in members):
        return _time_leaf if name in TIME_KEYS else _figure_leaf
    return None


_PLANS: dict[type, _Plan | None] = {}


def _plan_of(kind: type) -> _Plan | None:
    """`_Plan` of a dataclass, None for anything else; made once per type."""
    if kind in _PLANS:
        return _PLANS[kind]
    plan: _Plan | None = None
    if dataclasses.is_dataclass(kind):  # a class itself is of kind `type`: not one
        hints = typing.get_type_hints(kind)
        names = tuple(sorted(f.name for f in dataclasses.fields(kind)))
        steps: list[_Run] = []
        run: list[tuple[str, Callable[[Any], Any]]] = []
        for name in names:
            rule = _leaf_rule(name, hints[name])
            if rule is not None:
                run.append((name, rule))
                continue
            steps += _run_step(run)
            run = []
            steps.append((None, (), name))
        steps += _run_step(run)
        plan = _Plan(names, tuple(steps))
    _PLANS[kind] = plan
    return plan


def _run_step(run: list[tuple[str, Callable[[Any], Any]]]) -> list[_Run]:
    """The step reading these leaf fields at once (none when there are none)."""
    if not run:
        return []
    return [(attrgetter(*(name for name, _ in run)), tuple(rule for _, rule in run), "")]


def _body_fields() -> tuple[str, ...]:
    plan = _plan_of(FleetSnapshot)
    assert plan is not None
    return tuple(name for name in plan.names if name != "history")


_BODY_FIELDS = _body_fields()


def flat_body(snapshot: FleetSnapshot) -> tuple[tuple[Any, ...], list[Any]]:
    """``flatten(body_of(snapshot))``, without making the body.

    Read by the model's type hints; a value that breaks them (a frame that would not
    be what the body holds) is caught, and that frame is read the exact way."""
    precision = relative_to(snapshot.taken_at)
    shape: list[Any] = [_BODY_FIELDS]
    leaves: list[Any] = []
    try:
        for name in _BODY_FIELDS:
            _walk(getattr(snapshot, name), precision, name, shape, leaves)
        if _LEAVES.issuperset(map(type, leaves)):
            return tuple(shape), leaves
    except TypeError:  # an unhashable value where a leaf should be
        pass
    return flatten(body_of(snapshot))


def body_of(snapshot: FleetSnapshot) -> dict[str, Any]:
    """The snapshot as a version-3 recording stores it: ``snapshot --json`` without the
    chart history, at the stored precision, its moments relative to its own time
    (`tui.recording.precision.relative_to`)."""
    precision = relative_to(snapshot.taken_at)
    return {
        f.name: to_jsonable(getattr(snapshot, f.name), precision, f.name)
        for f in dataclasses.fields(snapshot)
        if f.name != "history"
    }


def _walk(value: Any, precision: Precision, key: str, shape: list[Any], leaves: list[Any]) -> None:
    """`to_jsonable` then `flatten_into`, in one pass: the same cases in the same order.
    (A dataclass's leaves by its `_Plan`, a list's in its own loop: most items are
    leaves, and a call for each was most of the cost.)"""
    kind = type(value)
    if kind is float:
        leaves.append(None if value != value else precision(key, value))
        return
    if kind in _PLAIN:
        leaves.append(value)
        return
    if kind is tuple or kind is list:  # exactly these: not a dataclass, an enum, a mapping
        _walk_sequence(value, precision, key, shape, leaves)
        return
    plan = _PLANS[kind] if kind in _PLANS else _plan_of(kind)
    if plan is not None:
        shape.append(plan.names)
        for getter, rules, name in plan.steps:
            if getter is None:
                _walk(getattr(value, name), precision, name, shape, leaves)
            elif len(rules) == 1:
                leaves.append(rules[0](getter(value)))
            else:
                leaves.extend(map(call, rules, getter(value)))
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
        _walk_sequence(value, precision, key, shape, leaves)
        return
    flatten_into(to_jsonable(value, precision, key), shape, leaves)  # a set, or anything else


def _walk_sequence(
    value: tuple[Any, ...] | list[Any],
    precision: Precision,
    key: str,
    shape: list[Any],
    leaves: list[Any],
) -> None:
    """A list's items; its floats are kept by the key the list is under."""
    shape.append(len(value))
    append = leaves.append
    for item in value:
        sort = type(item)
        if sort is float:
            append(None if item != item else precision(key, item))
        elif sort in _PLAIN:
            append(item)
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
