"""Conditions are safe: every known escape attempt is refused at compile time with a ConditionError.

The corpus of attempts is ``data/escape_corpus.txt``; long and deep inputs are generated here, and
random text is thrown at the compiler to show that it fails only with ConditionError.
"""

from __future__ import annotations

import ast
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersale_kit.core import conditions
from aftersale_kit.core.conditions import MAX_DEPTH, MAX_LENGTH, compile_condition
from aftersale_kit.core.errors import ConditionError
from aftersale_kit.core.model import Customer, FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money

CORPUS = Path(__file__).parent / "data" / "escape_corpus.txt"
_CODE_POINT = re.compile(r"\\u\{([0-9A-Fa-f]{1,6})\}")


def _corpus() -> list[tuple[int, str]]:
    entries = []
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        entries.append((number, _CODE_POINT.sub(lambda m: chr(int(m.group(1), 16)), line)))
    return entries


ENTRIES = _corpus()


def test_the_corpus_is_substantial() -> None:
    assert len(ENTRIES) >= 150


@pytest.mark.parametrize(("line", "text"), ENTRIES, ids=[f"line{n}" for n, _ in ENTRIES])
def test_every_escape_attempt_is_refused_at_compile(line: int, text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ConditionError) as caught:
        compile_condition(text)
    assert time.perf_counter() - started < 0.05
    assert 0 <= caught.value.column <= len(text), f"corpus line {line}"


@pytest.mark.parametrize(
    "text",
    [
        "first_order and " * 200 + "first_order",
        "(" * (MAX_DEPTH + 1) + "first_order" + ")" * (MAX_DEPTH + 1),
        "not " * (MAX_DEPTH + 1) + "first_order",
        "(" * 100_000,
        "not " * 100_000 + "first_order",
        "[" * 10_000,
        "[" * (MAX_LENGTH - 1),
        "shipping_country in " + "[" * 1_900,
        "any " * 499,
        "x" * 1_000_000,
        '"' + "a" * 600 + '" in order.tags',
        "subtotal >= " + "9" * 40,
        "shipping_country in [" + ", ".join(f'"{i}"' for i in range(600)) + "]",
    ],
    ids=[
        "long-and-chain",
        "deep-parens",
        "deep-not",
        "huge-parens",
        "huge-not",
        "huge-brackets",
        "nested-lists",
        "nested-lists-after-in",
        "many-any",
        "megabyte",
        "long-text",
        "long-number",
        "long-list",
    ],
)
def test_long_and_deep_inputs_are_refused_quickly(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ConditionError):
        compile_condition(text)
    assert time.perf_counter() - started < 0.5


def test_limits_leave_room_for_real_conditions() -> None:
    # a long but reasonable condition at the limits still compiles
    deep = "(" * MAX_DEPTH + "first_order" + ")" * MAX_DEPTH
    assert compile_condition(deep).source == deep
    wide = "order.item_count > 0 and " * 70 + "first_order"
    assert len(wide) <= MAX_LENGTH
    compile_condition(wide)


_FORBIDDEN_CALLS = {
    "eval",
    "exec",
    "compile",
    "getattr",
    "setattr",
    "__import__",
    "globals",
    "vars",
}


def test_the_compiler_never_hands_text_to_python() -> None:
    # given the compiler's own source, every module of the conditions package
    sources = sorted(Path(conditions.__file__).parent.glob("*.py"))
    assert len(sources) > 1
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        # then it calls none of the functions that run or reach into Python objects by name
        called = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert called & _FORBIDDEN_CALLS == set(), source.name


_ORDER = Order(
    platform="shopify",
    shop="s.example",
    id="1",
    number="1",
    currency="EUR",
    created_at=datetime(2024, 1, 1, tzinfo=UTC),
    financial_status=FinancialStatus.PAID,
    subtotal=Money.of("10", "EUR"),
    total=Money.of("10", "EUR"),
    discounts=Money.of("0", "EUR"),
    shipping=Money.of("0", "EUR"),
    tax=Money.of("0", "EUR"),
    line_items=(LineItem(id="1", title="x", quantity=1, unit_price=Money.of("10", "EUR")),),
    customer=Customer(id="c"),
)

_KLEENE_NOT: dict[bool | None, bool | None] = {True: False, False: True, None: None}

_WORDS = [
    "subtotal", "first_order", "customer.tags", "line_items.sku", "any", "all", "not", "and", "or",
    "in", "is", "empty", "contains", "true", "false", "==", "!=", ">=", "<", "(", ")", "[", "]",
    ",", '"DE"', "'x'", "50", "-1.5", "order.created_at", '"2024-01-01T00:00:00Z"', "none",
    "shipping_country", "customer.orders_count", "order.test", "__class__", ".", "{", "=",
]  # fmt: skip


_RANDOM_TEXT = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(_WORDS), max_size=12).map(" ".join),
    # one word repeated up to beyond the length limit: recursion must stop with an error
    st.tuples(st.sampled_from(_WORDS), st.integers(0, 1200)).map(lambda t: (t[0] + " ") * t[1]),
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(_RANDOM_TEXT)
def test_any_text_compiles_or_fails_with_a_condition_error(text: str) -> None:
    try:
        condition = compile_condition(text)
    except ConditionError as exc:
        assert 0 <= exc.column <= max(len(text), MAX_LENGTH)
        return
    # a condition that compiles evaluates, never raising, to the Kleene complement of its
    # negation (unless wrapping it in `not (...)` passes a limit)
    verdict = condition.evaluate(_ORDER).value
    try:
        negation = compile_condition(f"not ({text})")
    except ConditionError as exc:
        assert "more than" in str(exc), str(exc)
        return
    assert negation.evaluate(_ORDER).value is _KLEENE_NOT[verdict]
