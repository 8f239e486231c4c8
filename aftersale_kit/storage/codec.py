"""JSON for the core's decision types: Decision, Outcome, PlannedAction and the actions.

The codec follows the dataclasses' type hints, so a field added to a core dataclass is carried
without touching this module. Encoding rules: Decimal as a string (``"19.99"``), datetime as ISO
8601 with offset, enums by value, tuples as lists, ``Money`` as ``{"amount", "currency"}``, an
action as an object tagged ``"type"`` (``issue_coupon``, ``show_block``, ``free_gift``,
``tag_order``). Free-form values (``ShowBlock.params``) keep their Python type through tags:
``{"$decimal": "1.5"}``, ``{"$datetime": ...}``, ``{"$date": ...}``, ``{"$tuple": [...]}``.

Decoding is strict: an unknown field or a value of the wrong shape raises :class:`ValueError`
naming the path (``actions[0].action.value``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar, cast

from ..core.campaign import Action
from ..core.conditions import Condition, compile_condition
from ..core.decision import Decision, Outcome, PlannedAction

__all__ = [
    "action_from_dict",
    "action_tag",
    "action_to_dict",
    "decision_from_dict",
    "decision_from_json",
    "decision_to_dict",
    "decision_to_json",
    "dumps",
    "outcome_from_dict",
    "outcome_to_dict",
    "planned_action_from_dict",
    "planned_action_to_dict",
]

T = TypeVar("T")

_ACTION_CLASSES: tuple[type, ...] = typing.get_args(Action)


def action_tag(cls: type) -> str:
    """``IssueCoupon`` -> ``issue_coupon``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


_TAG_TO_ACTION: dict[str, type] = {action_tag(c): c for c in _ACTION_CLASSES}


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys (stable bytes for equal values)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


# -- encoding -----------------------------------------------------------------------------------


_Encoder = Callable[[Any], Any]
#: One encoder per type hint and per (dataclass, tagged), built on first use: a decision is
#: encoded on every step, and walking its type hints anew each time cost more than the rest.
_ENCODERS: dict[Any, _Encoder] = {}
_DATACLASS_ENCODERS: dict[tuple[type, bool], _Encoder] = {}


def _encode(value: Any, hint: Any) -> Any:
    return _encoder(hint)(value)


def _encoder(hint: Any) -> _Encoder:
    try:
        found = _ENCODERS.get(hint)
    except TypeError:  # an unhashable hint: built each time
        return _optional(_build_encoder(hint))
    if found is None:
        found = _ENCODERS[hint] = _optional(_build_encoder(hint))
    return found


def _optional(inner: _Encoder) -> _Encoder:
    return lambda value: None if value is None else inner(value)


def _identity(value: Any) -> Any:
    return value


def _build_encoder(hint: Any) -> _Encoder:
    origin = typing.get_origin(hint)
    if hint is Any:
        return _encode_free
    if origin in (types.UnionType, typing.Union):
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        if len(members) == 1:
            return _encoder(members[0])
        # A union of dataclasses (the Action union): tag the member.
        return lambda value: _encode_dataclass(value, tagged=True)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _encoder(args[0])
            return lambda value: [item(v) for v in value]
        items = [_encoder(a) for a in args]
        return lambda value: [e(v) for v, e in zip(value, items, strict=True)]
    if not isinstance(hint, type):
        return _identity
    if issubclass(hint, Enum):
        return lambda value: value.value
    if hint is Decimal:
        return str
    if hint is datetime:
        return lambda value: cast(datetime, value).isoformat()
    if hint is Condition:
        return lambda value: cast(Condition, value).source
    if dataclasses.is_dataclass(hint):
        tagged = hint in _ACTION_CLASSES
        return lambda value: _encode_dataclass(value, tagged=tagged)
    return _identity


def _encode_dataclass(value: Any, *, tagged: bool) -> dict[str, Any]:
    cls = type(value)
    encode = _DATACLASS_ENCODERS.get((cls, tagged))
    if encode is None:
        encode = _DATACLASS_ENCODERS[(cls, tagged)] = _dataclass_encoder(cls, tagged=tagged)
    return cast(dict[str, Any], encode(value))


def _dataclass_encoder(cls: type, *, tagged: bool) -> _Encoder:
    hints = _hints(cls)
    fields = [(f.name, _encoder(hints[f.name])) for f in dataclasses.fields(cls)]
    tag = action_tag(cls)

    def encode(value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"type": tag} if tagged else {}
        for name, field_encoder in fields:
            out[name] = field_encoder(getattr(value, name))
        return out

    return encode


