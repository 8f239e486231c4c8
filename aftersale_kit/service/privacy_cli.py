"""``aftersale-kit privacy`` and ``aftersale-kit storage``: a customer's data, and what is stored.

``aftersale-kit privacy export --shop DOMAIN --email ADDRESS --config PATH [--db URL]`` prints
everything the service holds about the customer as JSON (or writes it to ``--out``);
``privacy erase`` with the same options erases it, keeping amounts for budgets and the books
(see :mod:`aftersale_kit.storage.compliance`); a repeated erase finds nothing left. Both work for
the shops of every platform. ``--customer-id`` and ``--order`` (repeatable) name the customer
further: an address alone finds a registered customer only through order bodies still held.

``aftersale-kit storage stats [--db URL]`` prints rows and bytes per table.

Exit codes: 0 done, 1 a problem with the configuration or the database (one line, no traceback),
2 wrong usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.errors import AftersaleKitError
from .failures import report_failure as _fail

__all__ = ["privacy_main", "storage_main"]

_DB_HELP = (
    "database URL (sqlite:///./aftersale.db or postgresql://user@host/db); default: ./aftersale.db"
)


def _privacy_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftersale-kit privacy",
        description="export or erase what the service holds about a customer",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    export = commands.add_parser("export", help="print the customer's data as JSON")
    erase = commands.add_parser("erase", help="erase the customer's personal data (amounts stay)")
    export.add_argument("--out", default=None, help="write the JSON to this file instead")
    for sub in (export, erase):
        sub.add_argument("--shop", required=True, help="the shop's domain, as configured")
        sub.add_argument("--email", required=True, help="the customer's e-mail address")
        sub.add_argument("--customer-id", default=None, help="the customer's id in the shop")
        sub.add_argument(
            "--order", action="append", default=[], help="an order of the customer (repeatable)"
        )
        sub.add_argument(
            "--config",
            required=True,
            help="a shop's config file, or a folder with one file per shop",
        )
        sub.add_argument("--db", default=None, help=_DB_HELP)
    return parser


def privacy_main(argv: Sequence[str]) -> int:
    args = _privacy_parser().parse_args(list(argv))
    if "@" not in args.email:
        print(
            f"aftersale-kit privacy: --email {args.email!r} is not an e-mail address",
            file=sys.stderr,
        )
        return 2
    try:
        from ..storage import Store
        from .shops import load_shops

        registry = load_shops(args.config)
        entry = registry.by_domain(args.shop.strip().lower())
        if entry is None:
            known = ", ".join(sorted(e.domain for e in registry)) or "none"
            print(
                f"aftersale-kit privacy: shop {args.shop!r} is not in --config (configured: "
                f"{known})",
                file=sys.stderr,
            )
            return 1
        with Store.open(args.db, migrate=True) as store:
            if args.command == "export":
                return _export(store, entry.domain, args)
            return _erase(store, entry.domain, args)
    except AftersaleKitError as exc:
        return _fail("aftersale-kit privacy", exc)


def _export(store: Any, shop: str, args: argparse.Namespace) -> int:
    data = store.export_customer(
        shop, customer_id=args.customer_id, email=args.email, order_ids=args.order
    )
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        sections = ", ".join(f"{k} {len(v)}" for k, v in data.items() if isinstance(v, list))
        print(f"wrote {args.out}: {sections}")
    else:
        print(text)
    return 0


def _erase(store: Any, shop: str, args: argparse.Namespace) -> int:
    counts = store.redact_customer(
        shop, customer_id=args.customer_id, email=args.email, order_ids=args.order
    )
    orders = counts.pop("orders", 0)
    if not any(counts.values()):
        print(f"{shop}: nothing left to erase for this customer (already erased, or never stored)")
        return 0
    rows = ", ".join(f"{table} {n}" for table, n in counts.items())
    print(
        f"{shop}: erased the customer's personal data in {orders} order(s): {rows} rows; "
        "amounts and coupon codes stay under a random pseudonym"
    )
    return 0


def _size(value: int | None) -> str:
    if value is None:
        return "?"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"  # pragma: no cover - the loop always returns


def storage_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="aftersale-kit storage", description="what the service's database holds"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    stats = commands.add_parser("stats", help="rows and bytes per table (indexes included)")
    stats.add_argument("--db", default=None, help=_DB_HELP)
    args = parser.parse_args(list(argv))
    try:
        from ..storage import Store

        with Store.open(args.db) as store:
            if store.schema_revision() is None:
                print("aftersale-kit storage: the database has no schema yet", file=sys.stderr)
                return 1
            tables = store.table_stats()
    except AftersaleKitError as exc:
        return _fail("aftersale-kit storage", exc)
    print(f"{'table':<12} {'rows':>12} {'bytes':>14}")
    for t in tables:
        print(f"{t.table:<12} {t.rows:>12,} {_size(t.bytes):>14}")
    total = sum(t.bytes or 0 for t in tables)
    print(f"{'total':<12} {sum(t.rows for t in tables):>12,} {_size(total):>14}")
    return 0
