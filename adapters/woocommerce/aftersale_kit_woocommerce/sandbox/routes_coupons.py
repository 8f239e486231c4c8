"""``/wc/v3/coupons``: list, create (201), read, update, delete/trash, batch."""

from __future__ import annotations

import copy
from typing import Any

from .collection import CollectionArgs, collection_response
from .coupons import (
    DISCOUNT_TYPES,
    apply_coupon_fields,
    blank_coupon,
    coupon_response,
    find_coupon_by_code,
)
from .crud import Crud, lookup
from .errors import already_exists, already_trashed
from .rest import Args, RestContext, RestRequest, RestResponse, Router, require_key

__all__ = ["register"]

POST_TYPE = "shop_coupon"
SCHEMA: dict[str, dict[str, Any]] = {
    "code": {"type": "string"},
    "amount": {"type": "string"},
    "status": {"type": "string"},
    "discount_type": {"type": "string", "enum": list(DISCOUNT_TYPES)},
    "description": {"type": "string"},
    "individual_use": {"type": "boolean"},
    "product_ids": {"type": "array", "items": {"type": "integer"}},
    "excluded_product_ids": {"type": "array", "items": {"type": "integer"}},
    "usage_limit": {"type": "integer"},
    "usage_limit_per_user": {"type": "integer"},
    "limit_usage_to_x_items": {"type": "integer"},
    "free_shipping": {"type": "boolean"},
    "product_categories": {"type": "array", "items": {"type": "integer"}},
    "excluded_product_categories": {"type": "array", "items": {"type": "integer"}},
    "exclude_sale_items": {"type": "boolean"},
    "minimum_amount": {"type": "string"},
    "maximum_amount": {"type": "string"},
    "email_restrictions": {"type": "array", "items": {"type": "string"}},
    "meta_data": {"type": "array", "items": {"type": "object"}},
}


def _create(ctx: RestContext, body: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    if body.get("id"):
        raise already_exists(POST_TYPE)
    with store.lock:
        coupon = blank_coupon(store, 0)
        apply_coupon_fields(store, coupon, body, creating=True)
        coupon["id"] = store.new_post_id()
        store.coupons[coupon["id"]] = coupon
        store.emit("coupon", "created", coupon["id"])
        return coupon_response(store, coupon)


def _update(ctx: RestContext, coupon_id: int, body: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    with store.lock:
        current = lookup(store.coupons, coupon_id, POST_TYPE, 400)
        changed = copy.deepcopy(current)
        apply_coupon_fields(store, changed, body, creating=False)
        changed["date_modified"], changed["date_modified_gmt"] = store.clock.stamps()
        store.coupons[coupon_id] = changed
        store.emit("coupon", "updated", coupon_id)
        return coupon_response(store, changed)


def _delete(ctx: RestContext, coupon_id: int, force: bool) -> dict[str, Any]:
    store = ctx.store
    with store.lock:
        coupon = lookup(store.coupons, coupon_id, POST_TYPE)
        before = coupon_response(store, coupon)
        if force:
            del store.coupons[coupon_id]
        else:
            if coupon["status"] == "trash":
                raise already_trashed(POST_TYPE)
            coupon["status"] = "trash"
            store.emit("coupon", "deleted", coupon_id)
        return before


def list_coupons(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    params = CollectionArgs(args)
    code = args.string("code")
    status = args.string("status")
    args.done()
    require_key(request, "list")
    store = ctx.store
    offset = store.clock.utc_offset
    with store.lock:
        rows = list(store.coupons.values())
        if status and status not in ("any", "all"):
            rows = [c for c in rows if c["status"] == status]
        else:
            rows = [c for c in rows if c["status"] != "trash"]
        if code:
            wanted = find_coupon_by_code(store, code)
            rows = [c for c in rows if c["id"] == wanted]
        rows = params.select(rows, lambda c: c["id"])
        if params.search:
            rows = [c for c in rows if params.search.lower() in c["code"]]
        rows = [
            c
            for c in rows
            if params.dated(
                (c["date_created"], c["date_created_gmt"]),
                (c["date_modified"], c["date_modified_gmt"]),
                offset,
            )
        ]
        page = params.page_of(
            rows,
            {
                "date": lambda c: c["date_created_gmt"],
                "modified": lambda c: c["date_modified_gmt"],
                "id": lambda c: c["id"],
                "title": lambda c: c["code"],
                "slug": lambda c: c["code"],
            },
        )
        data = [coupon_response(store, c) for c in page.items]
    return collection_response(ctx, request, page, data)


def get_coupon(ctx: RestContext, request: RestRequest) -> RestResponse:
    coupon_id = request.url_id()
    with ctx.store.lock:
        coupon = lookup(ctx.store.coupons, coupon_id, POST_TYPE)
        require_key(request, "read")
        return RestResponse(200, coupon_response(ctx.store, coupon))


CRUD = Crud(
    base="/wc/v3/coupons",
    schema=SCHEMA,
    required=("code",),
    exists=lambda ctx, coupon_id: coupon_id in ctx.store.coupons,
    create=_create,
    update=_update,
    delete=_delete,
)


def register(router: Router) -> None:
    CRUD.register(router, list_items=list_coupons, get_item=get_coupon)
