"""Orders in Shopify's REST shape: seeding from the vendor payloads, building new ones, and the
paid / fulfilled / cancelled / refunded transitions with the webhook topics each one fires.

Each transition returns the :class:`Event` list of one merchant action; the sandbox delivers them
with one shared ``X-Shopify-Event-Id``.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from .state import CustomerRecord, OrderRecord, ProductRecord, ShopState
from .util import SandboxError, gid, iso_rest, money_bag, now_utc, rest_money, to_decimal

_CENT = Decimal("0.01")

__all__ = [
    "ORDER_FIXTURES",
    "Event",
    "build_order",
    "cancel",
    "fixture_names",
    "fulfill",
    "load_fixture",
    "pay",
    "refund",
    "register_order",
    "rest_customer",
]

#: The vendor payloads shipped in ``sandbox/seed/`` that are orders (the others are a price rule
#: and a discount code, loaded as a discount).
ORDER_FIXTURES = (
    "shopify_sample_webhook_order_2025",
    "shopify_sample_webhook_order_2019",
    "shopify_python_api_order",
)

#: Fields the order's nested customer lost in API 2022-07.
LEGACY_CUSTOMER_FIELDS = ("orders_count", "total_spent", "last_order_id", "last_order_name")


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    body: dict[str, Any]


def fixture_names() -> list[str]:
    folder = resources.files(__package__).joinpath("seed")
    return sorted(
        entry.name.removesuffix(".json")
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    )


def load_fixture(name: str) -> Any:
    """A vendor payload shipped with the sandbox, parsed (big ids stay exact Python ints)."""
    stem = name.removesuffix(".json")
    if stem not in fixture_names():
        raise SandboxError(
            f"unknown fixture {name!r}; known: {', '.join(fixture_names())}", status=404
        )
    text = resources.files(__package__).joinpath("seed", f"{stem}.json").read_text("utf-8")
    return json.loads(text)


def _split_tags(value: Any) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    tags: list[str] = []
    for item in items:
        for part in str(item).split(","):
            tag = part.strip()
            if tag and tag not in tags:
                tags.append(tag)
    return tags


def rest_customer(customer: CustomerRecord) -> dict[str, Any]:
    """The customer nested in an order, in the shape since API 2022-07 (no history fields)."""
    return {
        "id": customer.id,
        "created_at": iso_rest(customer.created_at),
        "updated_at": iso_rest(customer.updated_at),
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "state": customer.state,
        "note": customer.note,
        "verified_email": customer.verified_email,
        "multipass_identifier": None,
        "tax_exempt": customer.tax_exempt,
        "email": customer.email,
        "phone": customer.phone,
        "currency": customer.currency,
        "tax_exemptions": [],
        "admin_graphql_api_id": customer.gid,
        "default_address": customer.default_address,
    }


def upsert_customer(state: ShopState, spec: dict[str, Any], *, currency: str) -> CustomerRecord:
    """Create or update a customer from a control-API spec or a REST nested customer."""
    with state.lock:
        raw_id = spec.get("id")
        id_ = int(raw_id) if raw_id not in (None, "") else state.new_id()
        record = state.customers.get(id_)
        if record is None:
            record = CustomerRecord(id=id_, currency=currency)
            state.customers[id_] = record
        for key in ("email", "first_name", "last_name", "phone", "note", "locale", "state"):
            if spec.get(key) is not None:
                setattr(record, key, spec[key])
        if "tags" in spec and spec["tags"] is not None:
            record.tags = _split_tags(spec["tags"])
        if spec.get("default_address") is not None:
            record.default_address = spec["default_address"]
        # History is explicit only when the control API says so (a 2019 payload's ``orders_count:
        # 0`` on an order of that very customer is not history).
        if spec.get("_explicit_history"):
            if spec.get("orders_count") is not None:
                record.orders_count = int(spec["orders_count"])
            if spec.get("total_spent") is not None:
                record.total_spent = to_decimal(spec["total_spent"], what="total_spent")
        record.updated_at = now_utc()
        return record


def upsert_product(state: ShopState, id_: int, spec: dict[str, Any]) -> ProductRecord:
    with state.lock:
        record = state.products.get(id_)
        if record is None:
            record = ProductRecord(id=id_)
            state.products[id_] = record
        for key in ("title", "handle", "product_type", "vendor", "status"):
            if spec.get(key) is not None:
                setattr(record, key, str(spec[key]))
        if spec.get("tags") is not None:
            record.tags = _split_tags(spec["tags"])
        if spec.get("collections") is not None:
            record.collections = [str(handle) for handle in spec["collections"]]
            for handle in record.collections:
                state.collection(handle)
        if not record.handle and record.title:
            record.handle = "-".join(record.title.lower().split())
        record.updated_at = now_utc()
        return record


def register_order(
    state: ShopState,
    rest: dict[str, Any],
    *,
    customer: dict[str, Any] | None = None,
    products: dict[str, dict[str, Any]] | None = None,
    visible_after: float = 0.0,
    new_id: bool = False,
) -> OrderRecord:
    """Store ``rest`` (a REST order) as a sandbox order; register its customer and products.

    ``customer`` adds history and tags to the order's customer; ``products`` maps product ids to
    taxonomy (``product_type``, ``tags``, ``vendor``, ``collections``, ``title``).
    """
    order = copy.deepcopy(rest)
    if isinstance(order.get("order"), dict) and len(order) == 1:
        order = order["order"]
    with state.lock:
        _assign_order_id(state, order, new_id=new_id)
        _order_defaults(state, order)
        currency = str(order["currency"])
        for item in order["line_items"]:
            if new_id or item.get("id") is None:
                item["id"] = state.new_id()
                item["admin_graphql_api_id"] = gid("LineItem", item["id"])
            item.setdefault("admin_graphql_api_id", gid("LineItem", item["id"]))
        _register_customer(state, order, customer, currency)
        _register_products(state, order, products)
        record_ = OrderRecord(rest=order, visible_at=time.monotonic() + max(0.0, visible_after))
        state.orders[order["id"]] = record_
        return record_


def _assign_order_id(state: ShopState, order: dict[str, Any], *, new_id: bool) -> None:
    """Fresh id, number, name and token, or the order's own id if the shop does not have it."""
    raw_id = order.get("id")
    if new_id or raw_id is None:
        order["id"] = state.new_id()
        number = state.next_order_number
        state.next_order_number += 1
        order["name"] = f"#{number}"
        order["order_number"] = number
        order["number"] = number - 1000
        order["token"] = secrets.token_hex(16)
        order["order_status_url"] = (
            f"https://{state.domain}/{state.shop_id}/orders/{order['token']}/authenticate"
            f"?key={secrets.token_hex(16)}"
        )
        order["admin_graphql_api_id"] = gid("Order", order["id"])
        return
    order["id"] = int(raw_id)
    if order["id"] in state.orders:
        raise SandboxError(
            f"order {order['id']} already exists in the sandbox; pass new_id=true to load "
            "another copy with fresh ids",
            status=409,
        )


