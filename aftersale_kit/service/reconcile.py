"""Reconciliation: what the webhooks missed, found by paging through the platform's orders.

Platforms lose deliveries (Shopify "isn't always guaranteed", WooCommerce never retries), so a
sweep over ``adapter.orders_since(since)`` sends every order through the same idempotent path as
its webhook: a paid order is decided once (an order already decided is left alone), a cancelled
or fully refunded order that got something is clawed back. Running it twice changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from ..core.model import EventKind, FinancialStatus
from .effects import Processor
from .logs import log_event

__all__ = ["ReconcileReport", "reconcile"]

_PAID = (FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED)
_CLOSED = (FinancialStatus.REFUNDED, FinancialStatus.VOIDED, FinancialStatus.CANCELLED)


@dataclass
class ReconcileReport:
    seen: int = 0
    decided: int = 0
    already: int = 0
    reversed: int = 0
    errors: list[str] = field(default_factory=list)


def reconcile(processor: Processor, *, since: datetime) -> ReconcileReport:
    """Sweep every configured shop's orders updated after ``since``."""
    report = ReconcileReport()
    for entry in processor.registry:
        if processor.uninstalled(entry.domain):
            continue
        try:
            for order in entry.adapter.orders_since(since):
                report.seen += 1
                store = processor.store
                if order.cancelled_at is not None or order.financial_status in _CLOSED:
                    got = store.decision(
                        shop=entry.domain, order_id=order.id, event_kind=EventKind.ORDER_PAID
                    )
                    if got is not None and got.decision.fired:
                        kind = (
                            EventKind.ORDER_CANCELLED
                            if order.cancelled_at is not None
                            else EventKind.REFUND_CREATED
                        )
                        processor.clawback(entry, order.id, kind)
                        report.reversed += 1
                    continue
                if order.financial_status not in _PAID:
                    continue
                _record, created = processor.decide_order(entry, order, EventKind.ORDER_PAID)
                if created:
                    report.decided += 1
                else:
                    report.already += 1
        except Exception as exc:  # one shop's outage must not stop the others
            report.errors.append(f"{entry.domain}: {type(exc).__name__}: {exc}")
            log_event(logging.ERROR, "reconcile failed", shop=entry.domain, error=str(exc))
    log_event(
        logging.INFO,
        "reconciled",
        seen=report.seen,
        decided=report.decided,
        already=report.already,
        reversed=report.reversed,
    )
    return report
