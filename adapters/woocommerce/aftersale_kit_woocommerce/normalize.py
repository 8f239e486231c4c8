"""WooCommerce ``wc/v3`` order JSON -> :class:`~aftersale_kit.core.model.Order`.

Accepts the REST order (``GET /wc/v3/orders/<id>``) and the ``order.*`` webhook body, which is
the same REST representation; both the 2017 docs example and WooCommerce 9.6 responses (line
``price`` as a JSON float, ``image.id`` sometimes a string, extra fields ignored).

Choices where the platform leaves room:

- ``subtotal`` is the sum of the line items' ``total``: the goods **after** discounts, before
  shipping, fees and tax. That is what Shopify's ``subtotal_price`` means, so a condition on
  ``subtotal`` reads the same on both platforms (it equals the sum of the lines' ``subtotal`` minus
  ``discount_total``). Fee lines are in ``total`` only.
- ``discounts`` = ``discount_total``, ``shipping`` = ``shipping_total``, ``tax`` = ``total_tax``,
  ``total`` = ``total``; absent discounts, shipping or tax count as zero.
- A line's ``unit_price`` is its ``subtotal / quantity`` (before discounts, like Shopify's line
  ``price``), computed from the exact decimal string. The ``price`` field (a float, and after
  discounts) is used only when ``subtotal`` is missing or the quantity is zero.
- A line's ``discount`` is ``subtotal - total``: WooCommerce spreads each coupon over the lines
  it applies to and stores the line before (``subtotal``) and after (``total``) coupons
  (https://woocommerce.github.io/woocommerce-rest-api-docs/#order-line-items-properties);
  ``None`` when either is missing.
- Amounts are in the order's ``currency``, which multi-currency plugins set to the buyer's
  currency (not converted back to the store currency); the engine handles the difference.
- Status: ``processing`` and ``completed`` are paid, ``pending``, ``on-hold`` and
  ``checkout-draft`` pending, ``trash`` counts as cancelled (a trashed order must not earn
  anything), an unknown (plugin) status is ``UNKNOWN``.
- Dates: the ``*_gmt`` twin is read as UTC. Without a twin (``wc/v1``, whose dates were GMT; see
  the v1 vs v2 notes in https://woocommerce.github.io/woocommerce-rest-api-docs/) the plain field
  is read as UTC unless it carries an offset. WooCommerce has no cancellation date:
  ``cancelled_at`` stays ``None`` and the status says ``CANCELLED``.
- ``customer_id: 0`` is a guest: ``customer`` is ``None``, the email comes from ``billing``. An
  account customer's email and names come from ``billing`` too (the order has no other source).
  WooCommerce has no per-order customer history, tags or locale: those stay ``None``.
- ``customer_note`` (the buyer's note at checkout) is kept as note attribute ``"customer_note"``;
  ``meta_data`` is plugin storage, not buyer input, and is not copied.
- Names (line items, shipping method) are HTML-unescaped: the REST API returns them texturized
  (``"Ship Your Idea &ndash; Color: Black"``), shop owners write them as they see them.
- ``shop`` defaults to ``"unknown"``; adapters pass the store URL (``X-WC-Webhook-Source``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftersale_kit.core.model import Address, Customer, FinancialStatus, LineItem, Order, Refund
from aftersale_kit.core.money import Money
from aftersale_kit.core.normalize.reading import Obj, address, unwrap

__all__ = ["normalize_woocommerce_order", "woocommerce_financial_status"]

PLATFORM = "woocommerce"
_LABEL = "WooCommerce order payload"

_STATUS = {
    "pending": FinancialStatus.PENDING,
    "processing": FinancialStatus.PAID,
    "on-hold": FinancialStatus.PENDING,
    "completed": FinancialStatus.PAID,
    "cancelled": FinancialStatus.CANCELLED,
    "refunded": FinancialStatus.REFUNDED,
    "failed": FinancialStatus.FAILED,
    "checkout-draft": FinancialStatus.PENDING,
    "trash": FinancialStatus.CANCELLED,
}


def woocommerce_financial_status(status: str | None) -> FinancialStatus:
    """WooCommerce's order ``status`` in neutral terms (``wc-`` prefix tolerated)."""
    key = (status or "").strip().lower().removeprefix("wc-")
    return _STATUS.get(key, FinancialStatus.UNKNOWN)