def _order_defaults(state: ShopState, order: dict[str, Any]) -> None:
    order.setdefault("admin_graphql_api_id", gid("Order", order["id"]))
    stamp = iso_rest(now_utc())
    order.setdefault("created_at", stamp)
    order.setdefault("updated_at", order["created_at"])
    order.setdefault("processed_at", order["created_at"])
    order.setdefault("currency", state.currency)
    order.setdefault("tags", "")
    order.setdefault("refunds", [])
    order.setdefault("fulfillments", [])
    order.setdefault("line_items", [])
    order.setdefault("name", f"#{order.get('order_number') or order['id']}")


def _register_customer(
    state: ShopState, order: dict[str, Any], customer: dict[str, Any] | None, currency: str
) -> None:
    """The customer: explicit spec wins; ``customer: None`` in the spec makes a guest order."""
    nested = order.get("customer")
    if isinstance(nested, dict) and nested.get("id") is not None:
        record = state.customers.get(int(nested["id"]))
        if record is None:
            upsert_customer(state, {**nested, "_explicit_history": False}, currency=currency)
    if customer is None:
        return
    spec = dict(customer)
    if spec.get("id") is None and isinstance(nested, dict):
        spec["id"] = nested.get("id")
    record = upsert_customer(state, {**spec, "_explicit_history": True}, currency=currency)
    fresh = rest_customer(record)
    order["customer"] = {**(nested or {}), **fresh} if isinstance(nested, dict) else fresh
    if not order.get("email") and record.email:
        order["email"] = record.email


