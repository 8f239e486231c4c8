"""Property: whatever one order goes through, and in whatever order its events arrive, the books
hold.

Hypothesis draws the true life of an order (paid, perhaps fulfilled, partial refunds, perhaps a
full refund or a cancellation), then delivers its events with duplicates in any order,
interleaved with the worker's effects (coupons created, deactivations run on a simulated
platform) and with later orders that redeem codes live on that platform. After every action:

* the bookings of the order equal the cost of its coupons still active or redeemed;
* no redeemed coupon is ever deactivated on the platform;
* no step is decided twice (one decision per event kind and refund).
"""

from __future__ import annotations

import functools
import random
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersale_kit.core.model import (
    Customer,
    EventKind,
    FinancialStatus,
    LineItem,
    Order,
    Refund,
)
from aftersale_kit.core.money import Money
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.shops import ShopEntry, ShopRegistry, load_shops
from aftersale_kit.storage import CouponStatus, JobKind, Store

from .harness import open_store

#: The property on the in-memory store (fast: no database) and on SQLite (slow: whole order
#: timelines through a database file).
STORES = [pytest.param("memory"), pytest.param("sqlite", marks=pytest.mark.slow)]

DOMAIN = "prop-shop.myshopify.com"
ENV = {"PROP_WEBHOOK_SECRET": "whsec-prop", "PROP_CODE_SECRET": "code-prop"}
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

SHOP_FILE = f"""\
version: 1
shop:
  platform: shopify
  domain: {DOMAIN}
  currency: EUR
  api_base_url: http://127.0.0.1:9
  secrets:
    webhook_secret: PROP_WEBHOOK_SECRET
    code_secret: PROP_CODE_SECRET
campaigns:
  - id: danke
    when: subtotal >= 50
    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30}}
      - show_block: coupon
  - id: treue
    when: subtotal >= 20
    on_refund: keep
    actions:
      - issue_coupon: {{type: fixed_amount, value: 3, valid_days: 30}}
  - id: streng
    on_refund: revoke
    actions:
      - issue_coupon: {{type: percentage, value: 10, valid_days: 30}}
  - id: entschuldigung
    trigger: refund_created
    actions:
      - issue_coupon: {{type: fixed_amount, value: 2, valid_days: 30}}
"""

EUR = "EUR"
ACTIVE = (CouponStatus.PLANNED, CouponStatus.ISSUED, CouponStatus.USED)


def eur(amount: Decimal | str) -> Money:
    return Money.of(amount, EUR)


def base_order(order_id: str, subtotal: Decimal) -> Order:
    return Order(
        platform="shopify",
        shop=DOMAIN,
        id=order_id,
        number=f"#{order_id}",
        currency=EUR,
        created_at=T0,
        financial_status=FinancialStatus.PAID,
        subtotal=eur(subtotal),
        total=eur(subtotal),
        discounts=eur("0"),
        shipping=eur("0"),
        tax=eur("0"),
        line_items=(LineItem(id="l1", title="Bohnen", quantity=1, unit_price=eur(subtotal)),),
        customer=Customer(id=f"c-{order_id}"),
    )


@dataclass(frozen=True)
class Event:
    """One webhook: the event kind, the order as that webhook carries it, the refund it names."""

    kind: EventKind
    order: Order
    refund: Refund | None = None


def life(subtotal: Decimal, refunds: list[Decimal], fulfilled: bool, end: str) -> list[Event]:
    """The order's true history: paid, fulfilled?, partial refunds, then refunded in full,
    cancelled or nothing."""
    order = base_order("A", subtotal)
    events = [Event(EventKind.ORDER_PAID, order)]
    if fulfilled:
        events.append(Event(EventKind.ORDER_FULFILLED, order))
    left = subtotal
    done: list[Refund] = []
    for n, amount in enumerate(refunds):
        amount = min(amount, left - Decimal("0.01"))
        if amount <= 0:
            break
        left -= amount
        refund = Refund(id=f"r{n}", amount=eur(amount), lines=())
        done.append(refund)
        order = replace(
            order,
            refunds=tuple(done),
            financial_status=FinancialStatus.PARTIALLY_REFUNDED,
        )
        events.append(Event(EventKind.REFUND_CREATED, order, refund))
    if end == "refunded":
        refund = Refund(id="rfull", amount=eur(left), lines=())
        done.append(refund)
        order = replace(order, refunds=tuple(done), financial_status=FinancialStatus.REFUNDED)
        events.append(Event(EventKind.REFUND_CREATED, order, refund))
    elif end == "cancelled":
        order = replace(
            order, cancelled_at=T0 + timedelta(days=3), financial_status=FinancialStatus.CANCELLED
        )
        events.append(Event(EventKind.ORDER_CANCELLED, order))
    return events


@dataclass
class Platform:
    """What the shop platform holds: codes created, and which of them are switched off or spent."""

    live: set[str] = field(default_factory=set)
    off: set[str] = field(default_factory=set)
    spent: set[str] = field(default_factory=set)


