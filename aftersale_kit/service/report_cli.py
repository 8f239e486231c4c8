"""``aftersale-kit report SHOP --since DATE [--until DATE] --format table|json|csv|html``: what
the campaigns brought (:func:`aftersale_kit.results.collect.shop_results`).

``--since`` and ``--until`` are days in the shop's time zone; ``--until`` (exclusive) defaults to
tomorrow, i.e. up to now. ``--config`` and ``--db`` are those of ``serve``.

Exit codes: 0 done, 1 a problem with the configuration or the database, 2 wrong usage.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ..content.messages import language_of
from ..core.errors import AftersaleKitError
from ..results.collect import shop_results
from ..results.export import to_csv, to_table
from ..results.figures import ShopResults
from ..results.html import render_html
from ..results.json_report import render_json
from .failures import report_failure

__all__ = ["report_main"]

_PROG = "aftersale-kit report"
FORMATS = ("table", "json", "csv", "html")


#: The days a range may name, as the dashboard's (beyond them time zone arithmetic overflows).
_FIRST_DAY = date(1970, 1, 1)
_LAST_DAY = date(9998, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ReportError(AftersaleKitError):
    """The report cannot be made as asked (an unknown shop, no HTML renderer)."""


def _day(text: str) -> date:
    try:
        # only YYYY-MM-DD: fromisoformat also takes 20261101 and 2026-W45
        day = date.fromisoformat(text) if _DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None or not _FIRST_DAY <= day <= _LAST_DAY:
        raise argparse.ArgumentTypeError(
            f"expected a date such as 2026-01-01 between {_FIRST_DAY} and {_LAST_DAY}, got {text!r}"
        )
    return day


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="what the campaigns brought: redemptions net of refunds, leaks, budgets",
    )
    parser.add_argument("shop", metavar="SHOP", help="the shop's domain")
    parser.add_argument("--since", required=True, type=_day, help="first day (YYYY-MM-DD)")
    parser.add_argument(
        "--until", type=_day, default=None, help="day after the last (default: up to now)"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument(
        "--lang",
        choices=("de", "en"),
        default=None,
        help="language of the HTML (default: the shop's)",
    )
    parser.add_argument(
        "--config", required=True, help="a shop's config file, or a folder with one per shop"
    )
    parser.add_argument("--db", default=None, help="database URL; default: ./aftersale.db")
    return parser


def _start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of ``day`` in the shop's zone, kept in that zone: the report's range reads as the
    shop's days (and the JSON is the dashboard's, whose range is in the shop's zone too)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _check_database(db: str | None) -> None:
    """A report reads the records ``serve`` keeps: an SQLite file that is not there is a wrong
    ``--db`` (opening it would create an empty store and report zeros for a typo)."""
    from ..storage import normalize_url

    url = normalize_url(db)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        raise ReportError(
            f"no database at {url.database}: give --db the database URL serve uses "
            "(without --db: aftersale.db in the current folder)"
        )


def render(results: ShopResults, fmt: str, *, lang: str = "en") -> str:
    """The results in ``fmt`` (one of :data:`FORMATS`): the JSON and HTML are the dashboard's."""
    if fmt == "json":
        return render_json(results) + "\n"
    if fmt == "csv":
        return to_csv(results)
    if fmt == "html":
        return render_html(results, lang=lang)
    return to_table(results)


def report_main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    if args.until is not None and args.until <= args.since:
        print(f"{_PROG}: --until must be after --since", file=sys.stderr)
        return 2
    try:
        from .bootstrap import bootstrap

        _check_database(args.db)
        with bootstrap(config=args.config, db_url=args.db) as wiring:
            entry = wiring.registry.by_domain(args.shop.strip().lower())
            if entry is None:
                known = ", ".join(sorted(e.domain for e in wiring.registry)) or "none"
                raise ReportError(
                    f"shop {args.shop!r} is not in {args.config} (configured: {known})"
                )
            zone = ZoneInfo(entry.config.settings.timezone or "UTC")
            now = datetime.now(UTC).astimezone(zone)
            since = _start(args.since, zone)
            until = (
                _start(args.until, zone)
                if args.until is not None
                else now + timedelta(microseconds=1)
            )
            if since >= until:
                raise ReportError(f"--since {args.since} is after today in the shop's time zone")
            results = shop_results(wiring.store, entry.config, since=since, until=until, now=now)
            locale = entry.config.settings.locale.lower()
        lang = args.lang or language_of(locale)
        sys.stdout.write(render(results, args.format, lang=lang))
    except AftersaleKitError as exc:
        return report_failure(_PROG, exc)
    return 0
