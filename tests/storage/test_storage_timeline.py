"""The stored timeline on every store behind the ports (memory, SQLite, PostgreSQL): steps,
take-backs to the cent, redemptions, budget basis."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from storage_builders import NOW, SECRET, SHOP, config, coupon_campaign, order

from aftersale_kit.core.campaign import (
    Budget,
    BudgetBasis,
    BudgetPeriod,
    FreeGift,
    ShopConfig,
)
from aftersale_kit.core.conditions import compile_condition
from aftersale_kit.core.decision import Reason
from aftersale_kit.core.engine import decide
from aftersale_kit.core.model import EventKind, Order, Refund
from aftersale_kit.core.money import Money
from aftersale_kit.core.timeline import take_backs
from aftersale_kit.storage import CouponStatus, JobKind, JobStatus, StepResult, Store


@pytest.fixture
def store(port_store: Store) -> Store:
    """These tests use only the ports and the read-outs both stores have: run them on each."""
    return port_store


def step(
    store: Store,
    shop: ShopConfig,
    the_order: Order,
    kind: EventKind = EventKind.ORDER_PAID,
    *,
    ref: str = "",
    refunds: tuple[Refund, ...] = (),
    closing: str | None = None,
) -> StepResult:
    """One step as the service takes it: the engine decides, the timeline rules settle."""
    return store.decide_step(
        shop=SHOP,
        order=the_order,
        event_kind=kind,
        ref=ref,
        customer_key=the_order.customer.id if the_order.customer else None,
        decide=lambda counters: decide(
            shop,
            the_order,
            event=kind,
            counters=counters,
            now=NOW,
            code_secret=SECRET,
            occurrence=ref,
        ),
        settle=lambda facts: take_backs(
            config=shop,
            order=the_order,
            refunds=facts.refunds,
            open_campaigns=facts.open_campaigns,
            closed=facts.closed,
        ),
        refunds=refunds,
        closing=closing,
        now=NOW,
    )


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def issue(store: Store, order_id: str) -> str:
    """The platform created the order's coupon; its code."""
    [coupon] = store.coupons_for_order(SHOP, order_id)
    store.mark_issued(shop=SHOP, idempotency_key=coupon.idempotency_key, platform_id=f"p{order_id}")
    return coupon.code


def spent(store: Store, campaign_id: str) -> Decimal:
    return store.counters().spent(SHOP, campaign_id, None)


def test_a_partial_refund_takes_back_only_what_the_rest_of_the_order_no_longer_earns(
    store: Store,
) -> None:
    # given "from 50 EUR" coupons (5.00) on two orders of 80.00
    from_50 = replace(
        coupon_campaign("ab-50", value="5.00"),
        conditions=(compile_condition("order.subtotal >= 50"),),
    )
    shop = config(from_50)
    small, large = order("1", subtotal="80.00"), order("2", subtotal="80.00")
    for o in (small, large):
        step(store, shop, o)
        issue(store, o.id)
    # when one is refunded 5.00 and the other 40.00
    five = Refund(id="r5", amount=eur("5.00"), lines=())
    forty = Refund(id="r40", amount=eur("40.00"), lines=())
    kept = step(store, shop, small, EventKind.REFUND_CREATED, ref="r5", refunds=(five,))
    lost = step(store, shop, large, EventKind.REFUND_CREATED, ref="r40", refunds=(forty,))
    # then the first keeps its coupon, the second loses it and its 5.00 go back to the budget
    assert kept.taken_back == {}
    assert list(lost.taken_back) == ["ab-50"]
    assert [c.status for c in store.coupons_for_order(SHOP, "1")] == [CouponStatus.ISSUED]
    assert [c.status for c in store.coupons_for_order(SHOP, "2")] == [CouponStatus.REVOKED]
    assert spent(store, "ab-50") == Decimal("5.00")
    assert store.counters().usage_count(SHOP, "ab-50") == 1
    deactivations = store.jobs(kind=JobKind.DEACTIVATE_COUPON)
    assert [j.payload["order_id"] for j in deactivations] == ["2"]
    # and the refunds are recorded once each, also when the step comes again
    step(store, shop, large, EventKind.REFUND_CREATED, ref="r40", refunds=(forty,))
    assert [r.id for r in store.refunds(SHOP, "2")] == ["r40"]
    assert len(store.jobs(kind=JobKind.DEACTIVATE_COUPON)) == 1


