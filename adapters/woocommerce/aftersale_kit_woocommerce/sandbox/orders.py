"""Orders: the record, its REST shape and the status machine.

Sources: woocommerce/woocommerce ``includes/rest-api/Controllers/Version2/
class-wc-rest-orders-v2-controller.php``, ``Version3/class-wc-rest-orders-controller.php``,
``includes/class-wc-order.php`` (``payment_complete``, ``status_transition``,
``maybe_set_date_paid``, ``maybe_set_date_completed``), ``includes/wc-order-functions.php``
(``wc_create_refund``).

* A loaded vendor payload is kept verbatim (key order, types, ``price`` floats, string image ids)
  and only its ``_links`` are rebuilt for this site.
* Every status change adds the private "Order status changed from X to Y." note (author
  ``system``), sets ``date_paid`` when the order first reaches processing/completed and
  ``date_completed`` whenever it reaches completed, and bumps ``date_modified``.
* A REST write containing ``billing``, ``shipping``, ``line_items``, ``shipping_lines``,
  ``fee_lines`` or ``coupon_lines`` runs ``calculate_totals(true)``; the sandbox recalculates
  from the lines and records it in :attr:`Store.recalculations`.
"""

from __future__ import annotations

import copy
import random
import string
from datetime import datetime
from decimal import Decimal
from typing import Any

from .errors import RestError
from .rest import links
from .state import OrderRecord, Store
from .values import DATE_FORMAT, apply_meta_writes, format_decimal

__all__ = [
    "ORDER_STATUSES",
    "PURCHASE_STATUSES",
    "add_note",
    "add_refund",
    "apply_order_write",
    "load_order",
    "net_total",
    "new_order",
    "order_response",
    "past_order",
    "payment_complete",
    "purchases_of",
    "set_status",
]

ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
STATUS_NAMES = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
    "checkout-draft": "Draft",
    "trash": "Trash",
}
PAID_STATUSES = ("processing", "completed")
#: ``woocommerce_valid_order_statuses_for_payment_complete``
PAYABLE_STATUSES = ("on-hold", "pending", "failed", "cancelled", "checkout-draft")
#: Coupon usage is counted while an order is in one of these (``wc_update_coupon_usage_counts``).
USAGE_STATUSES = ("processing", "completed", "on-hold")
RECALCULATING_FIELDS = (
    "billing",
    "shipping",
    "line_items",
    "shipping_lines",
    "fee_lines",
    "coupon_lines",
)
#: The order's item groups (``WC_Order_Item`` types), in response order.
ITEM_GROUPS = ("line_items", "tax_lines", "shipping_lines", "fee_lines", "coupon_lines")
_ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
)


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except ArithmeticError:
        return Decimal(0)


def _set_date(data: dict[str, Any], key: str, stamps: tuple[str | None, str | None]) -> None:
    data[key], data[f"{key}_gmt"] = stamps


def touch(store: Store, record: OrderRecord) -> None:
    """``date_modified`` is "now" after every save."""
    _set_date(record.data, "date_modified", store.clock.stamps())


