"""``/wc/v3/customers/<id>``: read and update one customer (its user meta).

Behaviour follows ``WC_REST_Customers_V1_Controller`` (woocommerce/woocommerce
``includes/rest-api/Controllers/Version1/class-wc-rest-customers-v1-controller.php``): an unknown
id answers ``woocommerce_rest_invalid_id`` "Invalid resource ID." (404 on read, 400 on update);
``meta_data`` items are written by key like every ``WC_Data`` (``update_meta_data``). Only the
fields a customer record of this sandbox has (id, e-mail, meta) are kept; the rest of the
response is WooCommerce's shape with empty values.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import RestError
from .rest import Args, RestContext, RestRequest, RestResponse, Router, links, require_key
from .values import apply_meta_writes

__all__ = ["customer_response", "register"]

BASE = "/wc/v3/customers"
SCHEMA: dict[str, dict[str, Any]] = {
    "email": {"type": "string"},
    "first_name": {"type": "string"},
    "last_name": {"type": "string"},
    "meta_data": {"type": "array", "items": {"type": "object"}},
}


def _invalid(status: int) -> RestError:
    return RestError("woocommerce_rest_invalid_id", "Invalid resource ID.", status)


def customer_response(ctx: RestContext, customer_id: int) -> dict[str, Any]:
    store = ctx.store
    return {
        "id": customer_id,
        "email": store.customers.get(customer_id, ""),
        "first_name": "",
        "last_name": "",
        "role": "customer",
        "username": "",
        "billing": {},
        "shipping": {},
        "is_paying_customer": False,
        "avatar_url": "",
        "meta_data": copy.deepcopy(store.customer_meta.get(customer_id, [])),
        "_links": links(ctx.site, f"{BASE}/{customer_id}", BASE),
    }


def get_customer(ctx: RestContext, request: RestRequest) -> RestResponse:
    Args(request).done()
    require_key(request, "read")
    customer_id = request.url_id()
    with ctx.store.lock:
        if customer_id not in ctx.store.customers:
            raise _invalid(404)
        return RestResponse(200, customer_response(ctx, customer_id))


def update_customer(ctx: RestContext, request: RestRequest) -> RestResponse:
    args = Args(request)
    args.schema(SCHEMA)
    args.done()
    require_key(request, "edit")
    customer_id = request.url_id()
    body = request.body()
    store = ctx.store
    with store.lock:
        if customer_id not in store.customers:
            raise _invalid(400)
        if isinstance(body.get("email"), str) and body["email"].strip():
            store.customers[customer_id] = body["email"].strip()
        rows = store.customer_meta.setdefault(customer_id, [])
        apply_meta_writes(store, rows, body.get("meta_data"))
        return RestResponse(200, customer_response(ctx, customer_id))


def register(router: Router) -> None:
    item = BASE + "/(?P<id>[\\d]+)"
    router.add(item, "GET", get_customer)
    router.add(item, "POST,PUT,PATCH", update_customer)
