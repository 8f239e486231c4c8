"""``/wc/v3/coupons``: list, create (201), read, update, delete/trash, batch."""

from __future__ import annotations

import copy
from typing import Any

from .coupons import (
    DISCOUNT_TYPES,
    apply_coupon_fields,
    blank_coupon,
    coupon_response,
    find_coupon_by_code,
)
from .errors import RestError, invalid_id
from .rest import (
    Args,
    CollectionArgs,
    RestContext,
    RestRequest,
    RestResponse,
    Router,
    collection_response,
    date_matches,
    require_key,
    rest_url,
    run_batch,
    sort_records,
)

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


def _body(request: RestRequest) -> dict[str, Any]:
    return request.json if isinstance(request.json, dict) else dict(request.form)


def _create(ctx: RestContext, body: dict[str, Any]) -> dict[str, Any]:
    store = ctx.store
    if body.get("id"):
        raise RestError(
            f"woocommerce_rest_{POST_TYPE}_exists", f"Cannot create existing {POST_TYPE}.", 400
        )
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
        current = store.coupons.get(coupon_id)
        if current is None:
            raise invalid_id(POST_TYPE, 400)
        changed = copy.deepcopy(current)
        apply_coupon_fields(store, changed, body, creating=False)
        changed["date_modified"], changed["date_modified_gmt"] = store.clock.stamps()
        store.coupons[coupon_id] = changed
        store.emit("coupon", "updated", coupon_id)
        return coupon_response(store, changed)


def _delete(ctx: RestContext, coupon_id: int, force: bool) -> dict[str, Any]:
    store = ctx.store
    with store.lock:
        coupon = store.coupons.get(coupon_id)
        if coupon is None:
            raise invalid_id(POST_TYPE)
        before = coupon_response(store, coupon)
        if force:
            del store.coupons[coupon_id]
        else:
            if coupon["status"] == "trash":
                raise RestError(
                    "woocommerce_rest_already_trashed",
                    f"The {POST_TYPE} has already been deleted.",
                    410,
                )
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
        if params.include:
            rows = [c for c in rows if c["id"] in params.include]
        if params.exclude:
            rows = [c for c in rows if c["id"] not in params.exclude]
        if params.search:
            rows = [c for c in rows if params.search.lower() in c["code"]]
        rows = [
            c
            for c in rows
            if date_matches(
                (c["date_created"], c["date_created_gmt"]),
                after=params.after,
                before=params.before,
                use_gmt=params.dates_are_gmt,
                utc_offset=offset,
            )
            and date_matches(
                (c["date_modified"], c["date_modified_gmt"]),
                after=params.modified_after,
                before=params.modified_before,
                use_gmt=params.dates_are_gmt,
                utc_offset=offset,
            )
        ]
        rows = sort_records(
            rows,
            orderby=params.orderby or "date",
            order=params.order or "desc",
            include=params.include,
            keys={
                "date": lambda c: c["date_created_gmt"],
                "modified": lambda c: c["date_modified_gmt"],
                "id": lambda c: c["id"],
                "title": lambda c: c["code"],
                "slug": lambda c: c["code"],
            },
        )
        page = params.paginate(rows)
        data = [coupon_response(store, c) for c in page.items]
    return collection_response(ctx, request, page, data)


def create_coupon(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.required("code")
    args.schema(SCHEMA)
    args.done()
    require_key(request, "create")
    data = _create(ctx, _body(request))
    location = rest_url(ctx.site, f"/wc/v3/coupons/{data['id']}")
    return RestResponse(201, data, [("Location", location)])


def get_coupon(ctx: RestContext, request: RestRequest) -> RestResponse:
    coupon_id = request.url_id()
    with ctx.store.lock:
        coupon = ctx.store.coupons.get(coupon_id)
        if coupon is None:
            raise invalid_id(POST_TYPE)
        require_key(request, "read")
        return RestResponse(200, coupon_response(ctx.store, coupon))


def update_coupon(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.schema(SCHEMA)
    args.done()
    coupon_id = request.url_id()
    if coupon_id in ctx.store.coupons:
        require_key(request, "edit")
    return RestResponse(200, _update(ctx, coupon_id, _body(request)))


def delete_coupon(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    force = args.boolean("force", default=False)
    args.done()
    coupon_id = request.url_id()
    if coupon_id in ctx.store.coupons:
        require_key(request, "delete")
    return RestResponse(200, _delete(ctx, coupon_id, bool(force)))


def batch_coupons(ctx: RestContext, request: RestRequest) -> RestResponse:
    require_key(request, "batch")

    def update(body: dict[str, Any]) -> dict[str, Any]:
        try:
            coupon_id = int(body.get("id") or 0)
        except (TypeError, ValueError):
            coupon_id = 0
        return _update(ctx, coupon_id, body)

    return run_batch(
        request,
        create=lambda body: _create(ctx, body),
        update=update,
        delete=lambda coupon_id: _delete(ctx, coupon_id, True),
    )


def register(router: Router) -> None:
    router.add("/wc/v3/coupons", "GET", list_coupons)
    router.add("/wc/v3/coupons", "POST", create_coupon)
    router.add("/wc/v3/coupons/(?P<id>[\\d]+)", "GET", get_coupon)
    router.add("/wc/v3/coupons/(?P<id>[\\d]+)", "POST,PUT,PATCH", update_coupon)
    router.add("/wc/v3/coupons/(?P<id>[\\d]+)", "DELETE", delete_coupon)
    router.add("/wc/v3/coupons/batch", "POST,PUT,PATCH", batch_coupons)
