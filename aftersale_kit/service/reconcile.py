"""Reconciliation: what the webhooks missed, found by paging through the platform's orders.

Platforms lose deliveries (delivery is not guaranteed, and some platforms never retry), so a
sweep over ``adapter.orders_since(since)`` sends every order through the same idempotent path as
its webhook: a paid order is decided once (an order already decided is left alone), with a step
per refund it carries; a cancelled, voided or fully refunded order is closed, so a late
``paid`` delivery's offers are taken back at once, and what it got is taken back. Running it
twice changes nothing and reports nothing twice.

One order's failure is reported and the sweep goes on; after :data:`MAX_CONSECUTIVE_ERRORS`
failures in a row the shop's sweep stops (the platform is likely down), and the other shops are
swept all the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from ..core.model import EventKind, Order
from .effects import PAID, Processor, reversal_of
from .logs import log_event
from .shops import ShopEntry

__all__ = ["MAX_CONSECUTIVE_ERRORS", "ReconcileReport", "reconcile"]

#: Failed orders in a row after which a shop's sweep gives up.
MAX_CONSECUTIVE_ERRORS = 3


@dataclass
class ReconcileReport:
    seen: int = 0
    decided: int = 0
    already: int = 0
    reversed: int = 0
    errors: list[str] = field(default_factory=list)


def _sweep_order(
    processor: Processor, entry: ShopEntry, order: Order, report: ReconcileReport
) -> None:
    reversal = reversal_of(order)
    if reversal is not None:
        results = processor.process_order(entry, order, reversal)
        if any(r.taken_back or r.revoked for r in results):
            report.reversed += 1
        return
    if order.financial_status not in PAID:
        return
    results = processor.process_order(entry, order, EventKind.ORDER_PAID)
    if results[0].created:
        report.decided += 1
    else:
        report.already += 1


def _failed(report: ReconcileReport, entry: ShopEntry, exc: Exception, order_id: str = "") -> None:
    where = f"{entry.domain} order {order_id}" if order_id else entry.domain
    report.errors.append(f"{where}: {type(exc).__name__}: {exc}")
    log_event(
        logging.ERROR,
        "reconcile failed",
        shop=entry.domain,
        order_id=order_id or None,
        error=f"{type(exc).__name__}: {exc}",
    )


def reconcile(processor: Processor, *, since: datetime) -> ReconcileReport:
    """Sweep every configured (and installed) shop's orders updated at or after ``since``.

    Decides and takes back in the store; the effects (coupons, content, deactivations) are jobs
    for the worker.
    """
    report = ReconcileReport()
    for entry in processor.registry:
        if processor.uninstalled(entry.domain):
            continue
        in_a_row = 0
        try:
            for order in entry.adapter.orders_since(since):
                report.seen += 1
                try:
                    _sweep_order(processor, entry, order, report)
                except Exception as exc:  # one order must not stop the sweep
                    _failed(report, entry, exc, order.id)
                    in_a_row += 1
                    if in_a_row >= MAX_CONSECUTIVE_ERRORS:
                        break
                else:
                    in_a_row = 0
        except Exception as exc:  # listing failed: one shop's outage must not stop the others
            _failed(report, entry, exc)
    log_event(
        logging.INFO,
        "reconciled",
        seen=report.seen,
        decided=report.decided,
        already=report.already,
        reversed=report.reversed,
        errors=len(report.errors),
    )
    return report
