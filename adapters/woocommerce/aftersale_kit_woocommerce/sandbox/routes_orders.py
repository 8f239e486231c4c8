"""``/wc/v3/orders`` with notes and refunds."""

from __future__ import annotations

import copy
from typing import Any

from .errors import RestError, invalid_id
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
from .rest import (
    Args,
    CollectionArgs,
    RestContext,
    RestRequest,
    RestResponse,
    Router,
    collection_response,
    date_matches,
    links,
    require_key,
    rest_url,
    run_batch,
    sort_records,
)
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


def _body(request: RestRequest) -> dict[str, Any]:
    return request.json if isinstance(request.json, dict) else dict(request.form)


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
    set_paid = body.get("set_paid")
    if set_paid is True or str(set_paid).lower() in ("true", "1"):
        status = record.data.get("status")
        needs_payment = status in ("pending", "failed")
        if (creating or needs_payment) and status in PAYABLE_STATUSES:
            payment_complete(store, record, str(body.get("transaction_id") or ""))


def _create(ctx: RestContext, body: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    if body.get("id"):
        raise RestError(
            f"woocommerce_rest_{POST_TYPE}_exists", f"Cannot create existing {POST_TYPE}.", 400
        )
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
        if body.get("set_paid") in (True, "true", "1", 1):
            store.emit("order", "updated", order_id)
        return order_response(store, record)


def _update(ctx: RestContext, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    with store.lock:
        record = store.orders.get(order_id)
        if record is None:
            raise invalid_id(POST_TYPE, 400)
        _write(ctx, record, body, creating=False)
        store.emit("order", "updated", order_id)
        return order_response(store, record)


def _delete(ctx: RestContext, order_id: int, force: bool) -> dict[str, Any]:
    store = ctx.store
    with store.lock:
        record = store.orders.get(order_id)
        if record is None:
            raise invalid_id(POST_TYPE)
        before = order_response(store, record)
        if force:
            del store.orders[order_id]
            store.notes.pop(order_id, None)
        else:
            if record.data.get("status") == "trash":
                raise RestError(
                    "woocommerce_rest_already_trashed",
                    f"The {POST_TYPE} has already been deleted.",
                    410,
                )
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
        if params.include:
            records = [r for r in records if int(r.data["id"]) in params.include]
        if params.exclude:
            records = [r for r in records if int(r.data["id"]) not in params.exclude]
        if params.search:
            needle = params.search.lower()
            records = [r for r in records if _matches_search(r, needle)]
        records = [
            r
            for r in records
            if date_matches(
                (r.data.get("date_created"), r.data.get("date_created_gmt")),
                after=params.after,
                before=params.before,
                use_gmt=params.dates_are_gmt,
                utc_offset=offset,
            )
            and date_matches(
                (r.data.get("date_modified"), r.data.get("date_modified_gmt")),
                after=params.modified_after,
                before=params.modified_before,
                use_gmt=params.dates_are_gmt,
                utc_offset=offset,
            )
        ]
        rows = sort_records(
            [r.data for r in records],
            orderby=params.orderby or "date",
            order=params.order or "desc",
            include=params.include,
            keys={
                "date": lambda d: d.get("date_created_gmt") or "",
                "modified": lambda d: d.get("date_modified_gmt") or "",
                "id": lambda d: int(d["id"]),
                "title": lambda d: d.get("date_created_gmt") or "",
                "slug": lambda d: int(d["id"]),
            },
        )
        page = params.paginate(rows)
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


def create_order(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.schema(SCHEMA)
    args.done()
    require_key(request, "create")
    data = _create(ctx, _body(request))
    location = rest_url(ctx.site, f"/wc/v3/orders/{data['id']}")
    return RestResponse(201, data, [("Location", location)])


def get_order(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    include_meta = args.str_list("include_meta")
    exclude_meta = args.str_list("exclude_meta")
    args.done()
    order_id = request.url_id()
    with ctx.store.lock:
        record = ctx.store.orders.get(order_id)
        if record is None:
            raise invalid_id(POST_TYPE)
        require_key(request, "read")
        data = order_response(
            ctx.store, record, include_meta=include_meta, exclude_meta=exclude_meta
        )
    return RestResponse(200, data)


def update_order(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.schema(SCHEMA)
    args.done()
    order_id = request.url_id()
    if order_id in ctx.store.orders:
        require_key(request, "edit")
    return RestResponse(200, _update(ctx, order_id, _body(request)))


def delete_order(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    force = args.boolean("force", default=False)
    args.done()
    order_id = request.url_id()
    if order_id in ctx.store.orders:
        require_key(request, "delete")
    return RestResponse(200, _delete(ctx, order_id, bool(force)))


def batch_orders(ctx: RestContext, request: RestRequest) -> RestResponse:
    require_key(request, "batch")

    def update(body: dict[str, Any]) -> dict[str, Any]:
        try:
            order_id = int(body.get("id") or 0)
        except (TypeError, ValueError):
            order_id = 0
        return _update(ctx, order_id, body)

    return run_batch(
        request,
        create=lambda body: _create(ctx, body),
        update=update,
        delete=lambda order_id: _delete(ctx, order_id, True),
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


def _order_for_notes(ctx: RestContext, request: RestRequest, action: str) -> int:
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
        order_id = _order_for_notes(ctx, request, "list")
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
        order_id = _order_for_notes(ctx, request, "create")
        author = "admin" if added_by_user else "system"
        note = add_note(
            store,
            order_id,
            str(request.get("note")),
            customer_note=customer_note,
            author=author,
        )
        data = note_response(ctx, order_id, note)
    location = rest_url(ctx.site, f"/wc/v3/orders/{order_id}/notes/{note['id']}")
    return RestResponse(201, data, [("Location", location)])


def _find_note(ctx: RestContext, order_id: int, note_id: int) -> dict[str, Any]:
    for note in ctx.store.notes.get(order_id, []):
        if note["id"] == note_id:
            return note
    raise RestError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)


def get_note(ctx: RestContext, request: RestRequest) -> RestResponse:
    with ctx.store.lock:
        order_id = _order_for_notes(ctx, request, "read")
        note = _find_note(ctx, order_id, request.url_id())
        return RestResponse(200, note_response(ctx, order_id, note))


def delete_note(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    force = args.boolean("force", default=False)
    args.done()
    with ctx.store.lock:
        order_id = _order_for_notes(ctx, request, "delete")
        if not force:
            # The notes controller reuses the webhooks controller's message (unverified).
            raise RestError(
                "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501
            )
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
        order_id = _order_for_notes(ctx, request, "list")
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
        order_id = _order_for_notes(ctx, request, "create")
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
    location = rest_url(ctx.site, f"/wc/v3/orders/{order_id}/refunds/{refund['id']}")
    return RestResponse(201, data, [("Location", location)])


def register(router: Router) -> None:
    router.add("/wc/v3/orders", "GET", list_orders)
    router.add("/wc/v3/orders", "POST", create_order)
    router.add("/wc/v3/orders/(?P<id>[\\d]+)", "GET", get_order)
    router.add("/wc/v3/orders/(?P<id>[\\d]+)", "POST,PUT,PATCH", update_order)
    router.add("/wc/v3/orders/(?P<id>[\\d]+)", "DELETE", delete_order)
    router.add("/wc/v3/orders/batch", "POST,PUT,PATCH", batch_orders)
    notes = "/wc/v3/orders/(?P<order_id>[\\d]+)/notes"
    router.add(notes, "GET", list_notes)
    router.add(notes, "POST", create_note)
    router.add(notes + "/(?P<id>[\\d]+)", "GET", get_note)
    router.add(notes + "/(?P<id>[\\d]+)", "DELETE", delete_note)
    refunds = "/wc/v3/orders/(?P<order_id>[\\d]+)/refunds"
    router.add(refunds, "GET", list_refunds)
    router.add(refunds, "POST", create_refund)
