"""A customer's order count and spend, derived from the history replayed so far.

Live, ``customer.orders_count`` and ``customer.total_spent`` come from the platform's customer
data (enrichment); exports do not carry them, so a replay would see them unknown and no campaign
on them would fire. :func:`with_customer_figures` fills them in from the history itself, on the
events in time order (exports may list orders newest-first), where the data lacks them:

* ``orders_count``: the customer's paid orders before this one, plus this one (counted even
  before it is paid, as the platforms count the order at hand). An order counts from its
  payment on; one never paid (abandoned, cancelled unpaid) does not count for later orders.
* ``total_spent``: what those paid orders came to (this one included once paid), less the
  refunds made on them up to then, in the orders' currency; unknown once a customer's orders
  come in more than one currency.

Each event gets the figures as they stand at its time (the order itself counts in the spend
from its payment on, as the platform's figures do when the payment webhook comes). Customers
are known by their platform id; guest orders (no customer) are not counted and get nothing, as
on the platforms, where a guest has no customer record (live, a campaign on these fields does
not fire for a guest either). Values the data carries are kept as they are.

Customers who bought before the history starts are undercounted in its first months: replay a
warm-up period and report from later on (``--since`` keeps the earlier orders out entirely).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from ..core.model import EventKind
from ..core.money import Money
from .events import HistoryEvent

__all__ = ["with_customer_figures"]


@dataclass(slots=True)
class _Figures:
    """One customer's paid orders so far and their spend (``currency`` None: mixed)."""

    count: int = 0
    spent: Decimal = Decimal(0)
    currency: str | None = ""


class _Filler:
    def __init__(self) -> None:
        self.customers: dict[str, _Figures] = {}
        #: The orders in flight already counted (paid).
        self.counted: set[str] = set()

    def event(self, event: HistoryEvent) -> HistoryEvent:
        order = event.order
        customer = order.customer
        if customer is None or not customer.id:
            return event
        figures = self.customers.setdefault(customer.id, _Figures())
        self._count(event, figures)
        counted = order.id in self.counted
        if event.last:
            self.counted.discard(order.id)
        if customer.orders_count is not None and customer.total_spent is not None:
            return event
        changes: dict[str, object] = {}
        if customer.orders_count is None:
            changes["orders_count"] = figures.count + (0 if counted else 1)
        if customer.total_spent is None and figures.currency in ("", order.total.currency):
            changes["total_spent"] = Money(figures.spent, order.total.currency)
        filled = replace(customer, **changes)  # type: ignore[arg-type]
        return replace(event, order=replace(order, customer=filled))

    def _count(self, event: HistoryEvent, figures: _Figures) -> None:
        total = event.order.total
        if event.kind is EventKind.ORDER_PAID and event.order.id not in self.counted:
            self.counted.add(event.order.id)
            figures.count += 1
            _add(figures, total, total.amount)
        elif event.kind is EventKind.REFUND_CREATED:
            amount = event.refund.amount if event.refund is not None else total
            _add(figures, amount, -amount.amount)


def _add(figures: _Figures, money: Money, amount: Decimal) -> None:
    if figures.currency == "":
        figures.currency = money.currency
    if figures.currency != money.currency:
        figures.currency = None
    figures.spent += amount


def with_customer_figures(events: Iterable[HistoryEvent]) -> Iterator[HistoryEvent]:
    """``events`` (in time order) with each customer's ``orders_count`` and ``total_spent``
    filled in from the events before, where the order lacks them (see the module docstring)."""
    filler = _Filler()
    for event in events:
        yield filler.event(event)
