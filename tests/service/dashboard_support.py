"""A Shopify sandbox shop with the dashboard's operator token, and the steps of its orders
(paid, refunded) delivered to the running service as the platform does."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx

from aftersale_kit.service.admin_access import ENV_TOKEN
from aftersale_kit.storage import JobStatus

from .harness import Service, shopify_delivery, wait_for

TOKEN = secrets.token_urlsafe(24)


def shop_folder(
    folder: Path, sandbox: Any, campaigns: str, *, currency: str = "USD"
) -> tuple[Path, dict[str, str]]:
    """``folder/shop.yaml`` for the sandbox with ``campaigns`` (YAML under ``campaigns:``), and
    the environment with its secrets and the operator token."""
    env = {
        "SHOP_WEBHOOK_SECRET": sandbox.secret,
        "SHOP_API_TOKEN": sandbox.token,
        "SHOP_CODE_SECRET": "code-" + secrets.token_hex(12),
        ENV_TOKEN: TOKEN,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shop.yaml").write_text(
        f"""version: 1
shop:
  platform: shopify
  domain: {sandbox.shop_domain}
  currency: {currency}
  locale: de_DE
  api_base_url: {sandbox.url}
  api_version: "2026-01"
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    api_token: SHOP_API_TOKEN
    code_secret: SHOP_CODE_SECRET
campaigns:
{campaigns}""",
        encoding="utf-8",
    )
    return folder, env


def deliver(svc: Service, sandbox: Any, topic: str, body: dict[str, Any], event_id: str) -> None:
    headers, raw = shopify_delivery(
        topic=topic, body=body, shop=sandbox.shop_domain, secret=sandbox.secret, event_id=event_id
    )
    answer = httpx.post(f"{svc.url}/webhooks/shopify", headers=headers, content=raw)
    assert answer.status_code == 200, answer.text


def pay(svc: Service, sandbox: Any, order: dict[str, Any]) -> None:
    deliver(svc, sandbox, "orders/paid", order, f"evt-{order['id']}-paid")


def refund(svc: Service, sandbox: Any, order_id: str, amount: str) -> None:
    body = sandbox.refund(order_id, amount=amount)
    deliver(svc, sandbox, "refunds/create", body, f"evt-{order_id}-refund")


def settle(svc: Service) -> None:
    """Wait until the worker has done every job."""

    def idle() -> bool:
        stats = svc.store.queue_stats()
        return stats.get(JobStatus.PENDING, 0) + stats.get(JobStatus.CLAIMED, 0) == 0

    wait_for(idle, timeout=60)


def codes(svc: Service, shop: str, order_id: str) -> list[str]:
    """The codes the service issued for an order (none for a customer in a holdout)."""
    return [c.code for c in svc.store.coupons_for_order(shop, order_id) if c.platform_id]
