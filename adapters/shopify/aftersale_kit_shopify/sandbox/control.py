"""The control API under ``/_sandbox/`` (JSON in, JSON out, no auth: the sandbox only listens on
loopback). Every route calls the method of the same name on :class:`ShopifySandbox`.

=======  =====================================  ===========================================
GET      /_sandbox/state                        summary: counts, bucket, faults, webhooks
POST     /_sandbox/reset                        forget everything
GET      /_sandbox/fixtures                     names of the shipped vendor payloads
GET      /_sandbox/orders                       every order (REST shape)
POST     /_sandbox/orders                       create: ``fixture`` | ``order`` | build spec,
                                                ``customer``, ``products``, ``visible_after``,
                                                ``new_id``, ``overrides``
GET      /_sandbox/orders/{id}                  one order
POST     /_sandbox/orders/{id}/pay              paid (``orders/paid``)
POST     /_sandbox/orders/{id}/fulfill          ``tracking_number``
POST     /_sandbox/orders/{id}/cancel           ``reason``, ``refund``
POST     /_sandbox/orders/{id}/refund           ``amount``, ``line_items``, ``note``
POST     /_sandbox/customers                    create/update a customer (history, tags)
POST     /_sandbox/products                     create/update a product (type, tags, ...)
GET      /_sandbox/discounts                    discounts with status
POST     /_sandbox/discounts                    load the price-rule + discount-code fixtures
GET      /_sandbox/metafields                   every metafield
GET      /_sandbox/tags                         tags per resource GID
GET      /_sandbox/webhooks                     settings, subscriptions, deleted ones
POST     /_sandbox/webhooks                     settings: ``duplicate``, ``reorder_window``,
                                                ``drop``, ``delay``, ``time_scale``, ...
GET      /_sandbox/webhooks/subscriptions       every subscription
POST     /_sandbox/webhooks/subscriptions       ``topic``, ``uri``, ``source``
GET      /_sandbox/webhooks/deliveries          deliveries with attempts
POST     /_sandbox/webhooks/trigger             ``topic`` (+ ``payload`` | ``customer_id``)
POST     /_sandbox/webhooks/wait                ``timeout``: wait until nothing is queued
POST     /_sandbox/uninstall                    app/uninstalled, token revoked
GET|POST /_sandbox/faults                       fault plan
POST     /_sandbox/faults/next                  ``kind``, ``count``, ``retry_after``: the next
                                                ``count`` API requests fail (< 0: all)
POST     /_sandbox/faults/clear                 forget the scripted faults
GET      /_sandbox/requests                     API requests answered (query, variables, status)
GET|POST /_sandbox/bucket                       leaky bucket, ``throttle_status``
=======  =====================================  ===========================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aftersale_kit.testing.httpserver import Request, Response, json_response

from .util import SandboxError

if TYPE_CHECKING:
    from .app import ShopifySandbox

__all__ = ["handle_control"]

_ORDER_ACTION = re.compile(r"^/_sandbox/orders/([^/]+)(?:/(pay|fulfill|cancel|refund))?$")


def _body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SandboxError(f"request body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SandboxError("request body must be a JSON object")
    return data


def _pick(data: dict[str, Any], *allowed: str) -> dict[str, Any]:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise SandboxError(
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    return data


def handle_control(sandbox: ShopifySandbox, request: Request) -> Response:
    try:
        status, payload = _route(sandbox, request)
    except SandboxError as exc:
        return json_response(exc.status, {"error": str(exc)})
    except (ValueError, TypeError, KeyError) as exc:
        return json_response(400, {"error": f"{type(exc).__name__}: {exc}"})
    return json_response(status, payload)


Handler = Callable[["ShopifySandbox", Request], tuple[int, Any]]


def _state(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, sandbox.summary()


def _reset(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    sandbox.reset()
    return 200, {"reset": True}


def _fixtures(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"fixtures": sandbox.fixtures()}


def _list_orders(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"orders": sandbox.orders()}


def _create_order(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    data = _body(request)
    kwargs: dict[str, Any] = {}
    for key in ("fixture", "order", "overrides", "products", "visible_after", "new_id"):
        if key in data:
            kwargs[key] = data.pop(key)
    if "customer" in data:
        kwargs["customer"] = data.pop("customer")
    order = sandbox.create_order(**kwargs, **data)
    return 201, {"order": order}


def _set_customer(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"customer": sandbox.set_customer(**_body(request))}


def _set_product(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    data = _body(request)
    product_id = data.pop("id", None)
    return 200, {"product": sandbox.set_product(product_id, **data)}


def _list_discounts(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"discounts": sandbox.discounts()}


def _load_discount(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    data = _pick(_body(request), "price_rule", "discount_code")
    return 201, {"discount": sandbox.load_discount_fixture(**data)}


def _metafields(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"metafields": sandbox.metafields()}


def _tags(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"tags": sandbox.tags()}


_WEBHOOK_SETTINGS = (
    "duplicate",
    "reorder_window",
    "drop",
    "delay",
    "time_scale",
    "timeout",
    "max_attempts",
    "delete_after_failures",
)


def _webhooks(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    if request.method == "POST":
        sandbox.configure_webhooks(**_pick(_body(request), *_WEBHOOK_SETTINGS))
    return 200, {
        "settings": sandbox.webhooks.settings(),
        "subscriptions": sandbox.subscriptions(),
        "deleted_subscriptions": list(sandbox.webhooks.deleted_subscriptions),
    }


def _list_subscriptions(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"subscriptions": sandbox.subscriptions()}


def _subscribe(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    data = _pick(_body(request), "topic", "uri", "source", "api_version", "include_fields")
    return 201, {"subscription": sandbox.subscribe(**data)}


def _deliveries(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"deliveries": sandbox.deliveries()}


def _trigger(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    data = _pick(_body(request), "topic", "payload", "customer_id")
    topic = data.pop("topic", None)
    if not topic:
        raise SandboxError("topic is required")
    return 200, {"deliveries": sandbox.trigger(str(topic), **data)}


def _wait(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    data = _pick(_body(request), "timeout")
    return 200, {"idle": sandbox.wait_for_deliveries(float(data.get("timeout", 10.0)))}


def _uninstall(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"deliveries": sandbox.uninstall()}


def _set_faults(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"faults": sandbox.set_faults(**_body(request))}


def _get_faults(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"faults": sandbox.faults.as_dict()}


def _fail_next(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    data = _pick(_body(request), "kind", "count", "retry_after")
    if "kind" not in data:
        raise SandboxError("kind is required: 5xx, 429 or timeout")
    return 200, {"faults": sandbox.fail_next(**data)}


def _clear_faults(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"faults": sandbox.clear_fault_script()}


def _requests(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {"requests": sandbox.api_requests()}


def _set_bucket(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    data = _pick(
        _body(request),
        "maximum_available",
        "restore_rate",
        "currently_available",
        "throttle_status",
    )
    return 200, {"bucket": sandbox.set_bucket(**data)}


def _get_bucket(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    return 200, {
        "bucket": {**sandbox.bucket.status(), "throttleHttpStatus": sandbox.throttle_status}
    }


# (method, path) -> handler; "GET" also answers HEAD, "*" answers every method.
_ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/_sandbox"): _state,
    ("GET", "/_sandbox/state"): _state,
    ("POST", "/_sandbox/reset"): _reset,
    ("GET", "/_sandbox/fixtures"): _fixtures,
    ("GET", "/_sandbox/orders"): _list_orders,
    ("POST", "/_sandbox/orders"): _create_order,
    ("POST", "/_sandbox/customers"): _set_customer,
    ("POST", "/_sandbox/products"): _set_product,
    ("GET", "/_sandbox/discounts"): _list_discounts,
    ("POST", "/_sandbox/discounts"): _load_discount,
    ("GET", "/_sandbox/metafields"): _metafields,
    ("GET", "/_sandbox/tags"): _tags,
    ("*", "/_sandbox/webhooks"): _webhooks,
    ("GET", "/_sandbox/webhooks/subscriptions"): _list_subscriptions,
    ("POST", "/_sandbox/webhooks/subscriptions"): _subscribe,
    ("GET", "/_sandbox/webhooks/deliveries"): _deliveries,
    ("POST", "/_sandbox/webhooks/trigger"): _trigger,
    ("POST", "/_sandbox/webhooks/wait"): _wait,
    ("POST", "/_sandbox/uninstall"): _uninstall,
    ("GET", "/_sandbox/faults"): _get_faults,
    ("POST", "/_sandbox/faults"): _set_faults,
    ("POST", "/_sandbox/faults/next"): _fail_next,
    ("POST", "/_sandbox/faults/clear"): _clear_faults,
    ("GET", "/_sandbox/requests"): _requests,
    ("GET", "/_sandbox/bucket"): _get_bucket,
    ("POST", "/_sandbox/bucket"): _set_bucket,
}


def _order_action(
    sandbox: ShopifySandbox, order_id: str, action: str, data: dict[str, Any]
) -> tuple[int, Any]:
    if action == "pay":
        return 200, {"order": sandbox.pay(order_id)}
    if action == "fulfill":
        _pick(data, "tracking_number")
        return 200, {"order": sandbox.fulfill(order_id, **data)}
    if action == "cancel":
        _pick(data, "reason", "refund")
        return 200, {"order": sandbox.cancel(order_id, **data)}
    _pick(data, "amount", "line_items", "note")
    return 200, {"refund": sandbox.refund(order_id, **data)}


def _route(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    path = request.path.rstrip("/") or "/"
    method = "GET" if request.method in ("GET", "HEAD") else request.method
    handler = _ROUTES.get((method, path)) or _ROUTES.get(("*", path))
    if handler is not None:
        return handler(sandbox, request)
    match = _ORDER_ACTION.match(path)
    if match:
        order_id, action = match.group(1), match.group(2)
        if action is None and method == "GET":
            return 200, {"order": sandbox.order(order_id)}
        if action is not None and method == "POST":
            return _order_action(sandbox, order_id, action, _body(request))
    raise SandboxError(f"no control route {request.method} {request.path}", status=404)
