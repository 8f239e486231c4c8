"""Care cost per customer against the margin earned on them.

The first risk a shop owner names is that the effort and cost of looking after a customer eat the
profit made on them. A customer's care cost (redeemed discounts, gifts at cost, points redeemed,
service checks at their configured cost; summed from the store by the caller) is set against the
margin earned on their orders: ``share = cost / margin``.

A share is only worth acting on once there is a history to judge: with fewer than ``min_orders``
orders, or no margin earned yet, the share is ``None`` and the note says which (the engine's
explanation for ``customer.care_cost_share`` repeats that note). Pure: no I/O, Decimal only.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from .figures import CareFigures, CustomerCare

__all__ = ["DEFAULT_MIN_ORDERS", "care_figures", "customer_care", "too_short"]

#: Orders a customer needs before their share is judged (one order says little: the first
#: order's welcome offer alone would count against it).
DEFAULT_MIN_ORDERS = 3
_SHARE_PLACES = Decimal("0.0001")


def too_short(orders: int, margin: Decimal, *, min_orders: int = DEFAULT_MIN_ORDERS) -> str | None:
    """Why a customer's share cannot be told yet, or ``None`` when it can.

    The texts are English sentences for explanations: "the customer has 1 order, at least 3
    are needed", "no margin earned on the customer's orders yet (margin 0.00)".
    """
    if orders < min_orders:
        noun = "order" if orders == 1 else "orders"
        return f"the customer has {orders} {noun}, at least {min_orders} are needed"
    if margin <= 0:
        return f"no margin earned on the customer's orders yet (margin {margin})"
    return None


def customer_care(
    customer: str,
    orders: int,
    cost: Decimal,
    margin: Decimal,
    *,
    min_orders: int = DEFAULT_MIN_ORDERS,
) -> CustomerCare:
    """One customer's care cost against their margin (``share`` to four places, or ``None``).

    ValueError for a negative order count or cost (a caller's bug: costs are summed from
    records that are never negative).
    """
    if orders < 0:
        raise ValueError(f"orders must not be negative, got {orders}")
    if cost < 0:
        raise ValueError(f"cost must not be negative, got {cost}")
    why = too_short(orders, margin, min_orders=min_orders)
    if why is not None:
        return CustomerCare(customer, orders, cost, margin, None, why)
    return CustomerCare(customer, orders, cost, margin, (cost / margin).quantize(_SHARE_PLACES))


def care_figures(
    rows: Iterable[CustomerCare], *, top: int = 10, min_orders: int = DEFAULT_MIN_ORDERS
) -> CareFigures:
    """Totals over all customers, and the ``top`` customers whose care costs the largest share.

    A customer with enough orders, care cost and no margin at all ranks first (their care costs
    more than any share); customers whose history is too short are counted in the totals but
    not ranked. Ties: higher cost first, then the customer key, so the list is stable.
    """
    rows = list(rows)
    cost = sum((r.cost for r in rows), Decimal(0))
    margin = sum((r.margin for r in rows), Decimal(0))

    def rank(row: CustomerCare) -> tuple[int, Decimal, Decimal, str]:
        lost = row.share is None
        return (0 if lost else 1, -(row.share or Decimal(0)), -row.cost, row.customer)

    ranked = [
        r
        for r in rows
        if r.share is not None or (r.orders >= min_orders and r.margin <= 0 and r.cost > 0)
    ]
    ranked.sort(key=rank)
    return CareFigures(customers=len(rows), cost=cost, margin=margin, top=tuple(ranked[:top]))
