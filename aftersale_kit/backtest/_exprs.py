"""The batch pre-filter, step 2: conditions translated into polars expressions.

A condition's syntax tree (the one the core's closure compiler reads) becomes a Boolean
expression over the order table of :mod:`._table`: true or false where the core's
:meth:`~aftersale_kit.core.conditions.Condition.evaluate` gives true or false, null where it gives
*unknown* or where this translation cannot be sure (an operator it does not cover, a value held
inexactly). polars' ``&``, ``|`` and ``~`` follow Kleene's logic as the core does, so a null never
turns into a wrong true or false: a false result is a false verdict of the core, always.

``any``/``all``/``none`` are evaluated over the item table and folded per order (a true item
decides ``any``, a false one ``all``; otherwise an unknown item makes the result null).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import reduce
from typing import TYPE_CHECKING, Any, Final

from ..core.conditions import Condition
from ..core.conditions.tree import (
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
    syntax_tree,
)
from ..core.fields import FieldSpec, FieldType
from ._table import (
    ABSENT_SUFFIX,
    INEXACT_SUFFIX,
    SCALE_DIGITS,
    UNKNOWN_SUFFIX,
    UNPRICED,
    scaled,
)

if TYPE_CHECKING:
    import polars as pl

_MIRROR: Final = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NUMERIC: Final = frozenset({FieldType.MONEY, FieldType.NUMBER})
_LOWER_CASE_FIELDS: Final = frozenset({"customer.email", "order.email"})
#: Fields whose value differs between the events of one order (the replay decides each event on
#: the order as that event's webhook carried it: pending when created, refunded later...). The
#: table holds the order's last known state, so tests on these decide nothing.
EVENT_STATE_FIELDS: Final = frozenset({"order.financial_status"})
#: What a test on an absent value gives (as in the core's ``ABSENT_RESULT``).
_ABSENT_RESULT: Final = {
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


class Unsupported(Exception):
    """A part of a condition this translation does not cover: the condition decides nothing."""


def _null() -> pl.Expr:
    import polars as pl

    return pl.lit(None, dtype=pl.Boolean)


def _compare_ops(op: str, left: pl.Expr, right: pl.Expr) -> pl.Expr:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    raise Unsupported(op)


def _numeric_const(op: str, col: pl.Expr, c: Decimal) -> pl.Expr:
    """``col op c`` on scaled integers, exact also for a constant with more decimal places."""
    import polars as pl

    q = scaled(c)
    if q is not None:
        return _compare_ops(op, col, pl.lit(q, dtype=pl.Int64))
    if not c.is_finite():
        raise Unsupported("number")
    s = c.scaleb(SCALE_DIGITS)
    low = scaled(s.to_integral_value(ROUND_FLOOR).scaleb(-SCALE_DIGITS))
    high = scaled(s.to_integral_value(ROUND_CEILING).scaleb(-SCALE_DIGITS))
    if low is None or high is None:
        raise Unsupported("number out of range")
    # An integer never equals a fraction: v < c is v < ceil(c), v <= c is v <= floor(c) ...
    if op == "==":
        return pl.when(col.is_null()).then(_null()).otherwise(pl.lit(False))
    if op == "!=":
        return pl.when(col.is_null()).then(_null()).otherwise(pl.lit(True))
    bound = {"<": high, "<=": low, ">": low, ">=": high}[op]
    return _compare_ops(op, col, pl.lit(bound, dtype=pl.Int64))


class ExprCompiler:
    """Translates conditions; remembers the fields and the quantifiers they need."""

    def __init__(self) -> None:
        self.order_fields: set[str] = set()
        self.item_fields: set[str] = set()
        #: ``(name, body over the item table)`` of every any/all/none.
        self.quantifiers: list[tuple[str, pl.Expr]] = []
        self._in_item = False

    def condition(self, condition: Condition) -> pl.Expr:
        """The condition as a Boolean expression (null: may hold; see the module docstring)."""
        import polars as pl

        self._in_item = False
        try:
            expr = self._node(syntax_tree(condition))
        except Unsupported:
            return _null()
        if any(_is_money(p) for p in condition.fields):
            # The engine does not compare amounts it cannot bring to the shop currency.
            expr = pl.when(pl.col(UNPRICED)).then(_null()).otherwise(expr)
        return expr

    # -- the tree ---------------------------------------------------------------------------

    def _node(self, node: Node) -> pl.Expr:
        if isinstance(node, Or):
            return reduce(lambda a, b: a | b, [self._node(t) for t in node.terms])
        if isinstance(node, And):
            return reduce(lambda a, b: a & b, [self._node(t) for t in node.terms])
        if isinstance(node, Not):
            return ~self._node(node.term)
        if isinstance(node, Quant):
            return self._quant(node)
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, Empty):
            return self._empty(node)
        return self._truth(node)

    def _quant(self, node: Quant) -> pl.Expr:
        import polars as pl

        if self._in_item:
            raise Unsupported("nested quantifier")
        self._in_item = True
        try:
            body = self._node(node.body)
        finally:
            self._in_item = False
        name = f"#q{len(self.quantifiers)}"
        self.quantifiers.append((name, body))
        hit, unknown, miss = (pl.col(name + s) for s in ("#t", "#n", "#f"))
        if node.kind == "all":
            return pl.when(miss).then(pl.lit(False)).when(unknown).then(_null()).otherwise(True)
        found = pl.when(hit).then(pl.lit(True)).when(unknown).then(_null()).otherwise(False)
        return ~found if node.kind == "none" else found

    def _use(self, ref: FieldRef) -> tuple[FieldSpec, pl.Expr]:
        import polars as pl

        spec = ref.spec
        if spec.per_item != self._in_item:
            raise Unsupported("field scope")
        if spec.path in EVENT_STATE_FIELDS:
            raise Unsupported("a field that changes between the order's events")
        (self.item_fields if spec.per_item else self.order_fields).add(spec.path)
        return spec, pl.col(spec.path)

    def _guard(self, specs: tuple[FieldSpec, ...], known: pl.Expr, absent: bool) -> pl.Expr:
        """``known`` where every field is known, exact and present; the core's answers else."""
        import polars as pl

        expr = known
        inexact = [pl.col(s.path + INEXACT_SUFFIX) for s in specs]
        expr = pl.when(reduce(lambda a, b: a | b, inexact)).then(_null()).otherwise(expr)
        absents = [pl.col(s.path + ABSENT_SUFFIX) for s in specs if s.may_be_absent]
        if absents:
            flag = reduce(lambda a, b: a | b, absents)
            expr = pl.when(flag).then(pl.lit(absent)).otherwise(expr)
        unknowns = [pl.col(s.path + UNKNOWN_SUFFIX) for s in specs if s.may_be_unknown]
        if unknowns:
            flag = reduce(lambda a, b: a | b, unknowns)
            expr = pl.when(flag).then(_null()).otherwise(expr)
        return expr

    def _truth(self, node: Truth) -> pl.Expr:
        import polars as pl

        value = node.value
        if isinstance(value, Literal):
            return pl.lit(bool(value.value))
        if not isinstance(value, FieldRef):
            raise Unsupported("truth")
        spec, col = self._use(value)
        return self._guard((spec,), col, absent=False)

    def _empty(self, node: Empty) -> pl.Expr:
        if not isinstance(node.value, FieldRef):
            raise Unsupported("empty")
        spec, col = self._use(node.value)
        if spec.type is FieldType.TEXT:
            length = col.str.len_chars()
        elif spec.type is FieldType.TEXT_LIST:
            length = col.list.len()
        else:
            raise Unsupported("empty")
        known = (length != 0) if node.negated else (length == 0)
        return self._guard((spec,), known, absent=not node.negated)

    def _compare(self, node: Compare) -> pl.Expr:
        op, left, right = node.op, node.left, node.right
        if op in _MIRROR and not isinstance(left, FieldRef):
            left, right, op = right, left, _MIRROR[op]
        if not isinstance(left, FieldRef):
            if op in ("in", "not in") and isinstance(left, Literal) and isinstance(right, FieldRef):
                # "x" in list_field is list_field contains "x"
                return self._field_const(
                    "contains" if op == "in" else "not contains", right, left.value
                )
            raise Unsupported("compare")
        if isinstance(right, FieldRef):
            return self._field_field(op, left, right)
        if isinstance(right, ListValue):
            if op not in ("in", "not in"):
                raise Unsupported("list")
            return self._field_const(op, left, frozenset(i.value for i in right.items))
        constant: Any = right.value
        if left.spec.type is FieldType.DATETIME:
            constant = _time(constant)
        return self._field_const(op, left, constant)

    def _field_const(self, op: str, ref: FieldRef, c: Any) -> pl.Expr:
        spec, col = self._use(ref)
        if spec.path in _LOWER_CASE_FIELDS:
            c = frozenset(x.lower() for x in c) if isinstance(c, frozenset) else c.lower()
        known = _const_test(op, spec.type, col, c)
        return self._guard((spec,), known, absent=_ABSENT_RESULT[op])

    def _field_field(self, op: str, left: FieldRef, right: FieldRef) -> pl.Expr:
        lspec, lcol = self._use(left)
        rspec, rcol = self._use(right)
        lt, rt = lspec.type, rspec.type
        if op in _MIRROR and lt is rt and lt is not FieldType.TEXT_LIST:
            known = _compare_ops(op, lcol, rcol)
        elif op in ("in", "not in") and lt is FieldType.TEXT and rt is FieldType.TEXT_LIST:
            known = rcol.list.contains(lcol)
            known = ~known if op == "not in" else known
        elif op in ("contains", "not contains") and lt is FieldType.TEXT_LIST:
            known = lcol.list.contains(rcol)
            known = ~known if op == "not contains" else known
        else:
            raise Unsupported("field with field")
        return self._guard((lspec, rspec), known, absent=_ABSENT_RESULT[op])