def _register_products(
    state: ShopState, order: dict[str, Any], products: dict[str, dict[str, Any]] | None
) -> None:
    """Every product id on a line item exists in the shop afterwards."""
    taxonomy = {str(k): v for k, v in (products or {}).items()}
    for item in order["line_items"]:
        product_id = item.get("product_id")
        if product_id is None:
            continue
        defaults: dict[str, Any] = {}
        if int(product_id) not in state.products:
            defaults = {"title": item.get("title") or "", "vendor": item.get("vendor") or ""}
        spec = {**defaults, **taxonomy.get(str(product_id), {})}
        upsert_product(state, int(product_id), spec)


def _build_line_item(
    state: ShopState, index: int, line: Any, currency: str, products: dict[str, Any]
) -> tuple[dict[str, Any], Decimal]:
    """One REST line item from its spec, and its price times quantity; inline ``product``
    taxonomy goes to ``products``."""
    if not isinstance(line, dict):
        raise SandboxError(f"line_items[{index}] must be an object")
    price = to_decimal(line.get("price", "50.00"), what=f"line_items[{index}].price")
    quantity = int(line.get("quantity", 1))
    if quantity < 1:
        raise SandboxError(f"line_items[{index}].quantity must be at least 1")
    item_id = state.new_id()
    product_id = line.get("product_id")
    if product_id is None and line.get("product") is not None:
        product_id = state.new_id()
    if product_id is not None and line.get("product") is not None:
        products[str(product_id)] = line["product"]
    variant_id = line.get("variant_id")
    if variant_id is None and product_id is not None:
        variant_id = state.new_id()
    title = str(line.get("title") or "Sandbox item")
    item = {
        "id": item_id,
        "admin_graphql_api_id": gid("LineItem", item_id),
        "attributed_staffs": [],
        "current_quantity": quantity,
        "fulfillable_quantity": quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": bool(line.get("gift_card", False)),
        "grams": int(line.get("grams", 0)),
        "name": title,
        "price": rest_money(price),
        "price_set": money_bag(price, currency),
        "product_exists": product_id is not None,
        "product_id": int(product_id) if product_id is not None else None,
        "properties": list(line.get("properties") or []),
        "quantity": quantity,
        "requires_shipping": bool(line.get("requires_shipping", True)),
        "sales_line_item_group_id": None,
        "sku": line.get("sku"),
        "taxable": True,
        "title": title,
        "total_discount": "0.00",
        "total_discount_set": money_bag(0, currency),
        "variant_id": int(variant_id) if variant_id is not None else None,
        "variant_inventory_management": "shopify" if variant_id is not None else None,
        "variant_title": line.get("variant_title"),
        "vendor": line.get("vendor"),
        "tax_lines": [],
        "duties": [],
        "discount_allocations": [],
    }
    return item, price * quantity


def _discount_codes(spec: dict[str, Any]) -> tuple[list[dict[str, Any]], Decimal]:
    """The order's ``discount_codes`` (amounts as money strings) and their sum."""
    codes = [dict(c) for c in spec.get("discount_codes") or []]
    discounts = Decimal("0")
    for c in codes:
        amount = to_decimal(c.get("amount", "0"), what="discount_codes[].amount")
        discounts += amount
        c["amount"] = rest_money(amount)
        c.setdefault("type", "fixed_amount")
    return codes, discounts


def _shipping_line(
    state: ShopState, spec: dict[str, Any], shipping: Decimal, currency: str
) -> dict[str, Any]:
    return {
        "id": state.new_id(),
        "carrier_identifier": None,
        "code": spec.get("shipping_title", "Standard"),
        "current_discounted_price_set": money_bag(shipping, currency),
        "discounted_price": rest_money(shipping),
        "discounted_price_set": money_bag(shipping, currency),
        "is_removed": False,
        "phone": None,
        "price": rest_money(shipping),
        "price_set": money_bag(shipping, currency),
        "requested_fulfillment_service_id": None,
        "source": "shopify",
        "title": spec.get("shipping_title", "Standard"),
        "tax_lines": [],
        "discount_allocations": [],
    }


