"""The demo (``make demo``, ``python -m aftersale_kit.demo``): every example shop, every order.

By default the demo runs live (:func:`run_live`): both platform sandboxes and the real service
(SQLite in a temporary folder, uvicorn on a loopback port, its worker) are started in this
process; the two example shops are loaded with their API pointing at the sandboxes; every example
order is seeded into its sandbox (with its enrichment: customer history, product taxonomy) and
delivered to the service as a signed webhook; once the worker has done every job the demo prints,
per order, the stored decisions, then the coupons and confirmation content now in each sandbox,
and writes preview pages to ``demo-out/``. Everything is stopped afterwards; any failure on the
way ends the demo with a message and exit code 1.

``--offline`` keeps the old behaviour: for each ``examples/*/shop.yaml`` the config is
validated; then every ``orders/*.json`` next to it (a raw webhook body) is normalized, filled in
with ``enrichment/<same name>.json`` when that exists (the customer and product data an adapter
would fetch), and decided on. The orders of a shop are decided in file order against one set of
in-memory counters, so limits and budgets carry over from order to order. The output says, per
order, which campaigns fire and why the others do not. The exit code is 1 if anything failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from .cli import (
    DEMO_CODE_SECRET,
    EvaluationError,
    evaluate_payload,
    format_decision,
    load_shop_config,
    read_json_file,
)
from .core.counters import InMemoryCounters
from .core.errors import ConfigError, PayloadError

__all__ = ["LiveDemoError", "default_examples_dir", "main", "run_live", "run_shop"]


def default_examples_dir() -> Path:
    """The example shops: ``aftersale_kit/_examples`` in an installed wheel, else ``examples/``
    of the source checkout (next to the package)."""
    package = Path(__file__).resolve().parent
    shipped = package / "_examples"
    return shipped if shipped.is_dir() else package.parent / "examples"


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_shop(config_path: Path, *, out: TextIO) -> tuple[int, set[str], set[str]]:
    """Validate one shop and decide all its orders. Returns (failures, fired ids, all ids)."""
    name = _relative(config_path)
    try:
        config = load_shop_config(config_path)
    except ConfigError as exc:
        print(f"== {name}: INVALID", file=out)
        for problem in exc.problems:
            print(f"   {problem}", file=out)
        return 1, set(), set()
    settings = config.settings
    campaign_ids = {c.id for c in config.campaigns if c.enabled}
    print(
        f"== {name}: ok ({settings.platform}, {settings.domain}, "
        f"{len(config.campaigns)} campaigns)",
        file=out,
    )
    ref = settings.secret("code_secret")
    secret = os.environ.get(ref.env, "").encode() if ref is not None else b""
    secret = secret or DEMO_CODE_SECRET
    counters = InMemoryCounters()
    failures = 0
    fired: set[str] = set()
    orders = sorted((config_path.parent / "orders").glob("*.json"))
    if not orders:
        print("   no orders/*.json to decide on", file=out)
        return 1, fired, campaign_ids
    for order_path in orders:
        enrich_path = config_path.parent / "enrichment" / order_path.name
        label = _relative(order_path)
        try:
            payload = read_json_file(order_path)
            enrichment = read_json_file(enrich_path) if enrich_path.exists() else None
            order, decision = evaluate_payload(
                config,
                payload,
                enrichment=enrichment,
                enrichment_source=_relative(enrich_path),
                code_secret=secret,
                counters=counters,
            )
        except (PayloadError, EvaluationError) as exc:
            print(f"\n-- {label}: FAILED: {exc}", file=out)
            failures += 1
            continue
        counters.record(decision, order)
        fired.update(decision.fired)
        extra = f" + {_relative(enrich_path)}" if enrichment is not None else ""
        print(f"\n-- {label}{extra}", file=out)
        text = format_decision(order, decision, timezone=settings.timezone)
        print("\n".join(f"   {line}" if line else "" for line in text.splitlines()), file=out)
    return failures, fired, campaign_ids


# -- the live demo -------------------------------------------------------------------------------

SHOPIFY_SHOP = "kaffeeroesterei-shopify"
WOOCOMMERCE_SHOP = "elektronik-woocommerce"
LIVE_TIMEOUT = 45.0
SHOPIFY_TOPICS = ("orders/paid", "orders/fulfilled", "orders/cancelled", "refunds/create")


class LiveDemoError(Exception):
    """Something in the live path failed; the message says what."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _write_shop(example: Path, target: Path, *, api_base_url: str) -> dict[str, Any]:
    """The example shop file with only ``api_base_url`` (and an absolute templates folder)
    changed; returns its ``shop:`` section."""
    data = yaml.safe_load((example / "shop.yaml").read_text(encoding="utf-8"))
    shop = data["shop"]
    shop["api_base_url"] = api_base_url
    if shop.get("templates_dir"):
        shop["templates_dir"] = str((example / shop["templates_dir"]).resolve())
    target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dict(shop)


