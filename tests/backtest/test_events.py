"""An exported order's events, as the live service would have received them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aftersale_kit.backtest.events import events_of
from aftersale_kit.backtest.history import HistoryOrder, SourceRef
from aftersale_kit.core.model import EventKind, FinancialStatus, LineItem, Order, Refund
from aftersale_kit.core.money import Money
from aftersale_kit.core.timeline import reversal_of

T0 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def exported(platform: str = "shopify", **changes: object) -> HistoryOrder:
    order = Order(
        platform=platform,
        shop="events.example",
        id="7",
        number="#7",
        currency="EUR",
        created_at=T0,
        financial_status=FinancialStatus.PAID,
        subtotal=eur("60.00"),
        total=eur("60.00"),
        discounts=eur("0"),
        shipping=eur("0"),
        tax=eur("0"),
        line_items=(LineItem(id="l1", title="Bohnen", quantity=2, unit_price=eur("30.00")),),
        paid_at=T0 + timedelta(minutes=5),
    )
    return HistoryOrder(replace(order, **changes), SourceRef("orders.csv", 2))  # type: ignore[arg-type]


def test_a_refunded_order_is_paid_then_fulfilled_then_refunded_step_by_step() -> None:
    # given an order paid, shipped, refunded in half after 20 days and the rest 3 days later
    first = Refund(id="r1", amount=eur("30.00"), created_at=T0 + timedelta(days=20), lines=())
    rest = Refund(id="r2", amount=eur("30.00"), created_at=T0 + timedelta(days=23), lines=())
    h = exported(refunds=(rest, first), financial_status=FinancialStatus.REFUNDED)
    h = replace(h, fulfilled_at=T0 + timedelta(days=1))
    # when its events are rebuilt
    events = events_of(h)
    # then each carries the order as it stood at that moment
    assert [(e.kind, e.at - T0) for e in events] == [
        (EventKind.ORDER_CREATED, timedelta(0)),
        (EventKind.ORDER_PAID, timedelta(minutes=5)),
        (EventKind.ORDER_FULFILLED, timedelta(days=1)),
        (EventKind.REFUND_CREATED, timedelta(days=20)),
        (EventKind.REFUND_CREATED, timedelta(days=23)),
    ]
    created, paid, fulfilled, partial, full = events
    assert (created.order.financial_status, created.order.paid_at) == (
        FinancialStatus.PENDING,
        None,
    )
    assert (paid.order.financial_status, paid.order.refunds) == (FinancialStatus.PAID, ())
    assert fulfilled.order.refunds == ()
    assert partial.refund == first and partial.order.refunds == (first,)
    assert partial.order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert reversal_of(partial.order) is None
    assert full.order.financial_status is FinancialStatus.REFUNDED
    assert reversal_of(full.order) is EventKind.REFUND_CREATED
    assert [e.last for e in events] == [False] * 4 + [True]


def test_a_cancelled_order_is_cancelled_only_from_its_cancellation_on() -> None:
    cancelled = T0 + timedelta(hours=3)
    h = exported(cancelled_at=cancelled, financial_status=FinancialStatus.VOIDED)
    events = events_of(h)
    assert [e.kind for e in events] == [
        EventKind.ORDER_CREATED,
        EventKind.ORDER_PAID,
        EventKind.ORDER_CANCELLED,
    ]
    assert reversal_of(events[1].order) is None
    assert events[2].at == cancelled
    assert reversal_of(events[2].order) is EventKind.ORDER_CANCELLED


def test_an_unpaid_order_is_only_created_where_the_platform_reports_new_orders() -> None:
    # given an order never paid, cancelled a day later
    unpaid = {
        "paid_at": None,
        "financial_status": FinancialStatus.PENDING,
        "cancelled_at": T0 + timedelta(days=1),
    }
    # then a platform that reports new orders delivered "created", then "cancelled"
    assert [e.kind for e in events_of(exported("shopify", **unpaid))] == [
        EventKind.ORDER_CREATED,
        EventKind.ORDER_CANCELLED,
    ]
    # and one where an unpaid order is no trigger delivered only the cancellation
    assert [e.kind for e in events_of(exported("woocommerce", **unpaid))] == [
        EventKind.ORDER_CANCELLED
    ]
    assert events_of(exported("woocommerce", paid_at=None)) == []


def test_a_refund_exported_before_the_payment_is_moved_up_to_it() -> None:
    early = Refund(id="r0", amount=eur("5.00"), created_at=T0 - timedelta(days=1), lines=())
    h = exported(refunds=(early,), financial_status=FinancialStatus.PARTIALLY_REFUNDED)
    events = events_of(h)
    assert events[1].kind is EventKind.ORDER_PAID and events[1].order.refunds == ()
    refund = [e for e in events if e.kind is EventKind.REFUND_CREATED]
    assert [e.at for e in refund] == [T0 + timedelta(minutes=5)]
    assert sum((r.amount.amount for e in refund for r in e.order.refunds), Decimal(0)) == 5


def test_an_order_refunded_by_its_status_alone_gets_the_full_refund_step() -> None:
    h = exported(financial_status=FinancialStatus.REFUNDED)
    h = replace(h, fulfilled_at=T0 + timedelta(days=2))
    events = events_of(h)
    assert [e.kind for e in events][-1] is EventKind.REFUND_CREATED
    last = events[-1]
    assert (last.at, last.refund, last.last) == (T0 + timedelta(days=2), None, True)
    assert reversal_of(last.order) is EventKind.REFUND_CREATED
    # the steps before it stood: paid, not refunded
    assert all(reversal_of(e.order) is None for e in events[:-1])
