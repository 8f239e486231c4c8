"""``aftersale-kit shops``: the install state of the configured shops, and their quarantine.

``aftersale-kit shops rotate-key [--db URL]`` re-encrypts the stored shop credentials with
the first key in ``AFTERSALE_CREDENTIALS_KEY`` (:mod:`.connect_cli`).
``aftersale-kit shops status --config PATH [--db URL]`` lists every configured shop with its
state and the deliveries it has in quarantine (signed, on an order topic, but not an order this
version can read: see :mod:`aftersale_kit.storage.quarantine`).
``aftersale-kit shops replay DOMAIN [--id N] --config PATH [--db URL]`` verifies the shop's
quarantined deliveries again with the installed version and stores those it now reads as events
(their jobs run as for any webhook; a delivery already stored is not stored twice, and one the
worker quarantined after storing it has its event processed again); the others stay in
quarantine with their reason printed.

``aftersale-kit shops register-webhooks DOMAIN --config PATH --public-url URL`` subscribes
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
import contextlib
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..core import registry as platforms
from ..core.errors import AftersaleKitError, UnknownTopicError, WebhookError
from ..storage import IncomingEvent, QuarantinedDelivery, ShopRecord, ShopState, Store
from .connect import attach_credentials, keeps_credentials
from .connect_cli import add_connect_commands, connect, rotate_key
from .failures import report_failure as _fail
from .shops import ShopEntry, ShopRegistry, load_shops

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
    replay = commands.add_parser(
        "replay", help="store a shop's quarantined deliveries that this version can read"
    )
    replay.add_argument("domain", metavar="DOMAIN", help="the shop's domain, as configured")
    replay.add_argument(
        "--id", type=int, default=None, help="only this quarantined delivery (see 'status')"
    )
    add_connect_commands(commands)
    for sub in (status, activate, replay):
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
    if args.command == "rotate-key":
        return rotate_key(args)
    if args.command == "connect":
        return connect(args)
    try:
        registry = load_shops(args.config)
        entry = None
        if args.command in ("activate", "replay"):
            entry = _configured(registry, args.domain, args.config, args.command)
            if entry is None:
                return 1
        with Store.open(args.db, migrate=True) as store:
            if entry is None:
                _status(registry, store)
                return 0
            if args.command == "replay":
                return _replay(entry, store, only=args.id)
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


def _configured(registry: ShopRegistry, domain: str, config: str, command: str) -> ShopEntry | None:
    entry = registry.by_domain(domain.strip().lower())
    if entry is None:
        known = ", ".join(sorted(e.domain for e in registry))
        print(
            f"{_PROG} {command}: shop {domain!r} is not in {config} (configured: {known})",
            file=sys.stderr,
        )
    return entry


def _status(registry: ShopRegistry, store: Store) -> None:
    for shop in registry:
        record = store.shop_state(shop.domain)
        state = "active (no uninstall recorded)" if record is None else _describe(record)
        print(f"{shop.domain} ({shop.platform}): {state}")
        held = store.quarantined(shop.domain)
        if held:
            print(f"  {len(held)} delivery(ies) in quarantine (replay: {_PROG} replay DOMAIN):")
        for item in held:
            print(f"  #{item.id} {item.received_at.isoformat()} {item.topic}: {item.reason}")


def _replay(entry: ShopEntry, store: Store, *, only: int | None) -> int:
    """Verify each quarantined delivery again; store those that now read as events."""
    held = [i for i in store.quarantined(entry.domain) if only is None or i.id == only]
    if only is not None and not held:
        print(f"{_PROG} replay: no open quarantined delivery #{only} for {entry.domain}")
        return 1
    still = 0
    for item in held:
        outcome = _replay_one(entry, store, item)
        if outcome.startswith("still"):
            still += 1
        print(f"#{item.id} {item.topic}: {outcome}")
    print(f"{entry.domain}: {len(held) - still} replayed, {still} still in quarantine")
    return 0


def _replay_one(entry: ShopEntry, store: Store, item: QuarantinedDelivery) -> str:
    try:
        webhook = entry.adapter.verify_webhook(dict(item.headers), item.body)
    except UnknownTopicError as exc:
        return f"still in quarantine: {exc}"
    except WebhookError as exc:
        return f"still in quarantine: {exc}"
    event = IncomingEvent(
        shop=entry.domain,
        platform=entry.platform,
        topic=webhook.topic,
        dedupe_key=webhook.dedupe_key,
        received_at=item.received_at,
        body=item.body,
        headers=item.headers,
        order_id=webhook.order_id,
    )
    [new] = store.accept_events([event])
    key = dict(webhook.order.platform_ref).get("order_key") if webhook.order else None
    if key and webhook.order_id:
        store.save_order_keys([(entry.domain, webhook.order_id, key)])
    if new:
        outcome = "stored as an event, queued"
    elif store.requeue_event(shop=entry.domain, dedupe_key=item.dedupe_key, tag=f"replay{item.id}"):
        outcome = "its stored event is queued again"  # quarantined by the worker
    else:
        outcome = "already stored (a duplicate), released"
    store.mark_replayed(item.id, now=datetime.now(UTC))
    return outcome


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
        "sends (its order, refund and uninstall topics), through its adapter, with the "
        "webhook secret where the platform takes one. Existing subscriptions are kept; a "
        "second run changes nothing.",
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
    sub.add_argument(
        "--db",
        default=None,
        help="the service's database, for a shop whose token or keys the service stores "
        "(auth: client_credentials, oauth, approve); default: ./aftersale.db",
    )


def _register_webhooks(args: argparse.Namespace) -> int:
    """Register through the adapter and list, per topic, what was created and what was there.

    What a platform cannot subscribe through its API, its spec says (``register_note``), and the
    command prints it. Where a platform never shows a webhook's secret, the adapter sets the
    configured one on existing subscriptions again.
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
        with contextlib.ExitStack() as stack:
            if keeps_credentials(entry.config.settings):
                store = stack.enter_context(Store.open(args.db, migrate=True))
                attach_credentials(registry, store)
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
    note = platforms.spec_of(entry.platform).register_note
    if note:
        print(f"{entry.domain}: {note}")
    return 0
