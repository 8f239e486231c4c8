"""The results' storage (``order_facts`` written by a step, the reads of ``ResultsReader``): the
same behaviour on the memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from storage_builders import NOW, SECRET, SHOP, config, coupon_campaign

from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.core.engine import decide
from aftersale_kit.core.model import (
    Customer,
    EventKind,
    FinancialStatus,
    LineItem,
    Order,
    Refund,
)
from aftersale_kit.core.money import Money
from aftersale_kit.core.order_facts import order_facts
from aftersale_kit.core.timeline import take_backs

AnyStore = Any


def _order(order_id: str, *, price: str = "50.00", codes: tuple[str, ...] = ()) -> Order:
    amount = Money.of(price, "EUR")
    zero = Money.zero("EUR")
    return Order(
        platform="shopify",
        shop=SHOP,
        id=order_id,
        number=f"#{order_id}",
        currency="EUR",
        created_at=NOW,
        financial_status=FinancialStatus.PAID,
        subtotal=amount,
        total=amount,
        discounts=zero,
        shipping=zero,
        tax=zero,
        line_items=(LineItem(id="l1", title="Tee", quantity=1, unit_price=amount),),
        customer=Customer(id="c1", email=" Ada@Example.com"),
        discount_codes=codes,
    )


def _step(
    store: AnyStore,
    shop: ShopConfig,
    order: Order,
    *,
    kind: EventKind = EventKind.ORDER_PAID,
    ref: str = "",
    refunds: tuple[Refund, ...] = (),
    closing: str | None = None,
    at: int = 0,
) -> None:
    store.decide_step(
        shop=SHOP,
        order=order,
        event_kind=kind,
        ref=ref,
        customer_key="c1",
        decide=lambda counters: decide(
            shop, order, event=kind, counters=counters, now=NOW, code_secret=SECRET
        ),
        settle=lambda facts: take_backs(
            config=shop,
            order=order,
            refunds=facts.refunds,
            open_campaigns=facts.open_campaigns,
            closed=facts.closed,
        ),
        refunds=refunds,
        closing=closing,
        now=NOW + timedelta(minutes=at),
        facts_of=lambda facts: order_facts(
            order, shop.settings, refunds=facts.refunds, closed=facts.closed
        ),
    )


def test_a_step_records_the_orders_facts_once_and_refunds_update_them(
    port_store: AnyStore,
) -> None:
    # given a shop whose default margin is 30%, and an order of 50.00 paid (delivered twice)
    shop = config(coupon_campaign())
    order = _order("o-1")
    _step(port_store, shop, order)
    _step(port_store, shop, order)
    # then one row with its value and margin, whose customer is normalised
    (first,) = port_store.order_facts(SHOP)
    assert (first.order_id, first.customer_key, first.customer_id) == ("o-1", "c1", "c1")
    assert (first.email, first.net, first.margin) == ("ada@example.com", Decimal(50), Decimal(15))
    assert (first.refunded, first.refunded_share, first.closed) == (Decimal(0), Decimal(0), None)
    # when 10.00 of it is refunded (a later step)
    refund = Refund(id="r1", amount=Money.of("10.00", "EUR"))
    _step(port_store, shop, order, kind=EventKind.REFUND_CREATED, ref="r1", refunds=(refund,))
    # then the row says so: a fifth of the goods, 40.00 and 12.00 left
    (after,) = port_store.order_facts(SHOP)
    assert (after.refunded, after.refunded_share) == (Decimal(10), Decimal("0.2"))
    assert (after.net_after_refunds, after.margin_after_refunds) == (Decimal(40), Decimal(12))
    assert after.placed_at == first.placed_at
    # and a cancellation leaves nothing, even if a later step forgets it
    _step(port_store, shop, order, kind=EventKind.ORDER_CANCELLED, closing="order_cancelled")
    _step(port_store, shop, replace(order, number="#again"), kind=EventKind.ORDER_FULFILLED)
    (closed,) = port_store.order_facts(SHOP)
    assert closed.closed == "order_cancelled"
    assert (closed.net_after_refunds, closed.margin_after_refunds) == (Decimal(0), Decimal(0))


def test_the_shops_coupons_and_order_facts_are_read_per_shop(port_store: AnyStore) -> None:
    # given two orders of the shop, the first issuing a coupon the second redeems
    shop = config(coupon_campaign())
    _step(port_store, shop, _order("o-1"))
    (coupon,) = port_store.shop_coupons(SHOP)
    _step(port_store, shop, _order("o-2", codes=(coupon.code,)), at=1)
    # then both are read back, by the ids asked for, and none of another shop
    assert [f.order_id for f in port_store.order_facts(SHOP)] == ["o-1", "o-2"]
    assert [f.order_id for f in port_store.order_facts(SHOP, order_ids=["o-2"])] == ["o-2"]
    assert port_store.order_facts("other.example") == []
    assert [c.order_id for c in port_store.shop_coupons(SHOP)] == ["o-1", "o-2"]
    assert port_store.shop_coupons("other.example") == []
    (redemption,) = port_store.redemptions(SHOP)
    assert (redemption.issuing_order_id, redemption.redeeming_order_id) == ("o-1", "o-2")
    # and the campaign's totals join it to the redeeming order's value
    (totals,) = port_store.campaign_totals(SHOP)
    assert (totals.campaign_id, totals.redeemed) == ("welcome-back", 1)
    assert (totals.revenue_gross, totals.revenue_net) == (Decimal(50), Decimal(50))


def test_a_customers_history_is_theirs_alone(port_store: AnyStore) -> None:
    # given c1's order issuing a coupon and c1's next order redeeming it
    shop = config(coupon_campaign())
    _step(port_store, shop, _order("o-1"))
    (coupon,) = port_store.shop_coupons(SHOP)
    _step(port_store, shop, _order("o-2", codes=(coupon.code,)), at=1)
    # then c1's history has both orders, the redemption, and the ledger of the asked campaigns
    history = port_store.customer_history(
        SHOP, "c1", campaigns=["welcome-back"], codes=[coupon.code.upper(), "NOT-OURS"]
    )
    assert [f.order_id for f in history.facts] == ["o-1", "o-2"]
    assert [r.redeeming_order_id for r in history.redemptions] == ["o-2"]
    assert {e.order_id for e in history.ledger} == {"o-1", "o-2"}
    assert history.shop_codes == {coupon.code.lower()}
    assert history.service_checks == ()
    # and nobody else's
    other = port_store.customer_history(SHOP, "c2", campaigns=["welcome-back"])
    assert (other.facts, other.redemptions, other.ledger) == ((), (), ())
