"""``/wc/v3/orders`` with notes and refunds."""

from __future__ import annotations

import copy
from typing import Any

from .collection import CollectionArgs, collection_response
from .crud import Crud, created, lookup
from .errors import RestError, already_exists, already_trashed, trash_not_supported
from .orders import (
    ORDER_STATUSES,
    PAYABLE_STATUSES,
    add_note,
    add_refund,
    apply_order_write,
    new_order,
    order_response,
    payment_complete,
    set_status,
)
from .rest import Args, RestContext, RestRequest, RestResponse, Router, links, require_key
from .state import OrderRecord

__all__ = ["register"]

POST_TYPE = "shop_order"
_ADDRESS = {"type": "object", "properties": {"email": {"type": "string"}}}
SCHEMA: dict[str, dict[str, Any]] = {
    "parent_id": {"type": "integer"},
    "status": {"type": "string", "enum": list(ORDER_STATUSES)},
    "currency": {"type": "string"},
    "customer_id": {"type": "integer"},
    "customer_note": {"type": "string"},
    "billing": _ADDRESS,
    "shipping": _ADDRESS,
    "payment_method": {"type": "string"},
    "payment_method_title": {"type": "string"},
    "transaction_id": {"type": "string"},
    "meta_data": {"type": "array", "items": {"type": "object"}},
    "line_items": {"type": "array", "items": {"type": "object"}},
    "shipping_lines": {"type": "array", "items": {"type": "object"}},
    "fee_lines": {"type": "array", "items": {"type": "object"}},
    "coupon_lines": {"type": "array", "items": {"type": "object"}},
    "set_paid": {"type": "boolean"},
}
#: Gateways whose ``api_refund`` works in the sandbox (others behave like bacs/cod/cheque).
REFUNDABLE_GATEWAYS = ("stripe", "woocommerce_payments", "ppcp-gateway", "paypal")


def _write(ctx: RestContext, record: OrderRecord, body: dict[str, Any], *, creating: bool) -> None:
    """Apply a write to a copy and commit it only when every part succeeded."""
    store = ctx.store
    draft = OrderRecord(
        data=copy.deepcopy(record.data),
        target_hints=record.target_hints,
        refunds=record.refunds,
    )
    recalcs = len(store.recalculations)
    try:
        new_status = apply_order_write(store, draft, body, creating=creating)
    except RestError:
        del store.recalculations[recalcs:]
        raise
    record.data = draft.data
    if new_status:
        set_status(store, record, new_status)
    if _set_paid(body):
        status = record.data.get("status")
        needs_payment = status in ("pending", "failed")
        if (creating or needs_payment) and status in PAYABLE_STATUSES:
            payment_complete(store, record, str(body.get("transaction_id") or ""))


def _set_paid(body: dict[str, Any]) -> bool:
    """``set_paid`` as WordPress reads a validated boolean (``rest_sanitize_boolean``): the
    strings "false" and "0" (any case) and falsy values are false, anything else true."""
    value = body.get("set_paid")
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "")
    return bool(value)