def _orders(example: Path) -> list[tuple[Path, dict[str, Any], dict[str, Any] | None]]:
    out = []
    for order_path in sorted((example / "orders").glob("*.json")):
        enrich_path = example / "enrichment" / order_path.name
        payload = json.loads(order_path.read_text(encoding="utf-8"))
        enrichment = (
            json.loads(enrich_path.read_text(encoding="utf-8")) if enrich_path.exists() else None
        )
        out.append((order_path, payload, enrichment))
    return out


def _seed_shopify(sandbox: Any, payload: dict[str, Any], enrichment: dict[str, Any] | None) -> None:
    """The order, its customer's history and its products' taxonomy, as the API will show them."""
    enrichment = enrichment or {}
    products: dict[str, dict[str, Any]] = {}
    by_sku = enrichment.get("products") or {}
    for item in payload.get("line_items") or []:
        spec = by_sku.get(item.get("sku") or "")
        if spec and item.get("product_id"):
            products[str(item["product_id"])] = {
                k: v for k, v in spec.items() if k in ("product_type", "tags", "vendor")
            }
    customer: Any = None
    if payload.get("customer"):
        customer = {**payload["customer"], **(enrichment.get("customer") or {})}
    existing = {str(o.get("id")) for o in sandbox.orders()}
    if str(payload.get("id")) in existing:
        # A later state of an order already there: move it there (fires its webhook).
        if payload.get("fulfillment_status") == "fulfilled":
            sandbox.fulfill(payload["id"])
        if payload.get("cancelled_at"):
            sandbox.cancel(payload["id"])
        return
    # Fires orders/create and, for a paid order, orders/paid.
    sandbox.create_order(order=payload, customer=customer, products=products)


