"""Locale choice and Babel formatting of money, percentages and dates for the content."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aftersale_kit.core.campaign import ShopSettings
from aftersale_kit.core.errors import MissingExtraError
from aftersale_kit.core.model import Order
from aftersale_kit.core.money import Money

from .delivery import DayRange
from .errors import ContentError
from .messages import LANGUAGES, MESSAGES

try:
    from babel import Locale, UnknownLocaleError
    from babel.dates import format_date, format_skeleton
    from babel.numbers import format_currency, format_decimal, format_percent
except ImportError as exc:  # pragma: no cover - babel is installed with the content's extra
    raise MissingExtraError("Confirmation content (money and dates per locale)", "server") from exc

__all__ = ["Formatter", "Texts", "resolve_locale"]

_FALLBACK = "en"
#: Short day with weekday, per language: "Mi., 26.11." / "Wed, Nov 26".
_DAY_SKELETON = {"de": "MEd", "en": "MMMEd"}


def _parse(tag: str | None) -> Locale | None:
    if not tag or not tag.strip():
        return None
    try:
        return Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def resolve_locale(*, order: Order | None, settings: ShopSettings) -> Locale:
    """The locale to write in: the order's, else the customer's, else the shop's.

    Only languages with texts (:data:`~aftersale_kit.content.messages.LANGUAGES`) are chosen; when
    the shop's locale has the chosen language, its regional formats are kept (``de`` on a
    ``de_AT`` shop writes ``€ 5,00``). Without any usable candidate: English.
    """
    shop = _parse(settings.locale)
    candidates: list[str | None] = []
    if order is not None:
        candidates.append(order.locale)
        if order.customer is not None:
            candidates.append(order.customer.locale)
    for tag in candidates:
        parsed = _parse(tag)
        if parsed is None or parsed.language not in LANGUAGES:
            continue
        if shop is not None and shop.language == parsed.language and parsed.territory is None:
            return shop
        return parsed
    if shop is not None and shop.language in LANGUAGES:
        return shop
    return Locale.parse(_FALLBACK)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ContentError(
            f"settings.timezone {name!r} is not a known time zone; write e.g. 'Europe/Berlin'"
        ) from exc


class Texts:
    """The texts of one language for templates: ``{{ t.copy_code }}``.

    Not a dict, so that no key is shadowed by a dict method (``t.items``, ``t.copy``); a missing
    key is undefined, which the strict environment reports with the template's line.
    """

    __slots__ = ("_messages",)

    def __init__(self, messages: Mapping[str, str]) -> None:
        self._messages = messages

    def __getattr__(self, key: str) -> str:
        try:
            return self._messages[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> str:
        return self._messages[key]


@dataclass(frozen=True, slots=True)
class Formatter:
    """Texts, money and dates for one locale, currency and time zone."""

    locale: Locale
    currency: str
    tz: ZoneInfo

    @classmethod
    def create(cls, *, order: Order | None, settings: ShopSettings) -> Formatter:
        return cls(
            locale=resolve_locale(order=order, settings=settings),
            currency=settings.currency.upper(),
            tz=_zone(settings.timezone),
        )

    @property
    def language(self) -> str:
        return str(self.locale.language)

    @property
    def tag(self) -> str:
        """The locale as an identifier, e.g. ``de_DE``."""
        return str(self.locale)

    @property
    def messages(self) -> Mapping[str, str]:
        return MESSAGES[self.language]

    def text(self, key: str, **values: object) -> str:
        return self.messages[key].format(**values)

    def plural(self, key: str, count: int, **values: object) -> str:
        form = "one" if count == 1 else "other"
        return self.text(f"{key}_{form}", count=count, **values)

    def localized(self, value: object) -> str | None:
        """A shop owner's text: a string, or one per language (``{de: ..., en: ...}``)."""
        if value is None:
            return None
        if isinstance(value, str):
            return value
        pairs = _pairs(value)
        if pairs:
            by_lang = {str(k).lower().replace("-", "_"): v for k, v in pairs}
            for key in (self.tag.lower(), self.language, *by_lang):
                if key in by_lang:
                    return str(by_lang[key])
        return str(value)

    def money(self, amount: Money | Decimal, currency: str | None = None) -> str:
        if isinstance(amount, Money):
            return str(format_currency(amount.amount, amount.currency, locale=self.locale))
        return str(format_currency(amount, currency or self.currency, locale=self.locale))

    def number(self, value: int | Decimal) -> str:
        """``1240`` -> ``1.240`` (de) / ``1,240`` (en)."""
        return str(format_decimal(value, locale=self.locale))

    def points(self, count: int) -> str:
        """``1 Punkt``, ``1.240 Punkte`` / ``1 point``, ``1,240 points``."""
        key = "points_one" if count in (1, -1) else "points_other"
        return self.text(key, count=self.number(count))

    def percent(self, value: Decimal) -> str:
        """``Decimal(10)`` -> ``10 %`` (de) / ``10%`` (en); decimals kept (``12,5 %``)."""
        return str(
            format_percent(value / Decimal(100), locale=self.locale, decimal_quantization=False)
        )

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def medium_date(self, day: date) -> str:
        """``24.12.2026`` / ``Dec 24, 2026``."""
        return str(format_date(day, "medium", locale=self.locale))

    def day(self, day: date) -> str:
        """``Mi., 26.11.`` / ``Wed, Nov 26``."""
        return str(format_skeleton(_DAY_SKELETON[self.language], day, locale=self.locale))

    def day_range(self, first: date, last: date) -> str:
        """``Mi., 26.11. – Fr., 28.11.``; a single day when both are the same."""
        if first == last:
            return self.day(first)
        return f"{self.day(first)} – {self.day(last)}"

    def month(self, day: date) -> str:
        """``Februar 2026`` / ``February 2026``."""
        return str(format_skeleton("yMMMM", day, locale=self.locale))

    def business_days(self, days: DayRange) -> str:
        """``1 Werktag``, ``2 Werktage``, ``1–3 Werktage``, ``bis zu 2 Werktage``."""
        low, high = days
        if low == 0 and high > 0:
            return self.text("up_to", days=self.plural("business_days", high))
        if low == high:
            return self.plural("business_days", low)
        return self.text("business_days_other", count=f"{low}–{high}")


def _pairs(value: object) -> list[tuple[object, object]]:
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, Sequence) and not isinstance(value, str):
        out: list[tuple[object, object]] = []
        for item in value:
            if isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
                out.append((item[0], item[1]))
            else:
                return []
        return out
    return []
