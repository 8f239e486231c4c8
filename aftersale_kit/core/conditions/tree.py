"""The syntax tree of a condition, for evaluators other than the closures of ``_compile``.

The backtest's columnar pre-filter translates conditions into column expressions over many
orders at once; it reads the same tree the closure compiler reads, so both follow one grammar.
A tree is only handed out for a :class:`~aftersale_kit.core.conditions.Condition`, i.e. after the
text has passed the type checks.
"""

from __future__ import annotations

from . import Condition
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
    Parser,
    Quant,
    Truth,
    Value,
)
from ._tokens import tokenize

__all__ = [
    "And",
    "Compare",
    "Empty",
    "FieldRef",
    "ListValue",
    "Literal",
    "Node",
    "Not",
    "Or",
    "Quant",
    "Truth",
    "Value",
    "syntax_tree",
]


def syntax_tree(condition: Condition) -> Node:
    """The parsed (already type-checked) tree of a compiled condition."""
    return Parser(tokenize(condition.source)).parse()
