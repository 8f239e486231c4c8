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


def _route(sandbox: ShopifySandbox, request: Request) -> tuple[int, Any]:
    path = request.path.rstrip("/") or "/"
    method = request.method
    get = method in ("GET", "HEAD")
    if path in ("/_sandbox", "/_sandbox/state") and get:
        return 200, sandbox.summary()
    if path == "/_sandbox/reset" and method == "POST":
        sandbox.reset()
        return 200, {"reset": True}
    if path == "/_sandbox/fixtures" and get:
        return 200, {"fixtures": sandbox.fixtures()}
    if path == "/_sandbox/orders":
        if get:
            return 200, {"orders": sandbox.orders()}
        if method == "POST":
            data = _body(request)
            kwargs: dict[str, Any] = {}
            for key in ("fixture", "order", "overrides", "products", "visible_after", "new_id"):
                if key in data:
                    kwargs[key] = data.pop(key)
            if "customer" in data:
                kwargs["customer"] = data.pop("customer")
            order = sandbox.create_order(**kwargs, **data)
            return 201, {"order": order}
    match = _ORDER_ACTION.match(path)
    if match:
        order_id, action = match.group(1), match.group(2)
        if action is None and get:
            return 200, {"order": sandbox.order(order_id)}
        if action is not None and method == "POST":
            data = _body(request)
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
    if path == "/_sandbox/customers" and method == "POST":
        return 200, {"customer": sandbox.set_customer(**_body(request))}
    if path == "/_sandbox/products" and method == "POST":
        data = _body(request)
        product_id = data.pop("id", None)
        return 200, {"product": sandbox.set_product(product_id, **data)}
    if path == "/_sandbox/discounts":
        if get:
            return 200, {"discounts": sandbox.discounts()}
        if method == "POST":
            data = _pick(_body(request), "price_rule", "discount_code")
            return 201, {"discount": sandbox.load_discount_fixture(**data)}
    if path == "/_sandbox/metafields" and get:
        return 200, {"metafields": sandbox.metafields()}
    if path == "/_sandbox/tags" and get:
        return 200, {"tags": sandbox.tags()}
    if path == "/_sandbox/webhooks":
        if method == "POST":
            data = _pick(
                _body(request),
                "duplicate",
                "reorder_window",
                "drop",
                "delay",
                "time_scale",
                "timeout",
                "max_attempts",
                "delete_after_failures",
            )
            sandbox.configure_webhooks(**data)
        return 200, {
            "settings": sandbox.webhooks.settings(),
            "subscriptions": sandbox.subscriptions(),
            "deleted_subscriptions": list(sandbox.webhooks.deleted_subscriptions),
        }
    if path == "/_sandbox/webhooks/subscriptions":
        if get:
            return 200, {"subscriptions": sandbox.subscriptions()}
        if method == "POST":
            data = _pick(_body(request), "topic", "uri", "source", "api_version", "include_fields")
            return 201, {"subscription": sandbox.subscribe(**data)}
    if path == "/_sandbox/webhooks/deliveries" and get:
        return 200, {"deliveries": sandbox.deliveries()}
    if path == "/_sandbox/webhooks/trigger" and method == "POST":
        data = _pick(_body(request), "topic", "payload", "customer_id")
        topic = data.pop("topic", None)
        if not topic:
            raise SandboxError("topic is required")
        return 200, {"deliveries": sandbox.trigger(str(topic), **data)}
    if path == "/_sandbox/webhooks/wait" and method == "POST":
        data = _pick(_body(request), "timeout")
        return 200, {"idle": sandbox.wait_for_deliveries(float(data.get("timeout", 10.0)))}
    if path == "/_sandbox/uninstall" and method == "POST":
        return 200, {"deliveries": sandbox.uninstall()}
    if path == "/_sandbox/faults":
        if method == "POST":
            return 200, {"faults": sandbox.set_faults(**_body(request))}
        if get:
            return 200, {"faults": sandbox.faults.as_dict()}
    if path == "/_sandbox/faults/next" and method == "POST":
        data = _pick(_body(request), "kind", "count", "retry_after")
        if "kind" not in data:
            raise SandboxError("kind is required: 5xx, 429 or timeout")
        return 200, {"faults": sandbox.fail_next(**data)}
    if path == "/_sandbox/faults/clear" and method == "POST":
        return 200, {"faults": sandbox.clear_fault_script()}
    if path == "/_sandbox/requests" and get:
        return 200, {"requests": sandbox.api_requests()}
    if path == "/_sandbox/bucket":
        if method == "POST":
            data = _pick(
                _body(request),
                "maximum_available",
                "restore_rate",
                "currently_available",
                "throttle_status",
            )
            return 200, {"bucket": sandbox.set_bucket(**data)}
        if get:
            return 200, {
                "bucket": {**sandbox.bucket.status(), "throttleHttpStatus": sandbox.throttle_status}
            }
    raise SandboxError(f"no control route {method} {request.path}", status=404)
