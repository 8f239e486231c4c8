"""``aftersale-kit loyalty``: the operators' view of the points ledger.

``show SHOP (--customer-id ID | --email ADDR)``: balance (available, pending, debt), tier, the
grants with their release and expiry, the stamp cards and the last movements.
``adjust SHOP (--customer-id ID | --email ADDR) --points +/-N --reason TEXT [--key KEY]``: an
operator movement; the key (given, or derived from account, points, reason and the day) makes a
repeat book nothing; a debit beyond the available points is refused.
``redeem SHOP (--customer-id ID | --email ADDR) --option OPTION_ID [--request KEY]``: redeem
points for a customer-bound coupon (:func:`.loyalty.redeem_for_account`: the same debit and queued
coupon job as the storefront's); the request key (given, or a new one, printed) makes a repeat
spend nothing; a refusal prints its reason and exits 1.
``import SHOP FILE.csv``: balances from another app (:mod:`.loyalty_csv`): the whole file is
checked first and every bad line reported; nothing is imported while one is bad; a good file is
imported in one transaction, and again changes nothing.
``export SHOP [--out FILE]``: every account's balance as CSV.
``report SHOP --since DATE [--until DATE] [--format table|csv]``: the points accounting of the
period and the reward rate by tier (:mod:`.loyalty_report`).

Every command takes ``--config`` (the shops, as for ``serve``) and ``--db``. Exit codes: 0 done,
1 a problem with the input, the configuration or the database (one line each, no traceback),
2 wrong usage.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ..core.errors import AftersaleKitError
from ..core.loyalty.ledger import Movement, MovementKind, SourceKind, Status
from ..core.loyalty.program import GuestPolicy, LoyaltyProgram, normalise_email
from ..storage.loyalty import AccountView, Identity, JournalRow, LoyaltyPlan
from .failures import report_failure
from .loyalty import LoyaltyError, redeem_for_account
from .loyalty_csv import owners_by_email, parse_import
from .loyalty_report import accounting, format_csv, format_table, reward_rates
from .loyalty_show import format_account
from .progress import Progress

__all__ = ["loyalty_main"]

_PROG = "aftersale-kit loyalty"
_DB_HELP = (
    "database URL (sqlite:///./aftersale.db or postgresql://user@host/db); default: ./aftersale.db"
)


class LoyaltyCommandError(AftersaleKitError):
    """A request the ledger or the shop's program cannot serve (exit code 1)."""


def _customer(sub: argparse.ArgumentParser) -> None:
    who = sub.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer-id", default=None, help="the customer's id in the shop")
    who.add_argument("--email", default=None, help="the customer's e-mail address")


def _sub(commands: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
    sub.add_argument("shop", metavar="SHOP", help="the shop's domain, as configured")
    sub.add_argument(
        "--config", required=True, help="a shop's config file, or a folder with one per shop"
    )
    sub.add_argument("--db", default=None, help=_DB_HELP)
    return sub


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=_PROG, description="the loyalty points ledger")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = _sub(commands, "show", "a customer's balance, tier, grants, cards, movements")
    _customer(show)
    show.add_argument("--last", type=int, default=10, help="movements to list (default 10)")
    adjust = _sub(commands, "adjust", "add or take points (an operator movement)")
    _customer(adjust)
    adjust.add_argument("--points", type=int, required=True, help="+N to add, -N to take")
    adjust.add_argument("--reason", required=True, help="why (kept in the journal)")
    adjust.add_argument(
        "--key", default=None, help="idempotency key (default: from account, points, reason, day)"
    )
    redeem = _sub(commands, "redeem", "redeem points for a customer-bound coupon")
    _customer(redeem)
    redeem.add_argument("--option", required=True, help="the redemption option's id")
    redeem.add_argument(
        "--request", default=None, help="request key; repeat it to retry safely (default: new)"
    )
    imp = _sub(commands, "import", "balances from a CSV file (all rows or none)")
    imp.add_argument("file", metavar="FILE.csv", help="customer_id/email, points, expires")
    export = _sub(commands, "export", "every account's balance as CSV")
    export.add_argument("--out", default=None, help="write to this file (default: stdout)")
    report = _sub(commands, "report", "the points accounting of a period")
    report.add_argument("--since", required=True, help="first day (YYYY-MM-DD) or ISO time")
    report.add_argument("--until", default=None, help="last day (inclusive) or ISO time; now")
    report.add_argument("--format", choices=("table", "csv"), default="table")
    return parser


def _usage_error(message: str) -> int:
    print(f"{_PROG}: {message}", file=sys.stderr)
    return 2


def _check_usage(args: argparse.Namespace) -> str | None:
    if getattr(args, "email", None) is not None and normalise_email(args.email) is None:
        return f"--email {args.email!r} is not an e-mail address"
    if args.command == "adjust" and args.points == 0:
        return "--points: write +N or -N (not 0)"
    if args.command == "adjust" and not args.reason.strip():
        return "--reason: say why"
    if args.command == "show" and args.last < 0:
        return "--last: 0 or more"
    return None


