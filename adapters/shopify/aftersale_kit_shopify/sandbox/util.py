"""Small helpers shared by the sandbox modules: GIDs, money strings, timestamps, errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "SandboxError",
    "gid",
    "graphql_decimal",
    "iso_graphql",
    "iso_rest",
    "money_bag",
    "now_utc",
    "parse_gid",
    "parse_time",
    "rest_money",
    "to_decimal",
    "user_error",
]

_GID = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d+)(?:\?.*)?$")


class SandboxError(Exception):
    """A control-API request the sandbox refuses; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def gid(kind: str, id_: int | str) -> str:
    return f"gid://shopify/{kind}/{id_}"


def parse_gid(value: str) -> tuple[str, int] | None:
    """``("Order", 123)`` for ``gid://shopify/Order/123``; ``None`` if it is not a GID."""
    match = _GID.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    return match.group(1), int(match.group(2))


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (``Z`` or offset; a bare date is midnight UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso_rest(moment: datetime) -> str:
    """REST/webhook timestamps: seconds, with the shop's offset (the sandbox shop is in UTC)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def iso_graphql(value: Any) -> str | None:
    """GraphQL ``DateTime``: UTC with a ``Z`` and seconds precision, as Shopify serialises it."""
    moment = parse_time(value)
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def to_decimal(value: Any, *, what: str = "amount") -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise SandboxError(f"{what} must be a decimal number, got {value!r}") from exc
    if not result.is_finite():
        raise SandboxError(f"{what} must be a finite decimal number, got {value!r}")
    return result


def rest_money(value: Decimal | str | int) -> str:
    """REST money strings carry two decimals: ``"10.00"``."""
    return f"{to_decimal(value).quantize(Decimal('0.01'))}"


def graphql_decimal(value: Decimal | str | int | float) -> str:
    """GraphQL ``Decimal`` is a string without trailing zeros but with one decimal: ``"20.0"``."""
    number = to_decimal(value)
    text = format(number.normalize(), "f")
    if "." not in text:
        text += ".0"
    return text


def money_bag(amount: Decimal | str | int, currency: str) -> dict[str, Any]:
    """A REST ``*_set`` bag for one currency."""
    money = {"amount": rest_money(amount), "currency_code": currency}
    return {"shop_money": dict(money), "presentment_money": dict(money)}


def user_error(path: list[str], message: str, code: str | None = None) -> dict[str, Any]:
    """One GraphQL ``userErrors`` entry."""
    return {"field": path, "message": message, "code": code, "extraInfo": None}
