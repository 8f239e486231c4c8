"""The condition language: meaning, compile errors, and the field registry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersale_kit.core import registry
from aftersale_kit.core.conditions import (
    FALSE,
    TRUE,
    Condition,
    Verdict,
    compile_condition,
)
from aftersale_kit.core.errors import ConditionError, ConditionSyntaxError, ConditionTypeError
from aftersale_kit.core.fields import ALIASES, FIELDS, FieldType, canonical_name
from aftersale_kit.core.model import (
    Address,
    Customer,
    FinancialStatus,
    LineItem,
    Order,
)
from aftersale_kit.core.money import Money


def eur(amount: str | int) -> Money:
    return Money.of(amount, "EUR")


def item(**changes: object) -> LineItem:
    base = LineItem(
        id="li-1",
        title="Espresso Bohnen 1 kg",
        quantity=2,
        unit_price=eur("15.00"),
        product_id="p-1",
        sku="ESP-1000",
        vendor="Rösterei Nord",
        product_type="Kaffee",
        tags=("bio", "fairtrade"),
        categories=("kaffee", "bohnen"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


CUSTOMER = Customer(
    id="c-1",
    email="Anna@Example.DE",
    locale="de",
    tags=("vip",),
    orders_count=1,
    total_spent=eur("30.00"),
    accepts_marketing=True,
    care_cost=eur("4.00"),
    care_cost_share=Decimal("0.25"),
)


def order(**changes: object) -> Order:
    base = Order(
        platform="shopify",
        shop="kaffee.example",
        id="1001",
        number="#1001",
        currency="EUR",
        created_at=datetime(2024, 11, 29, 10, 0, tzinfo=UTC),
        financial_status=FinancialStatus.PAID,
        subtotal=eur("60.00"),
        total=eur("64.90"),
        discounts=eur("0"),
        shipping=eur("4.90"),
        tax=eur("10.36"),
        line_items=(item(), item(id="li-2", title="Tasse", product_type="Geschirr", quantity=1,
                                 unit_price=eur("30.00"), tags=(), categories=("zubehoer",))),
        customer=CUSTOMER,
        email="anna@example.de",
        shipping_address=Address(country_code="DE"),
        billing_address=Address(country_code="AT"),
        payment_gateway="paypal",
        source="web",
        shipping_method="DHL Paket",
        discount_codes=(),
        tags=("newsletter",),
        locale="de",
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


GUEST = order(customer=None)
UNENRICHED = order(
    customer=replace(CUSTOMER, orders_count=None, total_spent=None, tags=None),
    line_items=(item(product_type=None, tags=None, categories=None),),
)


def verdict(text: str, o: Order) -> Verdict:
    return compile_condition(text).evaluate(o)


def unknown(path: str) -> Verdict:
    return Verdict(None, path)


# -- meaning ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subtotal >= 50", TRUE),
        ("subtotal >= 60.01", FALSE),
        ("order.subtotal == 60", TRUE),
        ("50 <= subtotal", TRUE),
        ("60 < subtotal", FALSE),
        ("first_order", TRUE),
        ("not first_order", FALSE),
        ('any line_items.product_type == "Kaffee"', TRUE),
        ('all line_items.product_type == "Kaffee"', FALSE),
        ('none line_items.product_type == "Tee"', TRUE),
        ('shipping_country in ["DE", "AT"]', TRUE),
        ('shipping_country not in ["DE", "AT"]', FALSE),
        ('"vip" not in customer.tags', FALSE),
        ('"vip" in customer.tags', TRUE),
        ("customer.total_spent >= 500 and not order.test", FALSE),
        ("customer.total_spent >= 30 and not order.test", TRUE),
        ("order.discount_codes is empty", TRUE),
        ("order.discount_codes is not empty", FALSE),
        ('customer.tags contains "vip"', TRUE),
        ('order.shipping_method contains "DHL"', TRUE),
        ('order.shipping_method not contains "DHL"', FALSE),
        ("order.item_count == 3", TRUE),
        ("any line_items.quantity >= 2", TRUE),
        ("all line_items.price >= 15", TRUE),
        ("any line_items.total > 30", FALSE),
        ('any "bio" in line_items.tags', TRUE),
        ('any line_items.categories contains "zubehoer"', TRUE),
        ('any (line_items.product_type == "Kaffee" and line_items.quantity >= 2)', TRUE),
        ('any (line_items.product_type == "Geschirr" and line_items.quantity >= 2)', FALSE),
        ('any line_items.vendor == "Rösterei Nord"', TRUE),
        ('customer.email == "ANNA@example.de"', TRUE),
        ('customer.email contains "@EXAMPLE.DE"', TRUE),
        ("customer.accepts_marketing", TRUE),
        ("customer.is_guest", FALSE),
        ("order.total > order.subtotal", TRUE),
        ("order.shipping_country == order.billing_country", FALSE),
        ('order.created_at >= "2024-11-29T11:00:00+01:00"', TRUE),
        ('order.created_at < "2024-11-29T10:59:59+01:00"', FALSE),
        ('order.financial_status == "paid"', TRUE),
        ("first_order == true", TRUE),
        ("order.test != false", FALSE),
        ("true", TRUE),
        ("SUBTOTAL >= 50 AND First_Order", TRUE),
        ("(subtotal > 100 or first_order) and not (order.test)", TRUE),
        ("subtotal in [60, 70]", TRUE),
        ("order.payment_gateway in []", FALSE),
        ("order.source == 'web'", TRUE),
        ('order.shipping_method == "DHL \\"Paket\\""', FALSE),
    ],
)
def test_conditions_evaluate_on_a_known_order(text: str, expected: Verdict) -> None:
    assert verdict(text, order()) == expected


def test_money_compares_exact_decimal_amounts() -> None:
    # given an amount that float arithmetic would get wrong
    o = order(subtotal=eur("0.30"))
    # then the literal is a Decimal and compares exactly
    assert verdict("subtotal == 0.3", o) == TRUE
    assert verdict("subtotal >= 0.30000000000000001", o) == FALSE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("first_order", unknown("customer.orders_count")),
        ("not first_order", unknown("customer.orders_count")),
        ("customer.orders_count >= 2", unknown("customer.orders_count")),
        ("customer.total_spent >= 500", unknown("customer.total_spent")),
        ('"vip" in customer.tags', unknown("customer.tags")),
        ("customer.tags is empty", unknown("customer.tags")),
        ('any line_items.product_type == "Kaffee"', unknown("line_items.product_type")),
        ('all line_items.tags contains "bio"', unknown("line_items.tags")),
        # Kleene: a false or a true side decides regardless of the unknown one
        ("first_order and subtotal > 100", FALSE),
        ("subtotal > 100 and first_order", FALSE),
        ("first_order or subtotal > 50", TRUE),
        ("subtotal > 50 or first_order", TRUE),
        ("first_order and subtotal > 50", unknown("customer.orders_count")),
        ("subtotal > 100 or first_order", unknown("customer.orders_count")),
        (
            "first_order and subtotal > 50 and order.item_count > 0",
            unknown("customer.orders_count"),
        ),
        ("subtotal > 99 or subtotal > 100 or first_order", unknown("customer.orders_count")),
        ("subtotal > 99 or first_order or subtotal > 10", TRUE),
        ("subtotal > 10 and first_order and subtotal > 99", FALSE),
        ("customer.total_spent > 1 or first_order", unknown("customer.total_spent")),
        ("any line_items.quantity > 5", FALSE),
        ("all line_items.quantity > 0", TRUE),
    ],
)
def test_unknown_fields_follow_kleene_logic(text: str, expected: Verdict) -> None:
    assert verdict(text, UNENRICHED) == expected


def test_any_and_all_over_line_items_with_unknown_items() -> None:
    # given one known and one unknown product type
    o = order(line_items=(item(product_type="Kaffee"), item(id="li-2", product_type=None)))
    # then a known match decides `any`, a known miss decides `all`
    assert verdict('any line_items.product_type == "Kaffee"', o) == TRUE
    assert verdict('any line_items.product_type == "Tee"', o) == unknown("line_items.product_type")
    assert verdict('all line_items.product_type == "Tee"', o) == FALSE
    assert verdict('all line_items.product_type == "Kaffee"', o) == unknown(
        "line_items.product_type"
    )
    assert verdict('none line_items.product_type == "Kaffee"', o) == FALSE


def test_quantifiers_on_an_order_without_line_items() -> None:
    o = order(line_items=())
    assert verdict("any line_items.quantity > 0", o) == FALSE
    assert verdict("all line_items.quantity > 0", o) == TRUE
    assert verdict("none line_items.quantity > 0", o) == TRUE
    assert verdict("order.item_count == 0", o) == TRUE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a guest is not a first-order customer
        ("first_order", FALSE),
        ("customer.is_guest", TRUE),
        ('"vip" in customer.tags', FALSE),
        ("customer.tags is empty", TRUE),
        # account figures are absent: comparisons false, negations true
        ("customer.orders_count >= 1", FALSE),
        ("customer.orders_count < 1", FALSE),
        ("customer.orders_count != 1", TRUE),
        ("customer.total_spent >= 0", FALSE),
        ("customer.accepts_marketing", FALSE),
        ("not customer.accepts_marketing", TRUE),
        ('customer.id in ["c-1"]', FALSE),
        ('customer.id not in ["c-1"]', TRUE),
        # e-mail and locale come from the order
        ('customer.email == "anna@example.de"', TRUE),
        ('customer.locale == "de"', TRUE),
    ],
)
def test_guest_orders(text: str, expected: Verdict) -> None:
    assert verdict(text, GUEST) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('shipping_country == "DE"', FALSE),
        ('shipping_country != "DE"', TRUE),
        ('shipping_country in ["DE"]', FALSE),
        ('shipping_country not in ["DE"]', TRUE),
        ("shipping_country is empty", TRUE),
        ("shipping_country is not empty", FALSE),
        ('shipping_method contains "DHL"', FALSE),
        ('shipping_method not contains "DHL"', TRUE),
        ('order.paid_at >= "2024-01-01T00:00:00Z"', FALSE),
        ("shipping_country == billing_country", FALSE),
        ("shipping_country != billing_country", TRUE),
    ],
)
def test_absent_values_are_not_unknown(text: str, expected: Verdict) -> None:
    # given an order without shipping address, shipping method or payment time
    o = order(shipping_address=None, shipping_method=None, paid_at=None)
    assert verdict(text, o) == expected


def test_fields_lists_canonical_paths_including_derived_sources() -> None:
    c = compile_condition('subtotal >= 50 and first_order and any line_items.sku == "X"')
    assert c.fields == frozenset(
        {"order.subtotal", "first_order", "customer.orders_count", "line_items.sku"}
    )
    assert all(path in FIELDS for path in c.fields)


def test_conditions_are_values() -> None:
    a, b = compile_condition("subtotal >= 50"), compile_condition("subtotal >= 50")
    assert a == b and hash(a) == hash(b)
    assert a != compile_condition("subtotal >= 51")
    assert a.source == "subtotal >= 50"
    assert isinstance(a, Condition)


def test_verdict_texts() -> None:
    assert str(TRUE) == "true" and str(FALSE) == "false"
    assert str(unknown("customer.tags")) == "unknown (customer.tags)"
    assert unknown("x").is_unknown and TRUE.is_true and FALSE.is_false


def test_multiline_conditions_from_yaml_block_scalars() -> None:
    text = 'subtotal >= 50\n  and shipping_country in [\n    "DE",\n    "AT",\n  ]\n'
    assert verdict(text.replace(",\n  ]", "\n  ]"), order()) == TRUE


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error", "column", "suggestion", "message_part"),
    [
        ("subtotl >= 50", ConditionTypeError, 0, "subtotal", "unknown field 'subtotl'"),
        ("subtotal >= 50 and frist_order", ConditionTypeError, 19, "first_order", "unknown"),
        ("customer.order_count > 2", ConditionTypeError, 0, "customer.orders_count", "unknown"),
        ('subtotal >= "50"', ConditionTypeError, 12, None, "write numbers without quotes"),
        ('order.currency > "EUR"', ConditionTypeError, 15, None, "'>' needs numbers"),
        ("subtotal > order.item_count", ConditionTypeError, 11, None, "cannot be compared"),
        ('customer.tags == "vip"', ConditionTypeError, 0, None, "is a list"),
        ('customer.tags in ["vip"]', ConditionTypeError, 0, None, "single value"),
        ("shipping_country in customer", ConditionTypeError, 20, "customer.id", "unknown field"),
        ('shipping_country in "DE"', ConditionTypeError, 20, None, "needs a list"),
        ("subtotal in customer.tags", ConditionTypeError, 0, None, "not a text"),
        ('subtotal in ["a"]', ConditionTypeError, 13, None, "cannot be compared"),
        ('"DE" in [1, "x"]', ConditionTypeError, 12, None, "mixes"),
        ('subtotal contains "5"', ConditionTypeError, 0, None, "text or list field"),
        ("customer.tags contains 5", ConditionTypeError, 23, None, "not a text"),
        ("subtotal is empty", ConditionTypeError, 9, None, "text or list field"),
        ("subtotal", ConditionTypeError, 0, None, "not a yes/no test"),
        ("customer.tags", ConditionTypeError, 0, None, "is not empty"),
        ('"vip"', ConditionTypeError, 0, None, "needs a field"),
        ("50 >= 10", ConditionTypeError, 0, None, "two fixed values"),
        ('line_items.sku == "X"', ConditionTypeError, 0, None, "each line item"),
        ("any subtotal > 5", ConditionTypeError, 4, None, "only line_items fields"),
        ("any (line_items.quantity > 1 or first_order)", ConditionTypeError, 32, None, "only"),
        ("any all line_items.quantity > 1", ConditionTypeError, 4, None, "nested"),
        ("any true", ConditionTypeError, 0, None, "must be followed by a test on line_items"),
        ('order.created_at > "2024-11-29"', ConditionTypeError, 19, None, "UTC offset"),
        ('order.created_at > "soon"', ConditionTypeError, 19, None, "UTC offset"),
        ("order.created_at in [1]", ConditionTypeError, 0, None, "needs a text, number"),
        ("subtotal = 50", ConditionSyntaxError, 9, None, "use =="),
        ("subtotal <> 50", ConditionSyntaxError, 9, None, "use !="),
        ("first_order && subtotal > 5", ConditionSyntaxError, 12, None, "use and"),
        ("first_order || subtotal > 5", ConditionSyntaxError, 12, None, "use or"),
        ("!first_order", ConditionSyntaxError, 0, None, "use not"),
        ("subtotal >= 49,90", ConditionSyntaxError, 14, None, "decimals with a point"),
        ("subtotal >= 50 EUR", ConditionSyntaxError, 15, None, "shop currency"),
        ("subtotal >= 50€", ConditionSyntaxError, 14, None, "plain numbers"),
        ("subtotal >= €50", ConditionSyntaxError, 12, None, "plain numbers"),
        ("subtotal >= 1e6", ConditionSyntaxError, 12, None, "malformed number"),
        ("subtotal + 5 > 50", ConditionSyntaxError, 9, None, "no arithmetic"),
        ("subtotal >= 50 and", ConditionSyntaxError, 18, None, "condition ends"),
        ("", ConditionSyntaxError, 0, None, "empty"),
        ("   ", ConditionSyntaxError, 0, None, "empty"),
        ("(first_order", ConditionSyntaxError, 12, None, "expected ')'"),
        ("first_order)", ConditionSyntaxError, 11, None, "expected 'and', 'or'"),
        ("(subtotal) > 5", ConditionSyntaxError, 11, None, "not a parenthesis"),
        ("1 < subtotal < 5", ConditionSyntaxError, 13, None, "cannot be chained"),
        ('shipping_country not "DE"', ConditionSyntaxError, 21, None, "'in' or 'contains'"),
        ("shipping_country is full", ConditionSyntaxError, 20, None, "'empty' or 'not empty'"),
        ('order.source == "web', ConditionSyntaxError, 16, None, "not closed"),
        ('order.source == "w\\eb"', ConditionSyntaxError, 18, None, "unknown escape"),
        ('shipping_country in ["DE" "AT"]', ConditionSyntaxError, 26, None, "expected ','"),
        ("shipping_country in [order.currency]", ConditionSyntaxError, 21, None, "fixed values"),
        ("len(order.tags) > 1", ConditionSyntaxError, 0, None, "cannot call functions"),
        ('shipping_country in [["DE"]]', ConditionSyntaxError, 21, None, "cannot be nested"),
    ],
)
def test_compile_errors_name_the_column_and_the_fix(
    text: str,
    error: type[ConditionError],
    column: int,
    suggestion: str | None,
    message_part: str,
) -> None:
    with pytest.raises(error) as caught:
        compile_condition(text)
    assert caught.value.column == column, caught.value
    assert caught.value.suggestion == suggestion
    assert message_part in caught.value.message


def test_unknown_field_message_reads_well() -> None:
    with pytest.raises(ConditionTypeError) as caught:
        compile_condition("subtotl >= 50")
    assert str(caught.value) == "unknown field 'subtotl' (did you mean 'subtotal'?)"


def test_a_condition_must_be_text() -> None:
    with pytest.raises(ConditionSyntaxError, match="must be text"):
        compile_condition(50)  # type: ignore[arg-type]


# -- the field registry -------------------------------------------------------------------------


def test_registry_entries_are_consistent() -> None:
    for path, spec in FIELDS.items():
        assert spec.path == path
        assert spec.description.strip(), path
        assert any(path in p.fields for p in registry.specs().values()), path
        assert path.split(".")[0] in {"order", "customer", "line_items", "first_order"}, path
        assert spec.reads <= FIELDS.keys(), path
    assert [n for n, p in registry.specs().items() if "line_items.vendor" in p.fields] == [
        "shopify"
    ]
    for platform in registry.specs().values():
        assert platform.fields <= FIELDS.keys(), platform.name
    assert FIELDS["customer.orders_count"].needs_enrichment
    assert FIELDS["first_order"].reads == {"customer.orders_count"}
    assert not FIELDS["order.subtotal"].needs_enrichment


def test_aliases_resolve_to_order_fields() -> None:
    assert ALIASES["subtotal"] == "order.subtotal"
    assert canonical_name("Shipping_Country") == "order.shipping_country"
    assert canonical_name("first_order") == "first_order"
    assert canonical_name("nonsense") is None


_KLEENE_NOT: dict[bool | None, bool | None] = {True: False, False: True, None: None}

_SAMPLE = {
    FieldType.MONEY: ("{f} >= 10", "{f} < 10"),
    FieldType.NUMBER: ("{f} >= 1", "{f} == 0"),
    FieldType.TEXT: ('{f} == "x"', '{f} contains "a"', "{f} is empty"),
    FieldType.BOOL: ("{f}", "not {f}", "{f} == true"),
    FieldType.TEXT_LIST: ('"x" in {f}', "{f} is not empty"),
    FieldType.DATETIME: ('{f} >= "2024-01-01T00:00:00Z"',),
}


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_every_field_compiles_and_evaluates_on_every_kind_of_order(path: str) -> None:
    # given conditions of every shape the field's type allows
    spec = FIELDS[path]
    texts = [t.format(f=path) for t in _SAMPLE[spec.type]]
    if spec.per_item:
        texts = [f"any ({t})" for t in texts] + [f"all ({t})" for t in texts]
    known = order()
    orders = [known, GUEST, UNENRICHED, order(line_items=(), shipping_address=None)]
    for text in texts:
        condition = compile_condition(text)
        negation = compile_condition(f"not ({text})")
        assert path in condition.fields
        for o in orders:
            # when evaluated (never an exception)
            result = condition.evaluate(o)
            # then the condition and its negation are Kleene complements: true and false swap,
            # unknown stays unknown
            assert negation.evaluate(o).value is _KLEENE_NOT[result.value]
            # an order that knows every field gets a decisive verdict
            if o is known:
                assert result.value is not None, text
            if result.value is None:
                assert result.unknown_field in FIELDS
                assert spec.may_be_unknown


# -- combinators against a reference Kleene evaluator -------------------------------------------

_ATOMS = [
    "subtotal >= 50",
    "subtotal > 100",
    "order.test",
    'shipping_country in ["DE"]',
    "first_order",
    "customer.orders_count >= 2",
    '"vip" in customer.tags',
    'any line_items.product_type == "Kaffee"',
    'all line_items.product_type == "Kaffee"',
    'any line_items.tags contains "bio"',
    "customer.accepts_marketing",
    "true",
    "false",
]
_ORDERS = [
    order(),
    GUEST,
    UNENRICHED,
    order(customer=replace(CUSTOMER, orders_count=None, accepts_marketing=None)),
    order(line_items=(item(), item(id="li-2", product_type=None, tags=None))),
]

Tree = str | tuple[str, list["Tree"]] | tuple[str, "Tree"]


def _render(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    op, sub = tree
    if op == "not":
        assert not isinstance(sub, list)
        return f"not ({_render(sub)})"
    assert isinstance(sub, list)
    return "(" + f" {op} ".join(_render(t) for t in sub) + ")"


def _reference(tree: Tree, o: Order) -> Verdict:
    if isinstance(tree, str):
        return compile_condition(tree).evaluate(o)
    op, sub = tree
    if op == "not":
        assert not isinstance(sub, list)
        r = _reference(sub, o)
        return r if r.is_unknown else Verdict(not r.value)
    assert isinstance(sub, list)
    results = [_reference(t, o) for t in sub]
    decisive = op == "or"  # the value that decides: true for or, false for and
    if any(r.value is decisive for r in results):
        return Verdict(decisive)
    first_unknown = next((r for r in results if r.is_unknown), None)
    return first_unknown or Verdict(not decisive)


_TREES = st.recursive(
    st.sampled_from(_ATOMS),
    lambda children: st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=6)),
        st.tuples(st.just("not"), children),
    ),
    max_leaves=12,
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(_TREES)
def test_compiled_logic_matches_a_reference_kleene_evaluator(tree: Tree) -> None:
    condition = compile_condition(_render(tree))
    for o in _ORDERS:
        assert condition.evaluate(o) == _reference(tree, o), _render(tree)
