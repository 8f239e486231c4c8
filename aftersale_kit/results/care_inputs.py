"""Care cost per customer from the store's records, against the margin earned on their orders.

A customer's care cost: the discounts their redeemed codes gave (not on orders taken back) and
the booked cost of gift campaigns on their orders (campaigns that give gifts and no coupon:
their ledger cost is the gifts at cost, less what was taken back). The margin: their orders'
margin net of refunds (:mod:`aftersale_kit.core.order_facts`). Not counted yet: points redeemed
and service checks (docs/results.md says so).

Customers are told apart by the engine's key (the customer id, else ``email:<address>``); a
guest who later has an account counts as two customers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from ..core.campaign import FreeGift, IssueCoupon, ShopConfig
from ..core.order_facts import OrderFacts
from ..storage.ports import ResultsReader
from .attribution import Attributed, attribute
from .figures import CareFigures, CustomerCare

__all__ = ["MIN_ORDERS", "TOP", "care_figures", "customer_care_of", "gift_campaigns"]

_ZERO = Decimal(0)
#: Orders a customer needs before their share is said (below: unknown, with a note).
MIN_ORDERS = 2
#: How many customers the figures list (the largest shares).
TOP = 10


def gift_campaigns(config: ShopConfig) -> frozenset[str]:
    """Campaigns whose booked cost is gifts: they give a gift and issue no coupon."""
    return frozenset(
        c.id
        for c in config.campaigns
        if any(isinstance(a, FreeGift) for a in c.actions)
        and not any(isinstance(a, IssueCoupon) for a in c.actions)
    )


def _share(key: str, orders: int, cost: Decimal, margin: Decimal) -> CustomerCare:
    if orders < MIN_ORDERS:
        note = f"unknown: {orders} order(s) recorded, the share is said from {MIN_ORDERS}"
        return CustomerCare(key, orders, cost, margin, None, note)
    if margin <= 0:
        note = "unknown: no margin earned on the orders recorded"
        return CustomerCare(key, orders, cost, margin, None, note)
    share = (cost / margin).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return CustomerCare(key, orders, cost, margin, share)


def _costs(
    store: ResultsReader,
    config: ShopConfig,
    redemptions: Iterable[Attributed],
    *,
    until: datetime,
) -> dict[str, Decimal]:
    cost: dict[str, Decimal] = {}
    for a in redemptions:
        key = a.redemption.redeeming_customer_key
        if key is not None and a.redemption.redeemed_at < until:
            cost[key] = cost.get(key, _ZERO) + a.discount_cost
    gifts = gift_campaigns(config)
    if gifts:
        for e in store.ledger(config.settings.domain):
            if e.campaign_id in gifts and e.customer_key is not None and e.booked_at < until:
                cost[e.customer_key] = cost.get(e.customer_key, _ZERO) + e.cost
    return cost


def care_figures(
    store: ResultsReader,
    config: ShopConfig,
    *,
    facts: Sequence[OrderFacts],
    redemptions: Sequence[Attributed],
    since: datetime,
    until: datetime,
) -> CareFigures:
    """Every customer with an order in ``[since, until)``, over their history up to ``until``."""
    active = {f.customer_key for f in facts if f.customer_key and since <= f.placed_at < until}
    cost = _costs(store, config, redemptions, until=until)
    cares = []
    for key in sorted(active, key=str):
        assert key is not None
        mine = [f for f in facts if f.customer_key == key and f.placed_at < until]
        margin = sum((f.margin_after_refunds for f in mine), _ZERO)
        cares.append(_share(key, len(mine), cost.get(key, _ZERO), margin))
    ranked = sorted(
        (c for c in cares if c.share is not None),
        key=lambda c: (c.share, c.cost),
        reverse=True,
    )
    return CareFigures(
        customers=len(cares),
        cost=sum((c.cost for c in cares), _ZERO),
        margin=sum((c.margin for c in cares), _ZERO),
        top=tuple(ranked[:TOP]),
    )


def customer_care_of(
    store: ResultsReader, config: ShopConfig, customer_key: str, *, until: datetime
) -> CustomerCare:
    """One customer's care cost and share now (what ``customer.care_cost_share`` reads)."""
    shop = config.settings.domain
    facts = store.order_facts(shop)
    mine = [f for f in facts if f.customer_key == customer_key and f.placed_at < until]
    by_id = {f.order_id: f for f in facts}
    redeemed = [r for r in store.redemptions(shop) if r.redeeming_customer_key == customer_key]
    items = attribute(redeemed, by_id, zone=ZoneInfo(config.settings.timezone))
    cost = _costs(store, config, items, until=until).get(customer_key, _ZERO)
    margin = sum((f.margin_after_refunds for f in mine), _ZERO)
    return _share(customer_key, len(mine), cost, margin)
