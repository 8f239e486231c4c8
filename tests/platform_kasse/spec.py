"""The kasse platform's declaration: all the product knows about it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aftersale_kit.core.model import EventKind
from aftersale_kit.core.platform_spec import AuthMethod, PlatformSpec, WebhookHeaders

from .orders import NAME, normalize_kasse_order

FIELDS = frozenset(
    {
        "order.subtotal", "order.total", "order.currency", "order.email", "order.item_count",
        "line_items.title", "line_items.quantity", "line_items.price", "line_items.total",
        "customer.is_guest", "customer.email",
    }
)  # fmt: skip


def _check_domain(domain: str) -> str | None:
    return None if domain.endswith(".kasse.test") else "expected the shop's kasse.test domain"


def _recognizes(body: Mapping[str, Any]) -> bool:
    return "kasse_order" in body


SPEC = PlatformSpec(
    name=NAME,
    title="Kasse",
    secrets={"webhook_secret": "signs webhooks", "code_secret": "coupon code key"},
    auth_methods=(AuthMethod("none", (), "the test platform needs no API credentials"),),
    fields=FIELDS,
    triggers=frozenset({EventKind.ORDER_PAID, EventKind.ORDER_CANCELLED}),
    trigger_notes={EventKind.ORDER_CREATED: (EventKind.ORDER_PAID, "kasse reports paid orders")},
    normalize=normalize_kasse_order,
    adapter="platform_kasse.adapter:KasseAdapter",
    webhook=WebhookHeaders(
        shop=lambda h: h.get("x-kasse-shop", ""),
        topic=lambda h: h.get("x-kasse-topic", ""),
        kept_prefixes=("x-kasse-",),
    ),
    env_examples={"webhook_secret": "KASSE_WEBHOOK_SECRET"},
    domain_help="the kasse.test domain",
    check_domain=_check_domain,
    recognizes=_recognizes,
    recognizes_help="'kasse_order'",
    service="platform_kasse.service",
)
