"""GraphQL Admin ``Order`` -> the neutral :class:`~aftersale_kit.core.model.Order`.

Consistent with the webhook normaliser (:func:`aftersale_kit_shopify.normalize.
normalize_shopify_order`), so that an order read through the API equals the one a webhook
carried: ids are the legacy numeric ids as strings (``gid://shopify/Order/123`` -> ``"123"``),
the GIDs go to ``platform_ref`` (``gid``, ``customer_gid``), amounts are the original ones in
shop money, a line's ``discount`` is the sum of its ``discountAllocations`` (order-level
discounts included; ``discountedUnitPriceSet`` would miss them), the buyer's amounts go to
``presentment`` when ``presentmentCurrencyCode`` differs, ``number`` is ``name``, the financial
status maps through the same table.

Enrichment fields (customer ``numberOfOrders``/``amountSpent``/``tags``; product
``productType``/``tags``/``collections``) are set only when the query selected them; otherwise
they stay ``None`` (unknown). A line item without a product (custom item, deleted product) is
known to have no type, tags or collections: ``""`` and ``()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aftersale_kit.core.errors import PayloadError
from aftersale_kit.core.model import Address, Customer, LineItem, Order, Presentment
from aftersale_kit.core.money import Money, to_decimal
from aftersale_kit_shopify.normalize import shopify_financial_status

from .queries import Selection

__all__ = [
    "Enrichment",
    "LineFacts",
    "apply_enrichment",
    "enrichment_from_graphql",
    "gid",
    "legacy_id",
    "line_items_from_graphql",
    "order_from_graphql",
]

PLATFORM = "shopify"
_LABEL = "Shopify GraphQL order"


def legacy_id(value: object) -> str:
    """``gid://shopify/Order/123`` (or ``123``) -> ``"123"``."""
    text = str(value).strip()
    if text.startswith("gid://"):
        text = text.rsplit("/", 1)[-1].split("?", 1)[0]
    return text


def gid(kind: str, value: str) -> str:
    """``("Order", "123")`` -> ``gid://shopify/Order/123``; a GID passes through."""
    text = str(value).strip()
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def _bad(path: str, expected: str, found: object) -> PayloadError:
    text = repr(found)
    if len(text) > 40:
        text = text[:37] + "..."
    return PayloadError(f"{_LABEL}: {path} must be {expected}, got {text}", field=path)


