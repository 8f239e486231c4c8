"""``POST /v1/privacy/{platform}/{shop}/{export|erase}``: a companion plugin's personal-data
exporter and eraser (a shop system's own privacy tools) ask the service what it holds about a
customer. Mounted for the platforms whose service extension asks for it (:mod:`.extensions`).

Authentication (before anything is read or parsed): the shop's ``webhook_secret``, the key the
plugin already signs its block tokens with, signs each request::

    X-Aftersale-Kit-Timestamp: <unix seconds>
    X-Aftersale-Kit-Signature: hex(HMAC-SHA256(key=<webhook secret>,
                                               msg="{timestamp}|{shop}|{action}|" + <body>))

The timestamp must be within 5 minutes of the service's clock; ``shop`` is the shop's domain as
configured, ``action`` ``export`` or ``erase`` (so an export's signature cannot erase). In PHP:
``hash_hmac('sha256', "$ts|$shop|$action|" . $body, $secret)``.

Body (JSON, at most 64 KiB): ``{"email": "...", "customer_id": "17" | null, "order_ids": [...]}``:
the address the shop's tool was given, the shop's customer id of that address, and the
customer's orders (the plugin finds both; the address alone finds what the service can link to
it, see :mod:`aftersale_kit.storage.compliance`).

Answers: 200 ``{"status": "ok", "export": {...}}`` (:meth:`Store.export_customer`) or
``{"status": "ok", "erased": {table: rows}, "retained": {...}}``; 400 with the reason for a body
that is not such an object; 401 for a missing, forged or stale signature; 404 for a shop that
is not configured here on that platform. Platforms with privacy webhooks use those
(:mod:`.compliance`); the CLI (``aftersale-kit privacy``) serves every platform.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..storage import Store
from .logs import log_event
from .shops import ShopEntry, ShopRegistry

__all__ = ["PrivacyResult", "PrivacyService", "privacy_route", "sign_privacy_request"]

MAX_BODY = 64 * 1024
MAX_SKEW_SECONDS = 300
_ACTIONS = ("export", "erase")


def sign_privacy_request(
    *, secret: str, timestamp: str, shop: str, action: str, body: bytes
) -> str:
    """The ``X-Aftersale-Kit-Signature`` of a request (see the module docstring)."""
    message = f"{timestamp}|{shop}|{action}|".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class PrivacyResult:
    status: int
    body: Mapping[str, Any] = field(default_factory=dict)


def _error(status: int, message: str) -> PrivacyResult:
    return PrivacyResult(status, {"status": "error", "error": message})


@dataclass(frozen=True, slots=True)
class _Subject:
    email: str
    customer_id: str | None
    order_ids: tuple[str, ...]


def _subject(body: bytes) -> _Subject | str:
    """The request's customer, or the reason the body is unusable."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return 'the body is not JSON; send {"email": ..., "customer_id": ..., "order_ids": [...]}'
    if not isinstance(data, dict):
        return "the body must be a JSON object with email, customer_id and order_ids"
    email = data.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 320:
        return "email: expected the customer's e-mail address"
    customer_id = data.get("customer_id")
    if customer_id is not None and not isinstance(customer_id, str | int):
        return "customer_id: expected the WordPress user id (a string or number) or null"
    orders = data.get("order_ids", [])
    if not isinstance(orders, list) or not all(isinstance(o, str | int) for o in orders):
        return "order_ids: expected a list of order ids"
    if len(orders) > 10_000:
        return "order_ids: at most 10000 orders per request"
    cid = str(customer_id) if customer_id not in (None, "", 0, "0") else None
    return _Subject(email=email.strip(), customer_id=cid, order_ids=tuple(str(o) for o in orders))


class PrivacyService:
    """Checks a request and runs the export or erasure (in a worker thread)."""

    def __init__(
        self,
        *,
        registry: ShopRegistry,
        store: Store,
        platform: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.store = store
        self.platform = platform
        self.clock = clock

    def authenticate(
        self, shop: str, action: str, headers: Mapping[str, str], body: bytes
    ) -> ShopEntry | PrivacyResult:
        entry = self.registry.get(self.platform, shop)
        if entry is None or action not in _ACTIONS:
            return _error(404, "unknown shop or action")
        stamp = headers.get("x-aftersale-kit-timestamp", "")
        given = headers.get("x-aftersale-kit-signature", "")
        if not stamp.isdigit() or abs(self.clock() - int(stamp)) > MAX_SKEW_SECONDS:
            return _error(401, "missing or stale X-Aftersale-Kit-Timestamp (allowed skew 300 s)")
        expected = sign_privacy_request(
            secret=entry.token_secret, timestamp=stamp, shop=entry.domain, action=action, body=body
        )
        if not hmac.compare_digest(expected, given.strip().lower()):
            return _error(401, "X-Aftersale-Kit-Signature does not match this shop's secret")
        return entry

    def handle(
        self, shop: str, action: str, headers: Mapping[str, str], body: bytes
    ) -> PrivacyResult:
        entry = self.authenticate(shop, action, headers, body)
        if isinstance(entry, PrivacyResult):
            return entry
        subject = _subject(body)
        if isinstance(subject, str):
            return _error(400, subject)
        if action == "export":
            export = self.store.export_customer(
                entry.domain,
                customer_id=subject.customer_id,
                email=subject.email,
                order_ids=subject.order_ids,
            )
            log_event(logging.INFO, "customer data exported", shop=entry.domain, via="plugin")
            return PrivacyResult(200, {"status": "ok", "export": export})
        return PrivacyResult(200, {"status": "ok", **erase(self.store, entry.domain, subject)})


def erase(store: Store, shop: str, subject: _Subject) -> dict[str, Any]:
    """Erase and report: rows erased per table, and what stays (amounts, without the person)."""
    counts = store.redact_customer(
        shop, customer_id=subject.customer_id, email=subject.email, order_ids=subject.order_ids
    )
    orders = counts.pop("orders", 0)
    log_event(logging.INFO, "customer redacted", shop=shop, rows=counts)
    return {
        "erased": counts,
        "retained": {
            "orders": orders,
            "note": "bookings, decisions and coupon codes stay for budgets and the books, "
            "under a random pseudonym instead of the customer",
        },
    }


def privacy_route(*, registry: ShopRegistry, store: Store, platform: str) -> Route:
    """The route of one platform's shops (a service extension mounts it)."""
    service = PrivacyService(registry=registry, store=store, platform=platform)

    async def endpoint(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
            return JSONResponse({"status": "error", "error": "body too large (64 KiB)"}, 413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return JSONResponse({"status": "error", "error": "body too large (64 KiB)"}, 413)
        p = request.path_params
        result = await run_in_threadpool(
            service.handle, p["shop"], p["action"], dict(request.headers), body
        )
        return JSONResponse(dict(result.body), result.status, {"Cache-Control": "no-store"})

    return Route(f"/v1/privacy/{platform}/{{shop}}/{{action}}", endpoint, methods=["POST"])