def run_effects(store: Store, platform: Platform) -> None:
    """The worker, for coupons only: create planned coupons, run due deactivations."""
    for coupon in store.coupons_for_order(DOMAIN, "A"):
        if coupon.status == CouponStatus.PLANNED:
            store.mark_issued(
                shop=DOMAIN, idempotency_key=coupon.idempotency_key, platform_id=coupon.code
            )
            platform.live.add(coupon.code)
    for job in store.claim(worker_id="prop", kinds=[JobKind.DEACTIVATE_COUPON], limit=500):
        code = str(job.payload["code"])
        # the invariant: a code a customer has spent is never switched off
        assert code not in platform.spent, f"deactivating {code}, which was redeemed"
        platform.live.discard(code)
        platform.off.add(code)
        store.mark_deactivated(shop=DOMAIN, idempotency_key=str(job.payload["coupon_key"]))
        store.complete(job)


def check_books(store: Store) -> None:
    costs = {
        p.idempotency_key: p.cost.amount
        for r in store.decisions_for_order(DOMAIN, "A")
        for p in r.decision.actions
    }
    active = sum(
        (
            costs[c.idempotency_key]
            for c in store.coupons_for_order(DOMAIN, "A")
            if c.status in ACTIVE
        ),
        Decimal(0),
    )
    booked = sum((e.cost for e in store.ledger(DOMAIN, order_id="A")), Decimal(0))
    assert booked == active
    steps = [(r.event_kind, r.ref) for r in store.decisions_for_order(DOMAIN, "A")]
    assert len(steps) == len(set(steps))


actions = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.integers(min_value=0, max_value=30)),
        st.tuples(st.just("effects"), st.just(0)),
        st.tuples(st.just("redeem"), st.integers(min_value=0, max_value=3)),
    ),
    min_size=4,
    max_size=30,
)


@pytest.mark.parametrize("kind", STORES)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    subtotal=st.sampled_from([Decimal("30.00"), Decimal("60.00"), Decimal("80.00")]),
    refunds=st.lists(
        st.sampled_from([Decimal("5.00"), Decimal("15.00"), Decimal("40.00")]), max_size=2
    ),
    fulfilled=st.booleans(),
    end=st.sampled_from(["open", "refunded", "cancelled"]),
    plan=actions,
    rnd=st.randoms(use_true_random=False),
)
def test_the_books_hold_whatever_happens_to_an_order_and_in_whatever_order(
    kind: str,
    subtotal: Decimal,
    refunds: list[Decimal],
    fulfilled: bool,
    end: str,
    plan: list[tuple[str, int]],
    rnd: random.Random,
) -> None:
    history = life(subtotal, refunds, fulfilled, end)
    registry = shops()
    (entry,) = registry
    with tempfile.TemporaryDirectory() as folder, open_store(kind, Path(folder)) as store:
        processor = Processor(registry=registry, store=store)
        platform = Platform()
        delivered: list[Event] = []
        redeemers = 0
        # every event at least once, plus the drawn extra deliveries, effects and
        # redemptions, all shuffled
        queue = [("deliver", i) for i in range(len(history))] + plan
        rnd.shuffle(queue)
        for what, n in queue:
            if what == "deliver":
                event = history[n % len(history)]
                deliver(processor, entry, event)
                delivered.append(event)
            elif what == "effects":
                run_effects(store, platform)
            else:
                redeemers += redeem(processor, entry, store, platform, n, redeemers)
            check_books(store)
        run_effects(store, platform)
        check_books(store)
        # every step delivered was decided, once
        decided = {(r.event_kind, r.ref) for r in store.decisions_for_order(DOMAIN, "A")}
        for event in delivered:
            for step in processor.steps_of(event.order, event.kind, refund=event.refund):
                assert step in decided
        # a closed order keeps only what was redeemed or what its reversal triggered
        if end != "open" and any(e is history[-1] for e in delivered):
            for coupon in store.coupons_for_order(DOMAIN, "A"):
                if coupon.status in (CouponStatus.PLANNED, CouponStatus.ISSUED):
                    assert coupon.campaign_id == "entschuldigung"


@functools.cache
def shops() -> ShopRegistry:
    """The shop (read once: the examples share its configuration, never its store)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shop.yaml"
        path.write_text(SHOP_FILE, encoding="utf-8")
        return load_shops(path, env=ENV)


def deliver(processor: Processor, entry: ShopEntry, event: Event) -> None:
    processor.process_order(entry, event.order, event.kind, refund=event.refund)


def redeem(
    processor: Processor,
    entry: ShopEntry,
    store: Store,
    platform: Platform,
    pick: int,
    count: int,
) -> int:
    """A later order uses a code that is live on the platform (if there is one)."""
    usable = sorted(
        c
        for c in platform.live - platform.off - platform.spent
        if any(x.code == c for x in store.coupons_for_order(DOMAIN, "A"))
    )
    if not usable:
        return 0
    code = usable[pick % len(usable)]
    platform.spent.add(code)
    redeeming = replace(
        base_order(f"B{count}", Decimal("10.00")),
        discount_codes=(code,),
        code_discounts=((code, eur("3.00")),),
    )
    processor.process_order(entry, redeeming, EventKind.ORDER_PAID)
    return 1
