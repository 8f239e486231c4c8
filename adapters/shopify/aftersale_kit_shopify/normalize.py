"""Shopify order JSON -> :class:`~aftersale_kit.core.model.Order`.

Accepts the ``orders/*`` webhook body (the bare order) and the REST ``{"order": {...}}`` wrapper,
in the 2019 shape (``gateway``, customer ``orders_count``/``total_spent``/``tags``) and the current
one (``admin_graphql_api_id``, ``current_*``, no customer history).

Choices where the platform leaves room:

- Amounts are the *original* ones in the shop currency (``subtotal_price``, ``total_price``,
  ``total_discounts``, ``total_tax``), not the ``current_*`` ones after edits and refunds; where a
  ``*_set`` is given its ``shop_money`` is read (REST ``currency`` is the shop currency,
  ``presentment_currency`` the buyer's; https://shopify.dev/docs/api/admin-rest/latest/resources/order).
  ``subtotal`` is Shopify's ``subtotal_price``: after discounts, before shipping and tax.
- A line's ``discount`` is the sum of its ``discount_allocations`` (line and order-level discounts
  as Shopify spread them; Shopify recommends them over ``total_discount``); ``None`` when the
  payload has no ``discount_allocations`` (the 2019 REST shape).
- When ``presentment_currency`` differs from ``currency``, ``presentment`` holds the buyer's
  amounts from the ``*_set.presentment_money`` (for the content only).
- ``shipping`` is ``total_shipping_price_set.shop_money.amount``, else the sum of the prices of the
  ``shipping_lines`` not marked ``is_removed``. Absent discounts, tax or shipping count as zero.
- ``financial_status`` maps one to one; a cancelled order (``cancelled_at`` set) is
  ``CANCELLED`` unless it was fully refunded (``REFUNDED``). ``expired`` (an authorisation that
  lapsed) is ``VOIDED``; an unknown value is ``UNKNOWN``.
- ``paid_at`` stays ``None``: the order payload carries no payment time (``processed_at`` is when
  the order was placed, not when it was captured). Adapters know it from the ``orders/paid`` event.
- ``number`` is ``name`` (``"#1001"``, what the buyer sees), else ``order_number``; the three
  numbering fields disagree in Shopify's own sample, so none is derived from another.
- ``shipping_method`` is the title of the first shipping line; ``payment_gateway`` is ``gateway``
  (2019 shape) or the first of ``payment_gateway_names``.
- The customer's ``locale`` is the customer's own if given, else the order's ``customer_locale``;
  ``accepts_marketing`` is the customer's ``accepts_marketing``, else its
  ``email_marketing_consent.state``, else the order's ``buyer_accepts_marketing``.
- ``customer: {}`` (an object without any field) counts as a guest, as does ``null`` or no key.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from aftersale_kit.core.errors import PayloadError
from aftersale_kit.core.model import (
    Address,
    Customer,
    FinancialStatus,
    LineItem,
    Order,
    Presentment,
    Refund,
    RefundLine,
)
from aftersale_kit.core.money import Money
from aftersale_kit.core.normalize.reading import Obj, address, split_tags, unwrap

__all__ = ["normalize_shopify_order", "normalize_shopify_refund", "shopify_financial_status"]

PLATFORM = "shopify"
_LABEL = "Shopify order payload"

_FINANCIAL = {
    "pending": FinancialStatus.PENDING,
    "authorized": FinancialStatus.AUTHORIZED,
    "partially_paid": FinancialStatus.PARTIALLY_PAID,
    "paid": FinancialStatus.PAID,
    "partially_refunded": FinancialStatus.PARTIALLY_REFUNDED,
    "refunded": FinancialStatus.REFUNDED,
    "voided": FinancialStatus.VOIDED,
    "expired": FinancialStatus.VOIDED,
}

_CONSENT = {"subscribed": True, "not_subscribed": False, "unsubscribed": False}


def shopify_financial_status(value: str | None, *, cancelled: bool = False) -> FinancialStatus:
    """Shopify's ``financial_status`` (plus whether ``cancelled_at`` is set) in neutral terms."""
    status = _FINANCIAL.get((value or "").strip().lower(), FinancialStatus.UNKNOWN)
    if cancelled and status is not FinancialStatus.REFUNDED:
        return FinancialStatus.CANCELLED
    return status


