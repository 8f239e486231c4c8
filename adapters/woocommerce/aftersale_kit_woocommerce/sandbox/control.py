"""The control API under ``/_sandbox/`` (JSON in, JSON out; never subject to faults).

======  =======================================  ==============================================
Method  Path                                     Does
======  =======================================  ==============================================
GET     /_sandbox/state                          URLs, keys, counts, options
POST    /_sandbox/reset                          back to the seeded state
GET     /_sandbox/fixtures                       names of the shipped vendor payloads
POST    /_sandbox/orders                         checkout: ``{fixture|payload, id, customer_id,
                                                 email, status, line_items, customer_note}``
                                                 (fires webhooks)
POST    /_sandbox/orders/load                    store a vendor order verbatim ``{fixture|payload}``
GET     /_sandbox/orders/<id>                    the order as the REST API returns it
POST    /_sandbox/orders/<id>/<action>           ``pay`` ``{transaction_id}``, ``complete``,
                                                 ``cancel``, ``hold``, ``fail``, ``refund``
                                                 ``{amount, reason}``, ``status`` ``{status}``
GET     /_sandbox/orders/<id>/meta               its ``meta_data``
GET     /_sandbox/orders/<id>/notes              its notes (customer and private)
GET     /_sandbox/coupons                        every coupon, trashed ones included
POST    /_sandbox/coupons/load                   store a vendor coupon ``{fixture|payload}``
POST    /_sandbox/customers                      ``{id, email}`` a customer account exists
POST    /_sandbox/products/<id>/terms            ``{categories, tags}`` by name or id
GET     /_sandbox/webhooks                       webhooks with status, failure count, secret
POST    /_sandbox/webhooks                       ``{topic, delivery_url, secret, id, ping}``
POST    /_sandbox/webhooks/<id>/deliver          ``{resource_id}``: deliver now
GET     /_sandbox/deliveries                     pings and deliveries, headers and status
POST    /_sandbox/deliveries/wait                ``{timeout}``: until nothing is queued
GET     /_sandbox/webhook-options                delivery options; POST changes them
GET     /_sandbox/faults                         fault plan; POST changes it
POST    /_sandbox/keys                           ``{permissions}``: a new API key
POST    /_sandbox/clock                          ``{skew}`` seconds added to the store's clock
GET     /_sandbox/recalculations                 order writes that recalculated totals
GET     /_sandbox/customer-emails                customer notes that would have been emailed
GET     /_sandbox/requests                       every API request with status and auth method
======  =======================================  ==============================================
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aftersale_kit.testing.httpserver import CONTROL_PREFIX, Request, Response, json_response

from .errors import RestError

if TYPE_CHECKING:
    from .server import WooCommerceSandbox

__all__ = ["make_control"]

Handler = Callable[["WooCommerceSandbox", dict[str, Any], re.Match[str]], tuple[int, Any]]


def _state(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    store = shop.store
    with store.lock:
        counts = {
            "orders": len(store.orders),
            "coupons": len(store.coupons),
            "products": len(store.products),
            "webhooks": len(store.webhooks),
        }
    return 200, {
        "url": shop.url,
        "home_url": shop.home_url,
        "ca_file": str(shop.ca_file) if shop.ca_file else None,
        "consumer_key": shop.consumer_key,
        "consumer_secret": shop.consumer_secret,
        "read_only_key": {
            "consumer_key": shop.read_only_key.consumer_key,
            "consumer_secret": shop.read_only_key.consumer_secret,
        },
        "counts": counts,
        "faults": shop.faults.as_dict(),
        "webhook_options": shop.webhook_options.as_dict(),
    }


def _reset(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    shop.reset()
    return 200, {"reset": True}


def _fixtures(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    from .server import fixture_names

    return 200, fixture_names()


def _create_order(
    shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]
) -> tuple[int, Any]:
    order = shop.create_order(
        body.get("fixture"),
        payload=body.get("payload"),
        order_id=body.get("id"),
        customer_id=body.get("customer_id"),
        email=body.get("email"),
        status=body.get("status", "pending"),
        line_items=body.get("line_items"),
        customer_note=body.get("customer_note"),
    )
    return 201, order


def _load_order(
    shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]
) -> tuple[int, Any]:
    return 201, shop.load_order(body.get("fixture"), payload=body.get("payload"))


def _get_order(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    return 200, shop.order(int(m["id"]))


def _order_action(
    shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]
) -> tuple[int, Any]:
    order_id = int(m["id"])
    action = m["action"]
    if action == "pay":
        return 200, shop.pay(order_id, transaction_id=str(body.get("transaction_id", "")))
    if action in ("complete", "fulfil", "fulfill"):
        return 200, shop.complete(order_id)
    if action == "cancel":
        return 200, shop.cancel(order_id)
    if action == "hold":
        return 200, shop.hold(order_id)
    if action == "fail":
        return 200, shop.fail(order_id)
    if action == "refund":
        return 200, shop.refund(order_id, body.get("amount"), reason=str(body.get("reason", "")))
    if action == "status":
        return 200, shop.set_status(order_id, str(body.get("status", "")))
    if action == "meta":
        return 200, shop.order_meta(order_id)
    if action == "notes":
        return 200, shop.notes(order_id)
    return 404, {"error": f"unknown order action {action!r}"}


def _coupons(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    return 200, shop.coupons()


def _load_coupon(
    shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]
) -> tuple[int, Any]:
    return 201, shop.load_coupon(body.get("fixture"), payload=body.get("payload"))


def _customers(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    shop.add_customer(int(body["id"]), str(body.get("email", "")))
    return 201, {"id": int(body["id"]), "email": body.get("email", "")}


def _terms(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    return 200, shop.set_product_terms(
        int(m["id"]), categories=body.get("categories"), tags=body.get("tags")
    )


def _webhooks(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    with shop.store.lock:
        ids = sorted(shop.store.webhooks)
    return 200, [shop.webhook_state(i) for i in ids]


def _add_webhook(
    shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]
) -> tuple[int, Any]:
    created = shop.add_webhook(
        str(body.get("topic", "")),
        str(body.get("delivery_url", "")),
        secret=body.get("secret"),
        webhook_id=int(body.get("id") or 0),
        status=str(body.get("status", "active")),
        name=body.get("name"),
        ping=bool(body.get("ping", False)),
    )
    return 201, created


def _deliver(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    shop.trigger_webhook(int(m["id"]), int(body["resource_id"]))
    return 202, {"queued": True}


def _deliveries(
    shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]
) -> tuple[int, Any]:
    return 200, shop.deliveries()


def _wait(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    return 200, {"idle": shop.wait_for_webhooks(float(body.get("timeout", 10)))}


def _webhook_options(
    shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]
) -> tuple[int, Any]:
    return 200, shop.set_webhook_options(**body) if body else shop.webhook_options.as_dict()


def _faults(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    return 200, shop.set_faults(**body) if body else shop.faults.as_dict()


def _keys(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    key = shop.add_api_key(str(body.get("permissions", "read_write")))
    return 201, {
        "consumer_key": key.consumer_key,
        "consumer_secret": key.consumer_secret,
        "permissions": key.permissions,
    }


def _clock(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    shop.skew_clock(float(body.get("skew", 0)))
    return 200, {"skew": shop.clock.skew}


def _recalculations(
    shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]
) -> tuple[int, Any]:
    return 200, shop.recalculations()


def _emails(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    return 200, shop.customer_emails()


def _requests(shop: WooCommerceSandbox, body: dict[str, Any], m: re.Match[str]) -> tuple[int, Any]:
    return 200, shop.requests()


_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", r"state", _state),
    ("POST", r"reset", _reset),
    ("GET", r"fixtures", _fixtures),
    ("POST", r"orders", _create_order),
    ("POST", r"orders/load", _load_order),
    ("GET", r"orders/(?P<id>\d+)", _get_order),
    ("GET", r"orders/(?P<id>\d+)/(?P<action>meta|notes)", _order_action),
    ("POST", r"orders/(?P<id>\d+)/(?P<action>[a-z]+)", _order_action),
    ("GET", r"coupons", _coupons),
    ("POST", r"coupons/load", _load_coupon),
    ("POST", r"customers", _customers),
    ("POST", r"products/(?P<id>\d+)/terms", _terms),
    ("GET", r"webhooks", _webhooks),
    ("POST", r"webhooks", _add_webhook),
    ("POST", r"webhooks/(?P<id>\d+)/deliver", _deliver),
    ("GET", r"deliveries", _deliveries),
    ("POST", r"deliveries/wait", _wait),
    ("GET", r"webhook-options", _webhook_options),
    ("POST", r"webhook-options", _webhook_options),
    ("GET", r"faults", _faults),
    ("POST", r"faults", _faults),
    ("POST", r"keys", _keys),
    ("POST", r"clock", _clock),
    ("GET", r"recalculations", _recalculations),
    ("GET", r"customer-emails", _emails),
    ("GET", r"requests", _requests),
]
_COMPILED = [(method, re.compile(pattern + "$"), handler) for method, pattern, handler in _ROUTES]


def make_control(shop: WooCommerceSandbox) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        path = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            body = request.json() if request.body else {}
        except ValueError:
            return json_response(400, {"error": "the control API takes a JSON object body"})
        if not isinstance(body, dict):
            return json_response(400, {"error": "the control API takes a JSON object body"})
        for method, pattern, handler in _COMPILED:
            found = pattern.match(path)
            if found is None or method != request.method:
                continue
            try:
                status, data = handler(shop, body, found)
            except KeyError as exc:
                return json_response(404, {"error": str(exc.args[0] if exc.args else exc)})
            except (ValueError, TypeError) as exc:
                return json_response(400, {"error": str(exc)})
            except RestError as exc:
                return json_response(exc.status, exc.body())
            return json_response(status, data)
        return json_response(404, {"error": f"no control route {request.method} /_sandbox/{path}"})

    return handle