def normalize_woocommerce_order(payload: Mapping[str, Any], *, shop: str | None = None) -> Order:
    """Build the neutral order from a WooCommerce order payload.

    Raises :class:`~aftersale_kit.core.errors.PayloadError` naming the field when the payload is
    not an order or a field has the wrong type.
    """
    o = unwrap(payload, label=_LABEL)
    order_id = o.req_id("id")
    items = o.objects("line_items", required=True)
    currency = _currency(o)
    created_at = _datetime(o, "date_created")
    if created_at is None:
        raise o.missing("date_created_gmt", "an ISO 8601 date-time")

    def money(amount: Decimal | None) -> Money:
        return Money(amount if amount is not None else Decimal(0), currency)

    lines = [_line_item(li, currency) for li in items]
    billing = o.child("billing")
    email = billing.opt_str("email") if billing else None
    customer_id = o.opt_id("customer_id", zero_is_none=True)
    note = o.opt_str("customer_note")
    return Order(
        platform=PLATFORM,
        shop=shop or "unknown",
        id=order_id,
        number=o.opt_str("number") or order_id,
        currency=currency,
        created_at=created_at,
        financial_status=woocommerce_financial_status(o.opt_str("status")),
        subtotal=Money(sum((total for _, total in lines), Decimal(0)), currency),
        total=money(o.req_money("total")),
        discounts=money(o.opt_money("discount_total")),
        shipping=money(o.opt_money("shipping_total")),
        tax=money(o.opt_money("total_tax")),
        line_items=tuple(item for item, _ in lines),
        customer=_customer(customer_id, billing),
        email=email,
        paid_at=_datetime(o, "date_paid"),
        cancelled_at=None,
        billing_address=_address(billing),
        shipping_address=_address(o.child("shipping")),
        shipping_method=next(
            (
                html.unescape(m)
                for s in o.objects("shipping_lines")
                if (m := s.opt_str("method_title") or s.opt_str("method_id"))
            ),
            None,
        ),
        payment_gateway=o.opt_str("payment_method"),
        source=o.opt_str("created_via"),
        discount_codes=tuple(c for cl in o.objects("coupon_lines") if (c := cl.opt_str("code"))),
        note_attributes=(("customer_note", note),) if note else (),
        tags=(),
        locale=None,
        test=False,
        refunds=tuple(_refund(r, currency) for r in o.objects("refunds")),
        code_discounts=tuple(
            (code, Money(cl.opt_money("discount") or Decimal(0), currency))
            for cl in o.objects("coupon_lines")
            if (code := cl.opt_str("code"))
        ),
        platform_ref=tuple(
            (key, value)
            for key, value in (("order_key", o.opt_str("order_key")), ("customer_id", customer_id))
            if value
        ),
    )


def _currency(o: Obj) -> str:
    code = o.req_str("currency")
    if len(code) != 3 or not code.isalpha():
        raise o.wrong("currency", "an ISO 4217 code like 'USD'", code)
    return code.upper()


def _datetime(o: Obj, key: str) -> datetime | None:
    """``<key>_gmt`` as UTC if the twin exists; otherwise ``<key>`` (wc/v1 sent GMT)."""
    twin = f"{key}_gmt"
    if twin in o.data:
        return o.opt_datetime(twin, naive_is_utc=True)
    return o.opt_datetime(key, naive_is_utc=True)


def _line_item(li: Obj, currency: str) -> tuple[LineItem, Decimal]:
    """The line item and its total after discounts (for the order's subtotal)."""
    quantity = li.req_int("quantity")
    subtotal = li.opt_money("subtotal")
    if subtotal is not None and quantity != 0:
        unit = subtotal / quantity
    else:
        price = li.opt_money("price")
        if price is None:
            raise li.missing("subtotal", "a money amount")
        unit = price
    after_discounts = li.opt_money("total")
    item = LineItem(
        id=li.req_id("id"),
        title=html.unescape(li.req_str("name")),
        quantity=quantity,
        unit_price=Money(unit, currency),
        product_id=li.opt_id("product_id", zero_is_none=True),
        variant_id=li.opt_id("variation_id", zero_is_none=True),
        sku=li.opt_str("sku"),
        vendor=None,
        # WooCommerce line items carry no product type, tags or categories: unknown (None).
        product_type=None,
        tags=None,
        categories=None,
        gift_card=False,
        discount=(
            Money(subtotal - after_discounts, currency)
            if subtotal is not None and after_discounts is not None
            else None
        ),
    )
    return item, after_discounts if after_discounts is not None else unit * quantity


def _refund(r: Obj, currency: str) -> Refund:
    """An entry of the order's ``refunds[]``: ``{id, reason, total}`` with ``total`` negative
    (``"-10.00"``); the lines are not in it (``GET /orders/<id>/refunds`` has them), so they
    stay unknown (woocommerce-rest-api-docs, orders v2 controller ``get_order_refunds``)."""
    total = r.opt_money("total") or Decimal(0)
    return Refund(id=r.req_id("id"), amount=Money(abs(total), currency), lines=None)


def _address(a: Obj | None) -> Address | None:
    return address(a, country="country", province="state", zip_code="postcode")


def _customer(customer_id: str | None, billing: Obj | None) -> Customer | None:
    if customer_id is None:
        return None
    return Customer(
        id=customer_id,
        email=billing.opt_str("email") if billing else None,
        first_name=billing.opt_str("first_name") if billing else None,
        last_name=billing.opt_str("last_name") if billing else None,
    )
