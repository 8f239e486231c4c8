"""Test harness for the service: a real uvicorn server on a loopback port, a real store, the
platform sandboxes, and helpers that sign deliveries as the platforms do."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn

from aftersale_kit.service.bootstrap import bootstrap
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.shops import ShopRegistry
from aftersale_kit.service.worker import Worker
from aftersale_kit.storage import Store
from aftersale_kit.storage.memory import MemoryStore

SHOP_YAML = """\
version: 1
shop:
  platform: {platform}
  domain: {domain}
  currency: {currency}
  locale: de_DE
  api_base_url: {base_url}
{api_version}  secrets:
{secrets}
campaigns:
  - id: danke
    trigger: order_paid
{limit}    actions:
      - issue_coupon: {{type: fixed_amount, value: 5, valid_days: 30, code_prefix: DANKE}}
      - show_block: {{block: coupon, params: {{headline: Danke!}}}}
"""


def shop_yaml(
    *,
    platform: str,
    domain: str,
    base_url: str,
    secrets: Mapping[str, str],
    currency: str = "USD",
    usage_limit: int | None = None,
    budget: str | None = None,
) -> str:
    return SHOP_YAML.format(
        platform=platform,
        domain=domain,
        currency=currency,
        base_url=base_url,
        api_version='  api_version: "2026-01"\n' if platform == "shopify" else "",
        secrets="".join(f"    {k}: {v}\n" for k, v in secrets.items()),
        limit=(f"    usage_limit: {usage_limit}\n" if usage_limit is not None else "")
        + (f"    budget: {{amount: {budget}, period: total}}\n" if budget is not None else ""),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Service:
    url: str
    store: Store
    registry: ShopRegistry
    worker: Worker | None
    processor: Processor


@contextmanager
def running_service(
    *,
    config: Path,
    db_url: str | None,
    sqlite_path: Path | None = None,
    env: Mapping[str, str],
    adapter_options: Mapping[str, Any] | None = None,
    worker: bool = True,
    threads: int = 4,
    retry_base: float = 0.05,
    lease_seconds: float = 30.0,
    shopify_api_key: str | None = None,
    max_body_bytes: int | None = None,
    export_dir: Path | None = None,
    admin_collect: Any = None,
) -> Iterator[Service]:
    """The service on a loopback port (uvicorn in a thread), with or without its worker.

    ``export_dir``: where customer data exports go (the ``--export-dir`` of ``serve``);
    ``admin_collect``: what computes the dashboard's figures, instead of the results package."""
    environment = dict(env)
    if shopify_api_key:
        environment["SHOPIFY_API_KEY"] = shopify_api_key
    wiring = bootstrap(
        config=config,
        db_url=db_url,
        sqlite_path=sqlite_path or "service.db",
        env=environment,
        adapter_options=adapter_options or {},
        export_dir=export_dir,
    )
    if admin_collect is not None:
        wiring = dataclasses.replace(
            wiring, admin=dataclasses.replace(wiring.admin, collect=admin_collect)
        )
    registry, store, processor = wiring.registry, wiring.store, wiring.processor
    job_loop = (
        wiring.worker(
            threads=threads,
            poll_interval=0.02,
            retry_base=retry_base,
            retry_cap=1.0,
            lease_seconds=lease_seconds,
        )
        if worker
        else None
    )
    app = wiring.app(worker=job_loop, max_body_bytes=max_body_bytes)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.01)
    try:
        yield Service(
            url=f"http://127.0.0.1:{port}",
            store=store,
            registry=registry,
            worker=job_loop,
            processor=processor,
        )
    finally:
        server.should_exit = True
        thread.join(15)
        store.close()


def shopify_delivery(
    *,
    topic: str,
    body: Mapping[str, Any] | bytes,
    shop: str,
    secret: str,
    event_id: str | None = None,
) -> tuple[dict[str, str], bytes]:
    from aftersale_kit_shopify.webhooks import sign_body

    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign_body(raw, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
    }
    return headers, raw


def wait_for(predicate: Any, *, timeout: float = 30.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def woocommerce_delivery(
    *,
    body: Mapping[str, Any] | bytes,
    source: str,
    secret: str,
    topic: str = "order.updated",
    webhook_id: str = "1",
) -> tuple[dict[str, str], bytes]:
    """A delivery as WooCommerce sends it: a new ``X-WC-Webhook-Delivery-ID`` every time."""
    from aftersale_kit_woocommerce.webhooks import sign_body

    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    resource, _, event = topic.partition(".")
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign_body(raw, secret),
        "X-WC-Webhook-ID": webhook_id,
        "X-WC-Webhook-Delivery-ID": str(uuid.uuid4()),
    }
    return headers, raw


def drain(svc: Service, *, timeout: float = 30.0) -> Worker:
    """Run every due job of an intake-only service in this thread; returns the worker (its
    metrics count what it did)."""
    worker = Worker(svc.processor, threads=1, retry_base=0.05, retry_cap=1.0)
    worker.run_until_idle(timeout=timeout)
    return worker


#: The stores a service test can run on: the in-memory one (no database, fast) and SQLite.
STORES = ["memory", "sqlite"]


@contextmanager
def open_store(kind: str, folder: Path) -> Iterator[Store | MemoryStore]:
    """A fresh store of ``kind`` (``"memory"`` or ``"sqlite"``, a file in ``folder``)."""
    if kind == "memory":
        with MemoryStore() as memory:
            yield memory
        return
    with Store.open(f"sqlite:///{folder / 'service.db'}", migrate=True) as store:
        yield store