def order_key(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    return "wc_order_" + "".join(rng.choice(alphabet) for _ in range(13))


# -- shape ------------------------------------------------------------------------------------


def blank_order(store: Store, order_id: int, key: str) -> dict[str, Any]:
    """A new order in the key order of a current (9.x) REST response."""
    local, gmt = store.clock.stamps()
    site = store.site
    address = {field: "" for field in _ADDRESS_FIELDS}
    return {
        "id": order_id,
        "parent_id": 0,
        "status": "pending",
        "currency": site.currency,
        "version": site.wc_version,
        "prices_include_tax": False,
        "date_created": local,
        "date_modified": local,
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": "0.00",
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": "0.00",
        "total_tax": "0.00",
        "customer_id": 0,
        "order_key": key,
        "billing": {**address, "email": "", "phone": ""},
        "shipping": {**address, "phone": ""},
        "payment_method": "",
        "payment_method_title": "",
        "transaction_id": "",
        "customer_ip_address": "",
        "customer_user_agent": "",
        "created_via": "checkout",
        "customer_note": "",
        "date_completed": None,
        "date_paid": None,
        "cart_hash": "",
        "number": str(order_id),
        "meta_data": [],
        "line_items": [],
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
        "payment_url": "",
        "is_editable": True,
        "needs_payment": True,
        "needs_processing": True,
        "date_created_gmt": gmt,
        "date_modified_gmt": gmt,
        "date_completed_gmt": None,
        "date_paid_gmt": None,
        "currency_symbol": site.currency_symbol,
    }


def refresh_derived(store: Store, data: dict[str, Any]) -> None:
    """Fields WooCommerce computes on read, for payloads of the shapes that carry them."""
    status = data.get("status")
    if "needs_payment" in data:
        data["needs_payment"] = status in ("pending", "failed") and _money(data["total"]) > 0
    if "is_editable" in data:
        data["is_editable"] = status in ("pending", "on-hold", "auto-draft", "checkout-draft")
    if "payment_url" in data:
        data["payment_url"] = (
            f"{store.site.home_url.rstrip('/')}/checkout/order-pay/{data['id']}/"
            f"?pay_for_order=true&key={data.get('order_key', '')}"
        )


def order_response(
    store: Store,
    record: OrderRecord,
    *,
    include_meta: list[str] | None = None,
    exclude_meta: list[str] | None = None,
) -> dict[str, Any]:
    data = copy.deepcopy(record.data)
    if include_meta:
        data["meta_data"] = [m for m in data.get("meta_data", []) if m["key"] in include_meta]
    if exclude_meta:
        data["meta_data"] = [m for m in data.get("meta_data", []) if m["key"] not in exclude_meta]
    extra = {}
    if data.get("customer_id"):
        extra["customer"] = f"/wc/v3/customers/{data['customer_id']}"
    data["_links"] = links(
        store.site,
        f"/wc/v3/orders/{data['id']}",
        "/wc/v3/orders",
        target_hints=record.target_hints,
        extra=extra,
    )
    return data


# -- loading and creating ---------------------------------------------------------------------


def _max_nested_ids(data: dict[str, Any]) -> tuple[int, int]:
    item_ids = [0]
    meta_ids = [m.get("id", 0) for m in data.get("meta_data", []) if isinstance(m, dict)]
    for group in ITEM_GROUPS:
        for item in data.get(group, []) or []:
            item_ids.append(int(item.get("id") or 0))
            meta_ids.extend(int(m.get("id") or 0) for m in item.get("meta_data", []) or [])
    return max(item_ids), max([0, *[int(i or 0) for i in meta_ids]])


def load_order(store: Store, payload: dict[str, Any]) -> OrderRecord:
    """Store a vendor order payload as it is (its ``_links`` are rebuilt on output)."""
    data = copy.deepcopy(payload)
    old_links = data.pop("_links", None) or {}
    self_links = old_links.get("self") or [{}]
    target_hints = "targetHints" in self_links[0] if old_links else store.site.target_hints
    try:
        order_id = int(data["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("an order payload needs an integer 'id'") from exc
    record = OrderRecord(data=data, target_hints=target_hints)
    store.orders[order_id] = record
    items, meta = _max_nested_ids(data)
    store.reserve_ids(items=items, meta=meta)
    if data.get("customer_id"):
        email = (data.get("billing") or {}).get("email", "")
        store.customers.setdefault(int(data["customer_id"]), email)
    for refund in data.get("refunds") or []:
        record.refunds.append(
            {
                "id": refund["id"],
                "reason": refund.get("reason", ""),
                "amount": str(refund.get("total", "0")).lstrip("-"),
            }
        )
    return record


def new_order(
    store: Store,
    rng: random.Random,
    *,
    template: dict[str, Any] | None,
    order_id: int | None = None,
    fields: dict[str, Any] | None = None,
) -> OrderRecord:
    """A new order: from a vendor payload (renumbered, fresh key and dates) or from scratch."""
    new_id = order_id if order_id is not None else store.new_post_id()
    if new_id in store.orders:
        raise ValueError(f"order {new_id} already exists")
    key = order_key(rng)
    if template is None:
        data = blank_order(store, new_id, key)
        target_hints = store.site.target_hints
    else:
        data = copy.deepcopy(template)
        old_links = data.pop("_links", None) or {}
        target_hints = "targetHints" in (old_links.get("self") or [{}])[0]
        data["id"] = new_id
        data["number"] = str(new_id)
        data["order_key"] = key
        local, gmt = store.clock.stamps()
        _set_date(data, "date_created", (local, gmt))
        _set_date(data, "date_modified", (local, gmt))
        for group in ITEM_GROUPS:
            for item in data.get(group, []) or []:
                item["id"] = store.new_item_id()
                for meta in item.get("meta_data", []) or []:
                    meta["id"] = store.new_meta_id()
        for meta in data.get("meta_data", []) or []:
            meta["id"] = store.new_meta_id()
        data["refunds"] = []
    record = OrderRecord(data=data, target_hints=target_hints)
    store.orders[new_id] = record
    if fields:
        apply_order_write(store, record, fields, creating=True, record_recalculation=False)
    refresh_derived(store, data)
    return record


#: Statuses of an order that is a purchase (what ``GET orders?customer=&status=`` is asked for
#: when a customer's history is counted).
PURCHASE_STATUSES = ("processing", "completed", "refunded")


def purchases_of(store: Store, customer_id: int) -> list[OrderRecord]:
    """The customer's orders that count as purchases, by id."""
    return [
        record
        for _, record in sorted(store.orders.items())
        if int(record.data.get("customer_id") or 0) == customer_id
        and record.data.get("status") in PURCHASE_STATUSES
    ]


def net_total(record: OrderRecord) -> Decimal:
    """The order's total less its refunds."""
    refunded = sum((_money(r["amount"]) for r in record.refunds), Decimal(0))
    return _money(record.data.get("total")) - refunded


def past_order(
    store: Store,
    rng: random.Random,
    *,
    customer_id: int,
    email: str,
    currency: str,
    total: Decimal,
    paid_gmt: datetime,
) -> OrderRecord:
    """A completed order of the customer, paid (and completed) at ``paid_gmt`` (naive GMT)."""
    record = new_order(store, rng, template=None)
    data = record.data
    stamps = (store.clock.local(paid_gmt).strftime(DATE_FORMAT), paid_gmt.strftime(DATE_FORMAT))
    data.update(
        status="completed",
        customer_id=customer_id,
        currency=currency,
        total=format_decimal(total),
    )
    data["billing"]["email"] = email
    for key in ("date_created", "date_modified", "date_paid", "date_completed"):
        _set_date(data, key, stamps)
    refresh_derived(store, data)
    return record


# -- notes ------------------------------------------------------------------------------------


def add_note(
    store: Store,
    order_id: int,
    note: str,
    *,
    customer_note: bool = False,
    author: str = "system",
) -> dict[str, Any]:
    local, gmt = store.clock.stamps()
    row = {
        "id": store.new_comment_id(),
        "author": author,
        "date_created": local,
        "date_created_gmt": gmt,
        "note": note,
        "customer_note": customer_note,
    }
    store.notes.setdefault(order_id, []).append(row)
    if customer_note:
        order = store.orders.get(order_id)
        email = (order.data.get("billing") or {}).get("email", "") if order else ""
        store.customer_emails.append(
            {"order_id": order_id, "note_id": row["id"], "to": email, "note": note, "at": gmt}
        )
    return row


# -- status machine ---------------------------------------------------------------------------


def _coupon_usage(store: Store, record: OrderRecord, delta: int) -> None:
    data = record.data
    who: Any = data.get("customer_id") or (data.get("billing") or {}).get("email", "")
    for line in data.get("coupon_lines", []) or []:
        code = str(line.get("code", "")).lower()
        for coupon in store.coupons.values():
            if coupon["code"] == code and coupon["status"] == "publish":
                coupon["usage_count"] = max(0, int(coupon["usage_count"]) + delta)
                if delta > 0:
                    coupon["used_by"].append(str(who))
                elif str(who) in coupon["used_by"]:
                    coupon["used_by"].remove(str(who))
                break


def set_status(store: Store, record: OrderRecord, new_status: str) -> bool:
    """``WC_Order::set_status`` + ``save``: returns whether the status changed."""
    data = record.data
    old_status = data.get("status")
    if new_status == old_status:
        return False
    data["status"] = new_status
    stamps = store.clock.stamps()
    if new_status in PAID_STATUSES and not data.get("date_paid"):
        _set_date(data, "date_paid", stamps)
    if new_status == "completed":
        _set_date(data, "date_completed", stamps)
    was_counted = old_status in USAGE_STATUSES
    if new_status in USAGE_STATUSES and not was_counted:
        _coupon_usage(store, record, +1)
    elif was_counted and new_status in ("cancelled", "failed", "pending"):
        _coupon_usage(store, record, -1)
    if old_status in STATUS_NAMES and new_status in STATUS_NAMES:
        add_note(
            store,
            int(data["id"]),
            f"Order status changed from {STATUS_NAMES[old_status]} to {STATUS_NAMES[new_status]}.",
        )
    refresh_derived(store, data)
    touch(store, record)
    return True


def payment_complete(store: Store, record: OrderRecord, transaction_id: str = "") -> None:
    """``WC_Order::payment_complete``: processing (or completed when nothing needs processing)."""
    data = record.data
    if data.get("status") not in PAYABLE_STATUSES:
        raise ValueError(
            f"order {data['id']} is {data.get('status')!r}; payment_complete() only moves "
            f"orders in {', '.join(PAYABLE_STATUSES)}"
        )
    if transaction_id:
        data["transaction_id"] = transaction_id
    if not data.get("date_paid"):
        _set_date(data, "date_paid", store.clock.stamps())
    target = "processing" if data.get("needs_processing", True) else "completed"
    set_status(store, record, target)


def add_refund(
    store: Store, record: OrderRecord, amount: Any = None, reason: str = ""
) -> dict[str, Any]:
    """``wc_create_refund``: a refund row, and status ``refunded`` once nothing is left."""
    data = record.data
    refunded = sum((_money(r["amount"]) for r in record.refunds), Decimal(0))
    remaining = _money(data.get("total")) - refunded
    value = remaining if amount is None else _money(amount)
    if value <= 0 or value > remaining:
        raise RestError(
            "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500
        )
    local, gmt = store.clock.stamps()
    refund = {
        "id": store.new_post_id(),
        "reason": reason,
        "amount": format_decimal(value),
        "date_created": local,
        "date_created_gmt": gmt,
    }
    record.refunds.insert(0, refund)
    data.setdefault("refunds", [])
    data["refunds"].insert(
        0, {"id": refund["id"], "reason": reason, "total": "-" + format_decimal(value)}
    )
    if remaining - value <= 0:
        set_status(store, record, "refunded")
    else:
        touch(store, record)
    return refund


# -- REST writes ------------------------------------------------------------------------------


def _line_price(item: dict[str, Any]) -> float:
    quantity = float(item.get("quantity") or 0)
    return float(_money(item.get("total"))) / quantity if quantity else 0.0


def _new_line_item(store: Store, posted: dict[str, Any]) -> dict[str, Any]:
    product = store.products.get(int(posted.get("product_id") or 0))
    variation_id = int(posted.get("variation_id") or 0)
    if posted.get("product_id") and product is None:
        raise RestError(
            "woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400
        )
    quantity = int(posted.get("quantity") or 1)
    unit = _money(product["price"]) if product else _money(posted.get("price"))
    total = posted.get("total") if posted.get("total") is not None else unit * quantity
    item: dict[str, Any] = {
        "id": store.new_item_id(),
        "name": posted.get("name") or (product["name"] if product else ""),
        "product_id": int(posted.get("product_id") or 0),
        "variation_id": variation_id,
        "quantity": quantity,
        "tax_class": "",
        "subtotal": format_decimal(posted.get("subtotal", total)),
        "subtotal_tax": "0.00",
        "total": format_decimal(total),
        "total_tax": "0.00",
        "taxes": [],
        "meta_data": [],
        "sku": posted.get("sku") or (product["sku"] if product else ""),
        "price": 0.0,
        "image": {
            "id": (product["images"][0]["id"] if product and product["images"] else ""),
            "src": (product["images"][0]["src"] if product and product["images"] else ""),
        },
        "parent_name": None,
    }
    apply_meta_writes(store, item["meta_data"], posted.get("meta_data"))
    item["price"] = _line_price(item)
    return item


def _add_item(store: Store, group: str, posted: dict[str, Any], others: dict[str, Any]) -> Any:
    if group == "line_items":
        return _new_line_item(store, posted)
    row = {"id": store.new_item_id(), **others, "meta_data": []}
    row["total"] = format_decimal(posted.get("total"))
    return row


def _change_item(
    store: Store, existing: dict[str, Any], group: str, others: dict[str, Any]
) -> None:
    old_quantity = existing.get("quantity")
    for key, value in others.items():
        if key == "meta_data":
            apply_meta_writes(store, existing.setdefault("meta_data", []), value)
        elif key in ("total", "subtotal"):
            existing[key] = format_decimal(value)
        elif value is not None:
            existing[key] = value
    if group != "line_items":
        return
    if "quantity" in others and "total" not in others and old_quantity:
        unit = _money(existing.get("total")) / Decimal(str(old_quantity))
        existing["total"] = format_decimal(unit * Decimal(str(existing["quantity"])))
        existing["subtotal"] = existing["total"]
    existing["price"] = _line_price(existing)


def _update_items(store: Store, data: dict[str, Any], group: str, posted_items: Any) -> None:
    """Posted rows: an id with only nulls (or quantity 0) deletes, an unknown row is added,
    a known one is changed."""
    if not isinstance(posted_items, list):
        return
    items: list[dict[str, Any]] = data.setdefault(group, [])
    for posted in posted_items:
        if not isinstance(posted, dict):
            continue
        item_id = int(posted.get("id") or 0)
        existing = next((i for i in items if int(i.get("id", 0)) == item_id), None)
        others = {k: v for k, v in posted.items() if k != "id"}
        if item_id and (all(v is None for v in others.values()) or posted.get("quantity") == 0):
            items[:] = [i for i in items if int(i.get("id", 0)) != item_id]
        elif existing is None:
            items.append(_add_item(store, group, posted, others))
        else:
            _change_item(store, existing, group, others)


def _apply_coupons(store: Store, data: dict[str, Any], posted: Any) -> None:
    if not isinstance(posted, list):
        return
    codes = []
    for line in posted:
        if not isinstance(line, dict):
            continue
        if line.get("id"):
            raise RestError(
                "woocommerce_rest_coupon_item_id_readonly", "Coupon item ID is readonly.", 400
            )
        if not line.get("code"):
            raise RestError("woocommerce_rest_invalid_coupon", "Coupon code is required.", 400)
        code = str(line["code"]).strip().lower()
        if not any(c["code"] == code and c["status"] == "publish" for c in store.coupons.values()):
            raise RestError(
                "woocommerce_rest_invalid_coupon", f'Coupon "{code}" does not exist!', 400
            )
        codes.append(code)
    data["coupon_lines"] = []
    lines = data.get("line_items", [])
    for line in lines:
        line["total"] = line.get("subtotal", line.get("total"))
    for code in codes:
        coupon = next(c for c in store.coupons.values() if c["code"] == code)
        base = sum((_money(li["total"]) for li in lines), Decimal(0))
        amount = _money(coupon["amount"])
        discount = (
            base * amount / 100 if coupon["discount_type"] == "percent" else min(amount, base)
        )
        for line in lines:
            share = _money(line["total"]) / base if base else Decimal(0)
            line["total"] = format_decimal(_money(line["total"]) - discount * share)
            line["price"] = _line_price(line)
        data["coupon_lines"].append(
            {
                "id": store.new_item_id(),
                "code": code,
                "discount": format_decimal(discount),
                "discount_tax": "0.00",
                "meta_data": [],
            }
        )


def calculate_totals(data: dict[str, Any]) -> None:
    """``WC_Abstract_Order::calculate_totals(true)`` on the sandbox's simple tax model."""
    lines = data.get("line_items", []) or []
    subtotal = sum((_money(i.get("subtotal")) for i in lines), Decimal(0))
    items_total = sum((_money(i.get("total")) for i in lines), Decimal(0))
    fees = sum((_money(i.get("total")) for i in data.get("fee_lines", []) or []), Decimal(0))
    shipping = sum(
        (_money(i.get("total")) for i in data.get("shipping_lines", []) or []), Decimal(0)
    )
    cart_tax = sum((_money(i.get("total_tax")) for i in lines), Decimal(0))
    shipping_tax = sum(
        (_money(i.get("total_tax")) for i in data.get("shipping_lines", []) or []), Decimal(0)
    )
    data["discount_total"] = format_decimal(max(subtotal - items_total, Decimal(0)))
    data["shipping_total"] = format_decimal(shipping)
    data["cart_tax"] = format_decimal(cart_tax)
    data["shipping_tax"] = format_decimal(shipping_tax)
    data["total_tax"] = format_decimal(cart_tax + shipping_tax)
    data["total"] = format_decimal(items_total + fees + shipping + cart_tax + shipping_tax)


_PLAIN_ORDER_FIELDS = (
    "parent_id",
    "currency",
    "customer_note",
    "payment_method",
    "payment_method_title",
    "transaction_id",
    "customer_ip_address",
    "customer_user_agent",
)


def _apply_addresses(data: dict[str, Any], body: dict[str, Any]) -> None:
    for key in ("billing", "shipping"):
        if not isinstance(body.get(key), dict):
            continue
        target = data.setdefault(key, {})
        for field, value in body[key].items():
            if field in target or field in (*_ADDRESS_FIELDS, "email", "phone"):
                target[field] = "" if value is None else str(value)


def _customer_id(store: Store, value: Any) -> int:
    customer_id = int(value)
    if customer_id and customer_id not in store.customers:
        raise RestError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400)
    return customer_id


def _recalculate_if_needed(
    store: Store, data: dict[str, Any], body: dict[str, Any], *, record_recalculation: bool
) -> None:
    """An update that writes a recalculating field recalculates the totals (and is recorded)."""
    triggers = [key for key in RECALCULATING_FIELDS if body.get(key) is not None]
    if not triggers:
        return
    before = data.get("total")
    calculate_totals(data)
    if record_recalculation:
        store.recalculations.append(
            {
                "order_id": int(data["id"]),
                "fields": triggers,
                "status": data.get("status"),
                "paid": bool(data.get("date_paid")),
                "total_before": before,
                "total_after": data.get("total"),
                "at": store.clock.now_gmt().strftime(DATE_FORMAT),
            }
        )


def apply_order_write(
    store: Store,
    record: OrderRecord,
    body: dict[str, Any],
    *,
    creating: bool,
    record_recalculation: bool = True,
) -> str | None:
    """``prepare_object_for_database`` + ``save_object``; returns a new status to set, if any.

    The status itself is applied by the caller after this (so that webhooks and notes see the
    new data), as WooCommerce does.
    """
    data = record.data
    _apply_addresses(data, body)
    for group in ("line_items", "shipping_lines", "fee_lines"):
        if body.get(group) is not None:
            _update_items(store, data, group, body[group])
    if body.get("meta_data") is not None:
        apply_meta_writes(store, data.setdefault("meta_data", []), body["meta_data"])
    for key in _PLAIN_ORDER_FIELDS:
        if body.get(key) is not None:
            data[key] = body[key]
    if body.get("customer_id") is not None:
        data["customer_id"] = _customer_id(store, body["customer_id"])
    if creating:
        calculate_totals(data)
    else:
        _recalculate_if_needed(store, data, body, record_recalculation=record_recalculation)
    if body.get("coupon_lines") is not None:
        _apply_coupons(store, data, body["coupon_lines"])
        calculate_totals(data)
    touch(store, record)
    status = body.get("status")
    return str(status) if status else None
