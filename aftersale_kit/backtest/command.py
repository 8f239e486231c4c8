"""``aftersale-kit backtest CONFIG ORDERS...`` (or ``CONFIG --from-shop``): what the campaigns
would have done over past orders, as a report (HTML, JSON, CSV) and a short summary.

The config is checked as ``validate`` checks it (every problem as ``file:line:col``); the orders
are read as a stream (a row that cannot be read is named by file and line and skipped); the
replay decides in time order with the live engine's semantics. ``--compare OTHER`` replays the
same orders under a second config and the report shows both and their difference: the order
files are simply read a second time (streaming, so memory stays bounded; the bad rows are those
of the first read, the files being the same). From the shop, a comparison reads the shop once:
the first run spools the orders beside a checkpoint (``--checkpoint``, else a temporary one)
and the second reads the spool.

Exit codes as the other commands: 0 done (also with skipped rows, which the summary names), 1 a
problem with the input (config, missing file, a missing optional dependency), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..core.errors import ConfigError, MissingExtraError
from ..evaluation import EvaluationError, load_shop_config, trial_code_secret
from .history import FIRST_YEAR, LAST_YEAR, BadRow, BadRowSink, HistoryOrder, SourceRef
from .report import LANGUAGES, Texts, language_of, write_report
from .report.summary import summary_lines

if TYPE_CHECKING:
    from ..core.campaign import ShopConfig
    from .products import ProductFacts
    from .replay import Candidates
    from .result import BacktestResult

__all__ = ["DEFAULT_REDEMPTION_RATE", "FORMATS", "main", "run_backtest"]

_PROG = "aftersale-kit backtest"
#: The share of issued coupons assumed redeemed when neither the option nor the config says:
#: one in four, a common figure for post-purchase coupons (state yours for a closer estimate).
DEFAULT_REDEMPTION_RATE = Decimal("0.25")
#: ``--format`` values; ``auto`` recognises each file by its name and first bytes.
FORMATS = ("auto", "shopify-csv", "shopify-bulk", "woo-json", "woo-jsonl")
#: Below this much input (about 35,000 orders of a Shopify export) the default is the per-order
#: path: loading polars and compiling the conditions then costs more than the pre-filter saves
#: (3,000 orders: 9.5 s with, 6.5 s without, on 2 busy cores).
AUTO_BATCH_BYTES = 16 * 1024 * 1024
#: Bad rows kept for the report (all are counted).
KEPT_BAD_ROWS = 100


#: Orders from elsewhere than files: called with the bad-row sink, yields the orders.
OrderSource = Callable[[BadRowSink], Iterable[HistoryOrder]]


class UsageError(Exception):
    """A bad option value: one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Replay the campaigns of CONFIG over past orders and write a report of what "
        "they would have cost, whom they would have reached and where budgets ran out. "
        "Nothing is sent to the shop.",
    )
    parser.add_argument("config", metavar="CONFIG", help="shop config file (YAML)")
    parser.add_argument(
        "orders",
        metavar="ORDERS",
        nargs="*",
        help="order exports: Shopify orders CSV, Shopify bulk-operation JSON Lines, "
        "WooCommerce REST order pages (JSON or JSON Lines); .gz is fine",
    )
    parser.add_argument(
        "--from-shop",
        action="store_true",
        help="read the orders straight from the shop CONFIG describes (its API credentials "
        "from the environment variables the config names), paged, with a progress line",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        type=Path,
        help="with --from-shop: resume an interrupted read from FILE (and keep the orders read "
        "beside it; a finished one is read again from there: delete it to fetch afresh)",
    )
    parser.add_argument(
        "--since", metavar="DATE", help="replay orders placed from this day (or ISO time) on"
    )
    parser.add_argument(
        "--until",
        metavar="DATE",
        help="replay orders placed up to and including this day (or before this ISO time); "
        "their later refunds still count",
    )
    parser.add_argument(
        "--warm-up",
        metavar="DATE",
        help="with --since: the orders placed from this day until --since only count towards "
        "customers' order counts and spend (not replayed), so returning customers are known "
        "from the first day on",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=Path("backtest-report"),
        help="folder for backtest.html, backtest.json and the CSV files (default: backtest-report)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="auto", help="format of the order files"
    )
    parser.add_argument(
        "--redemption-rate",
        metavar="R",
        help="share of coupons assumed redeemed, 0 to 1 (default: shop.backtest."
        f"redemption_rate, else {DEFAULT_REDEMPTION_RATE})",
    )
    parser.add_argument(
        "--compare", metavar="OTHER", help="a second config replayed over the same orders"
    )
    parser.add_argument(
        "--lang", choices=LANGUAGES, help="language of the report (default: the shop's locale)"
    )
    parser.add_argument(
        "--products",
        metavar="FILE",
        help="product categories, tags and types the order lines lack, by SKU or product id "
        '(JSON: {"products": {"SKU": {"categories": [...]}}}, as evaluate --enrich reads)',
    )
    parser.add_argument(
        "--batch",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="pre-filter the orders column-wise before the replay (default: for inputs of "
        "16 MB and more, when polars is installed); the decisions are the same either way",
    )
    return parser


