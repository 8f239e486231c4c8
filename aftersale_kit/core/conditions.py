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

Safety: the text is read by the tokenizer and parser below and nothing else; it is never passed to
``eval``, ``exec``, ``compile`` or ``getattr``. Names can only resolve to the registered fields,
there are no calls, no attribute access beyond those fields, no arithmetic, no loops. The length,
nesting, literal sizes and list sizes are capped, and invisible or control characters (bidi
overrides, zero-width characters, NUL) are refused anywhere in the text.

Three-valued logic: a test on an unknown field is *unknown*; ``and``/``or``/``not`` follow Kleene's
logic (``false and unknown`` is false, ``true or unknown`` is true, ``not unknown`` is unknown). An
unknown result names the field that was unknown. Absent values (see :mod:`.fields`) are not
unknown: comparisons with them are false (``!=``, ``not in``, ``is empty``: true).

Every condition is type-checked when it is compiled: an unknown field, money compared with a text,
a list compared with ``<``, a line-item field outside ``any``... raise
:class:`~aftersale_kit.core.errors.ConditionTypeError` or
:class:`~aftersale_kit.core.errors.ConditionSyntaxError` with the 0-based ``column`` of the
offending token and, for misspelt fields, a ``suggestion``.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, cast

from .errors import ConditionSyntaxError, ConditionTypeError
from .fields import ABSENT, FIELDS, FieldSpec, FieldType, canonical_name, suggest_field
from .model import Order

__all__ = [
    "FALSE",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "TRUE",
    "Condition",
    "Verdict",
    "compile_condition",
]

MAX_LENGTH: Final = 2000
MAX_DEPTH: Final = 20
MAX_LIST_ITEMS: Final = 500
MAX_TEXT_LENGTH: Final = 500
MAX_NUMBER_LENGTH: Final = 30

#: A compiled test: ``True``, ``False`` or the path of the field that was unknown.
Test = Callable[[Any], "bool | str"]


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
    tokens = _tokenize(text)
    node = _Parser(tokens).parse()
    compiler = _Compiler()
    compiled = compiler.predicate(node)
    return Condition(source=text, fields=frozenset(compiler.fields), _test=compiled.fn)


# -- tokens -------------------------------------------------------------------------------------


class _Kind(Enum):
    NAME = "name"
    KEYWORD = "keyword"
    NUMBER = "number"
    TEXT = "text"
    OP = "operator"
    PUNCT = "punctuation"
    END = "end"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str
    column: int
    value: object = None


_KEYWORDS: Final = frozenset(
    {"and", "or", "not", "in", "is", "empty", "any", "all", "none", "true", "false", "contains"}
)
_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", re.ASCII)
_NUMBER_RE: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_OPERATORS: Final = ("==", "!=", "<=", ">=", "<", ">")
_MISTAKES: Final = {
    "<>": "use != for 'is not equal'",
    "=": "use == to compare",
    "!": "use not",
    "&&": "use and",
    "&": "use and",
    "||": "use or",
    "|": "use or",
}
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_WHITESPACE: Final = frozenset(" \t\r\n")


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def _word_at(text: str, pos: int) -> tuple[int, str]:
    """The run of letters, digits, '_' and '.' around ``pos`` (any script)."""
    start = pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    end = pos
    while end < len(text) and (text[end].isalnum() or text[end] in "_."):
        end += 1
    return start, text[start:end]


def _non_ascii_error(text: str, pos: int) -> ConditionSyntaxError:
    ch = text[pos]
    _, word = _word_at(text, pos)
    folded = unicodedata.normalize("NFKC", word)
    suggestion = folded.lower() if folded.isascii() and canonical_name(folded) else None
    if suggestion is None and word:
        ascii_word = "".join(c if c.isascii() else "?" for c in folded)
        suggestion = suggest_field(ascii_word)
    return ConditionSyntaxError(
        f"unexpected character {ch!r} ({_char_name(ch)}); field names and operators are plain "
        "ASCII, other letters only inside quotes",
        column=pos,
        suggestion=suggestion,
    )


