"""The batch pre-filter's compiled conditions against the core's own evaluation.

For every field and operator of the rule language, over random orders (guests, unknown and
absent values, other currencies, boundary amounts): wherever the columnar expression says true or
false, the core's :meth:`Condition.evaluate` on the order as the engine prices it says the same.
And it does decide: the common tests must not fall back to "may hold".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersale_kit.backtest.batch import BatchFilter, Prefilter, condition_verdicts, prefilter
from aftersale_kit.backtest.history import HistoryOrder, SourceRef
from aftersale_kit.core.campaign import Campaign, ShopConfig, ShopSettings, TagOrder
from aftersale_kit.core.conditions import Condition, compile_condition
from aftersale_kit.core.currency import price_order
from aftersale_kit.core.fields import FIELDS, FieldType
from aftersale_kit.core.model import Address, Customer, FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money

pytest.importorskip("polars")

SETTINGS = ShopSettings(
    platform="shopify",
    domain="batch.example",
    currency="EUR",
    exchange_rates=(("USD", Decimal("0.9")), ("CHF", Decimal("1.0312345"))),
)
START = datetime(2024, 11, 29, 10, 0, tzinfo=UTC)
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Amounts around the constants the conditions use, so that boundaries are hit.
AMOUNTS = ["0", "1.5", "2", "49.99", "50", "50.00", "50.01", "100", "120.5"]
NUMBERS = ["0", "1", "2", "3", "49.99", "50", "50.00001", "-5", "100"]
TEXTS = ["DE", "AT", "paypal", "web", "Kaffee", "Tee", "vip", "x", "", "a@example.de"]
TIMES = [
    "2024-11-29T10:00:00+00:00",
    "2024-11-29T11:00:00+01:00",
    "2024-11-29T10:00:00.000001+00:00",
    "2024-01-01T00:00:00+00:00",
]

amount = st.sampled_from(AMOUNTS).map(Decimal)
text = st.sampled_from(TEXTS)
maybe_text = st.one_of(st.none(), text)
text_tuple = st.lists(text, max_size=3).map(tuple)
moment = st.sampled_from([START, START + timedelta(hours=1), START - timedelta(days=300)])


def money(currency: str) -> Callable[[Decimal], Money]:
    return lambda a: Money(a, currency)


@st.composite
def line_items(draw: st.DrawFn, currency: str) -> LineItem:
    return LineItem(
        id=str(draw(st.integers(1, 9))),
        title=draw(text),
        quantity=draw(st.integers(0, 4)),
        unit_price=Money(draw(amount), currency),
        product_id=draw(maybe_text),
        variant_id=draw(maybe_text),
        sku=draw(maybe_text),
        vendor=draw(maybe_text),
        product_type=draw(maybe_text),
        tags=draw(st.one_of(st.none(), text_tuple)),
        categories=draw(st.one_of(st.none(), text_tuple)),
        gift_card=draw(st.booleans()),
    )


@st.composite
def customers(draw: st.DrawFn, currency: str) -> Customer | None:
    if draw(st.booleans()):
        return None
    return Customer(
        id=draw(st.sampled_from(["c1", "vip", "DE"])),
        email=draw(st.sampled_from([None, "A@Example.de", "b@example.de"])),
        locale=draw(st.sampled_from([None, "de", "en"])),
        tags=draw(st.one_of(st.none(), text_tuple)),
        orders_count=draw(st.one_of(st.none(), st.integers(0, 3))),
        total_spent=draw(st.one_of(st.none(), amount.map(money(currency)))),
        accepts_marketing=draw(st.one_of(st.none(), st.booleans())),
        care_cost=draw(st.one_of(st.none(), amount.map(money(currency)))),
        care_cost_share=draw(st.one_of(st.none(), st.sampled_from(NUMBERS).map(Decimal))),
    )


@st.composite
def orders(draw: st.DrawFn) -> Order:
    currency = draw(st.sampled_from(["EUR", "EUR", "USD", "CHF", "JPY"]))
    m = money(currency)
    country = st.one_of(st.none(), st.sampled_from(["DE", "AT", "CH"]))
    ship = draw(country)
    bill = draw(country)
    return Order(
        platform="shopify",
        shop=SETTINGS.domain,
        id=str(draw(st.integers(1, 10**6))),
        number="1",
        currency=currency,
        created_at=draw(moment),
        financial_status=draw(st.sampled_from(list(FinancialStatus))),
        subtotal=m(draw(amount)),
        total=m(draw(amount)),
        discounts=m(draw(amount)),
        shipping=m(draw(amount)),
        tax=m(draw(amount)),
        line_items=tuple(draw(st.lists(line_items(currency), max_size=3))),
        customer=draw(customers(currency)),
        email=draw(st.sampled_from([None, "", "A@Example.de", "c@example.de"])),
        paid_at=draw(st.one_of(st.none(), moment)),
        shipping_address=None if ship is None else Address(country_code=ship),
        billing_address=None if bill is None else Address(country_code=bill),
        shipping_method=draw(maybe_text),
        payment_gateway=draw(maybe_text),
        source=draw(maybe_text),
        discount_codes=draw(text_tuple),
        tags=draw(text_tuple),
        locale=draw(maybe_text),
        test=draw(st.booleans()),
    )


def _quote(value: str) -> str:
    return '"' + value + '"'


def _numeric_tests(path: str, kind: FieldType) -> list[str]:
    out: list[str] = []
    for c in NUMBERS:
        out += [f"{path} {op} {c}" for op in ("==", "!=", "<", "<=", ">", ">=")]
        out.append(f"{c} < {path}")
    out += [f"{path} in [2, 50, 49.99]", f"{path} not in [0, 50.00001]"]
    item = path.startswith("line_items.")
    same = [
        p
        for p, s in FIELDS.items()
        if s.type is kind and p != path and p.startswith("line_items.") == item
    ]
    return out + ([f"{path} >= {same[0]}", f"{path} == {same[-1]}"] if same else [])


def _text_tests(path: str) -> list[str]:
    out: list[str] = []
    for c in [*TEXTS[:4], "a@EXAMPLE.de", ""]:
        out += [f"{path} == {_quote(c)}", f"{path} != {_quote(c)}"]
        out += [f"{path} contains {_quote(c)}", f"{path} not contains {_quote(c)}"]
    out += [f'{path} in ["DE", "paypal", "a@example.de"]', f'{path} not in ["AT", "web"]']
    out += [f"{path} is empty", f"{path} is not empty"]
    if not path.startswith("line_items."):
        out += [f"{path} in customer.tags", f"{path} not in order.tags"]
        out += [f"{path} == order.shipping_country", f"{path} != customer.id"]
    return out


def _list_tests(path: str) -> list[str]:
    out: list[str] = []
    for c in ("vip", "x", "Kaffee"):
        out += [f"{_quote(c)} in {path}", f"{_quote(c)} not in {path}"]
        out += [f"{path} contains {_quote(c)}", f"{path} not contains {_quote(c)}"]
    out += [f"{path} is empty", f"{path} is not empty"]
    if not path.startswith("line_items."):
        out.append(f"{path} contains order.shipping_country")
    return out


def _tests_of(path: str) -> list[str]:
    """Tests of one field with every operator its type allows."""
    kind = FIELDS[path].type
    if kind in (FieldType.MONEY, FieldType.NUMBER):
        out = _numeric_tests(path, kind)
    elif kind is FieldType.TEXT:
        out = _text_tests(path)
    elif kind is FieldType.TEXT_LIST:
        out = _list_tests(path)
    elif kind is FieldType.BOOL:
        out = [path, f"not {path}", f"{path} == true", f"{path} != false"]
    else:
        out = [
            f"{path} {op} {_quote(c)}" for c in TIMES for op in ("==", "!=", "<", "<=", ">", ">=")
        ]
        out.append(f"{path} >= order.created_at")
    if path.startswith("line_items."):
        out = [f"{q} ({t})" for t in out for q in ("any", "all", "none")]
    return out


TESTS = {path: _tests_of(path) for path in FIELDS}


def _core(condition: Condition, order: Order) -> bool | None:
    """The core's verdict as the engine asks for it (None: unknown or amounts unknown)."""
    pricing = price_order(order, SETTINGS)
    if pricing.unknown is not None and any(
        FIELDS[p].type is FieldType.MONEY for p in condition.fields
    ):
        return None
    return condition.evaluate(pricing.order).value


