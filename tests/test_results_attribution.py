"""Attribution rules on hand-made records: refunds scale the net figures, a reversal removes
them, and a leak is another customer by id and by e-mail."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aftersale_kit.core.money import Money
from aftersale_kit.core.order_facts import OrderFacts
from aftersale_kit.results.attribution import Identity, attribute, identity, is_leak
from aftersale_kit.storage.records import RedemptionRecord

AT = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def _facts(order_id: str, **values: object) -> OrderFacts:
    base: dict[str, object] = {
        "shop": "s.example",
        "order_id": order_id,
        "customer_key": "c1",
        "customer_id": "c1",
        "email": "ada@example.com",
        "placed_at": AT,
        "currency": "EUR",
        "net": Decimal("45.00"),
        "margin": Decimal("10.00"),
    }
    base.update(values)
    return OrderFacts(**base)  # type: ignore[arg-type]


def _redemption(*, reversed_at: datetime | None = None) -> RedemptionRecord:
    return RedemptionRecord(
        id=1,
        shop="s.example",
        code="DANKE-1",
        coupon_key="k",
        campaign_id="danke",
        issuing_order_id="a",
        issuing_customer_key="c1",
        redeeming_order_id="b",
        redeeming_customer_key="c1",
        amount=Money.of("5.00", "EUR"),
        redeemed_at=AT,
        reversed_at=reversed_at,
    )


def test_a_partial_refund_takes_its_share_off_revenue_and_margin() -> None:
    facts = {"a": _facts("a"), "b": _facts("b", refunded=Decimal("9.00"))}
    (item,) = attribute([_redemption()], facts, zone=BERLIN)
    assert (item.revenue_gross, item.revenue_net) == (Decimal("45.00"), Decimal("36.00"))
    assert (item.margin_gross, item.margin_net) == (Decimal("10.00"), Decimal("8.0000"))
    assert item.discount_cost == Decimal("5.00")
    # the month is the shop's: 23:30 UTC on 30 November is December in Berlin
    assert item.period == "2026-12"
    assert item.leak is False


def test_a_closed_or_reversed_redeeming_order_keeps_no_net_revenue_nor_discount_cost() -> None:
    closed = {"b": _facts("b", closed="order_cancelled")}
    (item,) = attribute([_redemption()], closed, zone=BERLIN)
    assert (item.revenue_gross, item.revenue_net, item.margin_net) == (
        Decimal("45.00"),
        Decimal(0),
        Decimal(0),
    )
    (gone,) = attribute([_redemption(reversed_at=AT)], {"b": _facts("b")}, zone=BERLIN)
    assert (gone.revenue_net, gone.discount_cost) == (Decimal(0), Decimal(0))


def test_an_order_without_facts_counts_its_discount_and_no_revenue() -> None:
    (item,) = attribute([_redemption()], {}, zone=BERLIN)
    assert (item.discount_cost, item.revenue_gross, item.revenue_net) == (
        Decimal("5.00"),
        Decimal(0),
        Decimal(0),
    )


@pytest.mark.parametrize(
    ("issued", "redeemed", "leak"),
    [
        (Identity("1", "ada@example.com"), Identity("1", "ada@example.com"), False),
        # the same address under another account (or a guest checkout): the same customer
        (Identity("1", "ada@example.com"), Identity("2", "ada@example.com"), False),
        (Identity("1", "ada@example.com"), Identity(None, "ada@example.com"), False),
        (Identity("1", None), Identity("1", "other@example.com"), False),
        (Identity("1", "ada@example.com"), Identity("2", "bo@example.com"), True),
        (Identity(None, "ada@example.com"), Identity(None, "bo@example.com"), True),
        # nothing known on one side: it cannot be told, so no leak
        (Identity(None, None), Identity("2", "bo@example.com"), False),
        (Identity("1", "ada@example.com"), Identity(None, None), False),
    ],
)
def test_a_leak_is_another_customer_by_id_and_by_email(
    issued: Identity, redeemed: Identity, leak: bool
) -> None:
    assert is_leak(issued, redeemed) is leak


def test_without_facts_the_stored_key_tells_the_customer() -> None:
    assert identity(None, "email: Ada@Example.com") == Identity(None, "ada@example.com")
    assert identity(None, "42") == Identity("42", None)
    assert identity(None, None) == Identity(None, None)
    facts = _facts("a", customer_id=None, email="bo@example.com")
    assert identity(facts, "42") == Identity(None, "bo@example.com")
