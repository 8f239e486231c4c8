"""Synthetic order histories for the demo, benchmarks and tests:
``python -m aftersale_kit.backtest.generate --count N`` (also ``python -m bench orders``).

::

    python -m aftersale_kit.backtest.generate --count 1000000 --customers 200000 \\
        --format all --out DIR [--seed 1] [--start 2025-01-01 --months 12] [--gzip] \\
        [--page-size 100] [--catalogue coffee|electronics] [--products FILE]

The same logical orders are written in every format asked for (one pass, streamed: a million
orders are never held at once): ``shopify-csv`` (``orders_export.csv``), ``shopify-bulk``
(``bulk-orders.jsonl``), ``woo-json`` (``woo-pages/orders-00001.json``, ... one REST page of
``--page-size`` orders each) and ``woo-jsonl`` (``woo-orders.jsonl``); ``--gzip`` adds ``.gz``.

What the history holds: repeat customers whose order counts follow a Pareto-like law (most
buy once, a few very often), guest orders (no customer id, an e-mail), mostly the shop's
currency with some orders in others, 1-5 lines from a small catalogue (SKUs, vendors, product
types), discount codes, shipping methods, payment some minutes after the order, fulfilment
days later, partial and full refunds days to weeks after that, and cancelled and never-paid
orders.

The orders use only what all formats carry (see ``aftersale_kit.backtest.readers.compare``), so
the formats read to equal :func:`~aftersale_kit.backtest.readers.common_view` views, except
that the CSV has refunds only as a total (no dates) and no line ids. Beyond the documented
export columns the CSV gets a ``Customer ID`` column (export apps add it; Shopify's own export
has none), and WooCommerce refunds carry their ``date_created_gmt`` as
``GET /orders/<id>/refunds`` gives it. ``--products FILE`` writes the catalogue's categories
and product types (which order lines do not carry) for ``aftersale-kit backtest --products``.
"""

from __future__ import annotations

import argparse
import bisect
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from ._catalogues import CATALOGUES, Product, product_facts

__all__ = [
    "CATALOGUES",
    "GenLine",
    "GenOrder",
    "Refund",
    "generate",
    "main",
    "write",
    "write_products",
]

FORMATS = ("shopify-csv", "shopify-bulk", "woo-json", "woo-jsonl")
CENT = Decimal("0.01")
SHOP_OFFSET = timezone(timedelta(hours=1))

#: The coffee catalogue (``--catalogue coffee``, the default).
CATALOGUE = CATALOGUES["coffee"]
#: code, percent off
CODES = (("WELCOME10", Decimal("0.10")), ("SOMMER15", Decimal("0.15")), ("TREUE5", Decimal("0.05")))
#: title, method id, price
SHIPPING = (("Standard", "flat_rate", Decimal("4.90")), ("Express", "flat_rate", Decimal("9.90")))
FREE_SHIPPING_FROM = Decimal("75")
GATEWAYS = ("stripe", "paypal", "bacs")
#: country, province, city, zip
PLACES = (
    ("DE", None, "Hamburg", "20095"),
    ("DE", None, "Muenchen", "80331"),
    ("AT", None, "Wien", "1010"),
    ("CH", None, "Zuerich", "8001"),
    ("US", "NY", "New York", "10001"),
    ("FR", None, "Paris", "75001"),
)
OTHER_CURRENCIES = ("CHF", "USD", "GBP")


@dataclass(frozen=True, slots=True)
class GenLine:
    id: str
    title: str
    sku: str
    vendor: str
    product_type: str
    quantity: int
    price: Decimal
    discount: Decimal

    @property
    def gross(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    created_at: datetime
    amount: Decimal


@dataclass(frozen=True, slots=True)
class GenOrder:
    """One logical order, written alike in every format (times in UTC)."""

    seq: int
    id: str
    number: int
    created_at: datetime
    currency: str
    customer_id: str | None
    email: str
    first_name: str
    last_name: str
    accepts_marketing: bool
    place: tuple[str, str | None, str, str]
    lines: tuple[GenLine, ...]
    code: str | None
    discount: Decimal
    shipping_title: str
    shipping_method_id: str
    shipping: Decimal
    tax: Decimal
    gateway: str
    state: str  # paid | pending | cancelled
    paid_at: datetime | None
    fulfilled_at: datetime | None
    cancelled_at: datetime | None
    refunds: tuple[Refund, ...]

    @property
    def gross(self) -> Decimal:
        return sum((li.gross for li in self.lines), Decimal(0))

    @property
    def subtotal(self) -> Decimal:
        return self.gross - self.discount

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))

    @property
    def financial_status(self) -> str:
        """Shopify's ``financial_status``."""
        if self.state == "cancelled":
            return "voided"
        if self.state == "pending":
            return "pending"
        if self.refunds:
            return "refunded" if self.refunded >= self.total else "partially_refunded"
        return "paid"

    @property
    def woo_status(self) -> str:
        if self.state in ("cancelled", "pending"):
            return self.state
        if self.refunds and self.refunded >= self.total:
            return "refunded"
        return "completed" if self.fulfilled_at else "processing"

    @property
    def modified_at(self) -> datetime:
        times = [self.created_at, self.paid_at, self.fulfilled_at, self.cancelled_at]
        times += [r.created_at for r in self.refunds]
        return max(t for t in times if t is not None)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _Customers:
    """Customer weights from a Pareto law: most customers order once, a few very often."""

    def __init__(self, count: int, rng: random.Random) -> None:
        self.cumulative: list[float] = []
        total = 0.0
        for _ in range(count):
            total += min(rng.paretovariate(1.6), 60.0)
            self.cumulative.append(total)

    def pick(self, rng: random.Random) -> int:
        return bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1])


