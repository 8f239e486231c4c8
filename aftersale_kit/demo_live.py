"""The live half of the demo: the example orders through the platform sandboxes and the service.

:class:`LiveDemo` starts what a shop would talk to, in this process: one platform sandbox per
platform the examples use, the service (SQLite in a temporary folder, uvicorn on a loopback port,
its worker). Each example shop is loaded with its API pointed at its sandbox and the same code
secret the offline run uses, so both runs make the same coupon codes.

Per order, in file order (one at a time, so limits and budgets carry over as offline):

1. **Time.** The service's clock is set to the time the offline run decided at (the order's
   payment time, else its creation): a November order meets the November campaigns, whenever
   the demo runs. Coupons start then and expire ``valid_days`` later.
2. **Seeding.** The sandbox gets what the offline run reads from ``enrichment/``: the customer's
   order count, spend and tags (Shopify: on the customer; WooCommerce: as earlier purchases,
   which is what a WooCommerce client counts) and the products' type, tags and categories.
3. **Delivery.** Shopify: the sandbox creates (or fulfils, cancels) the order and sends its
   webhooks itself. WooCommerce: the demo signs the order body and posts it (the sandbox on
   loopback cannot carry the example shop's ``home_url``, which the service checks).
4. **Result.** Once the worker is idle: the decision the service stored for the order's event,
   the coupons it created (looked up in the sandbox), the blocks the service stored for the
   order (what its block endpoint serves the thank-you page) and the preview page as the
   service renders it (:meth:`Processor.page`: the same blocks, all the order's steps).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from .core.campaign import ShopConfig
from .core.model import Order
from .demo_loyalty_facts import AccountFacts, LoyaltyFacts
from .demo_mail import dry_run_mail, mail_lines, work_off
from .demo_report import OrderRun, ShopRun, coupon_lines

__all__ = ["DemoClock", "LiveDemo", "LiveDemoError"]

#: Seconds to wait for webhooks and for the worker.
#: A job due further out than this is scheduled work, not the demo's.
SCHEDULED_LATER = timedelta(minutes=10)
TIMEOUT = 45.0
SHOPIFY_TOPICS = ("orders/paid", "orders/fulfilled", "orders/cancelled", "refunds/create")


class LiveDemoError(Exception):
    """Something in the live path failed; the message says what."""


class DemoClock:
    """The service's clock: a fixed moment the demo sets before each order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = datetime.now(UTC)

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def __call__(self) -> datetime:
        with self._lock:
            return self._now


@dataclass(frozen=True, slots=True)
class _Example:
    run: ShopRun
    folder: Path
    #: The webhook secret (WooCommerce: the demo signs deliveries and block tokens with it).
    secret: str