def _seed_woocommerce(
    sandbox: Any, payload: dict[str, Any], enrichment: dict[str, Any] | None
) -> None:
    """The order as it is, its customer, and its products with their categories and tags."""
    by_sku = (enrichment or {}).get("products") or {}
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
    if payload.get("customer_id"):
        email = str((payload.get("billing") or {}).get("email") or "")
        sandbox.add_customer(int(payload["customer_id"]), email)
    sandbox.load_order(payload=payload)


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


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def run_live(examples: Path, *, out: TextIO, out_dir: Path) -> int:
    """The live demo (see the module docstring). Returns the exit code."""
    import httpx
    import uvicorn
    from aftersale_kit_shopify.sandbox.fixtures import running_sandbox as shopify_sandbox
    from aftersale_kit_woocommerce.sandbox.fixtures import running_sandbox as woo_sandbox

    from .content import render_page
    from .core.normalize import normalize_order
    from .service.app import create_app
    from .service.effects import Processor
    from .service.metrics import Metrics
    from .service.shops import default_builder, load_shops
    from .service.worker import Worker
    from .storage import JobStatus, Store

    shopify_dir = examples / SHOPIFY_SHOP
    woo_dir = examples / WOOCOMMERCE_SHOP
    for folder in (shopify_dir, woo_dir):
        if not (folder / "shop.yaml").is_file():
            raise LiveDemoError(f"{folder / 'shop.yaml'} is missing")
    started = time.monotonic()
    ports: list[int] = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aftersale-demo-")))
        shop_sb = stack.enter_context(
            shopify_sandbox(shop="bohnenglueck-kaffee", currency="EUR", time_scale=0.001)
        )
        woo_sb = stack.enter_context(woo_sandbox())
        for url in (shop_sb.url, woo_sb.url):
            ports.append(int(url.rsplit(":", 1)[1].split("/")[0]))
        shops_dir = tmp / "shops"
        shops_dir.mkdir()
        shop_settings = _write_shop(
            shopify_dir, shops_dir / "shopify.yaml", api_base_url=shop_sb.url
        )
        woo_settings = _write_shop(woo_dir, shops_dir / "woocommerce.yaml", api_base_url=woo_sb.url)
        woo_secret = "wc-demo-" + secrets.token_hex(8)
        env_values = {
            "webhook_secret": {"shopify": shop_sb.secret, "woocommerce": woo_secret},
            "api_token": {"shopify": shop_sb.token},
            "consumer_key": {"woocommerce": woo_sb.consumer_key},
            "consumer_secret": {"woocommerce": woo_sb.consumer_secret},
            "code_secret": {
                "shopify": "demo-" + secrets.token_hex(8),
                "woocommerce": "demo-" + secrets.token_hex(8),
            },
        }
        env: dict[str, str] = {}
        for platform, settings in (("shopify", shop_settings), ("woocommerce", woo_settings)):
            for name, variable in (settings.get("secrets") or {}).items():
                value = env_values.get(name, {}).get(platform)
                if value is None:
                    raise LiveDemoError(f"the demo has no value for secret {name!r} of {platform}")
                env.setdefault(variable, value)
        # Both example shops name AFTERSALE_CODE_SECRET: one value serves both.
        registry = load_shops(shops_dir, env=env, builder=default_builder({}))
        store = Store.open(f"sqlite:///{tmp / 'service.db'}", migrate=True)
        stack.callback(store.close)
        metrics = Metrics()
        processor = Processor(registry=registry, store=store)
        worker = Worker(
            processor,
            metrics=metrics,
            threads=4,
            poll_interval=0.02,
            retry_base=0.05,
            retry_cap=1.0,
            lease_seconds=30.0,
        )
        app = create_app(
            registry=registry, store=store, processor=processor, metrics=metrics, worker=worker
        )
        port = _free_port()
        ports.append(port)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()

        def stop_server() -> None:
            server.should_exit = True
            thread.join(15)

        stack.callback(stop_server)
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise LiveDemoError("the service did not start")
            time.sleep(0.01)
        url = f"http://127.0.0.1:{port}"
        print(
            f"sandboxes: shopify {shop_sb.url}, woocommerce {woo_sb.url}; service {url}",
            file=out,
        )
        print(f"ports: {' '.join(str(p) for p in ports)}", file=out)

        shopify_domain = str(shop_settings["domain"])
        woo_domain = str(woo_settings["domain"])
        sent: list[tuple[str, str, Path, dict[str, Any]]] = []
        with httpx.Client(timeout=10) as client:
            for topic in SHOPIFY_TOPICS:
                shop_sb.subscribe(topic, f"{url}/webhooks/shopify")
            for order_path, payload, enrichment in _orders(shopify_dir):
                _seed_shopify(shop_sb, payload, enrichment)
                # One order at a time: the next file may be a later state of the same order.
                if not shop_sb.wait_for_deliveries(LIVE_TIMEOUT):
                    raise LiveDemoError(f"{_relative(order_path)}: webhooks still in flight")
                sent.append((shopify_domain, str(payload["id"]), order_path, payload))
            failed = [d for d in shop_sb.deliveries() if d.get("state") != "delivered"]
            if failed:
                raise LiveDemoError(f"the service refused Shopify webhooks: {failed[:2]}")
            for order_path, payload, enrichment in _orders(woo_dir):
                _seed_woocommerce(woo_sb, payload, enrichment)
                headers, raw = _woocommerce_delivery(payload, domain=woo_domain, secret=woo_secret)
                answer = client.post(f"{url}/webhooks/woocommerce", content=raw, headers=headers)
                if answer.status_code >= 300:
                    raise LiveDemoError(
                        f"{_relative(order_path)}: the service answered {answer.status_code}: "
                        f"{answer.text[:200]}"
                    )
                sent.append((woo_domain, str(payload["id"]), order_path, payload))

        deadline = time.monotonic() + LIVE_TIMEOUT
        while True:
            stats = store.queue_stats()
            busy = stats.get(JobStatus.PENDING, 0) + stats.get(JobStatus.CLAIMED, 0)
            if busy == 0:
                break
            if time.monotonic() > deadline:
                raise LiveDemoError(
                    f"the worker did not finish within {LIVE_TIMEOUT:.0f} s: {stats}"
                )
            time.sleep(0.05)
        dead = store.jobs(status=JobStatus.DEAD)
        print(f"\nworker done: {dict((k.value, v) for k, v in stats.items())}", file=out)

        failures = 0
        out_dir.mkdir(parents=True, exist_ok=True)
        for domain, order_id, order_path, payload in sent:
            entry = registry.by_domain(domain)
            if entry is None:
                raise LiveDemoError(f"the service has no shop {domain}")
            records = store.decisions_for_order(domain, order_id)
            print(f"\n-- {_relative(order_path)} ({domain}, order {order_id})", file=out)
            if not records:
                print("   no decision stored", file=out)
                continue
            for record in records:
                decision = record.decision
                print(f"   event {record.event_kind.value}", file=out)
                for outcome in decision.outcomes:
                    mark = "FIRED" if outcome.fired else f"not fired ({outcome.reason.value})"
                    print(f"   {outcome.campaign_id}: {mark}: {outcome.detail}", file=out)
            record = records[0]
            order = normalize_order(payload, platform=entry.platform, shop=domain)
            page = render_page(
                decision=record.decision,
                order=order,
                config=entry.config,
                now=record.decided_at,
                renderer=entry.renderer,
                preview=True,
            )
            target = out_dir / entry.config.settings.platform / f"{order_path.stem}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page, encoding="utf-8")
            print(f"   preview: {_relative(target)}", file=out)

        shop_coupons = shop_sb.discounts()
        woo_coupons = woo_sb.coupons()
        print(f"\ncoupons in shopify sandbox: {len(shop_coupons)}", file=out)
        for d in shop_coupons:
            print(f"   {json.dumps(d, default=str, ensure_ascii=False)[:200]}", file=out)
        print(f"coupons in woocommerce sandbox: {len(woo_coupons)}", file=out)
        for c in woo_coupons:
            print(
                f"   {c.get('code')}: {c.get('discount_type')} {c.get('amount')} "
                f"expires {c.get('date_expires')}",
                file=out,
            )
        print("\nconfirmation content in shopify sandbox (metafields):", file=out)
        for m in shop_sb.metafields():
            owner = m.get("owner_id") or m.get("ownerId") or m.get("owner") or ""
            types = _block_types(m.get("value"))
            print(
                f"   {owner} {m.get('namespace')}.{m.get('key')}: "
                f"blocks {', '.join(types) or '(none)'}",
                file=out,
            )
        print("confirmation content in woocommerce sandbox (order meta):", file=out)
        woo_ids = dict.fromkeys(oid for d, oid, _p, _b in sent if d == woo_domain)
        for order_id in woo_ids:
            for meta in woo_sb.order_meta(int(order_id)):
                key = str(meta.get("key", ""))
                if key == "_aftersale_kit_blocks":
                    types = _block_types(meta.get("value"))
                    print(f"   order {order_id}: blocks {', '.join(types) or '(none)'}", file=out)
                elif key.startswith("_aftersale_kit_"):
                    size = len(str(meta.get("value") or ""))
                    print(f"   order {order_id}: {key} ({size} chars)", file=out)
        if dead:
            failures += len(dead)
            for job in dead:
                print(f"dead job {job.id} ({job.kind}): {job.last_error or ''}", file=out)
    closed = all(_port_closed(p) for p in ports)
    print(f"\nstopped; ports closed: {closed}", file=out)
    print(f"live demo took {time.monotonic() - started:.1f} s", file=out)
    if not closed:
        raise LiveDemoError("a port is still open after shutdown")
    return 1 if failures else 0


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aftersale_kit.demo",
        description="Validate every example shop and decide on every example order.",
    )
    parser.add_argument(
        "examples",
        nargs="?",
        type=Path,
        default=default_examples_dir(),
        help="folder with one sub-folder per shop (default: the examples of this checkout)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="only validate and decide offline (no sandboxes, no service)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        help="folder for the preview pages of the live demo (default: demo-out)",
    )
    args = parser.parse_args(argv)
    out = sys.stdout
    configs = sorted(Path(args.examples).glob("*/shop.yaml"))
    if not configs:
        print(f"no */shop.yaml under {args.examples}", file=sys.stderr)
        return 1
    # First (and with --offline, only) step: every config validated, every order decided
    # offline; the live part starts only when that passed.
    print("aftersale-kit demo: example shops and their orders, decided offline\n", file=out)
    failures = 0
    never: list[str] = []
    for config_path in configs:
        shop_failures, fired, campaign_ids = run_shop(config_path, out=out)
        failures += shop_failures
        never += [f"{config_path.parent.name}:{cid}" for cid in sorted(campaign_ids - fired)]
        print("", file=out)
    if never:
        print(f"campaigns that fired for no example order: {', '.join(never)}", file=out)
    if failures:
        print(f"demo FAILED: {failures} problem(s)", file=sys.stderr)
        return 1
    if not args.offline:
        print("== live: sandboxes, service and worker\n", file=out)
        try:
            code = run_live(Path(args.examples), out=out, out_dir=args.out)
        except Exception as exc:  # every failure of the live path ends the demo with a message
            print(f"demo FAILED (live): {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        if code:
            print("demo FAILED (live): jobs failed, see above", file=sys.stderr)
            return code
    print(f"demo ok: {len(configs)} shops", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