def _encode_free(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode_free(v) for v in value]}
    if isinstance(value, list):
        return [_encode_free(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode_free(v) for k, v in value.items()}
    raise TypeError(f"cannot store a value of type {type(value).__name__} as JSON: {value!r}")


# -- decoding -----------------------------------------------------------------------------------


def _decode(data: Any, hint: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return _decode_free(data, path)
    if origin in (types.UnionType, typing.Union):
        return _decode_union(data, typing.get_args(hint), path)
    if data is None:
        raise ValueError(f"{path}: expected a value, found null")
    if origin is tuple:
        return _decode_tuple(data, typing.get_args(hint), path)
    if isinstance(hint, type):
        return _decode_class(data, hint, path)
    raise ValueError(f"{path}: cannot decode a value of type {hint!r}")


def _decode_union(data: Any, args: tuple[Any, ...], path: str) -> Any:
    if data is None:
        if type(None) in args:
            return None
        raise ValueError(f"{path}: expected a value, found null")
    members = [m for m in args if m is not type(None)]
    if len(members) == 1:
        return _decode(data, members[0], path)
    return _decode_tagged(data, path)


def _decode_tuple(data: Any, args: tuple[Any, ...], path: str) -> tuple[Any, ...]:
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list, found {type(data).__name__}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_decode(v, args[0], f"{path}[{i}]") for i, v in enumerate(data))
    if len(data) != len(args):
        raise ValueError(f"{path}: expected {len(args)} items, found {len(data)}")
    return tuple(
        _decode(v, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(data, args, strict=True))
    )


def _enum(data: Any, hint: type[Enum], path: str) -> Enum:
    try:
        return hint(data)
    except ValueError as err:
        raise ValueError(f"{path}: {data!r} is not a {hint.__name__}") from err


def _bool(data: Any, path: str) -> bool:
    if not isinstance(data, bool):
        raise ValueError(f"{path}: expected true or false, found {data!r}")
    return data


def _scalar(data: Any, hint: type, path: str) -> Any:
    if not isinstance(data, hint) or isinstance(data, bool):
        raise ValueError(f"{path}: expected {hint.__name__}, found {data!r}")
    return data


#: Classes decoded by a function of ``(data, path)``.
_DECODERS: dict[type, Callable[[Any, str], Any]] = {
    Decimal: lambda data, path: _decimal(data, path),
    datetime: lambda data, path: _datetime(data, path),
    bool: lambda data, path: _bool(data, path),
    int: lambda data, path: _scalar(data, int, path),
    str: lambda data, path: _scalar(data, str, path),
    float: lambda data, path: _scalar(data, float, path),
    # A condition (``follow_up``'s ``repeat.stop_when``) is stored as its source text.
    Condition: lambda data, path: compile_condition(_scalar(data, str, path)),
}


def _decode_class(data: Any, hint: type, path: str) -> Any:
    if issubclass(hint, Enum):
        return _enum(data, hint, path)
    decoder = _DECODERS.get(hint)
    if decoder is not None:
        return decoder(data, path)
    if dataclasses.is_dataclass(hint):
        if hint in _ACTION_CLASSES:
            return _decode_tagged(data, path)
        return _decode_dataclass(data, hint, path)
    raise ValueError(f"{path}: cannot decode a value of type {hint!r}")


def _decode_tagged(data: Any, path: str) -> Any:
    if not isinstance(data, dict) or "type" not in data:
        raise ValueError(f"{path}: expected an action object with a 'type'")
    tag = data["type"]
    cls = _TAG_TO_ACTION.get(tag)
    if cls is None:
        known = ", ".join(sorted(_TAG_TO_ACTION))
        raise ValueError(f"{path}.type: unknown action {tag!r} (known: {known})")
    return _decode_dataclass({k: v for k, v in data.items() if k != "type"}, cls, path)


def _decode_dataclass(data: Any, cls: type[T], path: str) -> T:
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object, found {type(data).__name__}")
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{path}: unknown field(s) {', '.join(unknown)} for {cls.__name__}")
    kwargs = {
        name: _decode(value, hints[name], f"{path}.{name}" if path else name)
        for name, value in data.items()
    }
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ValueError(f"{path or cls.__name__}: {err}") from err


def _decode_free(data: Any, path: str) -> Any:
    if isinstance(data, list):
        return [_decode_free(v, f"{path}[{i}]") for i, v in enumerate(data)]
    if isinstance(data, dict):
        if len(data) == 1:
            ((key, inner),) = data.items()
            if key == "$decimal":
                return _decimal(inner, path)
            if key == "$datetime":
                return _datetime(inner, path)
            if key == "$date":
                return date.fromisoformat(inner)
            if key == "$tuple":
                return tuple(_decode_free(v, f"{path}[{i}]") for i, v in enumerate(inner))
        return {k: _decode_free(v, f"{path}.{k}") for k, v in data.items()}
    return data


def _decimal(data: Any, path: str) -> Decimal:
    if not isinstance(data, str):
        raise ValueError(f"{path}: expected a decimal string, found {data!r}")
    try:
        return Decimal(data)
    except InvalidOperation as err:
        raise ValueError(f"{path}: {data!r} is not a decimal number") from err


def _datetime(data: Any, path: str) -> datetime:
    if not isinstance(data, str):
        raise ValueError(f"{path}: expected an ISO 8601 timestamp, found {data!r}")
    try:
        return datetime.fromisoformat(data)
    except ValueError as err:
        raise ValueError(f"{path}: {data!r} is not an ISO 8601 timestamp") from err


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        # Core modules name Condition only for type checkers (no import cycle at run time).
        hints = _HINTS[cls] = typing.get_type_hints(cls, localns={"Condition": Condition})
    return hints


# -- public -------------------------------------------------------------------------------------


def action_to_dict(action: Action) -> dict[str, Any]:
    return _encode_dataclass(action, tagged=True)


def action_from_dict(data: Any) -> Action:
    return cast(Action, _decode_tagged(data, "action"))


def outcome_to_dict(outcome: Outcome) -> dict[str, Any]:
    return _encode_dataclass(outcome, tagged=False)


def outcome_from_dict(data: Any) -> Outcome:
    return _decode_dataclass(data, Outcome, "")


def planned_action_to_dict(planned: PlannedAction) -> dict[str, Any]:
    return _encode_dataclass(planned, tagged=False)


def planned_action_from_dict(data: Any) -> PlannedAction:
    return _decode_dataclass(data, PlannedAction, "")


def decision_to_dict(decision: Decision) -> dict[str, Any]:
    return _encode_dataclass(decision, tagged=False)


def decision_from_dict(data: Any) -> Decision:
    return _decode_dataclass(data, Decision, "")


def decision_to_json(decision: Decision) -> str:
    return dumps(decision_to_dict(decision))


def decision_from_json(text: str) -> Decision:
    return decision_from_dict(json.loads(text))
