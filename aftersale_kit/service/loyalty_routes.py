"""The storefront's loyalty endpoints, authenticated exactly as the block endpoint is.

=======  =========================================  ==========================================
GET      /v1/loyalty/{platform}/{shop}/balance      ``?order=<order id>`` (+ the block token)
POST     /v1/loyalty/{platform}/{shop}/redeem       JSON ``{"order", "option", "request",
                                                    "cart_value"?}`` (+ the block token)
=======  =========================================  ==========================================

The customer is the customer of the order the request is authenticated for: the same
``Authorization`` session token, or ``?token=`` (and ``&key=``) order token, that the thank-you
block request for that order carries (:meth:`.blocks.BlockService.authorized_order`).

Answers: 200 with the balance, or ``{"status": "redeemed", "code", "points", "available"}``;
409 ``{"status": "refused", "reason"}`` when the redemption is not allowed (too few points,
unknown option, over the cart share); 400 for a malformed request naming what is wrong; 401/404
as for blocks; 404 for a shop without a loyalty program or an order without an account; 202
while the order is not visible yet; 503 when the platform did not answer. Never a 5xx for bad
input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.model import Order
from .blocks import BlockResult, BlockService
from .loyalty import LoyaltyError, balance, redeem
from .shops import ShopEntry

__all__ = ["loyalty_routes"]

_MAX_BODY = 16 * 1024
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
    "Cache-Control": "no-store",
}


class _BadRequest(ValueError):
    pass


def _json(status: int, body: Mapping[str, Any], retry_after: int | None = None) -> Response:
    headers = dict(_CORS)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(dict(body), status, headers)


def _bad(reason: str) -> Response:
    return _json(400, {"status": "error", "error": reason})


def _from_block(result: BlockResult) -> Response:
    body = dict(result.body) if result.raw is None else {"status": "error"}
    return _json(result.status, body, result.retry_after)


def _text(data: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise _BadRequest(f"{name}: expected a text of 1 to 128 characters")
    return value


def _cart(data: Mapping[str, Any]) -> Decimal | None:
    value = data.get("cart_value")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _BadRequest('cart_value: expected an amount such as "49.90"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise _BadRequest('cart_value: expected an amount such as "49.90"') from exc
    if not amount.is_finite() or amount < 0 or amount > Decimal("1e9"):
        raise _BadRequest("cart_value: expected an amount of 0 or more")
    return amount


async def _body(request: Request) -> Mapping[str, Any]:
    data = b""
    try:
        async for chunk in request.stream():
            data += chunk
            if len(data) > _MAX_BODY:
                raise _BadRequest(f"the body is larger than {_MAX_BODY} bytes")
    except ClientDisconnect as exc:
        raise _BadRequest("the body did not arrive") from exc
    try:
        parsed = json.loads(data or b"{}")
    except (ValueError, RecursionError) as exc:
        raise _BadRequest("the body is not JSON") from exc
    if not isinstance(parsed, dict):
        raise _BadRequest("the body must be a JSON object")
    return parsed


def _balance_body(entry: ShopEntry, found: Any) -> dict[str, Any]:
    program = entry.config.loyalty
    options = program.redemption.options if program is not None else ()
    return {
        "status": "ok",
        "pending": found.pending,
        "available": found.available,
        "currency": entry.config.settings.currency,
        "options": [{"id": o.id, "points": o.points, "value": str(o.value)} for o in options],
    }


class _Endpoints:
    def __init__(self, blocks: BlockService) -> None:
        self.blocks = blocks
        self.processor = blocks.processor

    def authorized(self, request: Request, order_id: str) -> tuple[ShopEntry, Order] | BlockResult:
        p = request.path_params
        return self.blocks.authorized_order(
            p["platform"],
            p["shop"],
            order_id,
            authorization=request.headers.get("authorization"),
            token=request.query_params.get("token"),
            order_key=request.query_params.get("key"),
        )

    def read_balance(self, request: Request, order_id: str) -> Response:
        found = self.authorized(request, order_id)
        if isinstance(found, BlockResult):
            return _from_block(found)
        entry, order = found
        try:
            current = balance(self.processor, entry, order=order)
        except LoyaltyError as exc:
            return _json(404, {"status": "error", "error": str(exc)})
        return _json(200, _balance_body(entry, current))

    def do_redeem(self, request: Request, data: Mapping[str, Any]) -> Response:
        order_id = _text(data, "order") or ""
        option = _text(data, "option") or ""
        request_id = _text(data, "request") or ""
        cart = _cart(data)
        found = self.authorized(request, order_id)
        if isinstance(found, BlockResult):
            return _from_block(found)
        entry, order = found
        try:
            outcome = redeem(
                self.processor,
                entry,
                order=order,
                option_id=option,
                request=request_id,
                cart_value=cart,
            )
        except LoyaltyError as exc:
            return _json(404, {"status": "error", "error": str(exc)})
        if not outcome.ok:
            return _json(409, {"status": "refused", "reason": outcome.reason})
        available = outcome.balance.available if outcome.balance is not None else None
        return _json(
            200,
            {
                "status": "redeemed",
                "code": outcome.code,
                "points": outcome.points,
                "available": available,
                "repeated": outcome.repeated,
            },
        )

    async def balance(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_CORS)
        try:
            order_id = _text(dict(request.query_params), "order") or ""
        except _BadRequest as exc:
            return _bad(str(exc))
        return await run_in_threadpool(self.read_balance, request, order_id)

    async def redeem(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_CORS)
        try:
            data = await _body(request)
            return await run_in_threadpool(self.do_redeem, request, data)
        except _BadRequest as exc:
            return _bad(str(exc))


def loyalty_routes(blocks: BlockService) -> list[Route]:
    """The two routes (see the module docstring)."""
    endpoints = _Endpoints(blocks)
    return [
        Route(
            "/v1/loyalty/{platform}/{shop}/balance", endpoints.balance, methods=["GET", "OPTIONS"]
        ),
        Route(
            "/v1/loyalty/{platform}/{shop}/redeem", endpoints.redeem, methods=["POST", "OPTIONS"]
        ),
    ]
