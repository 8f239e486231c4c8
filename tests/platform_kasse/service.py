"""The kasse service extension: its thank-you page sends ``?token=hex(HMAC(secret, shop|id))``."""

from __future__ import annotations

import hashlib
import hmac

from aftersale_kit.service.extensions import BlockDenial, BlockGrant, BlockLookup, BlockRequest


def page_token(secret: str, shop: str, order_id: str) -> str:
    return hmac.new(secret.encode(), f"{shop}|{order_id}".encode(), hashlib.sha256).hexdigest()


def authorize_block(request: BlockRequest, lookup: BlockLookup) -> BlockDenial | BlockGrant:
    if not request.token:
        return BlockDenial(401, "missing ?token=")
    if request.order_id is None:
        return BlockDenial(404, "unknown order")
    expected = page_token(request.entry.token_secret, request.entry.domain, request.order_id)
    if not hmac.compare_digest(expected, request.token.strip().lower()):
        return BlockDenial(401, "bad token")
    return BlockGrant(request.order_id)
