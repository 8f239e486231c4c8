"""Balances from another loyalty app, as a CSV file: read and check the whole file first.

Columns (a header line, names in any order; ``,`` or ``;`` between fields):

* ``customer_id`` and/or ``email``: the customer. A customer id names the account directly; an
  address alone names the account that has it, else, when the program keeps guest accounts
  (``guests: email``), the guest account ``email:<address>``.
* ``points``: a whole number, 0 or more (an ``imported`` grant, available at once).
* ``expires`` (optional): ``YYYY-MM-DD``, the last day the points can be used (in the shop's
  time zone); empty: the program's own expiry.

:func:`parse_import` reports every bad line with its number and reasons (a bad e-mail address,
points that are not a whole number or negative, a bad or past date, a customer already on another
line, an unknown column); the caller imports nothing while there is one. Each row's idempotency
key is its identity (account, points, expiry), so importing the file again, or a file with the
same rows, changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..core.loyalty.ledger import Movement, MovementKind, SourceKind
from ..core.loyalty.program import GuestPolicy, LoyaltyProgram, normalise_email
from ..storage.loyalty import Identity
from ..storage.loyalty_admin import AccountBalance, ImportEntry

__all__ = ["COLUMNS", "ImportProblem", "ParsedImport", "owners_by_email", "parse_import"]

COLUMNS = ("customer_id", "email", "points", "expires")

_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class ImportProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParsedImport:
    entries: tuple[ImportEntry, ...]
    problems: tuple[ImportProblem, ...]
    #: Data rows read (blank lines not counted).
    rows: int


@dataclass(frozen=True, slots=True)
class _Context:
    program: LoyaltyProgram
    owners: Mapping[str, Sequence[str]]
    zone: ZoneInfo
    now: datetime
    source: str


def owners_by_email(accounts: Iterable[AccountBalance]) -> dict[str, list[str]]:
    """Normalised e-mail address -> the keys of the accounts that have it."""
    found: dict[str, list[str]] = {}
    for account in accounts:
        email = normalise_email(account.email)
        if email is None and account.account.startswith("email:"):
            email = account.account.removeprefix("email:")
        if email is not None:
            found.setdefault(email, []).append(account.account)
    return found


def _header(row: Sequence[str]) -> tuple[list[str], list[str]]:
    names = [cell.strip().lower().lstrip("\ufeff") for cell in row]
    problems = []
    unknown = [n for n in names if n not in COLUMNS]
    for name in unknown:
        problems.append(f"unknown column {name!r} (known: {', '.join(COLUMNS)})")
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"column {name!r} appears twice")
    if "points" not in names:
        problems.append("no 'points' column")
    if "customer_id" not in names and "email" not in names:
        problems.append("no 'customer_id' or 'email' column")
    return names, problems


def _points(text: str) -> tuple[int | None, str | None]:
    value = text.strip()
    if re.fullmatch(r"\+?\d+", value):
        return int(value), None
    if re.fullmatch(r"-\d+", value):
        return None, f"negative points {value}"
    return None, f"points {value!r} is not a whole number" if value else "no points"


def _expiry(text: str, ctx: _Context) -> tuple[datetime | None, str | None]:
    value = text.strip()
    if not value:
        return None, None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        return None, f"bad date {value!r} (write YYYY-MM-DD)"
    ends = datetime.combine(day + timedelta(days=1), time(), tzinfo=ctx.zone).astimezone(UTC)
    if ends <= ctx.now:
        return None, f"expiry date {value} is in the past"
    return ends, None


def _account(customer_id: str, email: str, ctx: _Context) -> tuple[str | None, str | None]:
    if customer_id:
        return (customer_id, None) if len(customer_id) <= 255 else (None, "customer_id too long")
    if not email:
        return None, "no customer: give a customer_id or an email"
    if not _EMAIL.fullmatch(email):
        return None, f"bad e-mail address {email!r}"
    normal = normalise_email(email) or email
    keys = ctx.owners.get(normal, ())
    if len(keys) == 1:
        return keys[0], None
    if len(keys) > 1:
        return None, f"several accounts have the e-mail {email!r}: give the customer_id"
    if ctx.program.guests is GuestPolicy.EMAIL:
        return f"email:{normal}", None
    return None, (
        f"no account has the e-mail {email!r} and the program keeps no guest accounts "
        "(loyalty.guests: none): give the customer_id"
    )


def _key(account: str, points: int, expires: datetime | None) -> str:
    identity = f"{account}\x1f{points}\x1f{expires.isoformat() if expires else ''}"
    return "import:" + hashlib.sha256(identity.encode()).hexdigest()[:32]


def _row(
    cells: Mapping[str, str], line: int, ctx: _Context
) -> tuple[ImportEntry | None, list[str]]:
    customer_id = cells.get("customer_id", "").strip()
    email = cells.get("email", "").strip()
    problems = []
    if customer_id and email and not _EMAIL.fullmatch(email):
        problems.append(f"bad e-mail address {email!r}")
    account, why = _account(customer_id, email, ctx)
    points, why_points = _points(cells.get("points", ""))
    expires, why_date = _expiry(cells.get("expires", ""), ctx)
    problems += [w for w in (why, why_points, why_date) if w]
    if problems or account is None or points is None:
        return None, problems
    movement = Movement(
        key=_key(account, points, expires),
        kind=MovementKind.IMPORTED,
        at=ctx.now,
        points=points,
        source=SourceKind.IMPORT,
        ref=f"{ctx.source}:{line}"[-512:],
        reason=f"imported from {ctx.source}, line {line}",
        expires_at=expires,
    )
    identity = Identity(customer_id=customer_id or None, email=normalise_email(email))
    return ImportEntry(account, identity, movement), []


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def parse_import(
    text: str,
    *,
    program: LoyaltyProgram,
    owners: Mapping[str, Sequence[str]],
    timezone: str,
    now: datetime,
    source: str,
) -> ParsedImport:
    """Read and check every line of ``text``; entries only when there is no problem at all."""
    ctx = _Context(program, owners, ZoneInfo(timezone), now, source)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = next(reader, None)
    if header is None:
        return ParsedImport((), (ImportProblem(1, "the file is empty: no header line"),), 0)
    names, problems = _header(header)
    if problems:
        return ParsedImport((), tuple(ImportProblem(1, p) for p in problems), 0)
    entries: list[ImportEntry] = []
    bad: list[ImportProblem] = []
    seen: dict[str, int] = {}
    rows = 0
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        rows += 1
        if len(cells) != len(names):
            bad.append(ImportProblem(line, f"{len(cells)} fields, the header has {len(names)}"))
            continue
        entry, reasons = _row(dict(zip(names, cells, strict=True)), line, ctx)
        if entry is not None and entry.account in seen:
            reasons = [f"customer {entry.account!r} is also on line {seen[entry.account]}"]
        if reasons:
            bad.append(ImportProblem(line, "; ".join(reasons)))
            continue
        assert entry is not None
        seen[entry.account] = line
        entries.append(entry)
    if bad:
        return ParsedImport((), tuple(bad), rows)
    return ParsedImport(tuple(entries), (), rows)