def test_a_redeemed_coupon_keeps_its_cost_to_the_cent_when_its_order_is_cancelled(
    store: Store,
) -> None:
    # given a campaign giving a 5.00 coupon and a gift that costs 2.50
    gift = FreeGift(note="Probe Espresso", cost=Decimal("2.50"))
    campaign = replace(
        coupon_campaign("danke", value="5.00"),
        actions=(*coupon_campaign("danke").actions, gift),
    )
    shop = config(campaign)
    first = order("1", customer_id="c1")
    step(store, shop, first)
    code = issue(store, "1")
    # when a later order redeems the code (its webhook twice) and then the first is cancelled
    redeeming = replace(
        order("2", customer_id="c1"),
        discount_codes=(code.lower(),),
        code_discounts=((code.lower(), eur("5.00")),),
    )
    seen = [step(store, shop, redeeming).redemptions for _ in range(2)]
    cancelled = step(store, shop, first, EventKind.ORDER_CANCELLED, closing="order_cancelled")
    # then the use is recorded once, the coupon is used and stays so, and only the gift's
    # 2.50 come back: the budget keeps the 5.00 that were really spent
    assert [len(s) for s in seen] == [1, 0]
    [redemption] = store.redemptions(SHOP)
    assert (redemption.code, redemption.campaign_id) == (code, "danke")
    assert (redemption.issuing_order_id, redemption.redeeming_order_id) == ("1", "2")
    assert (redemption.issuing_customer_key, redemption.redeeming_customer_key) == ("c1", "c1")
    assert redemption.amount == eur("5.00")
    assert list(cancelled.taken_back) == ["danke"]
    assert [c.status for c in store.coupons_for_order(SHOP, "1")] == [CouponStatus.USED]
    assert store.jobs(kind=JobKind.DEACTIVATE_COUPON) == []
    reversal = [e for e in store.ledger(SHOP, order_id="1") if e.entry == "reversal"]
    assert [(e.cost, e.uses) for e in reversal] == [(Decimal("-2.50"), 0)]
    # (order 2 fired "danke" too: 7.50 of its own)
    assert spent(store, "danke") == Decimal("5.00") + Decimal("7.50")
    assert store.counters().redeemed(SHOP, "danke", None) == Decimal("5.00")


def test_a_refunded_redeeming_order_gives_the_redeemed_cost_back(store: Store) -> None:
    shop = config(coupon_campaign("danke"))
    step(store, shop, order("1", customer_id="c1"))
    code = issue(store, "1")
    redeeming = replace(order("2", customer_id="c1"), code_discounts=((code, eur("5.00")),))
    step(store, shop, redeeming)
    assert store.counters().redeemed(SHOP, "danke", None) == Decimal("5.00")
    # when the redeeming order is refunded in full
    step(store, shop, redeeming, EventKind.REFUND_CREATED, ref="full", closing="refund_created")
    # then its discount no longer counts as redeemed; the issuing order's coupon stays used
    assert store.counters().redeemed(SHOP, "danke", None) == Decimal(0)
    [redemption] = store.redemptions(SHOP)
    assert redemption.reversed_at is not None
    assert [c.status for c in store.coupons_for_order(SHOP, "1")] == [CouponStatus.USED]