def _rate(text: str | None, config: ShopConfig) -> Decimal:
    if text is None:
        configured = config.settings.backtest_redemption_rate
        return DEFAULT_REDEMPTION_RATE if configured is None else configured
    try:
        rate = Decimal(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):  # NaN compares by raising
        raise UsageError(
            f"--redemption-rate: expected a share from 0 to 1 (e.g. 0.25), got {text!r}"
        )
    return rate


def _moment(text: str | None, option: str, tz: ZoneInfo, *, end: bool) -> datetime | None:
    """A day (``2025-03-01``: its start; for ``--until``, the next day's start, the replay's
    ``until`` being exclusive, so that the day itself is included) or an ISO time."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None:
        moment = datetime.combine(day, time(), tz)
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(
                f"{option}: expected a date such as 2025-03-01, got {text!r}"
            ) from None
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    # the replay shifts times by days and zones: the year must leave room to do so
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise UsageError(
            f"{option}: expected a date from {FIRST_YEAR} to {LAST_YEAR}, got {text!r}"
        )
    return moment + timedelta(days=1) if day is not None and end else moment


def _period(since: datetime | None, until: datetime | None, texts: tuple[str, str]) -> None:
    if since is not None and until is not None and since >= until:
        raise UsageError(
            f"--since {texts[0]} is not before --until {texts[1]}: no order could be in between "
            "(swap them?)"
        )


def _load(path: str) -> ShopConfig | None:
    try:
        return load_shop_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


@dataclasses.dataclass
class _BadRows:
    """The ``on_bad`` sink: keeps the first rows, counts them all."""

    kept: list[BadRow] = dataclasses.field(default_factory=list)
    count: int = 0

    def __call__(self, bad: BadRow) -> None:
        self.count += 1
        if len(self.kept) < KEPT_BAD_ROWS:
            self.kept.append(bad)


class _Counted:
    """The orders passed on, counted (all read, before ``--since``/``--until``); an order read
    again (overlapping exports, the same orders in two formats) is a bad row naming where it
    was read first, and only its first copy is replayed, so nothing counts twice."""

    def __init__(self, orders: Iterable[HistoryOrder], on_bad: BadRowSink) -> None:
        self.orders = orders
        self.on_bad = on_bad
        self.count = 0
        self.first: dict[str, SourceRef] = {}

    def __iter__(self) -> Iterator[HistoryOrder]:
        for h in self.orders:
            first = self.first.setdefault(h.order.id, h.source)
            if first is not h.source:
                where = h.source
                self.on_bad(
                    BadRow(
                        where.path,
                        where.line,
                        f"order {h.order.number or h.order.id} was read before, at {first}; "
                        "this copy is skipped (are two exports overlapping?)",
                    )
                )
                continue
            self.count += 1
            yield h


def _batch(
    use: bool | None, config: ShopConfig, orders: Iterator[HistoryOrder]
) -> tuple[Iterator[HistoryOrder], Candidates | None]:
    """The orders passed through the batch pre-filter and its ``candidates`` hook, or the
    orders as they are and ``None`` (every campaign decided per order). ``--batch`` without
    polars is an error naming the extra; ``None`` takes the batch path when polars is there."""
    if use is False:
        return orders, None
    try:
        import polars  # noqa: F401
    except ImportError:
        if use:
            raise MissingExtraError("--batch (the columnar pre-filter)", "backtest") from None
        return orders, None
    from .batch import prefilter

    return prefilter(config, orders)


def run_backtest(
    config: ShopConfig,
    paths: Sequence[str],
    *,
    redemption_rate: Decimal,
    fmt: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: bool | None = False,
    orders_of: ShopConfig | None = None,
    label: str | None = None,
    source: OrderSource | None = None,
    products: ProductFacts | None = None,
    warm_up: datetime | None = None,
) -> BacktestResult:
    """One replay of ``config`` over the order files, with the bad rows of the read.

    ``orders_of``: whose shop domain and currency the files are read with (``--compare`` reads
    them as the first config does, so both runs see the very same orders). ``batch``: with or
    without the pre-filter; ``None``: with it for inputs of :data:`AUTO_BATCH_BYTES` and more
    when polars is installed. ``source``: where the orders come from instead of ``paths``
    (``--from-shop``), called with the bad-row sink. ``products``: the lines' missing product
    facts (``--products``, :mod:`.products`), added before the pre-filter and the replay.
    ``warm_up``: orders placed from then until ``since`` only count towards customers' figures.
    """
    from .readers import read_orders
    from .replay import replay

    reader = orders_of or config
    bad = _BadRows()

    if source is not None:
        orders = iter(source(bad))
    else:
        orders = read_orders(
            list(paths),
            shop=reader.settings.domain,
            currency=reader.settings.currency,
            on_bad=bad,
            fmt=fmt,
        )
    if products:
        from .products import with_products

        orders = with_products(orders, products)
    counted = _Counted(orders, bad)
    orders = iter(counted)
    if batch is None and _input_bytes(paths) < AUTO_BATCH_BYTES:
        batch = False
    orders, candidates = _batch(batch, config, orders)
    result = replay(
        config,
        orders,
        code_secret=trial_code_secret(config),
        redemption_rate=redemption_rate,
        since=since,
        until=until,
        candidates=candidates,
        warm_up=warm_up,
    )
    return dataclasses.replace(
        result,
        bad_rows=tuple(bad.kept),
        bad_count=bad.count,
        config=label or result.config,
        read=counted.count,
    )


def _warm_up(text: str | None, since: datetime | None, tz: ZoneInfo) -> datetime | None:
    """``--warm-up``: a day before ``--since``."""
    warm_up = _moment(text, "--warm-up", tz, end=False)
    if warm_up is None:
        return None
    if since is None:
        raise UsageError("--warm-up goes with --since (the warm-up ends where the replay starts)")
    if warm_up >= since:
        raise UsageError(f"--warm-up: {text} is not before --since")
    return warm_up


def _products(path: str | None) -> ProductFacts | None:
    """``--products``: the file's product facts (a :class:`UsageError` naming what to fix)."""
    if path is None:
        return None
    from .products import load_products

    try:
        return load_products(path)
    except EvaluationError as exc:
        raise UsageError(f"--products: {exc}") from None