def generate(
    *,
    count: int,
    customers: int,
    seed: int = 1,
    start: date = date(2025, 1, 1),
    months: int = 12,
    currency: str = "EUR",
    catalogue: str = "coffee",
) -> Iterator[GenOrder]:
    """``count`` orders in time order (lazily), from ``customers`` customers plus guests,
    their lines from ``catalogue`` (a key of :data:`CATALOGUES`)."""
    products = CATALOGUES[catalogue]
    rng = random.Random(seed)
    people = _Customers(max(customers, 1), rng)
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    end_month = start.month - 1 + months
    end = datetime(start.year + end_month // 12, end_month % 12 + 1, 1, tzinfo=UTC)
    step = (end - begin) / max(count, 1)
    for seq in range(count):
        created = begin + step * (seq + rng.random() * 0.999)
        yield _order(seq, created.replace(microsecond=0), rng, people, currency, products)


def _lines(seq: int, rng: random.Random, catalogue: tuple[Product, ...]) -> list[GenLine]:
    n = min(1 + int(rng.expovariate(1.2)), 5)
    picked = rng.sample(catalogue, n)
    return [
        GenLine(
            id=str(13_000_000_000 + seq * 10 + k),
            title=title,
            sku=sku,
            vendor=vendor,
            product_type=ptype,
            quantity=rng.choice((1, 1, 1, 1, 2, 2, 3)),
            price=price,
            discount=Decimal(0),
        )
        for k, (title, sku, vendor, ptype, price) in enumerate(picked)
    ]


def _discounted(lines: list[GenLine], discount: Decimal) -> tuple[GenLine, ...]:
    """Spread ``discount`` over the lines by value, the rounding rest on the last line."""
    gross = sum((li.gross for li in lines), Decimal(0))
    out: list[GenLine] = []
    left = discount
    for k, li in enumerate(lines):
        share = left if k == len(lines) - 1 else _money(discount * li.gross / gross)
        left -= share
        out.append(
            GenLine(
                li.id, li.title, li.sku, li.vendor, li.product_type, li.quantity, li.price, share
            )
        )
    return tuple(out)


def _order(
    seq: int,
    created: datetime,
    rng: random.Random,
    people: _Customers,
    shop_currency: str,
    catalogue: tuple[Product, ...],
) -> GenOrder:
    if rng.random() < 0.2:
        customer_id = None
        who = rng.randrange(1_000_000_000)
        email = f"guest{who}@example.net"
    else:
        who = people.pick(rng)
        customer_id = str(7_000_000_000 + who)
        email = f"kunde{who}@example.com"
    lines = _lines(seq, rng, catalogue)
    gross = sum((li.gross for li in lines), Decimal(0))
    code: str | None = None
    discount = Decimal(0)
    if rng.random() < 0.25:
        code, percent = rng.choice(CODES)
        discount = _money(gross * percent)
    subtotal = gross - discount
    title, method_id, shipping = rng.choice(SHIPPING)
    if subtotal >= FREE_SHIPPING_FROM and title == "Standard":
        shipping = Decimal(0)
    tax = _money(subtotal * Decimal("0.19"))
    total = subtotal + shipping + tax
    roll = rng.random()
    state = "cancelled" if roll < 0.04 else "pending" if roll < 0.06 else "paid"
    paid_at = fulfilled_at = cancelled_at = None
    refunds: tuple[Refund, ...] = ()
    if state == "cancelled":
        cancelled_at = created + timedelta(minutes=rng.randrange(30, 2880))
    elif state == "paid":
        paid_at = created + timedelta(seconds=rng.randrange(5, 1800))
        if rng.random() < 0.95:
            fulfilled_at = paid_at + timedelta(hours=rng.randrange(6, 120))
        refunds = _refunds(seq, rng, fulfilled_at or paid_at, total)
    return GenOrder(
        seq=seq,
        id=str(5_000_000_000 + seq),
        number=1001 + seq,
        created_at=created,
        currency=shop_currency if rng.random() < 0.85 else rng.choice(OTHER_CURRENCIES),
        customer_id=customer_id,
        email=email,
        first_name=f"Vorname{who % 997}",
        last_name=f"Nachname{who % 991}",
        accepts_marketing=who % 3 == 0,
        place=PLACES[who % len(PLACES)],
        lines=_discounted(lines, discount),
        code=code,
        discount=discount,
        shipping_title=title,
        shipping_method_id=method_id,
        shipping=shipping,
        tax=tax,
        gateway=rng.choice(GATEWAYS),
        state=state,
        paid_at=paid_at,
        fulfilled_at=fulfilled_at,
        cancelled_at=cancelled_at,
        refunds=refunds,
    )


def _refunds(seq: int, rng: random.Random, after: datetime, total: Decimal) -> tuple[Refund, ...]:
    roll = rng.random()
    if roll >= 0.09:
        return ()
    first_at = after + timedelta(days=rng.randrange(2, 30), minutes=rng.randrange(1440))
    if roll < 0.03:  # full refund
        return (Refund(str(900_000_000 + seq * 10), first_at, total),)
    part = _money(total * Decimal(rng.randrange(10, 60)) / 100)
    refunds = [Refund(str(900_000_000 + seq * 10), first_at, part)]
    if roll < 0.045:  # a second, later partial refund
        second = _money((total - part) * Decimal("0.5"))
        refunds.append(
            Refund(str(900_000_000 + seq * 10 + 1), first_at + timedelta(days=7), second)
        )
    return tuple(refunds)


#: Where each format is written inside ``--out``.
OUTPUTS = {
    "shopify-csv": "orders_export.csv",
    "shopify-bulk": "bulk-orders.jsonl",
    "woo-json": "woo-pages",
    "woo-jsonl": "woo-orders.jsonl",
}


def write(
    orders: Iterator[GenOrder],
    formats: tuple[str, ...],
    out: Path,
    *,
    gz: bool = False,
    page_size: int = 100,
) -> int:
    """Write ``orders`` once into each of ``formats`` under ``out``; the number written."""
    from ._generate_write import open_writer

    writers = [open_writer(f, out, gz=gz, page_size=page_size) for f in formats]
    written = 0
    try:
        for order in orders:
            for w in writers:
                w.write(order)
            written += 1
    finally:
        for w in writers:
            w.close()
    return written


def write_products(catalogue: str, path: Path) -> Path:
    """The catalogue's categories and product types as ``path``, the file ``aftersale-kit
    backtest --products`` reads (order lines carry no categories); ``path``."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(product_facts(catalogue), indent=1) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aftersale_kit.backtest.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--count", type=int, required=True, help="number of orders")
    parser.add_argument("--customers", type=int, help="customers with an account (count/5)")
    parser.add_argument("--format", default="all", choices=(*FORMATS, "all"))
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--currency", default="EUR", help="the shop's currency")
    parser.add_argument(
        "--catalogue", default="coffee", choices=sorted(CATALOGUES), help="the shop's products"
    )
    parser.add_argument(
        "--products",
        type=Path,
        metavar="FILE",
        help="also write the catalogue's categories and product types there (for backtest "
        "--products; keep it outside --out, where every file is read as orders)",
    )
    parser.add_argument("--gzip", action="store_true", help="compress each file")
    parser.add_argument("--page-size", type=int, default=100, help="orders per WooCommerce page")
    args = parser.parse_args(argv)
    if args.count < 0 or args.months < 1 or args.page_size < 1:
        parser.error("--count must be >= 0, --months and --page-size >= 1")
    formats = FORMATS if args.format == "all" else (args.format,)
    orders = generate(
        count=args.count,
        customers=args.customers or max(args.count // 5, 1),
        seed=args.seed,
        start=args.start,
        months=args.months,
        currency=args.currency.upper(),
        catalogue=args.catalogue,
    )
    written = write(orders, formats, args.out, gz=args.gzip, page_size=args.page_size)
    for f in formats:
        print(f"{f}: {args.out / OUTPUTS[f]}{'' if f == 'woo-json' or not args.gzip else '.gz'}")
    if args.products is not None:
        print(f"products: {write_products(args.catalogue, args.products)}")
    print(f"{written} orders", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