def _tokenize(text: str) -> list[_Token]:
    if len(text) > MAX_LENGTH:
        raise ConditionSyntaxError(
            f"the condition is {len(text)} characters long, more than {MAX_LENGTH}; split it "
            "into several conditions",
            column=MAX_LENGTH,
        )
    for pos, ch in enumerate(text):
        if ch not in _WHITESPACE and unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise ConditionSyntaxError(
                f"invisible or control character {_char_name(ch)}; remove it", column=pos
            )
    tokens: list[_Token] = []
    pos, n = 0, len(text)
    while pos < n:
        ch = text[pos]
        if ch in _WHITESPACE:
            pos += 1
            continue
        if ch in "\"'":
            pos = _read_text(text, pos, tokens)
            continue
        m = _NUMBER_RE.match(text, pos)
        if m:
            end = m.end()
            if end < n and (text[end].isalnum() or text[end] in "_."):
                raise ConditionSyntaxError(
                    f"malformed number {text[pos : end + 1]!r}: write amounts as plain numbers "
                    "with a decimal point, e.g. 49.90 (no currency, no exponent)",
                    column=pos,
                )
            if end - pos > MAX_NUMBER_LENGTH:
                raise ConditionSyntaxError(
                    f"number longer than {MAX_NUMBER_LENGTH} digits", column=pos
                )
            tokens.append(_Token(_Kind.NUMBER, m.group(), pos, Decimal(m.group())))
            pos = end
            continue
        m = _NAME_RE.match(text, pos)
        if m:
            end = m.end()
            if end < n and not text[end].isascii() and text[end].isalnum():
                raise _non_ascii_error(text, end)
            word = m.group()
            kind = _Kind.KEYWORD if word.lower() in _KEYWORDS else _Kind.NAME
            tokens.append(_Token(kind, word, pos, word.lower()))
            pos = end
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, pos)), None)
        mistake = next((m_ for m_ in _MISTAKES if text.startswith(m_, pos)), None)
        if mistake is not None and (op is None or len(mistake) > len(op)):
            raise ConditionSyntaxError(f"unexpected {mistake!r}: {_MISTAKES[mistake]}", column=pos)
        if op is not None:
            tokens.append(_Token(_Kind.OP, op, pos, op))
            pos += len(op)
            continue
        if ch in "()[],":
            tokens.append(_Token(_Kind.PUNCT, ch, pos, ch))
            pos += 1
            continue
        hint = {
            "+-*/%": "conditions have no arithmetic",
            "{}": 'write lists in square brackets, e.g. ["DE", "AT"]',
            "€$£": "write amounts as plain numbers in the shop currency",
        }
        extra = next((h for chars, h in hint.items() if ch in chars), "")
        if not extra and not ch.isascii():
            raise _non_ascii_error(text, pos)
        raise ConditionSyntaxError(
            f"unexpected character {ch!r}" + (f"; {extra}" if extra else ""), column=pos
        )
    tokens.append(_Token(_Kind.END, "", len(text)))
    return tokens


def _read_text(text: str, start: int, tokens: list[_Token]) -> int:
    quote = text[start]
    pos = start + 1
    chars: list[str] = []
    while pos < len(text):
        ch = text[pos]
        if ch == quote:
            value = "".join(chars)
            if len(value) > MAX_TEXT_LENGTH:
                raise ConditionSyntaxError(
                    f"text longer than {MAX_TEXT_LENGTH} characters", column=start
                )
            tokens.append(_Token(_Kind.TEXT, text[start : pos + 1], start, value))
            return pos + 1
        if ch in "\r\n":
            break
        if ch == "\\":
            nxt = text[pos + 1] if pos + 1 < len(text) else ""
            if nxt not in ("\\", '"', "'"):
                raise ConditionSyntaxError(
                    f"unknown escape '\\{nxt}' in text: only \\\\, \\\" and \\' are allowed",
                    column=pos,
                )
            chars.append(nxt)
            pos += 2
            continue
        chars.append(ch)
        pos += 1
    raise ConditionSyntaxError(f"text starting here is not closed with {quote}", column=start)


