"""Conditions: the small rule language of campaign files, compiled once into Python closures.

A shop owner writes one test per line of a campaign's ``conditions`` list (the engine joins the
lines with *and*)::

    subtotal >= 50
    first_order
    any line_items.product_type == "Kaffee"
    shipping_country in ["DE", "AT"]
    "vip" not in customer.tags
    customer.total_spent >= 500 and not order.test
    order.discount_codes is empty

Grammar (keywords in any case; field names from :mod:`aftersale_kit.core.fields`)::

    condition := or
    or        := and ("or" and)*
    and       := unary ("and" unary)*
    unary     := "not" unary | ("any" | "all" | "none") unary | "(" condition ")" | test
    test      := value [ ("==" | "!=" | "<" | "<=" | ">" | ">=") value
                       | ["not"] "in" value | ["not"] "contains" value
                       | "is" ["not"] "empty" ]
    value     := field | number | text | "true" | "false" | "[" [literal ("," literal)*] "]"

* Numbers are decimals with a point (``49.90``, ``-5``), read as :class:`~decimal.Decimal`, never
  float. A number compared with a money field compares the amount in the shop currency.
* Texts are in double or single quotes; ``\\"``, ``\\'`` and ``\\\\`` are the only escapes.
  Comparisons of texts are exact (case-sensitive), except that e-mail fields and the texts
  compared with them are lower-cased.
* ``a in [..]`` and ``"x" in list_field`` test membership; ``text contains "x"`` tests for a part
  of a text, ``list contains "x"`` for an element; ``is empty`` works on texts and lists.
* Times compare with a text holding an ISO 8601 time with its UTC offset
  (``order.created_at >= "2024-11-29T00:00:00+01:00"``).
* ``line_items.*`` fields are only valid inside ``any`` (some line item), ``all`` (every line item,
  true for none) or ``none`` (no line item), and only line-item fields may appear there:
  ``any (line_items.product_type == "Kaffee" and line_items.quantity >= 2)``.

Safety: the text is read by the tokenizer and parser of this package and nothing else; it is
never passed to ``eval``, ``exec``, ``compile`` or ``getattr``. Names can only resolve to the
registered fields, there are no calls, no attribute access beyond those fields, no arithmetic, no
loops. The length, nesting, literal sizes and list sizes are capped, and invisible or control
characters (bidi overrides, zero-width characters, NUL) are refused anywhere in the text.

Three-valued logic: a test on an unknown field is *unknown*; ``and``/``or``/``not`` follow Kleene's
logic (``false and unknown`` is false, ``true or unknown`` is true, ``not unknown`` is unknown). An
unknown result names the field that was unknown. Absent values (see ``fields``) are not
unknown: comparisons with them are false (``!=``, ``not in``, ``is empty``: true).

Every condition is type-checked when it is compiled: an unknown field, money compared with a text,
a list compared with ``<``, a line-item field outside ``any``... raise
:class:`~aftersale_kit.core.errors.ConditionTypeError` or
:class:`~aftersale_kit.core.errors.ConditionSyntaxError` with the 0-based ``column`` of the
offending token and, for misspelt fields, a ``suggestion``.

The package, in the order a condition passes through it: ``_tokens`` (text to tokens, the
character and length checks), ``_syntax`` (tokens to a tree, the grammar above), ``_compile``
(type checks, each node turned into a closure) and ``_closures`` (the closure shapes and the
Kleene combinators).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, cast

from ..errors import ConditionSyntaxError
from ..model import Order
from ._closures import Test
from ._compile import Compiler
from ._syntax import MAX_DEPTH, MAX_LIST_ITEMS, Parser
from ._tokens import MAX_LENGTH, MAX_NUMBER_LENGTH, MAX_TEXT_LENGTH, tokenize

__all__ = [
    "FALSE",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_LIST_ITEMS",
    "MAX_NUMBER_LENGTH",
    "MAX_TEXT_LENGTH",
    "TRUE",
    "Condition",
    "Verdict",
    "compile_condition",
]


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of a condition: true, false, or unknown (naming the unknown field)."""

    value: bool | None
    unknown_field: str | None = None

    @property
    def is_true(self) -> bool:
        return self.value is True

    @property
    def is_false(self) -> bool:
        return self.value is False

    @property
    def is_unknown(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        if self.value is None:
            return f"unknown ({self.unknown_field})"
        return "true" if self.value else "false"


TRUE: Final = Verdict(True)
FALSE: Final = Verdict(False)


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled condition. Equal when the source text is equal."""

    source: str
    #: Canonical paths of the fields it reads (and of the fields those derive from).
    fields: frozenset[str]
    _test: Test = field(repr=False, compare=False)

    def evaluate(self, order: Order) -> Verdict:
        r = self._test(order)
        if r is True:
            return TRUE
        if r is False:
            return FALSE
        return Verdict(None, r)


def compile_condition(text: str) -> Condition:
    """Parse, type-check and compile a condition. Raises ConditionSyntaxError/ConditionTypeError."""
    if not isinstance(cast(object, text), str):
        raise ConditionSyntaxError(f"a condition must be text, got {type(text).__name__}")
    tokens = tokenize(text)
    node = Parser(tokens).parse()
    compiler = Compiler()
    compiled = compiler.predicate(node)
    return Condition(source=text, fields=frozenset(compiler.fields), _test=compiled.fn)
