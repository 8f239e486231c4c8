"""The condition fields from the service's own records (``customer.care_cost``,
``customer.care_cost_share``): filled in on the order before the engine decides, when a campaign
on the event reads them (:func:`~aftersale_kit.core.engine.fields_from_records`).

The customer's history is what the store recorded, and this order with the shop's codes it uses
(:func:`~aftersale_kit.results.care_inputs.customer_care_of`); a guest has no account, and the
fields stay absent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..core.campaign import ShopConfig
from ..core.model import Order
from ..core.money import Money
from ..results.care_inputs import customer_care_of
from ..storage.ports import ResultsReader

__all__ = ["with_care"]


def with_care(store: ResultsReader, config: ShopConfig, order: Order, *, now: datetime) -> Order:
    """``order`` with its customer's care cost, share and (when unknown) the reason."""
    customer = order.customer
    if customer is None:
        return order
    care = customer_care_of(store, config, customer.id, until=now, order=order)
    return replace(
        order,
        customer=replace(
            customer,
            care_cost=Money(care.cost, config.settings.currency),
            care_cost_share=care.share,
            care_cost_note=care.note or None,
        ),
    )