def normalize_shopify_order(payload: Mapping[str, Any], *, shop: str | None = None) -> Order:
    """Build the neutral order from a Shopify order payload.

    ``shop`` defaults to the host of ``order_status_url`` (``"x.myshopify.com"``), else
    ``"unknown"``. Raises :class:`~aftersale_kit.core.errors.PayloadError` naming the field when
    the payload is not an order or a field has the wrong type.
    """
    o = unwrap(payload, label=_LABEL)
    order_id = o.req_id("id")
    items = o.objects("line_items", required=True)
    currency = _currency(o)
    created_at = o.opt_datetime("created_at", naive_is_utc=False)
    if created_at is None:
        raise o.missing("created_at", "an ISO 8601 date-time")
    cancelled_at = o.opt_datetime("cancelled_at", naive_is_utc=False)

    def money(amount: Decimal | None) -> Money:
        return Money(amount if amount is not None else Decimal(0), currency)

    customer = _customer(o, currency=currency)
    shipping_lines = [s for s in o.objects("shipping_lines") if not s.opt_bool("is_removed")]
    status_url = o.opt_str("order_status_url")
    return Order(
        platform=PLATFORM,
        shop=shop or _host(status_url) or "unknown",
        id=order_id,
        number=o.opt_str("name") or o.opt_str("order_number") or order_id,
        currency=currency,
        created_at=created_at,
        financial_status=shopify_financial_status(
            o.opt_str("financial_status"), cancelled=cancelled_at is not None
        ),
        subtotal=money(_req_shop_decimal(o, "subtotal_price")),
        total=money(_req_shop_decimal(o, "total_price")),
        discounts=money(_shop_decimal(o, "total_discounts")),
        shipping=money(_shipping(o, shipping_lines)),
        tax=money(_shop_decimal(o, "total_tax")),
        line_items=tuple(_line_item(li, currency) for li in items),
        customer=customer,
        email=o.opt_str("email")
        or o.opt_str("contact_email")
        or (customer.email if customer else None),
        paid_at=None,
        cancelled_at=cancelled_at,
        billing_address=_address(o.child("billing_address")),
        shipping_address=_address(o.child("shipping_address")),
        shipping_method=next(
            (m for s in shipping_lines if (m := s.opt_str("title") or s.opt_str("code"))), None
        ),
        payment_gateway=o.opt_str("gateway") or _first(o.strings("payment_gateway_names")),
        source=o.opt_str("source_name"),
        discount_codes=tuple(c for d in o.objects("discount_codes") if (c := d.opt_str("code"))),
        note_attributes=_note_attributes(o),
        tags=_tags(o, "tags") or (),
        locale=o.opt_str("customer_locale"),
        test=o.opt_bool("test") or False,
        refunds=tuple(_refund(r, currency) for r in o.objects("refunds")),
        code_discounts=tuple(
            (code, Money(d.opt_money("amount") or Decimal(0), currency))
            for d in o.objects("discount_codes")
            if (code := d.opt_str("code"))
        ),
        platform_ref=_platform_ref(o, status_url),
        presentment=_presentment(o, items, currency),
    )


def normalize_shopify_refund(payload: Mapping[str, Any], *, currency: str) -> Refund:
    """The ``refunds/create`` webhook body (the bare REST ``Refund``) as a neutral refund.

    ``currency`` is the shop currency the amounts are read in (``*_set.shop_money`` where the
    body has it). Raises :class:`~aftersale_kit.core.errors.PayloadError` naming the field.
    """
    return _refund(unwrap(payload, label="Shopify refund payload"), currency.upper())