def _check(texts: list[str], sample: list[Order]) -> int:
    """Every sure answer of the batch path agrees with the core; returns how many were sure."""
    conditions = [compile_condition(t) for t in texts]
    verdicts = condition_verdicts(conditions, sample, SETTINGS)
    sure = 0
    for condition, row in zip(conditions, verdicts, strict=True):
        for order, got in zip(sample, row, strict=True):
            if got is None:
                continue
            sure += 1
            assert got == _core(condition, order), (condition.source, order)
    return sure


def test_every_field_has_tests() -> None:
    assert all(TESTS.values())


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(FIELDS))
@PROPERTY
@given(sample=st.lists(orders(), min_size=1, max_size=12))
def test_compiled_tests_agree_with_the_core_per_field_and_operator(
    path: str, sample: list[Order]
) -> None:
    _check(TESTS[path], sample)


def _composite(draw: st.DrawFn, depth: int) -> str:
    if depth == 0 or draw(st.booleans()):
        path = draw(st.sampled_from(sorted(FIELDS)))
        return draw(st.sampled_from(TESTS[path]))
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        return f"not ({_composite(draw, depth - 1)})"
    return f"({_composite(draw, depth - 1)}) {kind} ({_composite(draw, depth - 1)})"


@st.composite
def composites(draw: st.DrawFn) -> str:
    return _composite(draw, 3)


