"""The order's amounts in the shop currency, for rules, budgets and margins.

Campaign files write amounts in the shop currency (``subtotal >= 30``, budgets, product costs).
An order in another currency is never compared as if it were in the shop currency:

- Orders of platforms that report the shop currency (the buyer's currency only as
  ``presentment``) need nothing.
- An order in another currency (multi-currency plugins save the order in the buyer's currency
  and do not convert it back) is converted at ``shop.exchange_rates`` when the shop file
  gives a rate for that currency; every amount of the order in that currency is multiplied by the
  rate, exactly (Decimal, not rounded), and the explanation names the rate.
- Without a rate the order's amounts are *unknown* in the shop currency: money conditions, the
  margin guard and costs that depend on the order's amounts cannot be decided, and the engine
  says so (:attr:`Pricing.unknown`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .campaign import ShopSettings
from .model import Order
from .money import Money

__all__ = ["Pricing", "buyer_rate", "convert_money", "price_order"]


@dataclass(frozen=True, slots=True)
class Pricing:
    """The order as the engine reads it, and how its amounts were brought to the shop currency."""

    #: The order with its amounts in the shop currency (the given order when nothing changed or
    #: when they cannot be converted). ``order.currency`` stays the buyer's currency.
    order: Order
    #: The shop currency.
    shop: str
    #: The rate used (shop-currency units per order-currency unit); ``None``: not converted.
    rate: Decimal | None = None
    #: Why the amounts are unknown in the shop currency; ``None``: they are known.
    unknown: str | None = None

    @property
    def note(self) -> str | None:
        """``order amounts converted at 1 JPY = 0.0061 EUR`` when converted, else ``None``."""
        if self.rate is None:
            return None
        return f"order amounts converted at 1 {self.order.currency} = {self.rate} {self.shop}"


def convert_money(value: Any, source: str, rate: Decimal, target: str) -> Any:
    """``value`` with every :class:`Money` in ``source`` converted to ``target`` at ``rate``.

    Walks tuples and dataclasses (so that fields added to the order later are converted too);
    other values and money in other currencies are returned unchanged.
    """
    if isinstance(value, Money):
        if value.currency != source:
            return value
        return Money(value.amount * rate, target)
    if isinstance(value, tuple):
        return tuple(convert_money(v, source, rate, target) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            old = getattr(value, f.name)
            new = convert_money(old, source, rate, target)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


def price_order(order: Order, settings: ShopSettings) -> Pricing:
    """The order's amounts in the shop currency; see the module docstring."""
    shop = settings.currency.upper()
    source = order.currency.upper()
    if source == shop:
        return Pricing(order=order, shop=shop)
    rate = settings.exchange_rate(source)
    if rate is None:
        return Pricing(
            order=order,
            shop=shop,
            unknown=(
                f"the order is in {source}, the shop in {shop}, and the shop file gives no "
                f"exchange rate for {source} (add shop.exchange_rates: {{{source}: ...}}, "
                f"the value of 1 {source} in {shop})"
            ),
        )
    converted: Order = convert_money(order, source, rate, shop)
    # The buyer's presentment amounts are for the content and are never converted.
    converted = dataclasses.replace(converted, presentment=order.presentment)
    return Pricing(order=converted, shop=shop, rate=rate)


def buyer_rate(order: Order, settings: ShopSettings) -> tuple[str, Decimal] | None:
    """The buyer's currency and its units per unit of the shop currency, when they differ.

    With a presentment: the order's own rate, its presentment total over its total (the rate of
    that checkout; a later checkout converts at the rate of its day, so this is an estimate).
    Another order currency: the inverse of ``shop.exchange_rates``. ``None`` when the buyer pays
    in the shop currency or no rate is known.
    """
    shop = settings.currency.upper()
    p = order.presentment
    if p is not None and p.currency != shop and order.currency.upper() == shop:
        for theirs, ours in ((p.total, order.total), (p.subtotal, order.subtotal)):
            if ours.amount > 0 and theirs.amount > 0:
                return p.currency, theirs.amount / ours.amount
        return None
    buyer = order.currency.upper()
    if p is None and buyer != shop:
        rate = settings.exchange_rate(buyer)
        if rate is not None and rate > 0:
            return buyer, Decimal(1) / rate
    return None