# -- syntax tree --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    spec: FieldSpec
    text: str
    column: int


@dataclass(frozen=True, slots=True)
class _Literal:
    value: Decimal | str | bool
    type: FieldType
    text: str
    column: int


@dataclass(frozen=True, slots=True)
class _List:
    items: tuple[_Literal, ...]
    column: int


_Value = _Field | _Literal | _List


@dataclass(frozen=True, slots=True)
class _Or:
    terms: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _And:
    terms: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Not:
    term: _Node


@dataclass(frozen=True, slots=True)
class _Quant:
    kind: str
    body: _Node
    column: int


@dataclass(frozen=True, slots=True)
class _Compare:
    op: str
    left: _Value
    right: _Value
    column: int


@dataclass(frozen=True, slots=True)
class _Empty:
    value: _Value
    negated: bool
    column: int


@dataclass(frozen=True, slots=True)
class _Truth:
    value: _Value


_Node = _Or | _And | _Not | _Quant | _Compare | _Empty | _Truth


# -- parser -------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._pos = 0
        self._depth = 0

    def parse(self) -> _Node:
        if self._peek().kind is _Kind.END:
            raise ConditionSyntaxError("the condition is empty", column=0)
        node = self._or()
        tok = self._peek()
        if tok.kind is not _Kind.END:
            raise self._unexpected(tok, "expected 'and', 'or' or the end of the condition")
        return node

    # helpers

    def _peek(self, ahead: int = 0) -> _Token:
        return self._tokens[min(self._pos + ahead, len(self._tokens) - 1)]

    def _advance(self) -> _Token:
        tok = self._tokens[self._pos]
        self._pos += 1
        return tok

    def _is_kw(self, tok: _Token, *words: str) -> bool:
        return tok.kind is _Kind.KEYWORD and tok.value in words

    def _enter(self, tok: _Token) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ConditionSyntaxError(
                f"the condition is nested more than {MAX_DEPTH} levels deep; simplify it",
                column=tok.column,
            )

    def _unexpected(self, tok: _Token, expected: str) -> ConditionSyntaxError:
        if tok.kind is _Kind.END:
            return ConditionSyntaxError(f"{expected}, but the condition ends", column=tok.column)
        prev = self._tokens[self._pos - 1] if self._pos > 0 else None
        hint = ""
        if tok.text == "," and prev is not None and prev.kind is _Kind.NUMBER:
            hint = "; write decimals with a point, e.g. 49.90"
        elif (
            tok.kind is _Kind.NAME
            and prev is not None
            and prev.kind is _Kind.NUMBER
            and len(tok.text) == 3
            and tok.text.isupper()
        ):
            hint = "; amounts are in the shop currency, write the number only"
        return ConditionSyntaxError(f"{expected}, found {tok.text!r}{hint}", column=tok.column)

    # grammar

    def _or(self) -> _Node:
        terms = [self._and()]
        while self._is_kw(self._peek(), "or"):
            self._advance()
            terms.append(self._and())
        return terms[0] if len(terms) == 1 else _Or(tuple(terms))

    def _and(self) -> _Node:
        terms = [self._unary()]
        while self._is_kw(self._peek(), "and"):
            self._advance()
            terms.append(self._unary())
        return terms[0] if len(terms) == 1 else _And(tuple(terms))

    def _unary(self) -> _Node:
        tok = self._peek()
        if self._is_kw(tok, "not"):
            self._advance()
            self._enter(tok)
            node: _Node = _Not(self._unary())
            self._depth -= 1
            return node
        if self._is_kw(tok, "any", "all", "none"):
            self._advance()
            self._enter(tok)
            node = _Quant(str(tok.value), self._unary(), tok.column)
            self._depth -= 1
            return node
        if tok.kind is _Kind.PUNCT and tok.text == "(":
            self._advance()
            self._enter(tok)
            node = self._or()
            close = self._peek()
            if not (close.kind is _Kind.PUNCT and close.text == ")"):
                raise self._unexpected(close, f"expected ')' to close the '(' at {tok.column}")
            self._advance()
            self._depth -= 1
            after = self._peek()
            if after.kind is _Kind.OP or self._is_kw(after, "in", "contains", "is"):
                raise ConditionSyntaxError(
                    f"{after.text!r} needs a field or a value on its left, not a parenthesis",
                    column=after.column,
                )
            return node
        return self._test()

    def _test(self) -> _Node:
        left = self._value()
        tok = self._peek()
        if tok.kind is _Kind.OP:
            self._advance()
            right = self._value()
            after = self._peek()
            if after.kind is _Kind.OP:
                raise ConditionSyntaxError(
                    "comparisons cannot be chained; join them with 'and'", column=after.column
                )
            return _Compare(str(tok.value), left, right, tok.column)
        if self._is_kw(tok, "in", "contains"):
            self._advance()
            return _Compare(str(tok.value), left, self._value(), tok.column)
        if self._is_kw(tok, "not"):
            nxt = self._peek(1)
            if not self._is_kw(nxt, "in", "contains"):
                raise self._unexpected(nxt, "expected 'in' or 'contains' after 'not'")
            self._advance()
            self._advance()
            return _Compare(f"not {nxt.value}", left, self._value(), tok.column)
        if self._is_kw(tok, "is"):
            self._advance()
            negated = self._is_kw(self._peek(), "not")
            if negated:
                self._advance()
            word = self._peek()
            if not self._is_kw(word, "empty"):
                raise self._unexpected(word, "expected 'empty' or 'not empty' after 'is'")
            self._advance()
            return _Empty(left, negated, tok.column)
        return _Truth(left)

    def _value(self) -> _Value:
        tok = self._peek()
        if tok.kind is _Kind.NAME:
            nxt = self._peek(1)
            if nxt.kind is _Kind.PUNCT and nxt.text == "(":
                raise ConditionSyntaxError(
                    f"{tok.text}(...): conditions cannot call functions", column=tok.column
                )
            self._advance()
            path = canonical_name(tok.text)
            if path is None:
                raise ConditionTypeError(
                    f"unknown field {tok.text!r}",
                    column=tok.column,
                    suggestion=None if "__" in tok.text else suggest_field(tok.text),
                )
            return _Field(FIELDS[path], tok.text, tok.column)
        if tok.kind is _Kind.NUMBER:
            self._advance()
            assert isinstance(tok.value, Decimal)
            return _Literal(tok.value, FieldType.NUMBER, tok.text, tok.column)
        if tok.kind is _Kind.TEXT:
            self._advance()
            assert isinstance(tok.value, str)
            return _Literal(tok.value, FieldType.TEXT, tok.text, tok.column)
        if self._is_kw(tok, "true", "false"):
            self._advance()
            return _Literal(tok.value == "true", FieldType.BOOL, tok.text, tok.column)
        if tok.kind is _Kind.PUNCT and tok.text == "[":
            return self._list()
        raise self._unexpected(tok, "expected a field or a value")

    def _list(self) -> _List:
        open_ = self._advance()
        items: list[_Literal] = []
        while True:
            tok = self._peek()
            if tok.kind is _Kind.PUNCT and tok.text == "]" and not items:
                self._advance()
                break
            if tok.kind is _Kind.PUNCT and tok.text == "[":
                raise ConditionSyntaxError("lists cannot be nested", column=tok.column)
            value = self._value()
            if not isinstance(value, _Literal):
                column = value.column
                raise ConditionSyntaxError(
                    "a list holds fixed values only (texts or numbers)", column=column
                )
            if items and value.type is not items[0].type:
                raise ConditionTypeError(
                    f"a list mixes {items[0].type} and {value.type} values", column=value.column
                )
            items.append(value)
            if len(items) > MAX_LIST_ITEMS:
                raise ConditionSyntaxError(
                    f"a list has more than {MAX_LIST_ITEMS} values", column=value.column
                )
            sep = self._peek()
            if sep.kind is _Kind.PUNCT and sep.text == ",":
                self._advance()
                continue
            if sep.kind is _Kind.PUNCT and sep.text == "]":
                self._advance()
                break
            raise self._unexpected(sep, f"expected ',' or ']' in the list opened at {open_.column}")
        return _List(tuple(items), open_.column)