class LiveDemo:
    """Sandboxes, service and worker for the duration of a ``with`` block."""

    def __init__(
        self,
        runs: list[ShopRun],
        *,
        code_secret_of: Callable[[ShopConfig], bytes],
        out_dir: Path,
    ) -> None:
        platforms = [r.config.settings.platform for r in runs]
        if len(set(platforms)) != len(platforms):
            raise LiveDemoError("the live demo runs one example shop per platform")
        self.out_dir = out_dir
        self.clock = DemoClock()
        self._code_secret_of = code_secret_of
        self._stack = contextlib.ExitStack()
        self._runs = runs
        self._examples: dict[str, _Example] = {}
        self.sandboxes: dict[str, Any] = {}
        self.ports: list[int] = []
        self.url = ""

    # -- start and stop ---------------------------------------------------------------------------

    def __enter__(self) -> LiveDemo:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def closed(self) -> bool:
        """Whether every port the demo opened is closed again."""
        return not any(_listening(port) for port in self.ports)

    def _start(self) -> None:
        tmp = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="aftersale-demo-")))
        shops_dir = tmp / "shops"
        shops_dir.mkdir()
        env: dict[str, str] = {}
        for run in self._runs:
            self._start_sandbox(run.config)
            folder = run.config_path.parent
            platform = run.config.settings.platform
            secret = self._write_shop(run, shops_dir / f"{platform}.yaml", env)
            self._examples[platform] = _Example(run=run, folder=folder, secret=secret)
        self._start_service(tmp, shops_dir, env)

    def _start_sandbox(self, config: ShopConfig) -> None:
        settings = config.settings
        sandbox: Any
        if settings.platform == "shopify":
            from aftersale_kit_shopify.sandbox.fixtures import running_sandbox as shopify

            sandbox = self._stack.enter_context(
                shopify(
                    shop=settings.domain.removesuffix(".myshopify.com"),
                    currency=settings.currency,
                    time_scale=0.001,
                )
            )
        elif settings.platform == "woocommerce":
            from aftersale_kit_woocommerce.sandbox.fixtures import running_sandbox as woo

            sandbox = self._stack.enter_context(woo())
        else:
            raise LiveDemoError(f"the live demo has no sandbox for {settings.platform}")
        self.sandboxes[settings.platform] = sandbox
        self.ports.append(_port_of(sandbox.url))

    def _write_shop(self, run: ShopRun, target: Path, env: dict[str, str]) -> str:
        """The example's shop file with its API pointed at the sandbox; fills ``env`` with the
        values of the secrets it names. Returns the webhook secret."""
        platform = run.config.settings.platform
        sandbox = self.sandboxes[platform]
        data = yaml.safe_load(run.config_path.read_text(encoding="utf-8"))
        shop = data["shop"]
        shop["api_base_url"] = sandbox.url
        if shop.get("templates_dir"):
            shop["templates_dir"] = str((run.config_path.parent / shop["templates_dir"]).resolve())
        if data.get("mail"):
            folder = self.mail_folder(platform).resolve()
            shutil.rmtree(folder, ignore_errors=True)  # only this run's e-mails
            data["mail"] = dry_run_mail(data["mail"], folder)
        target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        webhook_secret = sandbox.secret if platform == "shopify" else "wc-" + secrets.token_hex(8)
        values = {
            "webhook_secret": webhook_secret,
            "code_secret": self._code_secret_of(run.config).decode(),
            "api_token": getattr(sandbox, "token", None),
            "consumer_key": getattr(sandbox, "consumer_key", None),
            "consumer_secret": getattr(sandbox, "consumer_secret", None),
            "client_id": getattr(sandbox, "client_id", None),
            "client_secret": webhook_secret if platform == "shopify" else None,
        }
        named = {**(shop.get("secrets") or {}), **(shop.get("auth") or {})}
        named.pop("method", None)
        for name, variable in named.items():
            value = values.get(name)
            if value is None:
                raise LiveDemoError(f"the demo has no value for secret {name!r} of {platform}")
            if env.setdefault(variable, value) != value:
                raise LiveDemoError(f"two example shops need different values in ${variable}")
        return webhook_secret

    def _start_service(self, tmp: Path, shops_dir: Path, env: dict[str, str]) -> None:
        import uvicorn

        from .service.bootstrap import bootstrap
        from .storage.credentials import KEY_ENV

        env.setdefault(KEY_ENV, _fernet_key())
        wiring = bootstrap(
            config=shops_dir,
            db_url=f"sqlite:///{tmp / 'service.db'}",
            env=env,
            adapter_options={},
            clock=self.clock,
        )
        self._stack.callback(wiring.close)
        self.registry, self.store, self.processor = wiring.registry, wiring.store, wiring.processor
        self.worker = wiring.worker(
            threads=2, poll_interval=0.02, retry_base=0.05, retry_cap=1.0, lease_seconds=30.0
        )
        app = wiring.app(worker=self.worker)
        port = _free_port()
        self.ports.append(port)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()

        def stop() -> None:
            server.should_exit = True
            thread.join(15)

        self._stack.callback(stop)
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise LiveDemoError("the service did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        shopify = self.sandboxes.get("shopify")
        if shopify is not None:
            for topic in SHOPIFY_TOPICS:
                shopify.subscribe(topic, f"{self.url}/webhooks/shopify")

    # -- the orders -------------------------------------------------------------------------------

    def mail_folder(self, platform: str) -> Path:
        """Where the shop's follow-up e-mails are written (a dry run, nothing is sent)."""
        return self.out_dir / platform / "mail"

    def mail_lines(self, configs: list[ShopConfig]) -> dict[str, list[str]]:
        """The follow-up e-mails per shop domain, worked off by the service's sweep at an
        injected clock moved past their due times (:mod:`.demo_mail`)."""
        from .service.mail_sweep import MessageSender

        planned = {m.id: m.due_at for m in self.store.messages(limit=10_000)}
        sender = MessageSender(self.processor, worker_id="demo-mail", public_url=self.url)
        try:
            work_off(sender, self.clock.set)
            found: dict[str, list[str]] = {}
            for config in configs:
                entry = self.registry.by_domain(config.settings.domain)
                if entry is None or config.mail is None:
                    continue
                folder = self.mail_folder(config.settings.platform)
                found[config.settings.domain] = list(
                    mail_lines(sender, entry, planned, folder=folder)
                )
            return found
        finally:
            sender.close()

    def run_shop(self, offline: ShopRun) -> ShopRun:
        """Every order of one example through its sandbox and the service, in file order."""
        import requests

        example = self._examples[offline.config.settings.platform]
        runs: list[OrderRun] = []
        with requests.Session() as client:
            for planned in offline.orders:
                runs.append(self._run_order(client, example, planned))
        return ShopRun(
            config_path=offline.config_path,
            config=offline.config,
            orders=tuple(runs),
            accounts=tuple(self._release(offline)),
            released_at=offline.released_at,
        )

    def _release(self, offline: ShopRun) -> list[AccountFacts]:
        """The worker's sweep at the moment the offline run releases (the approval period of
        the last order over), then every points account as the service holds it."""
        from .demo_loyalty import live_accounts
        from .service.loyalty import sweep

        moment = offline.released_at
        if moment is None:
            return []
        self.clock.set(moment)
        sweep(self.processor, now=moment)
        self._wait_for_worker()
        return live_accounts(self.store, offline.config, now=moment)

    def _run_order(self, client: Any, example: _Example, offline: OrderRun) -> OrderRun:
        payload = _read(example.folder / "orders" / offline.file)
        enrichment = _read_optional(example.folder / "enrichment" / offline.file)
        if offline.decision is not None:
            self.clock.set(offline.decision.decided_at)
        platform = example.run.config.settings.platform
        sandbox = self.sandboxes[platform]
        if platform == "shopify":
            _deliver_shopify(sandbox, payload, enrichment, label=offline.file)
        else:
            _seed_woocommerce(sandbox, payload, enrichment)
            self._post_woocommerce(client, example, payload, label=offline.file)
        self._wait_for_worker()
        config = example.run.config
        record = self.store.decision(
            shop=config.settings.domain, order_id=offline.order.id, event_kind=offline.event
        )
        decision = record.decision if record is not None else None
        loyalty = self._loyalty(example, offline.order)
        blocks = self._blocks(example, offline.order)
        preview = self._preview(example, offline)
        codes = _codes_in(platform, sandbox)
        return OrderRun(
            file=offline.file,
            order=offline.order,
            event=offline.event,
            decision=decision,
            coupons=coupon_lines(decision, offline.order, config, in_shop=codes)
            if decision
            else (),
            blocks=tuple(str(b.get("block")) for b in blocks),
            preview=preview,
            loyalty=loyalty,
        )

    def _loyalty(self, example: _Example, order: Order) -> LoyaltyFacts | None:
        """What the service booked for the order on its customer's points account."""
        from .demo_loyalty import live_facts

        config = example.run.config
        entry = self.registry.by_domain(config.settings.domain)
        if entry is None:
            raise LiveDemoError(f"the service has no shop {config.settings.domain}")
        timeline = self.processor.timeline(entry, order.id)[0]
        return live_facts(self.store, config, order, timeline, now=self.clock())

    def _post_woocommerce(
        self, client: Any, example: _Example, payload: dict[str, Any], *, label: str
    ) -> None:
        headers, raw = _woocommerce_delivery(
            payload, domain=example.run.config.settings.domain, secret=example.secret
        )
        answer = client.post(
            f"{self.url}/webhooks/woocommerce", data=raw, headers=headers, timeout=10
        )
        if answer.status_code >= 300:
            raise LiveDemoError(
                f"{label}: the service answered {answer.status_code}: {answer.text[:200]}"
            )

    def _wait_for_worker(self) -> None:
        from .storage import JobStatus

        deadline = time.monotonic() + TIMEOUT
        while True:
            stats = self.store.queue_stats()
            # a job scheduled for much later (a pre-sale tag's removal at the pre-sale's end) is
            # not waited for; one retried in a few seconds (a platform's 429 or a busy lock) is
            # (counted after the one read of the queue's figures: a job claimed or added in
            # between makes the two differ, and the loop looks again)
            later = datetime.now(UTC) + SCHEDULED_LATER
            pending = self.store.jobs(status=JobStatus.PENDING, limit=10_000)
            scheduled = sum(1 for j in pending if j.run_at > later)
            waiting = stats.get(JobStatus.PENDING, 0)
            if stats.get(JobStatus.CLAIMED, 0) == 0 and waiting == scheduled:
                return
            if time.monotonic() > deadline:
                raise LiveDemoError(f"the worker did not finish within {TIMEOUT:.0f} s: {stats}")
            time.sleep(0.02)

    def _blocks(self, example: _Example, order: Order) -> list[dict[str, Any]]:
        """The blocks the service stored for the order: what its block endpoint serves the
        thank-you page, the metafield and the order meta (``[]`` while it has none)."""
        stored = self.store.load_blocks(example.run.config.settings.domain, order.id)
        blocks = (stored or {}).get("blocks")
        return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []

    def _preview(self, example: _Example, run: OrderRun) -> str:
        """The order's preview page as the service renders it (the same blocks as its block
        endpoint serves, all the order's steps so far); returns its path."""
        config = example.run.config
        entry = self.registry.by_domain(config.settings.domain)
        if entry is None:
            raise LiveDemoError(f"the service has no shop {config.settings.domain}")
        page = self.processor.page(entry, self.processor.order(entry, run.order.id))
        target = self.out_dir / config.settings.platform / f"{Path(run.file).stem}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        return str(target)

    # -- technical lines (--verbose) ---------------------------------------------------------------

    def technical_lines(self) -> Iterator[str]:
        from .storage import JobStatus

        for platform, sandbox in self.sandboxes.items():
            yield f"sandbox {platform}: {sandbox.url}"
        yield f"service: {self.url}; ports: {' '.join(str(p) for p in self.ports)}"
        stats = self.store.queue_stats()
        yield "worker jobs: " + ", ".join(f"{k.value} {v}" for k, v in sorted(stats.items()))
        for job in self.store.jobs(status=JobStatus.DEAD):
            yield f"dead job {job.id} ({job.kind}): {job.last_error or ''}"
        for platform, sandbox in self.sandboxes.items():
            codes = ", ".join(sorted(_codes_in(platform, sandbox)))
            yield f"coupons in the {platform} sandbox: {codes}"
        yield from self._content_lines()

    def _content_lines(self) -> Iterator[str]:
        """The content the platforms hold per order (Shopify metafield, WooCommerce meta)."""
        shopify = self.sandboxes.get("shopify")
        for field in shopify.metafields() if shopify is not None else []:
            owner = str(field.get("owner_id") or field.get("ownerId") or field.get("owner") or "")
            types = ", ".join(_block_types(field.get("value"))) or "(none)"
            yield f"shopify {owner} {field.get('namespace')}.{field.get('key')}: {types}"
        woo = self.sandboxes.get("woocommerce")
        example = self._examples.get("woocommerce")
        if woo is None or example is None:
            return
        for order_id in dict.fromkeys(run.order.id for run in example.run.orders):
            for meta in woo.order_meta(int(order_id)):
                if meta.get("key") == "_aftersale_kit_blocks":
                    types = ", ".join(_block_types(meta.get("value"))) or "(none)"
                    yield f"woocommerce order {order_id} _aftersale_kit_blocks: {types}"

    def dead_jobs(self) -> int:
        from .storage import JobStatus

        return len(self.store.jobs(status=JobStatus.DEAD))


# -- seeding and delivering ---------------------------------------------------------------------


def _deliver_shopify(
    sandbox: Any, payload: dict[str, Any], enrichment: dict[str, Any], *, label: str
) -> None:
    """The order (new, or a later state of one already there) into the sandbox, which sends its
    webhooks; waits until they are delivered."""
    order_id = payload.get("id")
    if str(order_id) in {str(o.get("id")) for o in sandbox.orders()}:
        if payload.get("fulfillment_status") == "fulfilled":
            sandbox.fulfill(order_id)
        if payload.get("cancelled_at"):
            sandbox.cancel(order_id)
    else:
        customer: dict[str, Any] | None = None
        if payload.get("customer"):
            customer = {**payload["customer"], **(enrichment.get("customer") or {})}
        sandbox.create_order(
            order=payload, customer=customer, products=_shopify_products(payload, enrichment)
        )
    if not sandbox.wait_for_deliveries(TIMEOUT):
        raise LiveDemoError(f"{label}: webhooks still in flight after {TIMEOUT:.0f} s")
    failed = [d for d in sandbox.deliveries() if d.get("state") != "delivered"]
    if failed:
        raise LiveDemoError(f"{label}: the service refused Shopify webhooks: {failed[:2]}")


def _shopify_products(
    payload: dict[str, Any], enrichment: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Product type, tags, vendor and collections (the enrichment's categories) per product."""
    by_sku = enrichment.get("products") or {}
    products: dict[str, dict[str, Any]] = {}
    for item in payload.get("line_items") or []:
        spec = by_sku.get(item.get("sku") or "")
        if not spec or not item.get("product_id"):
            continue
        taxonomy = {k: v for k, v in spec.items() if k in ("product_type", "tags", "vendor")}
        if spec.get("categories") is not None:
            taxonomy["collections"] = spec["categories"]
        products[str(item["product_id"])] = taxonomy
    return products


def _seed_woocommerce(sandbox: Any, payload: dict[str, Any], enrichment: dict[str, Any]) -> None:
    """The order as it is, its products with categories and tags, and its customer with the
    purchases the enrichment counts (earlier orders where it counts more than the sandbox has)."""
    by_sku = enrichment.get("products") or {}
    for item in payload.get("line_items") or []:
        if not item.get("product_id"):
            continue
        spec = by_sku.get(item.get("sku") or "") or {}
        sandbox.add_product(
            int(item["product_id"]),
            name=str(item.get("name") or ""),
            sku=str(item.get("sku") or ""),
            categories=spec.get("categories") or [],
            tags=spec.get("tags") or [],
        )
    sandbox.load_order(payload=payload)
    customer_id = int(payload.get("customer_id") or 0)
    history = enrichment.get("customer") or {}
    if not customer_id or history.get("orders_count") is None:
        return
    from aftersale_kit_woocommerce.enrich import PURCHASE_STATUSES

    # The enrichment counts this order too; a client counts it only once it is a purchase.
    counted = 0 if payload.get("status") in PURCHASE_STATUSES else 1
    try:
        sandbox.set_customer_history(
            customer_id,
            orders_count=int(history["orders_count"]) - counted,
            total_spent=history.get("total_spent"),
            email=str((payload.get("billing") or {}).get("email") or ""),
            currency=str(payload.get("currency") or "") or None,
            before=_paid_at(payload),
        )
    except ValueError as exc:
        raise LiveDemoError(
            f"order {payload.get('id')}: enrichment and sandbox disagree: {exc}"
        ) from exc


def _paid_at(payload: dict[str, Any]) -> datetime | None:
    stamp = payload.get("date_paid_gmt") or payload.get("date_created_gmt")
    if not stamp:
        return None
    return datetime.fromisoformat(str(stamp)).replace(tzinfo=UTC)


def _woocommerce_delivery(
    payload: dict[str, Any], *, domain: str, secret: str
) -> tuple[dict[str, str], bytes]:
    # Signed here rather than by the sandbox: WooCommerce names the shop by its home_url (the
    # example's own domain), which a sandbox on loopback cannot have while it verifies OAuth
    # signatures over its home_url. The bytes are PHP-encoded, as WooCommerce sends them.
    from aftersale_kit_woocommerce.sandbox import php_json_dumps
    from aftersale_kit_woocommerce.webhooks import sign_body

    raw = php_json_dumps(payload)
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": f"https://{domain}/",
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "updated",
        "X-WC-Webhook-Signature": sign_body(raw, secret),
        "X-WC-Webhook-ID": "1",
        "X-WC-Webhook-Delivery-ID": str(uuid.uuid4()),
    }
    return headers, raw


def _block_types(value: Any) -> list[str]:
    """``type`` of every block of a stored blocks document (``{"blocks": [{"type": ...}]}``)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, dict) or not isinstance(value.get("blocks"), list):
        return []
    return [str(b.get("type")) for b in value["blocks"] if isinstance(b, dict)]


def _codes_in(platform: str, sandbox: Any) -> set[str]:
    """The coupon codes the sandbox holds (in use or not)."""
    if platform == "shopify":
        return {str(code) for d in sandbox.discounts() for code in d.get("codes") or []}
    return {str(c.get("code")) for c in sandbox.coupons() if c.get("status") != "trash"}


# -- small helpers ------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise LiveDemoError(f"{path}: expected a JSON object")
    return data


def _read_optional(path: Path) -> dict[str, Any]:
    return _read(path) if path.exists() else {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _fernet_key() -> str:
    """A throw-away key for the demo's encrypted credentials."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