def _input_bytes(paths: Sequence[str]) -> int:
    total = 0
    for path in paths:
        if os.path.isdir(path):
            total += sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())
        else:
            total += os.path.getsize(path)
    return total


def _missing(paths: Sequence[str]) -> list[str]:
    return [p for p in paths if not os.path.exists(p)]


def _shop_source(
    config: ShopConfig,
    since: datetime | None,
    until: datetime | None,
    checkpoint: Path | None,
) -> OrderSource:
    """``--from-shop``: the shop's orders through its adapter, with a progress line."""
    from .from_shop import read_from_shop

    def read(on_bad: BadRowSink) -> Iterable[HistoryOrder]:
        return read_from_shop(
            config.settings,
            since=since,
            until=until,
            on_bad=on_bad,
            checkpoint=checkpoint,
            progress=True,
        )

    return read


def _out_problem(out: Path) -> str | None:
    """Why the report cannot go to ``out``, checked before the replay (which may take long)
    by creating the folder and a file in it; ``None`` when it can."""
    if out.exists() and not out.is_dir():
        return f"--out {out}: is a file, not a folder; name a folder for the report (it is created)"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        return f"--out {out}: cannot write the report there ({exc.strerror or exc})"
    return None


def _inputs_ok(parser: argparse.ArgumentParser, args: argparse.Namespace) -> bool:
    """ORDERS or ``--from-shop`` (wrong usage otherwise), and every ORDERS file there."""
    if bool(args.orders) == args.from_shop:
        parser.error("give the ORDERS files or --from-shop, one of the two")
    if args.checkpoint is not None and not args.from_shop:
        parser.error("--checkpoint goes with --from-shop")
    missing = _missing(args.orders)
    for path in missing:
        print(f"{path}: file not found", file=sys.stderr)
    out = _out_problem(args.out)
    if out is not None:
        print(f"{_PROG}: {out}", file=sys.stderr)
    return not missing and out is None


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    config = _load(args.config)
    other = _load(args.compare) if args.compare else None
    if config is None or (args.compare and other is None):
        return 1
    if other is not None and other.settings.currency != config.settings.currency:
        print(
            f"{_PROG}: --compare {args.compare}: its shop.currency is "
            f"{other.settings.currency}, {args.config}'s is {config.settings.currency}; the "
            "difference would subtract one currency from the other (compare two configs of "
            "the same shop)",
            file=sys.stderr,
        )
        return 1
    if not _inputs_ok(parser, args):
        return 1
    tz = ZoneInfo(config.settings.timezone)
    try:
        rate = _rate(args.redemption_rate, config)
        products = _products(args.products)
        since = _moment(args.since, "--since", tz, end=False)
        until = _moment(args.until, "--until", tz, end=True)
        warm_up = _warm_up(args.warm_up, since, tz)
        _period(since, until, (args.since, args.until))
    except UsageError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="aftersale-backtest-") as scratch:
        source = None
        if args.from_shop:
            # a comparison reads the shop once: the second run reads the spool of the first
            spool = Path(scratch) / "shop.checkpoint" if other is not None else None
            source = _shop_source(config, warm_up or since, until, args.checkpoint or spool)

        def run(cfg: ShopConfig, label: str, rate: Decimal) -> BacktestResult:
            return run_backtest(
                cfg,
                args.orders,
                redemption_rate=rate,
                fmt=None if args.format == "auto" else args.format,
                since=since,
                until=until,
                batch=args.batch,
                orders_of=config,
                label=label,
                source=source,
                products=products,
                warm_up=warm_up,
            )

        results = [run(config, args.config, rate)]
        if other is not None:
            # the option applies to both; else each config's own rate
            other_rate = rate if args.redemption_rate is not None else _rate(None, other)
            results.append(run(other, args.compare, other_rate))
    lang = args.lang or language_of(config.settings.locale)
    labels = [args.config, *([args.compare] if args.compare else [])]
    if not args.from_shop and results[0].read == 0:
        return _nothing_read(args.orders, results[0])
    try:
        page = write_report(
            args.out, results, lang=lang, timezone=config.settings.timezone, labels=labels
        )
    except OSError as exc:
        print(f"{_PROG}: --out {args.out}: cannot write the report ({exc})", file=sys.stderr)
        return 1
    for line in summary_lines(results, t=Texts(lang), tz=tz, report=page, labels=labels):
        print(line)
    return 0


def _nothing_read(paths: Sequence[str], result: BacktestResult) -> int:
    """Not one order in the files: say why (the rows that could not be read, or that there was
    nothing) instead of a report of zeros; exit code 1."""
    files = ", ".join(paths)
    print(f"{_PROG}: not one order could be read from {files}", file=sys.stderr)
    for bad in result.bad_rows[:5]:
        print(f"  {bad}", file=sys.stderr)
    if result.bad_count > 5:
        print(f"  ... {result.bad_count - 5} more", file=sys.stderr)
    print(
        "Give order exports: Shopify's orders CSV, the JSON Lines of a bulk operation on orders, "
        "or WooCommerce REST order pages (see --format).",
        file=sys.stderr,
    )
    return 1