# -- type check and compile ---------------------------------------------------------------------

_ORDERING: Final = frozenset({"<", "<=", ">", ">="})
_MIRROR: Final = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDERABLE: Final = frozenset({FieldType.MONEY, FieldType.NUMBER, FieldType.DATETIME})
_OPS: Final[dict[str, Callable[[Any, Any], bool]]] = {
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


def _describe(value: _Value) -> str:
    if isinstance(value, _Field):
        return f"{value.text} ({value.spec.type})"
    if isinstance(value, _List):
        return "a list"
    return f"the {value.type} {value.text}"


def _fits(field_type: FieldType, literal_type: FieldType) -> bool:
    if field_type in (FieldType.MONEY, FieldType.NUMBER):
        return literal_type is FieldType.NUMBER
    if field_type is FieldType.DATETIME:
        return literal_type is FieldType.TEXT
    return field_type is literal_type


def _time_literal(lit: _Literal) -> datetime:
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


@dataclass(frozen=True, slots=True)
class _Shape:
    """A "field op constant" test, kept so that any/all can inline it into their loop."""

    get: Callable[[Any], Any]
    op: str
    const: Any
    path: str


@dataclass(frozen=True, slots=True)
class _Fn:
    """A compiled test and what the combinators may assume about it."""

    fn: Test
    #: May return an unknown field path; otherwise it returns only ``True`` or ``False``.
    three_valued: bool
    shape: _Shape | None = None


class _Compiler:
    def __init__(self) -> None:
        self.fields: set[str] = set()
        self._in_item: bool = False
        self._item_fields = 0

    def predicate(self, node: _Node) -> _Fn:
        if isinstance(node, _Or):
            return _or([self.predicate(t) for t in node.terms])
        if isinstance(node, _And):
            return _and([self.predicate(t) for t in node.terms])
        if isinstance(node, _Not):
            return _not(self.predicate(node.term))
        if isinstance(node, _Quant):
            return self._quant(node)
        if isinstance(node, _Compare):
            return self._compare(node)
        if isinstance(node, _Empty):
            return self._empty(node)
        return self._truth(node)

    def _use(self, ref: _Field) -> FieldSpec:
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

    def _quant(self, node: _Quant) -> _Fn:
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
            return _all(body)
        found = _any(body)
        return _not(found) if node.kind == "none" else found

    def _truth(self, node: _Truth) -> _Fn:
        value = node.value
        if isinstance(value, _Literal) and value.type is FieldType.BOOL:
            constant = bool(value.value)
            return _Fn(lambda _: constant, False)
        if not isinstance(value, _Field) or value.spec.type is not FieldType.BOOL:
            column = value.column
            if isinstance(value, _Field) and value.spec.type is FieldType.TEXT_LIST:
                hint = f"write e.g. {value.text} is not empty"
            elif isinstance(value, _Field):
                hint = f"compare it, e.g. {value.text} == ..."
            else:
                hint = "a condition needs a field"
            raise ConditionTypeError(
                f"{_describe(value)} is not a yes/no test; {hint}", column=column
            )
        spec = self._use(value)
        get = spec.getter
        if not (spec.may_be_unknown or spec.may_be_absent):
            return _Fn(get, False)  # type: ignore[arg-type]  # the getter returns the bool
        if not spec.may_be_unknown:
            return _Fn(lambda o: get(o) is True, False)
        path = _missing(spec)

        def truth(o: Any) -> bool | str:
            v = get(o)
            if v is None:
                return path
            return v is True

        return _Fn(truth, True)

    def _empty(self, node: _Empty) -> _Fn:
        value = node.value
        if not isinstance(value, _Field) or value.spec.type not in (
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

        return _Fn(empty, spec.may_be_unknown)

    def _compare(self, node: _Compare) -> _Fn:
        op, left, right = node.op, node.left, node.right
        if not isinstance(left, _Field) and not isinstance(right, _Field):
            raise ConditionTypeError(
                "this compares two fixed values; one side must be a field", column=left.column
            )
        if op in _MIRROR:
            if not isinstance(left, _Field):
                left, right, op = right, left, _MIRROR[op]
            assert isinstance(left, _Field)
            return self._equality(op, left, right, node.column)
        if op in ("in", "not in"):
            return self._membership(op, left, right)
        return self._contains(op, left, right)

    def _equality(self, op: str, left: _Field, right: _Value, column: int) -> _Fn:
        ltype = left.spec.type
        if ltype is FieldType.TEXT_LIST:
            raise ConditionTypeError(
                f'{left.text} is a list; use "x" in {left.text}, {left.text} contains "x" '
                f"or {left.text} is empty",
                column=left.column,
            )
        if isinstance(right, _List):
            raise ConditionTypeError(
                f"to compare {left.text} with several values write {left.text} in [...]",
                column=right.column,
            )
        if op in _ORDERING and ltype not in _ORDERABLE:
            raise ConditionTypeError(
                f"{op!r} needs numbers, money or times; {left.text} is {ltype}", column=column
            )
        if isinstance(right, _Field):
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

    def _membership(self, op: str, left: _Value, right: _Value) -> _Fn:
        if isinstance(left, _List) or (
            isinstance(left, _Field) and left.spec.type is FieldType.TEXT_LIST
        ):
            raise ConditionTypeError(
                f"the left side of {op!r} must be a single value, not {_describe(left)}",
                column=left.column,
            )
        rtype_ok = isinstance(right, _List) or (
            isinstance(right, _Field) and right.spec.type is FieldType.TEXT_LIST
        )
        if not rtype_ok:
            raise ConditionTypeError(
                f'{op!r} needs a list on its right, e.g. ["DE", "AT"] or customer.tags; '
                f"found {_describe(right)}",
                column=right.column,
            )
        if isinstance(right, _Field):
            ltype_ = left.spec.type if isinstance(left, _Field) else left.type
            if ltype_ is not FieldType.TEXT:
                raise ConditionTypeError(
                    f"{right.text} holds texts; {_describe(left)} is not a text",
                    column=left.column,
                )
            if isinstance(left, _Field):
                return self._field_field(op, left, right)
            assert isinstance(left, _Literal)
            # "x" in list_field is list_field contains "x"
            return self._field_const(
                "contains" if op == "in" else "not contains", right, left.value
            )
        assert isinstance(right, _List) and isinstance(left, _Field)
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

    def _contains(self, op: str, left: _Value, right: _Value) -> _Fn:
        if not isinstance(left, _Field) or left.spec.type not in (
            FieldType.TEXT,
            FieldType.TEXT_LIST,
        ):
            raise ConditionTypeError(
                f"{op!r} needs a text or list field on its left, not {_describe(left)}",
                column=left.column,
            )
        if isinstance(right, _List):
            raise ConditionTypeError(
                f"{op!r} needs a single text on its right", column=right.column
            )
        rtype = right.spec.type if isinstance(right, _Field) else right.type
        if rtype is not FieldType.TEXT:
            raise ConditionTypeError(
                f"{left.text} holds text; {_describe(right)} is not a text", column=right.column
            )
        if isinstance(right, _Field):
            return self._field_field(op, left, right)
        return self._field_const(op, left, right.value)

    def _field_const(self, op: str, ref: _Field, c: Any) -> _Fn:
        spec = self._use(ref)
        if spec.path in _LOWER_CASE_FIELDS:
            c = _lower(c)
        path = _missing(spec)
        if spec.may_be_unknown:
            return _Fn(
                _unknown_vs_const(op, spec.getter, c, path), True, _Shape(spec.getter, op, c, path)
            )
        if not spec.may_be_absent:
            return _Fn(_fast(op, spec.getter, c), False, _Shape(spec.getter, op, c, path))
        if op in ("==", "!=", "in", "not in"):
            # None (absent) is unequal to every literal and in no literal list: read it raw
            get = spec.none_getter or spec.getter
            return _Fn(_fast(op, get, c), False, _Shape(get, op, c, path))
        test, getter = _OPS[op], spec.getter
        absent = _ABSENT_RESULT[op]

        def compare(o: Any) -> bool:
            v = getter(o)
            return absent if v is ABSENT else test(v, c)

        return _Fn(compare, False)

    def _field_field(self, op: str, left: _Field, right: _Field) -> _Fn:
        lspec, rspec = self._use(left), self._use(right)
        lget, rget, lpath, rpath = lspec.getter, rspec.getter, _missing(lspec), _missing(rspec)
        test = _OPS[op]
        absent = _ABSENT_RESULT[op]

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

        return _Fn(compare, lspec.may_be_unknown or rspec.may_be_unknown)


# -- closure shapes -----------------------------------------------------------------------------


def _fast(op: str, get: Callable[[Any], Any], c: Any) -> Test:
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


def _unknown_vs_const(op: str, get: Callable[[Any], Any], c: Any, path: str) -> Test:
    """A three-valued test of a field that may be unknown (None) or absent against a constant."""
    # None and ABSENT equal no literal and are in no literal list: test for a hit first
    if op == "==":

        def equal(o: Any) -> bool | str:
            v = get(o)
            if v == c:
                return True
            return path if v is None else False

        return equal
    if op == "in":

        def member(o: Any) -> bool | str:
            v = get(o)
            if v in c:
                return True
            return path if v is None else False

        return member
    if op == "contains":

        def contains(o: Any) -> bool | str:
            v = get(o)
            if v is None:
                return path
            return v is not ABSENT and c in v

        return contains
    test = _OPS[op]
    absent = _ABSENT_RESULT[op]

    def compare(o: Any) -> bool | str:
        v = get(o)
        if v is None:
            return path
        if v is ABSENT:
            return absent
        return test(v, c)

    return compare


# -- combinators --------------------------------------------------------------------------------
# Two-valued tests (``three_valued=False``) return plain bools, so they combine with Python's own
# ``and``/``or``/``not``; Kleene's logic is only paid for where a field may be unknown.


def _not(p: _Fn) -> _Fn:
    f = p.fn
    if not p.three_valued:
        return _Fn(lambda o: not f(o), False)

    def negation(o: Any) -> bool | str:
        r = f(o)
        if r is True:
            return False
        if r is False:
            return True
        return r

    return _Fn(negation, True)


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


def _kleene_and(fns: list[Test]) -> Test:
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        p, q = fns

        def both(o: Any) -> bool | str:
            a = p(o)
            if a is False:
                return False
            b = q(o)
            if b is False:
                return False
            return b if a is True else a

        return both
    parts = tuple(fns)

    def every(o: Any) -> bool | str:
        unknown: str | None = None
        for p in parts:
            r = p(o)
            if r is False:
                return False
            if r is not True and unknown is None:
                unknown = r
        return True if unknown is None else unknown

    return every


def _kleene_or(fns: list[Test]) -> Test:
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        p, q = fns

        def either(o: Any) -> bool | str:
            a = p(o)
            if a is True:
                return True
            b = q(o)
            if b is True:
                return True
            return b if a is False else a

        return either
    parts = tuple(fns)

    def some(o: Any) -> bool | str:
        unknown: str | None = None
        for p in parts:
            r = p(o)
            if r is True:
                return True
            if r is not False and unknown is None:
                unknown = r
        return False if unknown is None else unknown

    return some


def _and(terms: list[_Fn]) -> _Fn:
    """Kleene ``and``. The two-valued terms run first: a false one decides without the others,
    and the unknown field reported is still the first unknown one in the text."""
    sure = [t.fn for t in terms if not t.three_valued]
    maybe = [t.fn for t in terms if t.three_valued]
    if not maybe:
        return _Fn(_all_of(sure), False)
    rest = _kleene_and(maybe)
    if not sure:
        return _Fn(rest, True)
    if len(sure) == 1:
        (a,) = sure
        return _Fn(lambda o: rest(o) if a(o) else False, True)
    if len(sure) == 2:
        a, b = sure
        return _Fn(lambda o: rest(o) if a(o) and b(o) else False, True)
    if len(sure) == 3:
        a, b, c = sure
        return _Fn(lambda o: rest(o) if a(o) and b(o) and c(o) else False, True)
    first = _all_of(sure)
    return _Fn(lambda o: rest(o) if first(o) else False, True)


def _or(terms: list[_Fn]) -> _Fn:
    """Kleene ``or``, two-valued terms first (a true one decides)."""
    sure = [t.fn for t in terms if not t.three_valued]
    maybe = [t.fn for t in terms if t.three_valued]
    if not maybe:
        return _Fn(_any_of(sure), False)
    rest = _kleene_or(maybe)
    if not sure:
        return _Fn(rest, True)
    first = _any_of(sure)
    return _Fn(lambda o: True if first(o) else rest(o), True)


def _any(body: _Fn) -> _Fn:
    """Some line item passes. A known hit decides; otherwise an unknown item makes it unknown."""
    shape = body.shape
    if shape is not None and shape.op == "==":
        get, c, path = shape.get, shape.const, shape.path
        if not body.three_valued:

            def any_equal(o: Order) -> bool:
                for item in o.line_items:  # noqa: SIM110  (a loop is faster than any()/all() over a generator)
                    if get(item) == c:
                        return True
                return False

            return _Fn(any_equal, False)

        def any_equal_or_unknown(o: Order) -> bool | str:
            unknown = False
            for item in o.line_items:
                v = get(item)
                if v == c:
                    return True
                if v is None:
                    unknown = True
            return path if unknown else False

        return _Fn(any_equal_or_unknown, True)
    test = body.fn
    if not body.three_valued:

        def any_item(o: Order) -> bool:
            for item in o.line_items:  # noqa: SIM110  (a loop is faster than any()/all() over a generator)
                if test(item):
                    return True
            return False

        return _Fn(any_item, False)

    def any_item_or_unknown(o: Order) -> bool | str:
        unknown: str | None = None
        for item in o.line_items:
            r = test(item)
            if r is True:
                return True
            if r is not False and unknown is None:
                unknown = r
        return False if unknown is None else unknown

    return _Fn(any_item_or_unknown, True)


def _all(body: _Fn) -> _Fn:
    """Every line item passes (true for an order without line items)."""
    test = body.fn
    if not body.three_valued:

        def all_items(o: Order) -> bool:
            for item in o.line_items:  # noqa: SIM110  (a loop is faster than any()/all() over a generator)
                if not test(item):
                    return False
            return True

        return _Fn(all_items, False)

    def all_items_or_unknown(o: Order) -> bool | str:
        unknown: str | None = None
        for item in o.line_items:
            r = test(item)
            if r is False:
                return False
            if r is not True and unknown is None:
                unknown = r
        return True if unknown is None else unknown

    return _Fn(all_items_or_unknown, True)