def _time(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise Unsupported("naive time")
    return moment.astimezone(UTC)


def _is_money(path: str) -> bool:
    from ..core.fields import FIELDS

    spec = FIELDS.get(path)
    return spec is not None and spec.type is FieldType.MONEY


def _membership(op: str, kind: FieldType, col: pl.Expr, c: Any) -> pl.Expr:
    import polars as pl

    if not isinstance(c, frozenset):
        raise Unsupported("in")
    if kind in _NUMERIC:
        values: list[Any] = [q for q in (scaled(Decimal(x)) for x in c) if q is not None]
        member = col.is_in(pl.Series(values, dtype=pl.Int64).implode())
    elif kind is FieldType.TEXT:
        member = col.is_in(pl.Series(sorted(c), dtype=pl.String).implode())
    else:
        raise Unsupported("in")
    return ~member if op == "not in" else member


def _contains(op: str, kind: FieldType, col: pl.Expr, c: Any) -> pl.Expr:
    import polars as pl

    if kind is FieldType.TEXT_LIST:
        found = col.list.contains(pl.lit(c, dtype=pl.String))
    elif kind is FieldType.TEXT:
        found = col.str.contains(c, literal=True)
    else:
        raise Unsupported("contains")
    return ~found if op == "not contains" else found


def _const_test(op: str, kind: FieldType, col: pl.Expr, c: Any) -> pl.Expr:
    """``col op c`` for a known, exact value of a field of type ``kind``."""
    import polars as pl

    if op in ("in", "not in"):
        return _membership(op, kind, col, c)
    if op in ("contains", "not contains"):
        return _contains(op, kind, col, c)
    if kind in _NUMERIC:
        if not isinstance(c, Decimal):
            raise Unsupported("number")
        return _numeric_const(op, col, c)
    if kind is FieldType.DATETIME:
        return _compare_ops(op, col, pl.lit(c, dtype=pl.Datetime("us", "UTC")))
    if kind is FieldType.TEXT and isinstance(c, str):
        return _compare_ops(op, col, pl.lit(c, dtype=pl.String))
    if kind is FieldType.BOOL and isinstance(c, bool):
        return _compare_ops(op, col, pl.lit(c))
    raise Unsupported("constant")


def fold_quantifiers(items: pl.DataFrame, quantifiers: list[tuple[str, pl.Expr]]) -> pl.DataFrame:
    """Per order row: whether some item's body is true (``#t``), null (``#n``), false (``#f``)."""
    from ._table import ROW

    aggs: list[pl.Expr] = []
    for name, body in quantifiers:
        aggs += [
            body.fill_null(False).any().alias(name + "#t"),
            body.is_null().any().alias(name + "#n"),
            (~body).fill_null(False).any().alias(name + "#f"),
        ]
    return items.group_by(ROW).agg(aggs)


def quantifier_columns(quantifiers: list[tuple[str, pl.Expr]]) -> list[str]:
    return [name + s for name, _ in quantifiers for s in ("#t", "#n", "#f")]


__all__ = [
    "EVENT_STATE_FIELDS",
    "ExprCompiler",
    "Unsupported",
    "fold_quantifiers",
    "quantifier_columns",
]