def loyalty_main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    problem = _check_usage(args)
    if problem is not None:
        return _usage_error(problem)
    try:
        from .bootstrap import bootstrap

        with bootstrap(config=args.config, db_url=args.db) as wiring:
            entry = wiring.registry.by_domain(args.shop.strip().lower())
            if entry is None:
                known = ", ".join(sorted(e.domain for e in wiring.registry)) or "none"
                raise LoyaltyCommandError(
                    f"shop {args.shop!r} is not in {args.config} (configured: {known})"
                )
            program = entry.config.loyalty
            if program is None:
                raise LoyaltyCommandError(f"shop {entry.domain} has no loyalty: section")
            command = _COMMANDS[args.command]
            ctx = _Context(wiring.store, entry.domain, program, entry, wiring.processor)
            return command(ctx, args)
    except AftersaleKitError as exc:
        return report_failure(f"{_PROG} {args.command}", exc)


class _Context:
    def __init__(
        self, store: Any, shop: str, program: LoyaltyProgram, entry: Any, processor: Any
    ) -> None:
        self.store = store
        self.shop = shop
        self.program = program
        self.entry = entry
        self.processor = processor
        self.zone = ZoneInfo(entry.config.settings.timezone or "UTC")
        self.now = datetime.now(UTC)


# -- customers --------------------------------------------------------------------------------


def _resolve(ctx: _Context, args: argparse.Namespace, *, create: bool) -> tuple[str, Identity]:
    """The account key the options name (and the identity a new account gets)."""
    if args.customer_id is not None:
        customer = args.customer_id.strip()
        return customer, Identity(customer_id=customer)
    email = normalise_email(args.email) or ""
    keys = owners_by_email(ctx.store.loyalty_balances(ctx.shop)).get(email, [])
    if len(keys) > 1:
        raise LoyaltyCommandError(
            f"several accounts have the e-mail {email} ({', '.join(keys)}): use --customer-id"
        )
    if keys:
        return keys[0], Identity(email=email)
    if create and ctx.program.guests is GuestPolicy.EMAIL:
        return f"email:{email}", Identity(email=email)
    raise LoyaltyCommandError(f"no loyalty account at {ctx.shop} has the e-mail {email}")


def _show(ctx: _Context, args: argparse.Namespace) -> int:
    account, _ = _resolve(ctx, args, create=False)
    view = ctx.store.loyalty_account(ctx.shop, account)
    if view is None:
        raise LoyaltyCommandError(f"no loyalty account {account!r} at {ctx.shop}")
    journal = ctx.store.loyalty_journal(ctx.shop, account)
    balance = ctx.store.loyalty_balance(ctx.shop, account)
    owner = next((b for b in ctx.store.loyalty_balances(ctx.shop) if b.account == account), None)
    print(
        format_account(
            ctx.program,
            view,
            journal,
            balance=balance,
            owner=owner,
            shop=ctx.shop,
            zone=ctx.zone,
            now=ctx.now,
            last=args.last,
        )
    )
    return 0


# -- adjust -----------------------------------------------------------------------------------


def _adjust_key(account: str, args: argparse.Namespace, now: datetime) -> str:
    if args.key:
        return str(args.key).strip()[:200]
    text = f"{account}\x1f{args.points}\x1f{args.reason.strip()}\x1f{now.date().isoformat()}"
    return "op-" + hashlib.sha256(text.encode()).hexdigest()[:20]


def _adjust(ctx: _Context, args: argparse.Namespace) -> int:
    points: int = args.points
    account, identity = _resolve(ctx, args, create=points > 0)
    if points < 0 and ctx.store.loyalty_balance(ctx.shop, account) is None:
        raise LoyaltyCommandError(f"no loyalty account {account!r} at {ctx.shop}: nothing to take")
    key = _adjust_key(account, args, ctx.now)
    movement = Movement(
        key=f"adjust:{key}",
        kind=MovementKind.ADJUSTED,
        at=ctx.now,
        points=points,
        source=SourceKind.OPERATOR,
        ref=key,
        reason=args.reason.strip(),
    )
    refused: list[str] = []

    def plan(view: AccountView) -> LoyaltyPlan:
        available = view.state.available
        if movement.key not in view.state.seen and points < 0 and -points > available:
            refused.append(
                f"refused: {-points:,} points to take, {max(available, 0):,} available "
                f"({view.state.pending:,} pending cannot be taken before they are released)"
            )
            return LoyaltyPlan()
        return LoyaltyPlan(movements=(JournalRow(movement, 0, 0),))

    outcome = ctx.store.loyalty_step(
        shop=ctx.shop,
        account=account,
        identity=identity,
        plan=plan,
        policy=ctx.program.on_spent_refund,
        now=ctx.now,
    )
    if refused:
        raise LoyaltyCommandError(refused[0])
    b = outcome.balance
    if outcome.results and outcome.results[0].status is Status.DUPLICATE:
        print(f"{ctx.shop} {account}: booked before (key {key}): nothing changed")
    else:
        print(f"{ctx.shop} {account}: {points:+,} points booked (key {key})")
    print(f"balance: {b.available:,} available, {b.pending:,} pending")
    return 0