def _create(ctx: RestContext, body: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    if body.get("id"):
        raise already_exists(POST_TYPE)
    with store.lock:
        record = new_order(store, store.rng, template=None)
        try:
            _write(ctx, record, body, creating=True)
        except RestError:
            del store.orders[int(record.data["id"])]
            raise
        record.data["created_via"] = "rest-api"
        order_id = int(record.data["id"])
        store.emit("order", "created", order_id)
        if _set_paid(body):
            store.emit("order", "updated", order_id)
        return order_response(store, record)


def _update(ctx: RestContext, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    with store.lock:
        record = lookup(store.orders, order_id, POST_TYPE, 400)
        _write(ctx, record, body, creating=False)
        store.emit("order", "updated", order_id)
        return order_response(store, record)


def _delete(ctx: RestContext, order_id: int, force: bool) -> dict[str, Any]:
    store = ctx.store
    with store.lock:
        record = lookup(store.orders, order_id, POST_TYPE)
        before = order_response(store, record)
        if force:
            del store.orders[order_id]
            store.notes.pop(order_id, None)
        else:
            if record.data.get("status") == "trash":
                raise already_trashed(POST_TYPE)
            record.data["status"] = "trash"
            store.emit("order", "deleted", order_id)
        return before


def list_orders(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    params = CollectionArgs(args)
    parent = args.int_list("parent")
    parent_exclude = args.int_list("parent_exclude")
    statuses = args.str_list("status", default=["any"], enum=["any", "trash", *ORDER_STATUSES])
    customer = args.integer("customer")
    product = args.integer("product")
    args.integer("dp", default=2)
    include_meta = args.str_list("include_meta")
    exclude_meta = args.str_list("exclude_meta")
    args.done()
    require_key(request, "list")
    store = ctx.store
    offset = store.clock.utc_offset
    with store.lock:
        records = list(store.orders.values())
        wanted = statuses or ["any"]
        if "any" in wanted:
            records = [r for r in records if r.data.get("status") != "trash"]
        else:
            records = [r for r in records if r.data.get("status") in wanted]
        if customer is not None:
            records = [r for r in records if int(r.data.get("customer_id") or 0) == customer]
        if product is not None:
            records = [
                r
                for r in records
                if any(int(i.get("product_id") or 0) == product for i in r.data["line_items"])
            ]
        if parent:
            records = [r for r in records if int(r.data.get("parent_id") or 0) in parent]
        if parent_exclude:
            records = [
                r for r in records if int(r.data.get("parent_id") or 0) not in parent_exclude
            ]
        records = params.select(records, lambda r: int(r.data["id"]))
        if params.search:
            needle = params.search.lower()
            records = [r for r in records if _matches_search(r, needle)]
        records = [
            r
            for r in records
            if params.dated(
                (r.data.get("date_created"), r.data.get("date_created_gmt")),
                (r.data.get("date_modified"), r.data.get("date_modified_gmt")),
                offset,
            )
        ]
        page = params.page_of(
            [r.data for r in records],
            {
                "date": lambda d: d.get("date_created_gmt") or "",
                "modified": lambda d: d.get("date_modified_gmt") or "",
                "id": lambda d: int(d["id"]),
                "title": lambda d: d.get("date_created_gmt") or "",
                "slug": lambda d: int(d["id"]),
            },
        )
        data = [
            order_response(
                store,
                store.orders[int(row["id"])],
                include_meta=include_meta,
                exclude_meta=exclude_meta,
            )
            for row in page.items
        ]
    return collection_response(ctx, request, page, data)


def _matches_search(record: OrderRecord, needle: str) -> bool:
    data = record.data
    haystack = [str(data.get("id")), str(data.get("number", ""))]
    for key in ("billing", "shipping"):
        haystack.extend(str(v) for v in (data.get(key) or {}).values())
    haystack.extend(str(i.get("name", "")) for i in data.get("line_items", []))
    return any(needle in value.lower() for value in haystack)


def get_order(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    include_meta = args.str_list("include_meta")
    exclude_meta = args.str_list("exclude_meta")
    args.done()
    order_id = request.url_id()
    with ctx.store.lock:
        record = lookup(ctx.store.orders, order_id, POST_TYPE)
        require_key(request, "read")
        data = order_response(
            ctx.store, record, include_meta=include_meta, exclude_meta=exclude_meta
        )
    return RestResponse(200, data)


CRUD = Crud(
    base="/wc/v3/orders",
    schema=SCHEMA,
    exists=lambda ctx, order_id: order_id in ctx.store.orders,
    create=_create,
    update=_update,
    delete=_delete,
)


# -- notes ------------------------------------------------------------------------------------


def note_response(ctx: RestContext, order_id: int, note: dict[str, Any]) -> dict[str, Any]:
    data = dict(note)
    data["_links"] = links(
        ctx.site,
        f"/wc/v3/orders/{order_id}/notes/{note['id']}",
        f"/wc/v3/orders/{order_id}/notes",
        allow=("GET", "DELETE"),
        extra={"up": f"/wc/v3/orders/{order_id}"},
    )
    return data


def _parent_order(ctx: RestContext, request: RestRequest, action: str) -> int:
    order_id = request.url_id("order_id")
    if order_id not in ctx.store.orders:
        raise RestError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
    require_key(request, action)
    return order_id


def list_notes(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.string("context", default="view", enum=("view", "edit"))
    note_type = args.string("type", default="any", enum=("any", "customer", "internal"))
    args.done()
    with ctx.store.lock:
        order_id = _parent_order(ctx, request, "list")
        notes = list(ctx.store.notes.get(order_id, []))
        if note_type == "customer":
            notes = [n for n in notes if n["customer_note"]]
        elif note_type == "internal":
            notes = [n for n in notes if not n["customer_note"]]
        notes.sort(key=lambda n: (n["date_created_gmt"], n["id"]), reverse=True)
        data = [note_response(ctx, order_id, n) for n in notes]
    return RestResponse(200, data)


def create_note(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.required("note")
    args.schema(
        {
            "note": {"type": "string"},
            "customer_note": {"type": "boolean"},
            "added_by_user": {"type": "boolean"},
        }
    )
    customer_note = bool(args.boolean("customer_note", default=False))
    added_by_user = bool(args.boolean("added_by_user", default=False))
    args.done()
    store = ctx.store
    with store.lock:
        order_id = _parent_order(ctx, request, "create")
        author = "admin" if added_by_user else "system"
        note = add_note(
            store,
            order_id,
            str(request.get("note")),
            customer_note=customer_note,
            author=author,
        )
        data = note_response(ctx, order_id, note)
    return created(ctx, f"/wc/v3/orders/{order_id}/notes/{note['id']}", data)


def _find_note(ctx: RestContext, order_id: int, note_id: int) -> dict[str, Any]:
    for note in ctx.store.notes.get(order_id, []):
        if note["id"] == note_id:
            return note
    raise RestError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)


def get_note(ctx: RestContext, request: RestRequest) -> RestResponse:
    with ctx.store.lock:
        order_id = _parent_order(ctx, request, "read")
        note = _find_note(ctx, order_id, request.url_id())
        return RestResponse(200, note_response(ctx, order_id, note))


def delete_note(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    force = args.boolean("force", default=False)
    args.done()
    with ctx.store.lock:
        order_id = _parent_order(ctx, request, "delete")
        if not force:
            raise trash_not_supported()
        note = _find_note(ctx, order_id, request.url_id())
        ctx.store.notes[order_id].remove(note)
        return RestResponse(200, note_response(ctx, order_id, note))


# -- refunds ----------------------------------------------------------------------------------


def refund_response(ctx: RestContext, order_id: int, refund: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": refund["id"],
        "date_created": refund.get("date_created"),
        "date_created_gmt": refund.get("date_created_gmt"),
        "amount": refund["amount"],
        "reason": refund.get("reason", ""),
        "refunded_by": 1,
        "refunded_payment": bool(refund.get("refunded_payment", False)),
        "meta_data": [],
        "line_items": [],
        "shipping_lines": [],
        "tax_lines": [],
        "fee_lines": [],
        "_links": links(
            ctx.site,
            f"/wc/v3/orders/{order_id}/refunds/{refund['id']}",
            f"/wc/v3/orders/{order_id}/refunds",
            allow=("GET", "DELETE"),
            extra={"up": f"/wc/v3/orders/{order_id}"},
        ),
    }


def list_refunds(ctx: RestContext, request: RestRequest) -> RestResponse:
    with ctx.store.lock:
        order_id = _parent_order(ctx, request, "list")
        refunds = ctx.store.orders[order_id].refunds
        data = [refund_response(ctx, order_id, r) for r in refunds]
    page_headers = [("X-WP-Total", str(len(data))), ("X-WP-TotalPages", "1" if data else "0")]
    return RestResponse(200, data, page_headers)


def create_refund(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.schema({"amount": {"type": "string"}, "reason": {"type": "string"}})
    api_refund = args.boolean("api_refund", default=True)
    args.done()
    store = ctx.store
    with store.lock:
        order_id = _parent_order(ctx, request, "create")
        record = store.orders[order_id]
        if api_refund and record.data.get("payment_method") not in REFUNDABLE_GATEWAYS:
            raise RestError(
                "woocommerce_rest_cannot_create_order_refund",
                "The payment gateway for this order does not support automatic refunds.",
                500,
            )
        amount = request.get("amount")
        refund = add_refund(store, record, amount, str(request.get("reason") or ""))
        refund["refunded_payment"] = bool(api_refund)
        store.emit("order", "updated", order_id)
        data = refund_response(ctx, order_id, refund)
    return created(ctx, f"/wc/v3/orders/{order_id}/refunds/{refund['id']}", data)


def register(router: Router) -> None:
    CRUD.register(router, list_items=list_orders, get_item=get_order)
    notes = "/wc/v3/orders/(?P<order_id>[\\d]+)/notes"
    router.add(notes, "GET", list_notes)
    router.add(notes, "POST", create_note)
    router.add(notes + "/(?P<id>[\\d]+)", "GET", get_note)
    router.add(notes + "/(?P<id>[\\d]+)", "DELETE", delete_note)
    refunds = "/wc/v3/orders/(?P<order_id>[\\d]+)/refunds"
    router.add(refunds, "GET", list_refunds)
    router.add(refunds, "POST", create_refund)