@pytest.mark.slow
@PROPERTY
@given(texts=st.lists(composites(), min_size=1, max_size=6), sample=st.lists(orders(), max_size=10))
def test_compiled_kleene_combinations_agree_with_the_core(
    texts: list[str], sample: list[Order]
) -> None:
    _check(texts, sample)


def _order(**changes: object) -> Order:
    base = Order(
        platform="shopify",
        shop=SETTINGS.domain,
        id="1",
        number="1",
        currency="EUR",
        created_at=START,
        financial_status=FinancialStatus.PAID,
        subtotal=Money(Decimal("50.00"), "EUR"),
        total=Money(Decimal("55.00"), "EUR"),
        discounts=Money(Decimal(0), "EUR"),
        shipping=Money(Decimal(5), "EUR"),
        tax=Money(Decimal(0), "EUR"),
        customer=Customer(id="c1", orders_count=2, tags=("vip",)),
        shipping_address=Address(country_code="DE"),
        line_items=(
            LineItem(
                id="1", title="t", quantity=2, unit_price=Money(Decimal(25), "EUR"),
                product_type="Kaffee",
            ),
        ),
    )  # fmt: skip
    from dataclasses import replace

    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("subtotal >= 50", True),
        ("subtotal > 50", False),
        ("subtotal > 49.999999", True),
        ("subtotal == 50", True),
        ("customer.orders_count >= 2", True),
        ("first_order", False),
        ('"vip" in customer.tags', True),
        ('any line_items.product_type == "Kaffee"', True),
        ("all line_items.quantity >= 3", False),
        ('shipping_country in ["AT", "CH"]', False),
        ('order.created_at < "2024-11-29T11:00:00+01:00"', False),
    ],
)
def test_common_tests_are_decided_not_left_open(condition: str, expected: bool) -> None:
    """The translation must decide the tests campaigns use, or it would prune nothing."""
    (row,) = condition_verdicts([compile_condition(condition)], [_order()], SETTINGS)
    assert row == [expected]


