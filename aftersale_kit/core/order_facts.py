"""What the results need to know of an order, kept when its steps are decided.

The results (``aftersale_kit.results``) join a redemption to the redeeming order's value and
margin, and a customer's care cost to the margin earned on their orders. The order itself is
not stored, so each step records these few facts (:func:`order_facts`), in the shop currency:

* ``net``: the goods as paid for (:func:`~.engine.margin_basis`: line prices less their
  discounts, gift cards excluded);
* ``margin``: ``net`` less the cost of the goods (``product_costs``, else the default margin);
* ``refunded``: what the order's refunds took off the goods (never more than ``net``); a closed
  order (cancelled, refunded in full) counts as refunded in full.

The net figures scale by what is left: ``net - refunded`` and ``margin * (1 - share)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .campaign import ShopSettings
from .currency import price_order
from .engine import customer_key, margin_basis
from .model import Order, Refund
from .timeline import refunded_goods

__all__ = ["OrderFacts", "normalised_email", "order_facts"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """An order's value, margin and refunds in the shop currency, and whose it is."""

    shop: str
    order_id: str
    #: The engine's key (:func:`~.engine.customer_key`): the customer id, else ``email:...``.
    customer_key: str | None
    customer_id: str | None
    #: Trimmed and lower-cased (how a leak compares customers).
    email: str | None
    placed_at: datetime
    currency: str
    net: Decimal
    margin: Decimal
    refunded: Decimal = _ZERO
    #: Why the order is closed (``order_cancelled``, ``refund_created``), else ``None``.
    closed: str | None = None

    @property
    def refunded_share(self) -> Decimal:
        """The share of the goods taken back: 1 for a closed order, 0 without refunds."""
        if self.closed is not None:
            return Decimal(1)
        if self.net <= 0:
            return _ZERO
        return min(self.refunded / self.net, Decimal(1))

    @property
    def net_after_refunds(self) -> Decimal:
        return _ZERO if self.closed is not None else max(self.net - self.refunded, _ZERO)

    @property
    def margin_after_refunds(self) -> Decimal:
        return self.margin * (Decimal(1) - self.refunded_share)


def normalised_email(text: str | None) -> str | None:
    """An address as the results compare it: trimmed, lower case; ``None`` when empty."""
    value = (text or "").strip().lower()
    return value or None


def order_facts(
    order: Order,
    settings: ShopSettings,
    *,
    refunds: Sequence[Refund] = (),
    closed: str | None = None,
) -> OrderFacts:
    """The facts of ``order`` with the refunds recorded so far (see the module docstring).

    An order in a currency without an exchange rate has no known value in the shop currency:
    it counts as zero (the results then leave it out of revenue rather than mix currencies).
    """
    pricing = price_order(order, settings)
    basis = margin_basis(pricing.order, settings)
    known = pricing.unknown is None
    rate = pricing.rate if pricing.rate is not None else Decimal(1)
    net = basis.net.amount if known else _ZERO
    refunded = min(refunded_goods(order, refunds) * rate, net) if known else _ZERO
    email = order.email or (order.customer.email if order.customer is not None else None)
    return OrderFacts(
        shop=order.shop or settings.domain,
        order_id=order.id,
        customer_key=customer_key(order),
        customer_id=order.customer.id if order.customer is not None else None,
        email=normalised_email(email),
        placed_at=order.created_at,
        currency=settings.currency,
        net=net,
        margin=basis.margin.amount if known else _ZERO,
        refunded=max(refunded, _ZERO),
        closed=closed,
    )