def build_order(state: ShopState, spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A complete order in the current REST shape from a few fields.

    Returns ``(order, products)``: the REST order and the product taxonomy given inline on line
    items (``line_items[].product``). Keys: ``line_items`` (``title, price, quantity, sku,
    product_id, variant_id, vendor, gift_card, product``), ``currency``, ``email``, ``customer``
    (absent: a new customer; ``None``: a guest), ``financial_status`` (default ``paid``),
    ``shipping_price``, ``shipping_title``, ``total_tax``, ``discount_codes`` (``code, amount,
    type``), ``tags``, ``note_attributes``, ``source_name``, ``shipping_address``,
    ``billing_address``, ``test``, ``created_at``, ``processed_at``, ``note``,
    ``presentment_currency`` with ``presentment_rate`` (the buyer pays in that currency: every
    ``presentment_money`` is the shop amount times the rate, rounded to cents).

    Discount codes other than ``shipping`` are allocated over the non-gift-card lines by their
    share of the value (Shopify's ``across`` allocation), as ``discount_allocations`` pointing
    into ``discount_applications``; the last line takes the rounding cent.
    """
    currency = str(spec.get("currency") or state.currency)
    lines_spec = spec.get("line_items") or [{"title": "Sandbox item", "price": "50.00"}]
    products: dict[str, Any] = {}
    line_items: list[dict[str, Any]] = []
    subtotal_lines = Decimal("0")
    for index, line in enumerate(lines_spec):
        item, line_total = _build_line_item(state, index, line, currency, products)
        line_items.append(item)
        subtotal_lines += line_total
    codes, discounts = _discount_codes(spec)
    applications = _allocate_codes(codes, line_items, currency)
    shipping = to_decimal(spec.get("shipping_price", "0"), what="shipping_price")
    tax = to_decimal(spec.get("total_tax", "0"), what="total_tax")
    subtotal = subtotal_lines - discounts
    total = subtotal + shipping + tax
    status = str(spec.get("financial_status") or "paid")
    email = spec.get("email") or f"buyer-{state.new_id()}@example.com"
    moment = iso_rest(now_utc())
    created = str(spec.get("created_at") or moment)
    tags = spec.get("tags") or ""
    if not isinstance(tags, str):
        tags = ", ".join(str(t) for t in tags)
    address = spec.get("shipping_address")
    if address is None:
        address = {"country_code": "US", "country": "United States", "city": "Springfield"}
    order: dict[str, Any] = {
        "app_id": None,
        "browser_ip": None,
        "buyer_accepts_marketing": bool(spec.get("buyer_accepts_marketing", False)),
        "cancel_reason": None,
        "cancelled_at": None,
        "cart_token": None,
        "checkout_token": None,
        "client_details": None,
        "closed_at": None,
        "confirmation_number": secrets.token_hex(5).upper()[:9],
        "confirmed": True,
        "contact_email": email,
        "created_at": created,
        "currency": currency,
        "current_shipping_price_set": money_bag(shipping, currency),
        "current_subtotal_price": rest_money(subtotal),
        "current_subtotal_price_set": money_bag(subtotal, currency),
        "current_total_additional_fees_set": None,
        "current_total_discounts": rest_money(discounts),
        "current_total_discounts_set": money_bag(discounts, currency),
        "current_total_duties_set": None,
        "current_total_price": rest_money(total),
        "current_total_price_set": money_bag(total, currency),
        "current_total_tax": rest_money(tax),
        "current_total_tax_set": money_bag(tax, currency),
        "customer_locale": spec.get("customer_locale", "en"),
        "device_id": None,
        "discount_codes": codes,
        "duties_included": False,
        "email": email,
        "estimated_taxes": False,
        "financial_status": status,
        "fulfillment_status": None,
        "landing_site": None,
        "landing_site_ref": None,
        "location_id": None,
        "merchant_business_entity_id": "MTU0ODM4MDAwOQ",
        "merchant_of_record_app_id": None,
        "note": spec.get("note"),
        "note_attributes": list(spec.get("note_attributes") or []),
        "original_total_additional_fees_set": None,
        "original_total_duties_set": None,
        "payment_gateway_names": list(spec.get("payment_gateway_names") or ["bogus"]),
        "phone": None,
        "po_number": None,
        "presentment_currency": currency,
        "processed_at": str(spec.get("processed_at") or created),
        "reference": None,
        "referring_site": None,
        "source_identifier": None,
        "source_name": spec.get("source_name", "web"),
        "source_url": None,
        "subtotal_price": rest_money(subtotal),
        "subtotal_price_set": money_bag(subtotal, currency),
        "tags": tags,
        "tax_exempt": False,
        "tax_lines": [],
        "taxes_included": False,
        "test": bool(spec.get("test", False)),
        "total_cash_rounding_payment_adjustment_set": money_bag(0, currency),
        "total_cash_rounding_refund_adjustment_set": money_bag(0, currency),
        "total_discounts": rest_money(discounts),
        "total_discounts_set": money_bag(discounts, currency),
        "total_line_items_price": rest_money(subtotal_lines),
        "total_line_items_price_set": money_bag(subtotal_lines, currency),
        "total_outstanding": rest_money(0 if status == "paid" else total),
        "total_price": rest_money(total),
        "total_price_set": money_bag(total, currency),
        "total_shipping_price_set": money_bag(shipping, currency),
        "total_tax": rest_money(tax),
        "total_tax_set": money_bag(tax, currency),
        "total_tip_received": "0.00",
        "total_weight": 0,
        "updated_at": created,
        "user_id": None,
        "billing_address": spec.get("billing_address", address),
        "discount_applications": applications,
        "fulfillments": [],
        "line_items": line_items,
        "payment_terms": None,
        "refunds": [],
        "shipping_address": address,
        "shipping_lines": [_shipping_line(state, spec, shipping, currency)],
        "returns": [],
        "line_item_groups": [],
    }
    if spec.get("presentment_currency"):
        _present(order, str(spec["presentment_currency"]).upper(), spec.get("presentment_rate"))
    return order, products


def _allocate_codes(
    codes: list[dict[str, Any]], line_items: list[dict[str, Any]], currency: str
) -> list[dict[str, Any]]:
    """``discount_applications`` for the codes, and their allocations on the line items."""
    applications: list[dict[str, Any]] = []
    lines = [li for li in line_items if not li["gift_card"]]
    values = [to_decimal(li["price"], what="price") * li["quantity"] for li in lines]
    whole = sum(values, Decimal("0"))
    for c in codes:
        index = len(applications)
        applications.append(
            {
                "target_type": "shipping_line" if c["type"] == "shipping" else "line_item",
                "type": "discount_code",
                "value": c["amount"],
                "value_type": "fixed_amount",
                "allocation_method": "across",
                "target_selection": "all",
                "code": c.get("code"),
            }
        )
        amount = to_decimal(c["amount"], what="discount_codes[].amount")
        if c["type"] == "shipping" or whole <= 0 or amount <= 0:
            continue
        left = amount
        for n, (line, value) in enumerate(zip(lines, values, strict=True)):
            part = left if n == len(lines) - 1 else (amount * value / whole).quantize(_CENT)
            left -= part
            line["discount_allocations"].append(
                {
                    "amount": rest_money(part),
                    "amount_set": money_bag(part, currency),
                    "discount_application_index": index,
                }
            )
    return applications


def _present(order: Any, code: str, rate: Any) -> None:
    """Every ``presentment_money`` in ``code`` at ``rate`` (buyer units per shop unit)."""
    factor = to_decimal(rate if rate is not None else "1", what="presentment_rate")
    if isinstance(order, dict):
        if "presentment_currency" in order:
            order["presentment_currency"] = code
        shop = order.get("shop_money")
        if isinstance(shop, dict) and "presentment_money" in order:
            amount = (to_decimal(shop["amount"], what="amount") * factor).quantize(_CENT)
            order["presentment_money"] = {"amount": rest_money(amount), "currency_code": code}
        for value in order.values():
            _present(value, code, rate)
    elif isinstance(order, list):
        for value in order:
            _present(value, code, rate)


# -- transitions ----------------------------------------------------------------------------


def _touch(order: dict[str, Any]) -> None:
    order["updated_at"] = iso_rest(now_utc())


def _snapshot(order: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(order)


def pay(record: OrderRecord) -> list[Event]:
    order = record.rest
    status = order.get("financial_status")
    if order.get("cancelled_at"):
        raise SandboxError(f"order {order['id']} is cancelled and cannot be paid", status=409)
    if status not in ("pending", "authorized", "partially_paid", None):
        raise SandboxError(f"order {order['id']} is {status}, not awaiting payment", status=409)
    order["financial_status"] = "paid"
    order["total_outstanding"] = "0.00"
    _touch(order)
    body = _snapshot(order)
    return [Event("orders/paid", body), Event("orders/updated", body)]


def fulfill(
    state: ShopState, record: OrderRecord, *, tracking_number: str | None = None
) -> list[Event]:
    order = record.rest
    if order.get("cancelled_at"):
        raise SandboxError(f"order {order['id']} is cancelled and cannot be fulfilled", status=409)
    if order.get("fulfillment_status") == "fulfilled":
        raise SandboxError(f"order {order['id']} is already fulfilled", status=409)
    fulfillment_id = state.new_id()
    stamp = iso_rest(now_utc())
    for item in order.get("line_items") or []:
        item["fulfillment_status"] = "fulfilled"
        item["fulfillable_quantity"] = 0
    order["fulfillments"] = list(order.get("fulfillments") or [])
    order["fulfillments"].append(
        {
            "id": fulfillment_id,
            "admin_graphql_api_id": gid("Fulfillment", fulfillment_id),
            "created_at": stamp,
            "location_id": None,
            "name": f"{order.get('name', '#')}.{len(order['fulfillments']) + 1}",
            "order_id": order["id"],
            "service": "manual",
            "shipment_status": None,
            "status": "success",
            "tracking_company": "Sandbox Post" if tracking_number else None,
            "tracking_number": tracking_number,
            "tracking_numbers": [tracking_number] if tracking_number else [],
            "tracking_url": (
                f"https://tracking.example/{tracking_number}" if tracking_number else None
            ),
            "tracking_urls": (
                [f"https://tracking.example/{tracking_number}"] if tracking_number else []
            ),
            "updated_at": stamp,
            "line_items": copy.deepcopy(order.get("line_items") or []),
        }
    )
    order["fulfillment_status"] = "fulfilled"
    _touch(order)
    body = _snapshot(order)
    return [Event("orders/fulfilled", body), Event("orders/updated", body)]


def _refunded_total(order: dict[str, Any]) -> Decimal:
    return sum(
        (
            to_decimal(t.get("amount", "0"))
            for refund in order.get("refunds") or []
            for t in refund.get("transactions") or []
            if t.get("kind") == "refund"
        ),
        Decimal("0"),
    )


def _refund_lines(
    state: ShopState, order: dict[str, Any], line_items: list[dict[str, Any]], currency: str
) -> tuple[list[dict[str, Any]], Decimal]:
    """``refund_line_items`` for the named lines, and their value (price times quantity)."""
    items_by_id = {int(i["id"]): i for i in order.get("line_items") or []}
    refund_lines: list[dict[str, Any]] = []
    lines_value = Decimal("0")
    for index, line in enumerate(line_items):
        try:
            item = items_by_id[int(line["line_item_id"])]
        except (KeyError, ValueError, TypeError) as exc:
            raise SandboxError(f"line_items[{index}].line_item_id is not on the order") from exc
        quantity = int(line.get("quantity", item.get("quantity", 1)))
        subtotal = to_decimal(item.get("price") or "0") * quantity
        lines_value += subtotal
        refund_lines.append(
            {
                "id": state.new_id(),
                "line_item_id": item["id"],
                "location_id": None,
                "quantity": quantity,
                "restock_type": "no_restock",
                "subtotal": float(subtotal),
                "subtotal_set": money_bag(subtotal, currency),
                "total_tax": 0.0,
                "total_tax_set": money_bag(0, currency),
                "line_item": copy.deepcopy(item),
            }
        )
    return refund_lines, lines_value


def _refund_transaction(
    order: dict[str, Any], transaction_id: int, value: Decimal, currency: str, stamp: str
) -> dict[str, Any]:
    return {
        "id": transaction_id,
        "admin_graphql_api_id": gid("OrderTransaction", transaction_id),
        "amount": rest_money(value),
        "authorization": None,
        "created_at": stamp,
        "currency": currency,
        "device_id": None,
        "error_code": None,
        "gateway": (order.get("payment_gateway_names") or ["bogus"])[-1],
        "kind": "refund",
        "location_id": None,
        "message": "Refunded in the sandbox",
        "order_id": order["id"],
        "parent_id": None,
        "payment_id": f"#{transaction_id}",
        "processed_at": stamp,
        "receipt": {},
        "source_name": "web",
        "status": "success",
        "test": bool(order.get("test", False)),
        "user_id": None,
    }


def refund(
    state: ShopState,
    record: OrderRecord,
    *,
    amount: Decimal | str | None = None,
    line_items: list[dict[str, Any]] | None = None,
    note: str | None = None,
) -> list[Event]:
    """Refund ``amount`` (default: what is left), optionally naming ``line_items`` (``line_item_id,
    quantity``). Fires ``refunds/create`` with the REST refund and ``orders/updated``."""
    order = record.rest
    if order.get("financial_status") not in ("paid", "partially_paid", "partially_refunded"):
        raise SandboxError(
            f"order {order['id']} is {order.get('financial_status')}; only paid orders can be "
            "refunded",
            status=409,
        )
    currency = str(order.get("currency") or state.currency)
    total = to_decimal(order.get("total_price") or "0")
    already = _refunded_total(order)
    refund_lines, lines_value = _refund_lines(state, order, line_items or [], currency)
    value = (
        to_decimal(amount, what="amount")
        if amount is not None
        else (lines_value if refund_lines else total - already)
    )
    if value <= 0 or already + value > total:
        raise SandboxError(
            f"refund of {value} exceeds what is left to refund ({total - already}) on order "
            f"{order['id']}",
            status=422,
        )
    refund_id = state.new_id()
    transaction_id = state.new_id()
    stamp = iso_rest(now_utc())
    body: dict[str, Any] = {
        "id": refund_id,
        "order_id": order["id"],
        "created_at": stamp,
        "note": note,
        "user_id": None,
        "processed_at": stamp,
        "restock": False,
        "duties": [],
        "total_duties_set": money_bag(0, currency),
        "additional_fees": [],
        "total_additional_fees_set": money_bag(0, currency),
        "return": None,
        "admin_graphql_api_id": gid("Refund", refund_id),
        "refund_line_items": refund_lines,
        "transactions": [_refund_transaction(order, transaction_id, value, currency, stamp)],
        "order_adjustments": [],
        "refund_shipping_lines": [],
    }
    order["refunds"] = list(order.get("refunds") or [])
    order["refunds"].append(body)
    refunded = already + value
    order["financial_status"] = "refunded" if refunded >= total else "partially_refunded"
    remaining = total - refunded
    order["current_total_price"] = rest_money(remaining)
    order["current_total_price_set"] = money_bag(remaining, currency)
    _touch(order)
    return [Event("refunds/create", copy.deepcopy(body)), Event("orders/updated", _snapshot(order))]


def cancel(
    state: ShopState,
    record: OrderRecord,
    *,
    reason: str = "customer",
    refund_payment: bool = False,
) -> list[Event]:
    """Cancel; a paid order stays paid unless ``refund_payment`` (then it is refunded in full)."""
    order = record.rest
    if order.get("cancelled_at"):
        raise SandboxError(f"order {order['id']} is already cancelled", status=409)
    reasons = ("customer", "declined", "fraud", "inventory", "other", "staff")
    if reason not in reasons:
        raise SandboxError(f"cancel reason must be one of {', '.join(reasons)}, got {reason!r}")
    events: list[Event] = []
    if refund_payment and order.get("financial_status") in ("paid", "partially_refunded"):
        events.extend(e for e in refund(state, record) if e.topic == "refunds/create")
    elif order.get("financial_status") in ("pending", "authorized"):
        order["financial_status"] = "voided"
    order["cancelled_at"] = iso_rest(now_utc())
    order["cancel_reason"] = reason
    order["closed_at"] = order["cancelled_at"]
    _touch(order)
    body = _snapshot(order)
    events.extend([Event("orders/cancelled", body), Event("orders/updated", body)])
    return events
