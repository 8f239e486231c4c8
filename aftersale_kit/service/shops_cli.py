"""``aftersale-kit shops``: the install state of the configured shops.

``aftersale-kit shops status --config PATH [--db URL]`` lists every configured shop with its
state. ``aftersale-kit shops register-webhooks DOMAIN --config PATH --public-url URL`` subscribes
the service's webhook route to the topics the shop's platform sends (idempotent; see
:func:`_register_webhooks`). ``aftersale-kit shops activate DOMAIN --config PATH [--db URL]``
marks a shop active again after the merchant reinstalled the app: run it once the new access
token is in the shop's secrets (a reinstall issues a new one). Running services see the change
within seconds (they cache the state for 5 s). Why an operator and not the next webhook: see
:mod:`.effects`.

The shop must be in ``--config`` (a typo is an error naming the configured shops) and its
secrets must be set, as for ``serve``. Exit codes: 0 done, 1 a problem with the configuration
or the database (printed without a traceback), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..core.errors import AftersaleKitError
from ..storage import ShopRecord, ShopState, Store
from .cli import _fail
from .shops import load_shops

__all__ = ["shops_main"]

_PROG = "aftersale-kit shops"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG, description="install state of the configured shops"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    status = commands.add_parser("status", help="list the configured shops and their state")
    activate = commands.add_parser(
        "activate", help="mark a shop active again after the app was reinstalled"
    )
    activate.add_argument("domain", metavar="DOMAIN", help="the shop's domain, as configured")
    _add_register_webhooks(commands)
    for sub in (status, activate):
        sub.add_argument(
            "--config",
            required=True,
            help="a shop's config file, or a folder with one file per shop",
        )
        sub.add_argument(
            "--db",
            default=None,
            help="database URL (sqlite:///./aftersale.db or postgresql://user@host/db); "
            "default: ./aftersale.db",
        )
    return parser


def shops_main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    if args.command == "register-webhooks":
        return _register_webhooks(args)
    try:
        registry = load_shops(args.config)
        entry = None
        if args.command == "activate":
            entry = registry.by_domain(args.domain.strip().lower())
            if entry is None:
                known = ", ".join(sorted(e.domain for e in registry))
                print(
                    f"{_PROG} activate: shop {args.domain!r} is not in {args.config} "
                    f"(configured: {known})",
                    file=sys.stderr,
                )
                return 1
        with Store.open(args.db, migrate=True) as store:
            if entry is None:
                for shop in registry:
                    record = store.shop_state(shop.domain)
                    state = (
                        "active (no uninstall recorded)" if record is None else _describe(record)
                    )
                    print(f"{shop.domain} ({shop.platform}): {state}")
                return 0
            before = store.shop_state(entry.domain)
            after = store.set_shop_state(
                shop=entry.domain,
                platform=entry.platform,
                state=ShopState.ACTIVE,
                now=datetime.now(UTC),
            )
    except AftersaleKitError as exc:
        return _fail(_PROG, exc)
    was = "no state recorded" if before is None else _describe(before)
    print(f"{entry.domain} ({entry.platform}): {_describe(after)}; before: {was}")
    return 0


def _describe(record: ShopRecord) -> str:
    if record.state == ShopState.UNINSTALLED:
        since = record.uninstalled_at.isoformat() if record.uninstalled_at else "unknown"
        return f"uninstalled since {since}"
    since = record.installed_at.isoformat() if record.installed_at else "unknown"
    return f"active since {since}"


# -- register-webhooks ----------------------------------------------------------------------


def _public_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise argparse.ArgumentTypeError(
            f"expected the service's public base URL, such as https://aftersale.example.com, "
            f"got {text!r}"
        )
    return text.strip().rstrip("/")


def _add_register_webhooks(commands: Any) -> None:
    sub = commands.add_parser(
        "register-webhooks",
        help="subscribe the service's webhook route on the shop's platform (idempotent)",
        description="Subscribe PUBLIC_URL/webhooks/<platform> to the topics the shop's platform "
        "sends, through its adapter: Shopify orders/create, orders/paid, orders/fulfilled, "
        "orders/cancelled, refunds/create, app/uninstalled; WooCommerce order.created and "
        "order.updated with the webhook secret. Existing subscriptions are kept; a second run "
        "changes nothing.",
    )
    sub.add_argument("domain", metavar="DOMAIN", help="the shop's domain, as configured")
    sub.add_argument(
        "--config", required=True, help="a shop's config file, or a folder with one file per shop"
    )
    sub.add_argument(
        "--public-url",
        required=True,
        type=_public_url,
        metavar="URL",
        help="where the platform reaches 'aftersale-kit serve', e.g. https://aftersale.example.com",
    )


def _register_webhooks(args: argparse.Namespace) -> int:
    """Register through the adapter and list, per topic, what was created and what was there.

    Shopify's compliance topics cannot be subscribed through the API (they are declared in the
    app's ``shopify.app.toml``); the command says so. WooCommerce never shows a webhook's secret,
    so the adapter sets the configured one on existing subscriptions again.
    """
    prog = f"{_PROG} register-webhooks"
    try:
        registry = load_shops(args.config)
        entry = registry.by_domain(args.domain.strip().lower())
        if entry is None:
            known = ", ".join(sorted(e.domain for e in registry))
            print(
                f"{prog}: shop {args.domain!r} is not in {args.config} (configured: {known})",
                file=sys.stderr,
            )
            return 1
        address = f"{args.public_url}/webhooks/{entry.platform}"
        adapter = entry.adapter
        before = {s.id: s for s in adapter.list_webhooks()}
        ids = adapter.register_webhooks(address)
        after = {s.id: s for s in adapter.list_webhooks()}
    except AftersaleKitError as exc:
        return _fail(prog, exc)
    created = 0
    for sub_id in ids:
        now, then = after.get(sub_id), before.get(sub_id)
        if then is None:
            what, created = "created", created + 1
        elif not then.active and (now is None or now.active):
            what = "re-activated"
        else:
            what = "already registered"
        topic = now.topic if now else then.topic if then else "?"
        print(f"{entry.domain} ({entry.platform}): {topic} -> {address}: {what} (id {sub_id})")
    print(f"{entry.domain}: {created} created, {len(ids) - created} already there")
    if entry.platform == "shopify":
        print(
            f"{entry.domain}: the compliance topics (customers/data_request, customers/redact, "
            "shop/redact) are declared in the app's shopify.app.toml; the API cannot subscribe "
            "them"
        )
    return 0
