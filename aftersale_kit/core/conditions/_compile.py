"""Conditions, step 3: the syntax tree type-checked and compiled into closures.

Every test is checked against the types of its fields (money with numbers, times with ISO texts,
lists only with ``in``/``contains``/``is empty``, line-item fields only inside any/all/none) and
then handed to the closure shape that fits what the field may be: always known, possibly absent,
possibly unknown (see :mod:`._closures`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from ..errors import ConditionTypeError
from ..fields import ABSENT, FieldSpec, FieldType
from ._closures import (
    ABSENT_RESULT,
    OPS,
    Fn,
    Shape,
    all_,
    and_,
    any_,
    fast,
    not_,
    or_,
    unknown_vs_const,
)
from ._syntax import (
    And,
    Compare,
    Empty,
    FieldRef,
    ListValue,
    Literal,
    Node,
    Not,
    Or,
    Quant,
    Truth,
    Value,
)

_ORDERING: Final = frozenset({"<", "<=", ">", ">="})
_MIRROR: Final = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDERABLE: Final = frozenset({FieldType.MONEY, FieldType.NUMBER, FieldType.DATETIME})


#: Fields whose values are lower case: texts compared with them are lowered too.
_LOWER_CASE_FIELDS: Final = frozenset({"customer.email", "order.email"})


def _lower(c: Any) -> Any:
    if isinstance(c, str):
        return c.lower()
    if isinstance(c, frozenset):
        return frozenset(_lower(x) for x in c)
    return c


def _missing(spec: FieldSpec) -> str:
    """The field an unknown result names: the data that is missing (first_order: the count)."""
    return min(spec.reads) if spec.reads else spec.path


def _describe(value: Value) -> str:
    if isinstance(value, FieldRef):
        return f"{value.text} ({value.spec.type})"
    if isinstance(value, ListValue):
        return "a list"
    return f"the {value.type} {value.text}"


def _fits(field_type: FieldType, literal_type: FieldType) -> bool:
    if field_type in (FieldType.MONEY, FieldType.NUMBER):
        return literal_type is FieldType.NUMBER
    if field_type is FieldType.DATETIME:
        return literal_type is FieldType.TEXT
    return field_type is literal_type


def _time_literal(lit: Literal) -> datetime:
    assert isinstance(lit.value, str)
    try:
        moment = datetime.fromisoformat(lit.value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ConditionTypeError(
            f'{lit.text} is not a time with UTC offset; write e.g. "2024-11-29T00:00:00+01:00"',
            column=lit.column,
        )
    return moment


class Compiler:
    def __init__(self) -> None:
        self.fields: set[str] = set()
        self._in_item: bool = False
        self._item_fields = 0

    def predicate(self, node: Node) -> Fn:
        if isinstance(node, Or):
            return or_([self.predicate(t) for t in node.terms])
        if isinstance(node, And):
            return and_([self.predicate(t) for t in node.terms])
        if isinstance(node, Not):
            return not_(self.predicate(node.term))
        if isinstance(node, Quant):
            return self._quant(node)
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, Empty):
            return self._empty(node)
        return self._truth(node)

    def _use(self, ref: FieldRef) -> FieldSpec:
        spec = ref.spec
        if spec.per_item and not self._in_item:
            raise ConditionTypeError(
                f"{spec.path} is a field of each line item; test it with any, all or none, "
                f"e.g. any {spec.path} ...",
                column=ref.column,
            )
        if self._in_item and not spec.per_item:
            raise ConditionTypeError(
                f"only line_items fields can be tested inside any/all/none; move the test on "
                f"{ref.text} outside, e.g. any (...) and {ref.text} ...",
                column=ref.column,
            )
        if spec.per_item:
            self._item_fields += 1
        self.fields.add(spec.path)
        self.fields.update(spec.source_fields)
        return spec

    def _quant(self, node: Quant) -> Fn:
        if self._in_item:
            raise ConditionTypeError(
                f"'{node.kind}' cannot be nested in another any/all/none", column=node.column
            )
        self._in_item = True
        before = self._item_fields
        body = self.predicate(node.body)
        self._in_item = False
        if self._item_fields == before:
            raise ConditionTypeError(
                f"'{node.kind}' must be followed by a test on line_items fields, e.g. "
                f'{node.kind} line_items.product_type == "Kaffee"',
                column=node.column,
            )
        if node.kind == "all":
            return all_(body)
        found = any_(body)
        return not_(found) if node.kind == "none" else found

    def _truth(self, node: Truth) -> Fn:
        value = node.value
        if isinstance(value, Literal) and value.type is FieldType.BOOL:
            constant = bool(value.value)
            return Fn(lambda _: constant, False)
        if not isinstance(value, FieldRef) or value.spec.type is not FieldType.BOOL:
            column = value.column
            if isinstance(value, FieldRef) and value.spec.type is FieldType.TEXT_LIST:
                hint = f"write e.g. {value.text} is not empty"
            elif isinstance(value, FieldRef):
                hint = f"compare it, e.g. {value.text} == ..."
            else:
                hint = "a condition needs a field"
            raise ConditionTypeError(
                f"{_describe(value)} is not a yes/no test; {hint}", column=column
            )
        spec = self._use(value)
        get = spec.getter
        if not (spec.may_be_unknown or spec.may_be_absent):
            return Fn(get, False)  # type: ignore[arg-type]  # the getter returns the bool
        if not spec.may_be_unknown:
            return Fn(lambda o: get(o) is True, False)
        path = _missing(spec)

        def truth(o: Any) -> bool | str:
            v = get(o)
            if v is None:
                return path
            return v is True

        return Fn(truth, True)

    def _empty(self, node: Empty) -> Fn:
        value = node.value
        if not isinstance(value, FieldRef) or value.spec.type not in (
            FieldType.TEXT,
            FieldType.TEXT_LIST,
        ):
            raise ConditionTypeError(
                f"'is empty' needs a text or list field, not {_describe(value)}",
                column=node.column,
            )
        spec = self._use(value)
        get, path, negated = spec.getter, _missing(spec), node.negated

        def empty(o: Any) -> bool | str:
            v = get(o)
            if v is None:
                return path
            if v is ABSENT:
                return not negated
            return (len(v) == 0) is not negated  # type: ignore[arg-type]

        return Fn(empty, spec.may_be_unknown)

    def _compare(self, node: Compare) -> Fn:
        op, left, right = node.op, node.left, node.right
        if not isinstance(left, FieldRef) and not isinstance(right, FieldRef):
            raise ConditionTypeError(
                "this compares two fixed values; one side must be a field", column=left.column
            )
        if op in _MIRROR:
            if not isinstance(left, FieldRef):
                left, right, op = right, left, _MIRROR[op]
            assert isinstance(left, FieldRef)
            return self._equality(op, left, right, node.column)
        if op in ("in", "not in"):
            return self._membership(op, left, right)
        return self._contains(op, left, right)

    def _equality(self, op: str, left: FieldRef, right: Value, column: int) -> Fn:
        ltype = left.spec.type
        if ltype is FieldType.TEXT_LIST:
            raise ConditionTypeError(
                f'{left.text} is a list; use "x" in {left.text}, {left.text} contains "x" '
                f"or {left.text} is empty",
                column=left.column,
            )
        if isinstance(right, ListValue):
            raise ConditionTypeError(
                f"to compare {left.text} with several values write {left.text} in [...]",
                column=right.column,
            )
        if op in _ORDERING and ltype not in _ORDERABLE:
            raise ConditionTypeError(
                f"{op!r} needs numbers, money or times; {left.text} is {ltype}", column=column
            )
        if isinstance(right, FieldRef):
            if right.spec.type is not ltype:
                raise ConditionTypeError(
                    f"{_describe(left)} cannot be compared with {_describe(right)}",
                    column=right.column,
                )
            return self._field_field(op, left, right)
        if not _fits(ltype, right.type):
            hint = ""
            if right.type is FieldType.TEXT and ltype in (FieldType.MONEY, FieldType.NUMBER):
                hint = "; write numbers without quotes"
            raise ConditionTypeError(
                f"{_describe(left)} cannot be compared with {_describe(right)}{hint}",
                column=right.column,
            )
        constant: object = right.value
        if ltype is FieldType.DATETIME:
            constant = _time_literal(right)
        return self._field_const(op, left, constant)

    def _membership(self, op: str, left: Value, right: Value) -> Fn:
        if isinstance(left, ListValue) or (
            isinstance(left, FieldRef) and left.spec.type is FieldType.TEXT_LIST
        ):
            raise ConditionTypeError(
                f"the left side of {op!r} must be a single value, not {_describe(left)}",
                column=left.column,
            )
        rtype_ok = isinstance(right, ListValue) or (
            isinstance(right, FieldRef) and right.spec.type is FieldType.TEXT_LIST
        )
        if not rtype_ok:
            raise ConditionTypeError(
                f'{op!r} needs a list on its right, e.g. ["DE", "AT"] or customer.tags; '
                f"found {_describe(right)}",
                column=right.column,
            )
        if isinstance(right, FieldRef):
            ltype_ = left.spec.type if isinstance(left, FieldRef) else left.type
            if ltype_ is not FieldType.TEXT:
                raise ConditionTypeError(
                    f"{right.text} holds texts; {_describe(left)} is not a text",
                    column=left.column,
                )
            if isinstance(left, FieldRef):
                return self._field_field(op, left, right)
            assert isinstance(left, Literal)
            # "x" in list_field is list_field contains "x"
            return self._field_const(
                "contains" if op == "in" else "not contains", right, left.value
            )
        assert isinstance(right, ListValue) and isinstance(left, FieldRef)
        ltype = left.spec.type
        if ltype in (FieldType.BOOL, FieldType.DATETIME):
            raise ConditionTypeError(
                f"{op!r} with a list needs a text, number or money field; {left.text} is {ltype}",
                column=left.column,
            )
        for item in right.items:
            if not _fits(ltype, item.type):
                raise ConditionTypeError(
                    f"{_describe(left)} cannot be compared with {_describe(item)}",
                    column=item.column,
                )
        return self._field_const(op, left, frozenset(item.value for item in right.items))

    def _contains(self, op: str, left: Value, right: Value) -> Fn:
        if not isinstance(left, FieldRef) or left.spec.type not in (
            FieldType.TEXT,
            FieldType.TEXT_LIST,
        ):
            raise ConditionTypeError(
                f"{op!r} needs a text or list field on its left, not {_describe(left)}",
                column=left.column,
            )
        if isinstance(right, ListValue):
            raise ConditionTypeError(
                f"{op!r} needs a single text on its right", column=right.column
            )
        rtype = right.spec.type if isinstance(right, FieldRef) else right.type
        if rtype is not FieldType.TEXT:
            raise ConditionTypeError(
                f"{left.text} holds text; {_describe(right)} is not a text", column=right.column
            )
        if isinstance(right, FieldRef):
            return self._field_field(op, left, right)
        return self._field_const(op, left, right.value)

    def _field_const(self, op: str, ref: FieldRef, c: Any) -> Fn:
        spec = self._use(ref)
        if spec.path in _LOWER_CASE_FIELDS:
            c = _lower(c)
        path = _missing(spec)
        if spec.may_be_unknown:
            return Fn(
                unknown_vs_const(op, spec.getter, c, path), True, Shape(spec.getter, op, c, path)
            )
        if not spec.may_be_absent:
            return Fn(fast(op, spec.getter, c), False, Shape(spec.getter, op, c, path))
        if op in ("==", "!=", "in", "not in"):
            # None (absent) is unequal to every literal and in no literal list: read it raw
            get = spec.none_getter or spec.getter
            return Fn(fast(op, get, c), False, Shape(get, op, c, path))
        test, getter = OPS[op], spec.getter
        absent = ABSENT_RESULT[op]

        def compare(o: Any) -> bool:
            v = getter(o)
            return absent if v is ABSENT else test(v, c)

        return Fn(compare, False)

    def _field_field(self, op: str, left: FieldRef, right: FieldRef) -> Fn:
        lspec, rspec = self._use(left), self._use(right)
        lget, rget, lpath, rpath = lspec.getter, rspec.getter, _missing(lspec), _missing(rspec)
        test = OPS[op]
        absent = ABSENT_RESULT[op]

        def compare(o: Any) -> bool | str:
            a = lget(o)
            b = rget(o)
            if a is None:
                return lpath
            if b is None:
                return rpath
            if a is ABSENT or b is ABSENT:
                return absent
            return test(a, b)

        return Fn(compare, lspec.may_be_unknown or rspec.may_be_unknown)
