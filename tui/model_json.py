"""The model as JSON and back: what ``inferdeck snapshot --json`` prints, and its inverse.

`to_jsonable` turns dataclasses, enums and read-only mappings into plain JSON values (a
NaN, which JSON cannot hold, becomes null). `snapshot_from_jsonable` reads that JSON back
into a `FleetSnapshot`, guided by the dataclasses' type hints, so a recording (which
stores this JSON) replays exactly the snapshot the dashboard showed. In chart history a
null is a gap and comes back as NaN, as the hub keeps it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from tui import model
from tui.model import FleetSnapshot

__all__ = ["JsonError", "Precision", "from_jsonable", "snapshot_from_jsonable", "to_jsonable"]


class JsonError(ValueError):
    """JSON that does not describe the model object asked for."""


_PLAIN = frozenset({int, str, bool, type(None)})


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names, in order; None for anything else (cached per type)."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = (
            tuple(f.name for f in dataclasses.fields(kind))
            if dataclasses.is_dataclass(kind)
            else None
        )
        _FIELD_NAMES[kind] = names
        return names


Precision = Callable[[str, float], float]
"""How a recording rounds a float: (the field's name, the value) -> the value it keeps."""


def to_jsonable(value: Any, precision: Precision | None = None, key: str = "") -> Any:
    """Dataclasses, enums and read-only mappings as plain JSON values.

    ``precision``: round every (finite) float with it, told the name of the field or key
    the float is the value of (``key``); the recorder stores figures this way
    (`tui.recording.precision`). Called on every snapshot the recorder writes, so the
    common cases (numbers, strings, the model's dataclasses) are decided by the value's
    exact type first.
    """
    kind = type(value)
    if kind is float:
        if value != value:
            return None  # NaN is not JSON
        return value if precision is None else precision(key, value)
    if kind in _PLAIN:
        return value
    if not isinstance(value, type):
        names = _field_names(kind)
        if names is not None:
            return {name: to_jsonable(getattr(value, name), precision, name) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping | MappingProxyType):
        return {str(k): to_jsonable(v, precision, str(k)) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_jsonable(v, precision, key) for v in value]
    if isinstance(value, frozenset | set):  # e.g. the figures an engine does not expose
        return sorted(to_jsonable(v, precision, key) for v in value)
    return value


def snapshot_from_jsonable(data: Any) -> FleetSnapshot:
    """The `FleetSnapshot` that `to_jsonable` turned into ``data``; `JsonError` if it is not one."""
    return from_jsonable(FleetSnapshot, data)


_T = typing.TypeVar("_T")


def from_jsonable(kind: type[_T], data: Any) -> _T:
    """A model dataclass from its JSON form; unknown keys are ignored (a newer writer),
    missing ones take the field's default (an older writer)."""
    return typing.cast(_T, _decode(kind, data, kind.__name__))


@cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind, vars(model))


def _decode(hint: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        last: JsonError | None = None
        for option in options:
            if option is type(None):
                continue
            try:
                return _decode(option, data, where)
            except JsonError as exc:
                last = exc
        raise last or JsonError(f"{where}: unexpected {data!r}")
    if origin is tuple:
        if not isinstance(data, list):
            raise JsonError(f"{where}: expected a list, not {type(data).__name__}")
        item = typing.get_args(hint)[0]
        return tuple(_decode(item, v, f"{where}[{i}]") for i, v in enumerate(data))
    if origin in (frozenset, set):
        if not isinstance(data, list):
            raise JsonError(f"{where}: expected a list, not {type(data).__name__}")
        item = typing.get_args(hint)[0]
        return frozenset(_decode(item, v, f"{where}[{i}]") for i, v in enumerate(data))
    if origin in (Mapping, dict) or hint is Mapping:
        if not isinstance(data, dict):
            raise JsonError(f"{where}: expected an object, not {type(data).__name__}")
        args = typing.get_args(hint)
        value_hint = args[1] if len(args) == 2 else Any
        return MappingProxyType(
            {k: _decode(value_hint, v, f"{where}.{k}") for k, v in data.items()}
        )
    if hint is Any:
        return data
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise JsonError(f"{where}: expected an object, not {type(data).__name__}")
        hints = _hints(hint)
        values = {
            f.name: _decode(hints[f.name], data[f.name], f"{where}.{f.name}")
            for f in dataclasses.fields(hint)
            if f.name in data
        }
        try:
            return hint(**values)
        except TypeError as exc:
            raise JsonError(f"{where}: {exc}") from None
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(data)
        except ValueError:
            raise JsonError(f"{where}: {data!r} is not a {hint.__name__}") from None
    if hint is float:
        if data is None:  # a gap in a chart series: NaN, as the hub keeps it
            return math.nan
        if isinstance(data, int | float) and not isinstance(data, bool):
            return data
        raise JsonError(f"{where}: expected a number, not {data!r}")
    if hint in (int, str, bool):
        if type(data) is hint or (hint is int and type(data) is int):
            return data
        raise JsonError(f"{where}: expected {hint.__name__}, not {data!r}")
    raise JsonError(f"{where}: cannot read a {hint!r}")