# -- redeem -----------------------------------------------------------------------------------


def _redeem(ctx: _Context, args: argparse.Namespace) -> int:
    request = (args.request or "").strip() or f"op-{secrets.token_hex(8)}"
    try:
        outcome = redeem_for_account(
            ctx.processor,
            ctx.entry,
            customer_id=args.customer_id,
            email=args.email,
            option_id=args.option.strip(),
            request=request,
            now=ctx.now,
        )
    except LoyaltyError as exc:
        raise LoyaltyCommandError(str(exc)) from None
    if not outcome.ok:
        raise LoyaltyCommandError(f"refused: {outcome.reason}")
    b = outcome.balance
    print(f"request: {request} (repeat it to retry; nothing is spent twice)")
    if outcome.repeated:
        print(f"{ctx.shop}: redeemed before (request {request}): nothing spent again")
    else:
        print(f"{ctx.shop}: {outcome.points:,} points redeemed for {args.option.strip()}")
    print(f"coupon: {outcome.code} ({outcome.points:,} points; created on the shop by the worker)")
    if b is not None:
        print(f"balance: {b.available:,} available, {b.pending:,} pending")
    return 0


# -- import / export ------------------------------------------------------------------------


def _import(ctx: _Context, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoyaltyCommandError(f"{path}: cannot read the file ({exc})") from None
    parsed = parse_import(
        text,
        program=ctx.program,
        owners=owners_by_email(ctx.store.loyalty_balances(ctx.shop)),
        timezone=str(ctx.zone),
        now=ctx.now,
        source=path.name,
    )
    if parsed.problems:
        for problem in parsed.problems:
            print(f"{path}:{problem.line}: {problem.reason}", file=sys.stderr)
        lines = len(parsed.problems)
        print(
            f"{_PROG} import: {lines} bad line(s) among {parsed.rows:,} rows: nothing imported",
            file=sys.stderr,
        )
        return 1
    progress = Progress(len(parsed.entries), label="importing")
    try:
        outcome = ctx.store.loyalty_import(ctx.shop, parsed.entries, now=ctx.now, progress=progress)
    finally:
        progress.close()
    print(
        f"{path}: {outcome.imported:,} imported ({outcome.points:,} points), "
        f"{outcome.repeated:,} imported before (unchanged)"
    )
    return 0


def _write_export(ctx: _Context, out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["customer_id", "email", "points", "pending", "debt", "account"])
    rows = ctx.store.loyalty_balances(ctx.shop)
    for r in rows:
        writer.writerow(
            [r.customer_id or "", r.email or "", r.available, r.pending, r.debt, r.account]
        )
    return len(rows)


def _export(ctx: _Context, args: argparse.Namespace) -> int:
    if args.out is None:
        _write_export(ctx, sys.stdout)
        return 0
    try:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            count = _write_export(ctx, out)
    except OSError as exc:
        raise LoyaltyCommandError(f"{args.out}: cannot write ({exc})") from None
    print(f"wrote {args.out}: {count:,} accounts")
    return 0


# -- report -----------------------------------------------------------------------------------


def _moment(text: str, zone: ZoneInfo, *, end: bool) -> datetime:
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(), tzinfo=zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise LoyaltyCommandError(f"{value!r} is not a date (YYYY-MM-DD) or an ISO time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _report(ctx: _Context, args: argparse.Namespace) -> int:
    since = _moment(args.since, ctx.zone, end=False)
    until = _moment(args.until, ctx.zone, end=True) if args.until else ctx.now
    if until <= since:
        raise LoyaltyCommandError(f"--until ({until.isoformat()}) is not after --since")
    totals = ctx.store.loyalty_totals(ctx.shop, since=since, until=until)
    lines = accounting(totals, now=ctx.now)
    rates = reward_rates(ctx.program, totals)
    if args.format == "csv":
        sys.stdout.write(format_csv(lines, rates, ctx.program))
        return 0
    local = (since.astimezone(ctx.zone), until.astimezone(ctx.zone))
    title = (
        f"Points accounting of {ctx.shop}, {local[0]:%Y-%m-%d %H:%M} to {local[1]:%Y-%m-%d %H:%M} "
        f"({ctx.zone.key}; {totals.accounts:,} accounts)"
    )
    print(format_table(lines, rates, ctx.program, title=title))
    return 0


_COMMANDS = {
    "show": _show,
    "adjust": _adjust,
    "redeem": _redeem,
    "import": _import,
    "export": _export,
    "report": _report,
}