def test_a_code_redeemed_after_its_order_was_taken_back_is_booked_again(store: Store) -> None:
    # given an issued coupon whose order was cancelled (deactivation queued, cost released)
    shop = config(coupon_campaign("danke"))
    step(store, shop, order("1", customer_id="c1"))
    code = issue(store, "1")
    step(store, shop, order("1", customer_id="c1"), EventKind.ORDER_CANCELLED, closing="x")
    assert spent(store, "danke") == Decimal(0)
    # when an order that used the code before it was switched off reaches the service
    late = replace(order("3", customer_id="c7"), code_discounts=((code, eur("5.00")),))
    step(store, shop, late)
    # then the coupon is used, its deactivation is called off, and its 5.00 count again
    assert [c.status for c in store.coupons_for_order(SHOP, "1")] == [CouponStatus.USED]
    [deactivation] = store.jobs(kind=JobKind.DEACTIVATE_COUPON)
    assert deactivation.status != JobStatus.PENDING
    ledger = store.ledger(SHOP, order_id="1")
    assert [(e.entry, e.cost, e.uses) for e in ledger] == [
        ("booking", Decimal("5.00"), 1),
        ("reversal", Decimal("-5.00"), -1),
        ("rebook", Decimal("5.00"), 1),
    ]
    assert spent(store, "danke") == Decimal("5.00") + Decimal("5.00")  # order 3 fired too


def test_a_redeemed_budget_limits_on_what_customers_took_not_on_what_was_offered(
    store: Store,
) -> None:
    # given a budget of 10.00 on what is redeemed, and 5.00 coupons
    campaign = replace(
        coupon_campaign("danke", value="5.00"),
        budget=Budget(amount=eur("10.00"), period=BudgetPeriod.TOTAL, basis=BudgetBasis.REDEEMED),
    )
    shop = config(campaign)
    # when five orders get offers (25.00 offered, nothing redeemed yet)
    offered = [step(store, shop, order(str(i))).record.decision.fired for i in range(1, 6)]
    codes = [issue(store, str(i)) for i in (1, 2)]
    # and two codes are redeemed (10.00)
    for n, code in enumerate(codes, start=10):
        step(
            store,
            replace(shop, campaigns=()),
            replace(order(str(n)), code_discounts=((code, eur("5.00")),)),
        )
    refused = step(store, shop, order("20")).record.decision
    # then all five offers were made, and the sixth is refused naming the redeemed cost
    assert offered == [("danke",)] * 5
    outcome = refused.outcome("danke")
    assert outcome is not None and outcome.reason is Reason.BUDGET_EXHAUSTED
    assert outcome.detail == (
        "budget 10.00 EUR in total exhausted: 10.00 EUR redeemed, this offer costs 5.00 EUR"
    )


def test_a_late_paid_after_the_cancellation_gives_nothing_that_lasts(store: Store) -> None:
    shop = config(coupon_campaign("danke", with_block=True))
    the_order = order("1", customer_id="c1")
    # given the cancellation first
    step(store, shop, the_order, EventKind.ORDER_CANCELLED, closing="order_cancelled")
    # when "paid" arrives late
    late = step(store, shop, the_order)
    # then its coupon is revoked before it was ever created, and the books are even
    assert list(late.taken_back) == ["danke"]
    assert [c.status for c in store.coupons_for_order(SHOP, "1")] == [CouponStatus.REVOKED]
    assert store.jobs(kind=JobKind.CREATE_COUPON, status=JobStatus.PENDING) == []
    assert spent(store, "danke") == Decimal(0)
    assert store.counters().usage_count(SHOP, "danke") == 0
    # the order's content keeps the thank-you block and drops the coupon
    steps, taken = store.order_steps(SHOP, "1")
    kinds = [(s.decision.event, len(s.decision.actions)) for s in steps]
    assert kinds == [(EventKind.ORDER_CANCELLED, 0), (EventKind.ORDER_PAID, 2)]
    assert taken == {f"{SHOP}:1:danke:0": True}
    assert NOW + timedelta(0) == steps[1].decided_at


def test_a_code_listed_without_its_amount_is_redeemed_at_the_coupons_cost(store: Store) -> None:
    # given an issued 5.00 coupon
    shop = config(coupon_campaign("danke", value="5.00"))
    step(store, shop, order("1", customer_id="c1"))
    code = issue(store, "1")
    # when an order read through Shopify's GraphQL (codes only, no amounts) used it
    step(store, config(), replace(order("2", customer_id="c2"), discount_codes=(code,)))
    # then the use is recorded at what the coupon was costed at
    [redemption] = store.redemptions(SHOP)
    assert (redemption.campaign_id, redemption.amount) == ("danke", eur("5.00"))
    assert redemption.redeeming_customer_key == "c2"