def _refund(r: Obj, currency: str) -> Refund:
    """One refund: the money is the sum of its successful ``refund`` transactions (their
    ``amount_set.shop_money`` where given: a transaction's bare ``amount`` is in its own
    ``currency``, the buyer's); the goods are ``refund_line_items`` (quantity and merchandise
    subtotal); shipping from ``refund_shipping_lines`` (since 2024-10) or the
    ``shipping_refund`` order adjustments before it
    (https://shopify.dev/docs/api/admin-rest/latest/resources/refund)."""
    amount = sum(
        (
            (_shop_amount(t, "amount", currency) or Money.zero(currency)).amount
            for t in r.objects("transactions")
            if (t.opt_str("kind") or "").lower() == "refund"
            and (t.opt_str("status") or "success").lower() == "success"
        ),
        Decimal(0),
    )
    lines = tuple(
        RefundLine(
            line_item_id=line.req_id("line_item_id"),
            quantity=line.req_int("quantity"),
            subtotal=_shop_amount(line, "subtotal", currency),
        )
        for line in r.objects("refund_line_items")
    )
    shipping = sum(
        (_shop_amount(s, "subtotal_amount", currency) or Money.zero(currency)).amount
        for s in r.objects("refund_shipping_lines")
    ) - sum(
        (a.opt_money("amount") or Decimal(0))
        for a in r.objects("order_adjustments")
        if (a.opt_str("kind") or "") == "shipping_refund"
    )
    return Refund(
        id=r.req_id("id"),
        amount=Money(amount, currency),
        created_at=r.opt_datetime("created_at", naive_is_utc=False),
        lines=lines,
        shipping=Money(Decimal(shipping), currency),
    )


def _shop_amount(o: Obj, key: str, currency: str) -> Money | None:
    """``<key>_set.shop_money.amount`` if present, else the bare ``<key>`` (shop currency)."""
    money_set = o.child(f"{key}_set")
    shop_money = money_set.child("shop_money") if money_set else None
    if shop_money is not None and shop_money.has("amount"):
        return Money(shop_money.req_money("amount"), currency)
    try:
        bare = o.opt_money(key)
    except PayloadError:
        return None
    return Money(bare, currency) if bare is not None else None


def _currency(o: Obj) -> str:
    code = o.req_str("currency")
    if len(code) != 3 or not code.isalpha():
        raise o.wrong("currency", "an ISO 4217 code like 'USD'", code)
    return code.upper()


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _host(url: str | None) -> str | None:
    if not url:
        return None
    return urlsplit(url).hostname or None


def _bag_amount(o: Obj, set_key: str, side: str, *, currency: str | None = None) -> Decimal | None:
    """``<set_key>.<side>.amount`` (``side``: ``shop_money`` or ``presentment_money``); with
    ``currency``, ``None`` when the bag names another ``currency_code``."""
    price_set = o.child(set_key)
    money = price_set.child(side) if price_set else None
    if money is None:
        return None
    code = money.opt_str("currency_code")
    if currency is not None and code is not None and code.upper() != currency:
        return None
    return money.opt_money("amount")


def _shop_decimal(o: Obj, key: str) -> Decimal | None:
    """``<key>_set.shop_money.amount`` where given, else the bare ``<key>`` (shop currency too).

    The bare value is read (and checked) either way."""
    bare = o.opt_money(key)
    found = _bag_amount(o, f"{key}_set", "shop_money")
    return found if found is not None else bare


def _req_shop_decimal(o: Obj, key: str) -> Decimal:
    bare = o.req_money(key)
    found = _bag_amount(o, f"{key}_set", "shop_money")
    return found if found is not None else bare


def _shipping(o: Obj, lines: list[Obj]) -> Decimal:
    found = _bag_amount(o, "total_shipping_price_set", "shop_money")
    if found is not None:
        return found
    return sum((line.opt_money("price") or Decimal(0) for line in lines), Decimal(0))


def _line_discount(li: Obj) -> Decimal | None:
    """The sum of ``discount_allocations`` in shop money; ``None`` without that key."""
    if li.raw("discount_allocations") is None:
        return None
    total = Decimal(0)
    for allocation in li.objects("discount_allocations"):
        amount = _bag_amount(allocation, "amount_set", "shop_money")
        total += amount if amount is not None else allocation.req_money("amount")
    return total


def _presentment(o: Obj, items: list[Obj], currency: str) -> Presentment | None:
    """The buyer's amounts when ``presentment_currency`` differs from the shop's ``currency``.

    ``None`` when the currencies agree or the payload lacks the presentment totals."""
    code = (o.opt_str("presentment_currency") or currency).upper()
    if code == currency:
        return None
    if len(code) != 3 or not code.isalpha():
        raise o.wrong(
            "presentment_currency", "an ISO 4217 code like 'CHF'", o.raw("presentment_currency")
        )
    side = "presentment_money"
    subtotal = _bag_amount(o, "subtotal_price_set", side, currency=code)
    total = _bag_amount(o, "total_price_set", side, currency=code)
    if subtotal is None or total is None:
        return None

    def money(set_key: str) -> Money:
        return Money(_bag_amount(o, set_key, side, currency=code) or Decimal(0), code)

    prices = []
    for li in items:
        price = _bag_amount(li, "price_set", side, currency=code)
        line_id = li.opt_id("id")
        if price is not None and line_id is not None:
            prices.append((line_id, Money(price, code)))
    return Presentment(
        currency=code,
        subtotal=Money(subtotal, code),
        total=Money(total, code),
        discounts=money("total_discounts_set"),
        shipping=money("total_shipping_price_set"),
        tax=money("total_tax_set"),
        unit_prices=tuple(prices),
    )


