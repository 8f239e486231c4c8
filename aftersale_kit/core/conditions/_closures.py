"""Conditions, step 4: the closures a compiled condition is made of.

A test takes an order (or a line item inside any/all/none) and returns ``True``, ``False`` or the
path of the field that was unknown. Two-valued tests (``Fn.three_valued`` false) return plain
bools and combine with Python's own ``and``/``or``/``not``; Kleene's logic is only paid for where
a field may be unknown. The two-valued shapes are written out per operator: a closure that says
``>=`` saves the call of ``operator.ge`` on every evaluation (benchmark P1 pins their speed).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ..fields import ABSENT
from ..model import Order

#: A compiled test: ``True``, ``False`` or the path of the field that was unknown.
Test = Callable[[Any], "bool | str"]

OPS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "contains": lambda a, b: b in a,
    "not contains": lambda a, b: b not in a,
}
#: The result of a test whose field is absent.
ABSENT_RESULT: Final = {
    "==": False,
    "!=": True,
    "<": False,
    "<=": False,
    ">": False,
    ">=": False,
    "in": False,
    "not in": True,
    "contains": False,
    "not contains": True,
}


@dataclass(frozen=True, slots=True)
class Shape:
    """A "field op constant" test, kept so that any/all can inline it into their loop."""

    get: Callable[[Any], Any]
    op: str
    const: Any
    path: str


@dataclass(frozen=True, slots=True)
class Fn:
    """A compiled test and what the combinators may assume about it."""

    fn: Test
    #: May return an unknown field path; otherwise it returns only ``True`` or ``False``.
    three_valued: bool
    shape: Shape | None = None


# -- field tests -------------------------------------------------------------------------------


def fast(op: str, get: Callable[[Any], Any], c: Any) -> Test:
    """A two-valued test of a field against a constant (the field is never unknown)."""
    if op == "==":
        return lambda o: get(o) == c
    if op == "!=":
        return lambda o: get(o) != c
    if op == "<":
        return lambda o: get(o) < c
    if op == "<=":
        return lambda o: get(o) <= c
    if op == ">":
        return lambda o: get(o) > c
    if op == ">=":
        return lambda o: get(o) >= c
    if op == "in":
        return lambda o: get(o) in c
    if op == "not in":
        return lambda o: get(o) not in c
    if op == "contains":
        return lambda o: c in get(o)
    return lambda o: c not in get(o)


def _unknown_equal(get: Callable[[Any], Any], c: Any, path: str) -> Test:
    def equal(o: Any) -> bool | str:
        v = get(o)
        if v == c:
            return True
        return path if v is None else False

    return equal


def _unknown_member(get: Callable[[Any], Any], c: Any, path: str) -> Test:
    def member(o: Any) -> bool | str:
        v = get(o)
        if v in c:
            return True
        return path if v is None else False

    return member


def _unknown_contains(get: Callable[[Any], Any], c: Any, path: str) -> Test:
    def contains(o: Any) -> bool | str:
        v = get(o)
        if v is None:
            return path
        return v is not ABSENT and c in v

    return contains


#: None and ABSENT equal no literal and are in no literal list: these test for a hit first.
_UNKNOWN_HIT_FIRST: dict[str, Callable[[Callable[[Any], Any], Any, str], Test]] = {
    "==": _unknown_equal,
    "in": _unknown_member,
    "contains": _unknown_contains,
}


def unknown_vs_const(op: str, get: Callable[[Any], Any], c: Any, path: str) -> Test:
    """A three-valued test of a field that may be unknown (None) or absent against a constant."""
    hit_first = _UNKNOWN_HIT_FIRST.get(op)
    if hit_first is not None:
        return hit_first(get, c, path)
    test = OPS[op]
    absent = ABSENT_RESULT[op]

    def compare(o: Any) -> bool | str:
        v = get(o)
        if v is None:
            return path
        if v is ABSENT:
            return absent
        return test(v, c)

    return compare


# -- combinators --------------------------------------------------------------------------------


def not_(p: Fn) -> Fn:
    f = p.fn
    if not p.three_valued:
        return Fn(lambda o: not f(o), False)

    def negation(o: Any) -> bool | str:
        r = f(o)
        if r is True:
            return False
        if r is False:
            return True
        return r

    return Fn(negation, True)


def _all_of(fns: list[Test]) -> Test:
    """Python ``and`` over two-valued tests."""
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return lambda o: a(o) and b(o)
    if len(fns) == 3:
        a, b, c = fns
        return lambda o: a(o) and b(o) and c(o)
    if len(fns) == 4:
        a, b, c, d = fns
        return lambda o: a(o) and b(o) and c(o) and d(o)
    head, tail = _all_of(fns[:4]), _all_of(fns[4:])
    return lambda o: head(o) and tail(o)


def _any_of(fns: list[Test]) -> Test:
    """Python ``or`` over two-valued tests."""
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return lambda o: a(o) or b(o)
    if len(fns) == 3:
        a, b, c = fns
        return lambda o: a(o) or b(o) or c(o)
    if len(fns) == 4:
        a, b, c, d = fns
        return lambda o: a(o) or b(o) or c(o) or d(o)
    head, tail = _any_of(fns[:4]), _any_of(fns[4:])
    return lambda o: head(o) or tail(o)


def _kleene(fns: list[Test], *, decisive: bool) -> Test:
    """Kleene ``and`` (``decisive=False``: a false term decides) or ``or`` (``decisive=True``).

    Without a decisive term the result is the first unknown field, or ``not decisive``."""
    if len(fns) == 1:
        return fns[0]
    neutral = not decisive
    if len(fns) == 2:
        p, q = fns

        def pair(o: Any) -> bool | str:
            a = p(o)
            if a is decisive:
                return decisive
            b = q(o)
            if b is decisive:
                return decisive
            return b if a is neutral else a

        return pair
    return _first_decisive(tuple(fns), decisive=decisive)


def _first_decisive(parts: tuple[Test, ...], *, decisive: bool) -> Test:
    neutral = not decisive

    def fold(o: Any) -> bool | str:
        unknown: bool | str | None = None  # a str: r is neither True nor False
        for p in parts:
            r = p(o)
            if r is decisive:
                return decisive
            if r is not neutral and unknown is None:
                unknown = r
        return neutral if unknown is None else unknown

    return fold


def and_(terms: list[Fn]) -> Fn:
    """Kleene ``and``. The two-valued terms run first: a false one decides without the others,
    and the unknown field reported is still the first unknown one in the text."""
    sure = [t.fn for t in terms if not t.three_valued]
    maybe = [t.fn for t in terms if t.three_valued]
    if not maybe:
        return Fn(_all_of(sure), False)
    rest = _kleene(maybe, decisive=False)
    if not sure:
        return Fn(rest, True)
    if len(sure) == 1:
        (a,) = sure
        return Fn(lambda o: rest(o) if a(o) else False, True)
    if len(sure) == 2:
        a, b = sure
        return Fn(lambda o: rest(o) if a(o) and b(o) else False, True)
    if len(sure) == 3:
        a, b, c = sure
        return Fn(lambda o: rest(o) if a(o) and b(o) and c(o) else False, True)
    first = _all_of(sure)
    return Fn(lambda o: rest(o) if first(o) else False, True)


def or_(terms: list[Fn]) -> Fn:
    """Kleene ``or``, two-valued terms first (a true one decides)."""
    sure = [t.fn for t in terms if not t.three_valued]
    maybe = [t.fn for t in terms if t.three_valued]
    if not maybe:
        return Fn(_any_of(sure), False)
    rest = _kleene(maybe, decisive=True)
    if not sure:
        return Fn(rest, True)
    first = _any_of(sure)
    return Fn(lambda o: True if first(o) else rest(o), True)


def _any_equal(get: Callable[[Any], Any], c: Any) -> Fn:
    def any_equal(o: Order) -> bool:
        for item in o.line_items:  # noqa: SIM110  (a loop is faster than any()/all() over a generator)
            if get(item) == c:
                return True
        return False

    return Fn(any_equal, False)


def _any_equal_or_unknown(get: Callable[[Any], Any], c: Any, path: str) -> Fn:
    def any_equal_or_unknown(o: Order) -> bool | str:
        unknown = False
        for item in o.line_items:
            v = get(item)
            if v == c:
                return True
            if v is None:
                unknown = True
        return path if unknown else False

    return Fn(any_equal_or_unknown, True)


def _any_item(test: Test) -> Fn:
    def any_item(o: Order) -> bool:
        for item in o.line_items:  # noqa: SIM110  (a loop is faster than any()/all() over a generator)
            if test(item):
                return True
        return False

    return Fn(any_item, False)


def any_(body: Fn) -> Fn:
    """Some line item passes. A known hit decides; otherwise an unknown item makes it unknown."""
    shape = body.shape
    if shape is not None and shape.op == "==":
        if not body.three_valued:
            return _any_equal(shape.get, shape.const)
        return _any_equal_or_unknown(shape.get, shape.const, shape.path)
    if not body.three_valued:
        return _any_item(body.fn)
    return Fn(_items_kleene(body.fn, decisive=True), True)


def all_(body: Fn) -> Fn:
    """Every line item passes (true for an order without line items)."""
    test = body.fn
    if not body.three_valued:

        def all_items(o: Order) -> bool:
            for item in o.line_items:  # noqa: SIM110  (a loop is faster than any()/all() over a generator)
                if not test(item):
                    return False
            return True

        return Fn(all_items, False)

    return Fn(_items_kleene(test, decisive=False), True)


def _items_kleene(test: Test, *, decisive: bool) -> Callable[[Order], bool | str]:
    """Kleene ``or`` (``decisive=True``) or ``and`` over the order's line items."""
    neutral = not decisive

    def over_items(o: Order) -> bool | str:
        unknown: bool | str | None = None  # a str: r is neither True nor False
        for item in o.line_items:
            r = test(item)
            if r is decisive:
                return decisive
            if r is not neutral and unknown is None:
                unknown = r
        return neutral if unknown is None else unknown

    return over_items
