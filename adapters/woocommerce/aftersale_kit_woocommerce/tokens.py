"""The thank-you page token the companion plugin computes (pure, standard library only).

``token = hex(HMAC-SHA256(key=<the shop's webhook secret>, msg="{shop}|{order_id}|{order_key}"))``
with ``shop`` the store's host name as configured, ``order_id`` the decimal order id and
``order_key`` WooCommerce's ``wc_order_...`` key, UTF-8, hex in lower case. In PHP:
``hash_hmac('sha256', "$shop|$order_id|" . $order->get_order_key(), $secret)``.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["block_token"]


def block_token(*, secret: str, shop: str, order_id: str, order_key: str) -> str:
    """The token the companion plugin puts in ``?token=``."""
    message = f"{shop}|{order_id}|{order_key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
