"""A subset of Shopify's search syntax for the ``query`` argument of ``orders`` and
``collections``.

Supported (shopify.dev/docs/api/usage/search-syntax): ``field:value``, comparisons ``field:>v``,
``>=``, ``<``, ``<=``, quoted values (``'...'`` or ``"..."``), negation (``-field:v`` or ``NOT
field:v``), ``AND`` (also implied by a space) and ``OR`` (``AND`` binds tighter). No parentheses.
A term without a field matches the order name or email (a collection: words of its title). A
field the sandbox does not know is ignored and reported as a warning, as Shopify reports it in
``extensions.search``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .util import SandboxError, parse_time, to_decimal

__all__ = [
    "COLLECTION_FIELDS",
    "ORDER_FIELDS",
    "Term",
    "compile_collection_query",
    "compile_order_query",
    "compile_query",
]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<neg>-)?(?P<field>[A-Za-z_][A-Za-z0-9_.]*):(?P<op><=|>=|<|>|=)?
            (?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>[^\s]*))
      | '(?P<tsq>[^']*)'|"(?P<tdq>[^"]*)"
      | (?P<word>[^\s]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Term:
    field: str | None
    op: str
    value: str
    negated: bool = False


#: Whether a record (a REST-shaped dict) matches a term.
Matcher = Callable[[dict[str, Any], Term], bool]


def _tokens(query: str) -> list[Term | str]:
    out: list[Term | str] = []
    pos = 0
    negate_next = False
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        if match.group("field"):
            value = next(
                (
                    v
                    for v in (match.group("sq"), match.group("dq"), match.group("bare"))
                    if v is not None
                ),
                "",
            )
            negated = bool(match.group("neg")) or negate_next
            negate_next = False
            out.append(Term(match.group("field").lower(), match.group("op") or "=", value, negated))
            continue
        word = match.group("word")
        if word in ("AND", "OR"):
            out.append(word)
            continue
        if word == "NOT":
            negate_next = True
            continue
        text = match.group("tsq") if match.group("tsq") is not None else match.group("tdq")
        if text is None:
            text = word or ""
        out.append(Term(None, "=", text, negate_next))
        negate_next = False
    return out


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None:
        return False
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    return bool(left == right)


def _time_matcher(key: str) -> Matcher:
    def match(order: dict[str, Any], term: Term) -> bool:
        wanted = parse_time(term.value)
        actual: datetime | None = parse_time(order.get(key))
        return _compare(actual, term.op, wanted)

    return match


def _text_matcher(
    getter: Callable[[dict[str, Any]], Any],
) -> Matcher:
    def match(order: dict[str, Any], term: Term) -> bool:
        actual = getter(order)
        if actual is None:
            return False
        return str(actual).casefold() == term.value.casefold()

    return match


def _status(order: dict[str, Any], term: Term) -> bool:
    wanted = term.value.lower()
    if wanted == "any":
        return True
    if wanted == "cancelled":
        return bool(order.get("cancelled_at"))
    if wanted == "closed":
        return bool(order.get("closed_at"))
    if wanted == "open":
        return not order.get("closed_at") and not order.get("cancelled_at")
    return False


def _tag(order: dict[str, Any], term: Term) -> bool:
    tags = [t.strip().casefold() for t in str(order.get("tags") or "").split(",") if t.strip()]
    return term.value.casefold() in tags


def _id(order: dict[str, Any], term: Term) -> bool:
    try:
        wanted = int(term.value.rsplit("/", 1)[-1])
    except ValueError:
        return False
    return _compare(int(order["id"]), term.op, wanted)


def _total(order: dict[str, Any], term: Term) -> bool:
    return _compare(to_decimal(order.get("total_price") or "0"), term.op, to_decimal(term.value))


def _customer_id(order: dict[str, Any], term: Term) -> bool:
    customer = order.get("customer") or {}
    return str(customer.get("id")) == term.value.rsplit("/", 1)[-1]


def _discount_code(order: dict[str, Any], term: Term) -> bool:
    codes = [str(c.get("code", "")).casefold() for c in order.get("discount_codes") or []]
    return term.value.casefold() in codes


def _free_text(order: dict[str, Any], term: Term) -> bool:
    needle = term.value.casefold().lstrip("#")
    name = str(order.get("name") or "").casefold().lstrip("#")
    email = str(order.get("email") or "").casefold()
    return needle == name or needle in email


ORDER_FIELDS: dict[str, Matcher] = {
    "created_at": _time_matcher("created_at"),
    "updated_at": _time_matcher("updated_at"),
    "processed_at": _time_matcher("processed_at"),
    "financial_status": _text_matcher(lambda o: o.get("financial_status")),
    "fulfillment_status": _text_matcher(lambda o: o.get("fulfillment_status") or "unshipped"),
    "status": _status,
    "tag": _tag,
    "email": _text_matcher(lambda o: o.get("email")),
    "name": _text_matcher(lambda o: o.get("name")),
    "id": _id,
    "total_price": _total,
    "customer_id": _customer_id,
    "discount_code": _discount_code,
    "source_name": _text_matcher(lambda o: o.get("source_name")),
    "test": _text_matcher(lambda o: str(bool(o.get("test"))).lower()),
}


#: Fields of ``collections(query:)`` the sandbox knows
#: (shopify.dev/docs/api/admin-graphql/latest/queries/collections).
COLLECTION_FIELDS: dict[str, Matcher] = {
    "handle": _text_matcher(lambda c: c.get("handle")),
    "title": _text_matcher(lambda c: c.get("title")),
    "id": _id,
}


def _title_words(collection: dict[str, Any], term: Term) -> bool:
    return term.value.casefold() in str(collection.get("title") or "").casefold()


def compile_order_query(
    query: str | None,
) -> tuple[Callable[[dict[str, Any]], bool], list[dict[str, str]]]:
    """A predicate over REST orders, and the warnings for fields that were ignored."""
    return compile_query(query, fields=ORDER_FIELDS, free_text=_free_text)


def compile_collection_query(
    query: str | None,
) -> tuple[Callable[[dict[str, Any]], bool], list[dict[str, str]]]:
    """A predicate over collections (``id``, ``handle``, ``title``), and the ignored fields."""
    return compile_query(query, fields=COLLECTION_FIELDS, free_text=_title_words)


def compile_query(
    query: str | None, *, fields: dict[str, Matcher], free_text: Matcher
) -> tuple[Callable[[dict[str, Any]], bool], list[dict[str, str]]]:
    """A predicate over records for ``query`` with these ``fields``; a term without a field goes
    to ``free_text``. Also the warnings for fields that were ignored."""
    if not query or not query.strip():
        return (lambda record: True), []
    warnings: list[dict[str, str]] = []
    groups: list[list[Term]] = [[]]
    for token in _tokens(query):
        if token == "OR":
            groups.append([])
        elif token == "AND":
            continue
        elif isinstance(token, Term):
            if token.field is not None and token.field not in fields:
                warnings.append(
                    {"field": token.field, "message": "Invalid search field for this query."}
                )
                continue
            groups[-1].append(token)

    def term_matches(record: dict[str, Any], term: Term) -> bool:
        try:
            matcher = fields[term.field] if term.field else free_text
            result = matcher(record, term)
        except (ValueError, TypeError, ArithmeticError, SandboxError):
            result = False
        return result != term.negated

    def predicate(record: dict[str, Any]) -> bool:
        return any(all(term_matches(record, t) for t in group) for group in groups)

    return predicate, warnings
