"""``decide_once(void_if_decided=...)``: the reversal check under the shop lock, on the
connection that holds it (no second pooled connection while the shop's deciders queue)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from storage_builders import NOW, SHOP, config, coupon_campaign, decider, order

from aftersale_kit.core.decision import Decision
from aftersale_kit.core.model import EventKind, Order
from aftersale_kit.core.ports import Counters
from aftersale_kit.storage import JobKind, Store, customer_key_for

REVERSALS = (EventKind.ORDER_CANCELLED, EventKind.REFUND_CREATED)


def _marker(order_id: str, kind: EventKind) -> Callable[[Counters], Decision]:
    def empty(_counters: Counters) -> Decision:
        return Decision(
            shop=SHOP, order_id=order_id, event=kind, decided_at=NOW, outcomes=(), actions=()
        )

    return empty


def test_a_decision_after_a_reversal_marker_grants_nothing_and_skips_the_decider(
    store: Store,
) -> None:
    # given an order whose refund was recorded first
    shop_config = config(coupon_campaign())
    the_order = order("2001", customer_id="c1")
    store.decide_once(
        shop=SHOP,
        order_id="2001",
        event_kind=EventKind.REFUND_CREATED,
        customer_key=None,
        decide=_marker("2001", EventKind.REFUND_CREATED),
        now=NOW,
    )
    calls: list[int] = []

    def counting(counters: Counters) -> Decision:
        calls.append(1)
        return decider(shop_config, the_order)(counters)

    # when its paid event is decided with the reversal kinds as voiding kinds
    record, created = store.decide_once(
        shop=SHOP,
        order_id="2001",
        event_kind=EventKind.ORDER_PAID,
        customer_key="c1",
        decide=counting,
        now=NOW,
        void_if_decided=REVERSALS,
    )
    # then an empty decision is stored, the decider never ran, nothing is booked or queued
    assert created
    assert calls == []
    assert (record.decision.event, record.decision.outcomes, record.decision.actions) == (
        EventKind.ORDER_PAID,
        (),
        (),
    )
    assert store.ledger(SHOP, order_id="2001") == []
    assert store.jobs(kind=JobKind.CREATE_COUPON) == []
    # and an order without a reversal is decided by the decider as before
    other = order("2002", customer_id="c2")
    fresh, _ = store.decide_once(
        shop=SHOP,
        order_id="2002",
        event_kind=EventKind.ORDER_PAID,
        customer_key="c2",
        decide=decider(shop_config, other),
        now=NOW,
        void_if_decided=REVERSALS,
    )
    assert fresh.decision.fired == ("welcome-back",)


def test_thirty_deciders_of_one_shop_on_a_pool_of_four(store_url: str) -> None:
    # given a pool of 2 + 2 connections and 30 orders, every third one refunded beforehand
    shop_config = config(coupon_campaign(usage_limit=15))
    orders = [order(f"30{i:02d}", customer_id=f"c{i}") for i in range(30)]
    with Store.open(store_url, migrate=True, pool_size=2) as store:
        for refunded in orders[::3]:
            store.decide_once(
                shop=SHOP,
                order_id=refunded.id,
                event_kind=EventKind.REFUND_CREATED,
                customer_key=None,
                decide=_marker(refunded.id, EventKind.REFUND_CREATED),
                now=NOW,
            )
        errors: list[BaseException] = []
        barrier = threading.Barrier(len(orders))

        def run(o: Order) -> None:
            barrier.wait()
            try:
                store.decide_once(
                    shop=SHOP,
                    order_id=o.id,
                    event_kind=EventKind.ORDER_PAID,
                    customer_key=customer_key_for(o),
                    decide=decider(shop_config, o),
                    now=NOW,
                    void_if_decided=REVERSALS,
                )
            except BaseException as exc:
                errors.append(exc)

        # when they all decide at once
        started = time.monotonic()
        threads = [threading.Thread(target=run, args=(o,)) for o in orders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        elapsed = time.monotonic() - started
        usage = store.counters().usage_count(SHOP, "welcome-back")
        fired = {
            o.id
            for o in orders
            if (r := store.decision(shop=SHOP, order_id=o.id, event_kind=EventKind.ORDER_PAID))
            and r.decision.fired
        }
    # then all finished promptly; the 10 refunded orders got nothing, 15 of the 20 others fired
    assert errors == []
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert usage == 15
    assert len(fired) == 15
    assert fired.isdisjoint({o.id for o in orders[::3]})
