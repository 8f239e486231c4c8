"""``aftersale-kit surveys report SHOP --since DATE``: what the survey answers say.

Per month (in the shop's time zone with ``--config``, else UTC) and per shipping method: the
number of answers, the response rate (answers per survey e-mail sent: the schedule's ``survey``
messages sent in the same month, or to orders of the same shipping method; ``-`` when none was
sent, e.g. answers to links sent by other means), the average rating, the share of answers with
a delivery problem and with a payment problem (of those who answered that question), and the
complaints raised (a rating of 1 or 2, or a "no" on delivery or payment). ``--json`` prints the
same as JSON.

Exit codes: 0 done, 1 a problem with the configuration or the database, 2 wrong usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from ..core.errors import AftersaleKitError
from ..storage.links import SurveyAnswer
from ..storage.message_records import MessageRecord
from .failures import report_failure

__all__ = ["SurveyStats", "report", "surveys_main"]

_NO_METHOD = "(unknown)"


@dataclass(frozen=True, slots=True)
class SurveyStats:
    """One row of the report."""

    group: str
    answers: int
    average_rating: str | None
    delivery_problems: str | None
    payment_problems: str | None
    complaints: int
    sent: int | None = None

    @property
    def response_rate(self) -> str | None:
        if not self.sent:
            return None
        return _percent(self.answers, self.sent)


def _percent(part: int, whole: int) -> str | None:
    if whole == 0:
        return None
    share = Decimal(part * 100) / Decimal(whole)
    return f"{share.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _share(
    answers: Sequence[SurveyAnswer], read: Callable[[SurveyAnswer], bool | None]
) -> str | None:
    said = [read(a) for a in answers if read(a) is not None]
    return _percent(sum(1 for ok in said if ok is False), len(said))


def stats(group: str, answers: Sequence[SurveyAnswer], sent: int | None = None) -> SurveyStats:
    average = None
    if answers:
        mean = Decimal(sum(a.rating for a in answers)) / Decimal(len(answers))
        average = str(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return SurveyStats(
        group=group,
        answers=len(answers),
        average_rating=average,
        delivery_problems=_share(answers, lambda a: a.form.delivery_ok),
        payment_problems=_share(answers, lambda a: a.form.payment_ok),
        complaints=sum(1 for a in answers if a.complaint),
        sent=sent,
    )


def _grouped(
    answers: Iterable[SurveyAnswer], key: Callable[[SurveyAnswer], str]
) -> dict[str, list[SurveyAnswer]]:
    groups: dict[str, list[SurveyAnswer]] = {}
    for answer in answers:
        groups.setdefault(key(answer), []).append(answer)
    return dict(sorted(groups.items()))


def _method(name: object) -> str:
    return (name if isinstance(name, str) else "").strip() or _NO_METHOD


def _counted(keys: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return counts


def report(
    answers: Sequence[SurveyAnswer],
    *,
    tz: tzinfo = UTC,
    sent: Sequence[MessageRecord] = (),
) -> dict[str, list[SurveyStats]]:
    """The rows: ``total``, ``by_month`` (``YYYY-MM``) and ``by_shipping_method``; ``sent``:
    the survey e-mails sent in the period (:meth:`~aftersale_kit.storage.ports.MessageStore.
    sent_messages`)."""
    month = "%Y-%m"
    by_month = _grouped(answers, lambda a: a.rated_at.astimezone(tz).strftime(month))
    by_method = _grouped(answers, lambda a: _method(a.shipping_method))
    sent_months = _counted(m.sent_at.astimezone(tz).strftime(month) for m in sent if m.sent_at)
    sent_methods = _counted(_method(m.data.get("shipping_method")) for m in sent)
    return {
        "total": [stats("total", answers, len(sent))],
        "by_month": [stats(m, rows, sent_months.get(m)) for m, rows in by_month.items()],
        "by_shipping_method": [
            stats(m, rows, sent_methods.get(m)) for m, rows in by_method.items()
        ],
    }


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def render(rows: Mapping[str, list[SurveyStats]]) -> str:
    head = (
        f"{'':<28} {'answers':>8} {'response':>9} {'rating':>7} {'delivery':>9} "
        f"{'payment':>8} {'complaints':>10}"
    )
    lines: list[str] = []
    titles = {"total": "Total", "by_month": "By month", "by_shipping_method": "By shipping method"}
    for section, title in titles.items():
        lines += ["", title, head]
        for s in rows[section]:
            lines.append(
                f"{s.group[:28]:<28} {s.answers:>8} {_cell(s.response_rate):>9} "
                f"{_cell(s.average_rating):>7} {_cell(s.delivery_problems):>9} "
                f"{_cell(s.payment_problems):>8} {s.complaints:>10}"
            )
    lines.append("")
    lines.append("delivery, payment: share of answers with a problem; response: answers per survey")
    return "\n".join(lines).lstrip("\n")


def _since(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date such as 2026-01-01, got {text!r}"
        ) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftersale-kit surveys", description="what the survey answers say"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rep = commands.add_parser("report", help="response rate, ratings and problems by month")
    rep.add_argument("shop", metavar="SHOP", help="the shop's domain")
    rep.add_argument("--since", required=True, type=_since, help="first day (YYYY-MM-DD)")
    rep.add_argument("--config", default=None, help="the shop's config (for its time zone)")
    rep.add_argument("--db", default=None, help="database URL; default: ./aftersale.db")
    rep.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _zone(config: str | None, shop: str) -> tzinfo:
    if config is None:
        return UTC
    from .shops import load_shops

    entry = load_shops(config).by_domain(shop)
    if entry is None:
        raise AftersaleKitError(f"shop {shop!r} is not in --config")
    return ZoneInfo(entry.config.settings.timezone or "UTC")


def surveys_main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    shop = args.shop.strip().lower()
    try:
        from ..storage import Store

        tz = _zone(args.config, shop)
        with Store.open(args.db) as store:
            if store.schema_revision() is None:
                print("aftersale-kit surveys: the database has no schema yet", file=sys.stderr)
                return 1
            answers = store.survey_answers(shop, since=args.since)
            sent = store.sent_messages(shop, kind="survey", since=args.since)
    except AftersaleKitError as exc:
        return report_failure("aftersale-kit surveys", exc)
    rows = report(answers, tz=tz, sent=sent)
    if args.json:
        out = {
            k: [{**asdict(s), "response_rate": s.response_rate} for s in v] for k, v in rows.items()
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        print(render(rows))
    return 0