def _obj(data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _bad(f"{path}{key}", "an object", value)
    return value


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _time(data: Mapping[str, Any], key: str, path: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(f"{path}{key}", "an ISO 8601 date-time", value)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _bad(f"{path}{key}", "an ISO 8601 date-time", value) from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _money_set(
    data: Mapping[str, Any], key: str, path: str, *, side: str = "shopMoney"
) -> Money | None:
    """One side of a ``MoneyBag`` (``shopMoney`` or ``presentmentMoney``); ``None`` if absent."""
    money_set = _obj(data, key, path)
    if money_set is None:
        return None
    shop = _obj(money_set, side, f"{path}{key}.")
    if shop is None:
        return None
    try:
        amount = to_decimal(shop.get("amount"))
    except ValueError as exc:
        raise _bad(f"{path}{key}.{side}.amount", "a decimal amount", shop.get("amount")) from exc
    currency = _str(shop, "currencyCode")
    if currency is None:
        raise _bad(f"{path}{key}.{side}.currencyCode", "an ISO 4217 code", None)
    return Money(amount, currency.upper())


def _strings(value: object, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(t for t in (p.strip() for p in value.split(",")) if t)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise _bad(path, "a list of strings", value)


def _nodes(connection: object, path: str) -> list[Mapping[str, Any]]:
    if connection is None:
        return []
    if not isinstance(connection, Mapping):
        raise _bad(path, "a connection object", connection)
    nodes = connection.get("nodes")
    if nodes is None:
        edges = connection.get("edges") or []
        nodes = [e.get("node") for e in edges if isinstance(e, Mapping)]
    if not isinstance(nodes, list) or not all(isinstance(n, Mapping) for n in nodes):
        raise _bad(f"{path}.nodes", "a list of objects", nodes)
    return nodes


def _address(data: Mapping[str, Any] | None) -> Address | None:
    if data is None:
        return None
    country = _str(data, "countryCodeV2") or _str(data, "countryCode")
    province = _str(data, "provinceCode")
    address = Address(
        country_code=country.upper() if country else None,
        province_code=province.upper() if province else None,
        city=_str(data, "city"),
        zip=_str(data, "zip"),
    )
    return None if address == Address() else address


# -- enrichment facts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineFacts:
    product_id: str | None
    product_type: str | None = None
    tags: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None


@dataclass(slots=True)
class Enrichment:
    """What an enrichment read learnt about one order (``None``: not read)."""

    orders_count: int | None = None
    total_spent: Money | None = None
    customer_tags: tuple[str, ...] | None = None
    #: Facts per legacy line-item id.
    lines: dict[str, LineFacts] = field(default_factory=dict)
    #: Which fields were read (the selection), so that a cache knows what it holds.
    fields: set[str] = field(default_factory=set)

    def merge(self, other: Enrichment) -> None:
        if other.orders_count is not None:
            self.orders_count = other.orders_count
        if other.total_spent is not None:
            self.total_spent = other.total_spent
        if other.customer_tags is not None:
            self.customer_tags = other.customer_tags
        for line_id, facts in other.lines.items():
            old = self.lines.get(line_id)
            if old is None:
                self.lines[line_id] = facts
            else:
                self.lines[line_id] = LineFacts(
                    product_id=facts.product_id or old.product_id,
                    product_type=(
                        facts.product_type if facts.product_type is not None else old.product_type
                    ),
                    tags=facts.tags if facts.tags is not None else old.tags,
                    categories=facts.categories if facts.categories is not None else old.categories,
                )
        self.fields |= other.fields


def _count(value: object, path: str) -> int:
    # numberOfOrders is an UnsignedInt64, serialised as a string ("3").
    if isinstance(value, bool):
        raise _bad(path, "a count", value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise _bad(path, "a count", value)


def _line_facts(node: Mapping[str, Any], sel: Selection, path: str) -> LineFacts:
    product = _obj(node, "product", path)
    if product is None:
        return LineFacts(
            product_id=None,
            product_type="" if sel.product_type else None,
            tags=() if sel.product_tags else None,
            categories=() if sel.collections else None,
        )
    return LineFacts(
        product_id=legacy_id(product["id"]) if product.get("id") else None,
        product_type=(_str(product, "productType") or "") if sel.product_type else None,
        tags=_strings(product.get("tags"), f"{path}product.tags") if sel.product_tags else None,
        categories=(
            tuple(
                h
                for c in _nodes(product.get("collections"), f"{path}product.collections")
                if (h := _str(c, "handle"))
            )
            if sel.collections
            else None
        ),
    )


def enrichment_from_graphql(
    node: Mapping[str, Any], sel: Selection, fields: Iterable[str], *, currency: str
) -> Enrichment:
    """The enrichment facts in an ``order`` node read with ``sel``."""
    found = Enrichment(fields=set(fields))
    customer = _obj(node, "customer", "order.")
    if customer is not None and sel.customer:
        if sel.orders_count and customer.get("numberOfOrders") is not None:
            found.orders_count = _count(
                customer.get("numberOfOrders"), "order.customer.numberOfOrders"
            )
        if sel.total_spent:
            spent = _obj(customer, "amountSpent", "order.customer.")
            if spent is not None:
                try:
                    amount = to_decimal(spent.get("amount"))
                except ValueError as exc:
                    raise _bad(
                        "order.customer.amountSpent.amount", "a decimal amount", spent.get("amount")
                    ) from exc
                found.total_spent = Money(amount, (_str(spent, "currencyCode") or currency).upper())
        if sel.customer_tags:
            found.customer_tags = _strings(customer.get("tags"), "order.customer.tags")
    if sel.product:
        found.lines.update(_lines_facts(node.get("lineItems"), sel))
    return found


def _lines_facts(connection: object, sel: Selection) -> dict[str, LineFacts]:
    facts: dict[str, LineFacts] = {}
    for i, line in enumerate(_nodes(connection, "order.lineItems")):
        path = f"order.lineItems[{i}]."
        if not line.get("id"):
            raise _bad(f"{path}id", "a line item id", line.get("id"))
        facts[legacy_id(line["id"])] = _line_facts(line, sel, path)
    return facts


def apply_enrichment(order: Order, facts: Enrichment, fields: frozenset[str]) -> Order:
    """``order`` with the unknown ones of ``fields`` filled from ``facts``.

    A line item is matched by its id, else by its product id; unmatched items stay unknown.
    """
    sel = Selection.of(fields)
    customer = order.customer
    if customer is not None:
        changes: dict[str, Any] = {}
        if sel.orders_count and customer.orders_count is None and facts.orders_count is not None:
            changes["orders_count"] = facts.orders_count
        if sel.total_spent and customer.total_spent is None and facts.total_spent is not None:
            changes["total_spent"] = facts.total_spent
        if sel.customer_tags and customer.tags is None and facts.customer_tags is not None:
            changes["tags"] = facts.customer_tags
        if changes:
            customer = replace(customer, **changes)
    by_product = {f.product_id: f for f in facts.lines.values() if f.product_id}
    items = []
    for li in order.line_items:
        match = facts.lines.get(li.id) or (by_product.get(li.product_id) if li.product_id else None)
        if match is not None:
            changes = {}
            if sel.product_type and li.product_type is None and match.product_type is not None:
                changes["product_type"] = match.product_type
            if sel.product_tags and li.tags is None and match.tags is not None:
                changes["tags"] = match.tags
            if sel.collections and li.categories is None and match.categories is not None:
                changes["categories"] = match.categories
            if changes:
                li = replace(li, **changes)
        items.append(li)
    return replace(order, customer=customer, line_items=tuple(items))


# -- the order --------------------------------------------------------------------------------


def line_items_from_graphql(
    connection: object, *, currency: str, start: int = 0
) -> tuple[LineItem, ...]:
    """Line items of one page of ``lineItems`` (full selection)."""
    items = []
    for i, line in enumerate(_nodes(connection, "order.lineItems"), start=start):
        path = f"order.lineItems[{i}]."
        line_id = line.get("id")
        if not line_id:
            raise _bad(f"{path}id", "a line item id", line_id)
        quantity = line.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise _bad(f"{path}quantity", "a whole number", quantity)
        price = _money_set(line, "originalUnitPriceSet", path)
        title = _str(line, "title") or _str(line, "name")
        if title is None:
            raise _bad(f"{path}title", "a non-empty string", line.get("title"))
        product = _obj(line, "product", path)
        variant = _obj(line, "variant", path)
        discount = _line_discount(line, path, currency)
        items.append(
            LineItem(
                id=legacy_id(line_id),
                title=title,
                quantity=quantity,
                unit_price=price if price is not None else Money(Decimal(0), currency),
                product_id=legacy_id(product["id"]) if product and product.get("id") else None,
                variant_id=legacy_id(variant["id"]) if variant and variant.get("id") else None,
                sku=_str(line, "sku"),
                vendor=_str(line, "vendor"),
                gift_card=bool(line.get("isGiftCard")),
                discount=discount,
            )
        )
    return tuple(items)


def _line_discount(line: Mapping[str, Any], path: str, currency: str) -> Money | None:
    """The sum of ``discountAllocations`` (line and order-level discounts as Shopify allocated
    them, like the webhook's ``discount_allocations``); ``None`` when not selected."""
    allocations = line.get("discountAllocations")
    if allocations is None:
        return None
    if not isinstance(allocations, list):
        raise _bad(f"{path}discountAllocations", "a list", allocations)
    total = Money(Decimal(0), currency)
    for i, allocation in enumerate(allocations):
        if not isinstance(allocation, Mapping):
            raise _bad(f"{path}discountAllocations[{i}]", "an object", allocation)
        amount = _money_set(allocation, "allocatedAmountSet", f"{path}discountAllocations[{i}].")
        if amount is not None:
            total = total + amount
    return total


def _presentment(node: Mapping[str, Any], currency: str) -> Presentment | None:
    """The buyer's amounts when ``presentmentCurrencyCode`` is not the shop's ``currencyCode``."""
    code = (_str(node, "presentmentCurrencyCode") or currency).upper()
    if code == currency:
        return None

    def money(key: str) -> Money | None:
        return _money_set(node, key, "order.", side="presentmentMoney")

    subtotal, total = money("subtotalPriceSet"), money("totalPriceSet")
    if subtotal is None or total is None:
        return None
    zero = Money(Decimal(0), code)
    prices = []
    for i, line in enumerate(_nodes(node.get("lineItems"), "order.lineItems")):
        price = _money_set(
            line, "originalUnitPriceSet", f"order.lineItems[{i}].", side="presentmentMoney"
        )
        if price is not None and line.get("id"):
            prices.append((legacy_id(line["id"]), price))
    return Presentment(
        currency=code,
        subtotal=subtotal,
        total=total,
        discounts=money("totalDiscountsSet") or zero,
        shipping=money("totalShippingPriceSet") or zero,
        tax=money("totalTaxSet") or zero,
        unit_prices=tuple(prices),
    )


def _customer(node: Mapping[str, Any], *, locale: str | None) -> Customer | None:
    c = _obj(node, "customer", "order.")
    if c is None or not c.get("id"):
        return None
    email_obj = _obj(c, "defaultEmailAddress", "order.customer.")
    email = _str(email_obj, "emailAddress") if email_obj else _str(c, "email")
    # Marketing consent is not read (it needs protected customer data level 2): unknown.
    state = (_str(email_obj, "marketingState") or "").upper() if email_obj else ""
    accepts = {"SUBSCRIBED": True, "NOT_SUBSCRIBED": False, "UNSUBSCRIBED": False}.get(state)
    return Customer(
        id=legacy_id(c["id"]),
        email=email,
        first_name=_str(c, "firstName"),
        last_name=_str(c, "lastName"),
        locale=_str(c, "locale") or locale,
        accepts_marketing=accepts,
    )


def order_from_graphql(
    node: Mapping[str, Any], *, shop: str, fields: frozenset[str] = frozenset()
) -> Order:
    """The neutral order from an ``order`` node read by :func:`queries.order_query`.

    ``fields``: the enrichment fields the query selected (set on the order; others unknown).
    Raises :class:`PayloadError` naming the field when the node is not an order.
    """
    if not isinstance(node, Mapping):
        raise _bad("order", "an object", node)
    if not node.get("id"):
        raise _bad("order.id", "an order id", node.get("id"))
    order_gid = gid("Order", str(node["id"]))
    currency = _str(node, "currencyCode")
    if currency is None or len(currency) != 3:
        raise _bad("order.currencyCode", "an ISO 4217 code like 'EUR'", node.get("currencyCode"))
    currency = currency.upper()
    created_at = _time(node, "createdAt", "order.")
    if created_at is None:
        raise _bad("order.createdAt", "an ISO 8601 date-time", None)
    cancelled_at = _time(node, "cancelledAt", "order.")
    zero = Money(Decimal(0), currency)

    def money(key: str, *, required: bool = False) -> Money:
        value = _money_set(node, key, "order.")
        if value is None and required:
            raise _bad(f"order.{key}", "a money bag with shopMoney", node.get(key))
        return value if value is not None else zero

    status = _str(node, "displayFinancialStatus")
    shipping_line = _obj(node, "shippingLine", "order.")
    attributes = []
    for attr in node.get("customAttributes") or []:
        if isinstance(attr, Mapping) and _str(attr, "key"):
            attributes.append(
                (str(attr["key"]), "" if attr.get("value") is None else str(attr["value"]))
            )
    locale = _str(node, "customerLocale")
    customer = _customer(node, locale=locale)
    order = Order(
        platform=PLATFORM,
        shop=shop,
        id=_str(node, "legacyResourceId") or legacy_id(node["id"]),
        number=_str(node, "name") or legacy_id(node["id"]),
        currency=currency,
        created_at=created_at,
        financial_status=shopify_financial_status(
            status.lower() if status else None, cancelled=cancelled_at is not None
        ),
        subtotal=money("subtotalPriceSet", required=True),
        total=money("totalPriceSet", required=True),
        discounts=money("totalDiscountsSet"),
        shipping=money("totalShippingPriceSet"),
        tax=money("totalTaxSet"),
        line_items=line_items_from_graphql(node.get("lineItems"), currency=currency),
        customer=customer,
        email=_str(node, "email") or (customer.email if customer else None),
        cancelled_at=cancelled_at,
        billing_address=_address(_obj(node, "billingAddress", "order.")),
        shipping_address=_address(_obj(node, "shippingAddress", "order.")),
        shipping_method=(
            (_str(shipping_line, "title") or _str(shipping_line, "code")) if shipping_line else None
        ),
        payment_gateway=next(iter(_strings(node.get("paymentGatewayNames"), "order.pgn")), None),
        source=_str(node, "sourceName"),
        discount_codes=_strings(node.get("discountCodes"), "order.discountCodes"),
        note_attributes=tuple(attributes),
        tags=_strings(node.get("tags"), "order.tags"),
        locale=locale,
        test=bool(node.get("test")),
        platform_ref=tuple(
            (k, v)
            for k, v in (
                ("gid", order_gid),
                (
                    "customer_gid",
                    gid("Customer", str(node["customer"]["id"])) if customer is not None else None,
                ),
            )
            if v
        ),
        presentment=_presentment(node, currency),
    )
    if fields:
        facts = enrichment_from_graphql(node, Selection.of(fields), fields, currency=currency)
        order = apply_enrichment(order, facts, fields)
    return order