def _tags(o: Obj, key: str) -> tuple[str, ...] | None:
    """Tags: one comma+space string (REST) or a list (GraphQL shape); ``None`` when absent."""
    value = o.raw(key)
    if value is None:
        return None
    if isinstance(value, str):
        return split_tags(value)
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return tuple(t.strip() for t in value if t.strip())
    raise o.wrong(key, "a comma-separated string of tags", value)


def _note_attributes(o: Obj) -> tuple[tuple[str, str], ...]:
    pairs = []
    for attr in o.objects("note_attributes"):
        name = attr.opt_str("name")
        if name is None:
            continue
        value = attr.raw("value")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = ""
        elif isinstance(value, str | int | float):
            text = str(value)
        else:
            raise attr.wrong("value", "a string", value)
        pairs.append((name, text))
    return tuple(pairs)


def _address(a: Obj | None) -> Address | None:
    return address(a, country="country_code", province="province_code", zip_code="zip")


def _customer(o: Obj, *, currency: str) -> Customer | None:
    c = o.child("customer")
    if c is None or not c.data:
        return None
    spent = c.opt_money("total_spent")
    return Customer(
        id=c.req_id("id"),
        email=c.opt_str("email"),
        first_name=c.opt_str("first_name"),
        last_name=c.opt_str("last_name"),
        locale=c.opt_str("locale") or o.opt_str("customer_locale"),
        # Only the 2019 shape (before API 2022-07) carries tags and history on the order's
        # customer; otherwise they stay unknown (None) until an adapter fetches them.
        tags=_tags(c, "tags"),
        orders_count=c.opt_int("orders_count"),
        total_spent=(
            Money(spent, (c.opt_str("currency") or currency).upper()) if spent is not None else None
        ),
        accepts_marketing=_accepts_marketing(o, c),
    )


def _accepts_marketing(o: Obj, c: Obj) -> bool | None:
    direct = c.opt_bool("accepts_marketing")
    if direct is not None:
        return direct
    consent = c.child("email_marketing_consent")
    state = consent.opt_str("state") if consent else None
    if state is not None and state.lower() in _CONSENT:
        return _CONSENT[state.lower()]
    return o.opt_bool("buyer_accepts_marketing")


def _line_item(li: Obj, currency: str) -> LineItem:
    title = li.opt_str("title") or li.opt_str("name")
    if title is None:
        raise li.missing("title", "a non-empty string")
    discount = _line_discount(li)
    return LineItem(
        id=li.req_id("id"),
        title=title,
        quantity=li.req_int("quantity"),
        unit_price=Money(_req_shop_decimal(li, "price"), currency),
        product_id=li.opt_id("product_id"),
        variant_id=li.opt_id("variant_id"),
        sku=li.opt_str("sku"),
        vendor=li.opt_str("vendor"),
        # Webhook line items carry no product type, tags or collections: unknown until enriched.
        product_type=li.opt_str("product_type"),
        tags=None,
        categories=None,
        gift_card=li.opt_bool("gift_card") or False,
        discount=Money(discount, currency) if discount is not None else None,
    )


def _platform_ref(o: Obj, status_url: str | None) -> tuple[tuple[str, str], ...]:
    customer = o.child("customer")
    candidates = [
        ("gid", o.opt_str("admin_graphql_api_id")),
        ("token", o.opt_str("token")),
        ("order_status_url", status_url),
        ("checkout_token", o.opt_str("checkout_token")),
        ("order_number", o.opt_str("order_number")),
        ("customer_gid", customer.opt_str("admin_graphql_api_id") if customer else None),
    ]
    return tuple((key, value) for key, value in candidates if value)
