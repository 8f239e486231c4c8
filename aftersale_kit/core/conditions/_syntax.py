"""Conditions, step 2: tokens parsed into a syntax tree (the grammar is in the package docstring).

Field names are resolved here, so an unknown or misspelt field fails with its column and a
suggestion before any type is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ..errors import ConditionSyntaxError, ConditionTypeError
from ..fields import FIELDS, FieldSpec, FieldType, canonical_name, suggest_field
from ._tokens import Kind, Token

MAX_DEPTH: Final = 20
MAX_LIST_ITEMS: Final = 500


@dataclass(frozen=True, slots=True)
class FieldRef:
    spec: FieldSpec
    text: str
    column: int


@dataclass(frozen=True, slots=True)
class Literal:
    value: Decimal | str | bool
    type: FieldType
    text: str
    column: int


@dataclass(frozen=True, slots=True)
class ListValue:
    items: tuple[Literal, ...]
    column: int


Value = FieldRef | Literal | ListValue


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    term: Node


@dataclass(frozen=True, slots=True)
class Quant:
    kind: str
    body: Node
    column: int


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Value
    right: Value
    column: int


@dataclass(frozen=True, slots=True)
class Empty:
    value: Value
    negated: bool
    column: int


@dataclass(frozen=True, slots=True)
class Truth:
    value: Value


Node = Or | And | Not | Quant | Compare | Empty | Truth


# -- parser -------------------------------------------------------------------------------------


class Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._pos = 0
        self._depth = 0

    def parse(self) -> Node:
        if self._peek().kind is Kind.END:
            raise ConditionSyntaxError("the condition is empty", column=0)
        node = self._or()
        tok = self._peek()
        if tok.kind is not Kind.END:
            raise self._unexpected(tok, "expected 'and', 'or' or the end of the condition")
        return node

    # helpers

    def _peek(self, ahead: int = 0) -> Token:
        return self._tokens[min(self._pos + ahead, len(self._tokens) - 1)]

    def _advance(self) -> Token:
        tok = self._tokens[self._pos]
        self._pos += 1
        return tok

    def _is_kw(self, tok: Token, *words: str) -> bool:
        return tok.kind is Kind.KEYWORD and tok.value in words

    def _enter(self, tok: Token) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ConditionSyntaxError(
                f"the condition is nested more than {MAX_DEPTH} levels deep; simplify it",
                column=tok.column,
            )

    def _unexpected(self, tok: Token, expected: str) -> ConditionSyntaxError:
        if tok.kind is Kind.END:
            return ConditionSyntaxError(f"{expected}, but the condition ends", column=tok.column)
        prev = self._tokens[self._pos - 1] if self._pos > 0 else None
        hint = ""
        if tok.text == "," and prev is not None and prev.kind is Kind.NUMBER:
            hint = "; write decimals with a point, e.g. 49.90"
        elif (
            tok.kind is Kind.NAME
            and prev is not None
            and prev.kind is Kind.NUMBER
            and len(tok.text) == 3
            and tok.text.isupper()
        ):
            hint = "; amounts are in the shop currency, write the number only"
        return ConditionSyntaxError(f"{expected}, found {tok.text!r}{hint}", column=tok.column)

    # grammar

    def _or(self) -> Node:
        terms = [self._and()]
        while self._is_kw(self._peek(), "or"):
            self._advance()
            terms.append(self._and())
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def _and(self) -> Node:
        terms = [self._unary()]
        while self._is_kw(self._peek(), "and"):
            self._advance()
            terms.append(self._unary())
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def _unary(self) -> Node:
        tok = self._peek()
        if self._is_kw(tok, "not"):
            self._advance()
            self._enter(tok)
            node: Node = Not(self._unary())
            self._depth -= 1
            return node
        if self._is_kw(tok, "any", "all", "none"):
            self._advance()
            self._enter(tok)
            node = Quant(str(tok.value), self._unary(), tok.column)
            self._depth -= 1
            return node
        if tok.kind is Kind.PUNCT and tok.text == "(":
            self._advance()
            self._enter(tok)
            node = self._or()
            close = self._peek()
            if not (close.kind is Kind.PUNCT and close.text == ")"):
                raise self._unexpected(close, f"expected ')' to close the '(' at {tok.column}")
            self._advance()
            self._depth -= 1
            after = self._peek()
            if after.kind is Kind.OP or self._is_kw(after, "in", "contains", "is"):
                raise ConditionSyntaxError(
                    f"{after.text!r} needs a field or a value on its left, not a parenthesis",
                    column=after.column,
                )
            return node
        return self._test()

    def _test(self) -> Node:
        left = self._value()
        tok = self._peek()
        if tok.kind is Kind.OP:
            self._advance()
            right = self._value()
            after = self._peek()
            if after.kind is Kind.OP:
                raise ConditionSyntaxError(
                    "comparisons cannot be chained; join them with 'and'", column=after.column
                )
            return Compare(str(tok.value), left, right, tok.column)
        if self._is_kw(tok, "in", "contains"):
            self._advance()
            return Compare(str(tok.value), left, self._value(), tok.column)
        if self._is_kw(tok, "not"):
            nxt = self._peek(1)
            if not self._is_kw(nxt, "in", "contains"):
                raise self._unexpected(nxt, "expected 'in' or 'contains' after 'not'")
            self._advance()
            self._advance()
            return Compare(f"not {nxt.value}", left, self._value(), tok.column)
        if self._is_kw(tok, "is"):
            self._advance()
            negated = self._is_kw(self._peek(), "not")
            if negated:
                self._advance()
            word = self._peek()
            if not self._is_kw(word, "empty"):
                raise self._unexpected(word, "expected 'empty' or 'not empty' after 'is'")
            self._advance()
            return Empty(left, negated, tok.column)
        return Truth(left)

    def _value(self) -> Value:
        tok = self._peek()
        if tok.kind is Kind.NAME:
            nxt = self._peek(1)
            if nxt.kind is Kind.PUNCT and nxt.text == "(":
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
            return FieldRef(FIELDS[path], tok.text, tok.column)
        if tok.kind is Kind.NUMBER:
            self._advance()
            assert isinstance(tok.value, Decimal)
            return Literal(tok.value, FieldType.NUMBER, tok.text, tok.column)
        if tok.kind is Kind.TEXT:
            self._advance()
            assert isinstance(tok.value, str)
            return Literal(tok.value, FieldType.TEXT, tok.text, tok.column)
        if self._is_kw(tok, "true", "false"):
            self._advance()
            return Literal(tok.value == "true", FieldType.BOOL, tok.text, tok.column)
        if tok.kind is Kind.PUNCT and tok.text == "[":
            return self._list()
        raise self._unexpected(tok, "expected a field or a value")

    def _list(self) -> ListValue:
        open_ = self._advance()
        items: list[Literal] = []
        while True:
            tok = self._peek()
            if tok.kind is Kind.PUNCT and tok.text == "]" and not items:
                self._advance()
                break
            if tok.kind is Kind.PUNCT and tok.text == "[":
                raise ConditionSyntaxError("lists cannot be nested", column=tok.column)
            value = self._value()
            if not isinstance(value, Literal):
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
            if sep.kind is Kind.PUNCT and sep.text == ",":
                self._advance()
                continue
            if sep.kind is Kind.PUNCT and sep.text == "]":
                self._advance()
                break
            raise self._unexpected(sep, f"expected ',' or ']' in the list opened at {open_.column}")
        return ListValue(tuple(items), open_.column)
