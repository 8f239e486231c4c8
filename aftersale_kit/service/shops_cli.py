"""``aftersale-kit shops``: the install state of the configured shops.

``aftersale-kit shops status --config PATH [--db URL]`` lists every configured shop with its
state. ``aftersale-kit shops activate DOMAIN --config PATH [--db URL]`` marks a shop active
again after the merchant reinstalled the app: run it once the new access token is in the shop's
secrets (a reinstall issues a new one). Running services see the change within seconds (they
cache the state for 5 s). Why an operator and not the next webhook: see :mod:`.effects`.

The shop must be in ``--config`` (a typo is an error naming the configured shops) and its
secrets must be set, as for ``serve``. Exit codes: 0 done, 1 a problem with the configuration
or the database (printed without a traceback), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

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