def test_unknown_and_unpriced_orders_stay_open() -> None:
    unenriched = _order(customer=Customer(id="c1"))
    yen = _order(currency="JPY", subtotal=Money(Decimal(10), "JPY"))
    conditions = [
        compile_condition("customer.orders_count >= 2"),
        compile_condition("subtotal > 50"),
    ]
    verdicts = condition_verdicts(conditions, [unenriched, yen], SETTINGS)
    # unknown orders count: open; JPY without a rate: the amount is not compared at all
    assert verdicts[0][0] is None
    assert verdicts[1][1] is None


def _campaign(cid: str, *conditions: str) -> Campaign:
    return Campaign(
        id=cid,
        actions=(TagOrder(tag=cid),),
        conditions=tuple(compile_condition(c) for c in conditions),
    )


def test_candidate_sets_leave_out_only_campaigns_with_a_false_condition() -> None:
    config = ShopConfig(
        settings=SETTINGS,
        campaigns=(
            _campaign("always"),
            _campaign("big", "subtotal >= 100"),
            _campaign("vip", '"vip" in customer.tags', "subtotal >= 10"),
            _campaign("unknown", "customer.total_spent > 5"),
        ),
    )
    small, big = _order(), _order(subtotal=Money(Decimal(150), "EUR"), customer=None)
    sets = BatchFilter(config).evaluate([small, big])
    assert sets == [
        frozenset({"always", "vip", "unknown"}),
        frozenset({"always", "big"}),  # a guest's total spent is absent: > 5 is false
    ]


def test_more_campaigns_than_one_mask_holds() -> None:
    campaigns = tuple(_campaign(f"c{i}", f"subtotal >= {i}") for i in range(130))
    config = ShopConfig(settings=SETTINGS, campaigns=campaigns)
    (ids,) = BatchFilter(config).evaluate([_order()])
    assert ids == frozenset(f"c{i}" for i in range(51))


def test_prefilter_streams_in_chunks_and_answers_by_order_id() -> None:
    config = ShopConfig(settings=SETTINGS, campaigns=(_campaign("big", "subtotal >= 100"),))
    history = [
        HistoryOrder(_order(id=str(i), subtotal=Money(Decimal(i * 30), "EUR")), SourceRef("f", i))
        for i in range(7)
    ]
    passed, hook = prefilter(config, history, chunk_size=3)
    assert isinstance(hook, Prefilter)
    first = next(passed)
    assert hook(first.order) == frozenset()
    # the second chunk is not read before the first is handed on
    assert hook(history[3].order) is None
    rest = list(passed)
    assert [h.order.id for h in [first, *rest]] == [str(i) for i in range(7)]
    assert [hook(h.order) for h in history] == [frozenset()] * 4 + [frozenset({"big"})] * 3
    # the order as a later event carries it (refunded, another status): the same answer
    later = _order(id="5", financial_status=FinancialStatus.REFUNDED)
    assert hook(later) == frozenset({"big"})
    assert hook(_order(id="unseen")) is None


def test_an_id_seen_twice_gets_every_campaign() -> None:
    config = ShopConfig(settings=SETTINGS, campaigns=(_campaign("big", "subtotal >= 100"),))
    twice = [HistoryOrder(_order(id="1"), SourceRef("f", 1))] * 2
    passed, hook = prefilter(config, twice)
    assert len(list(passed)) == 2
    assert hook(twice[0].order) is None


def test_payment_status_decides_nothing_it_changes_between_events() -> None:
    (row,) = condition_verdicts(
        [compile_condition('financial_status == "paid"')], [_order()], SETTINGS
    )
    assert row == [None]


def test_campaigns_without_conditions_are_candidates_for_every_order() -> None:
    config = ShopConfig(settings=SETTINGS, campaigns=(_campaign("a"), _campaign("b")))
    assert BatchFilter(config).evaluate([_order(), _order(id="2")]) == [frozenset({"a", "b"})] * 2
