"""The ``shop:`` section: platform, domain, currency, locale, secrets, margin, limits, rates.

The platform named here decides what the later sections may say (the domain rule, the API
version, the secrets, the triggers, the condition fields), so it is read first and kept in the
:class:`~.context.Context`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

from .. import registry
from ..campaign import DEFAULT_CARE_MIN_ORDERS, SecretRef, ShopContact, ShopSettings
from ..schema import object_keys
from ..weblinks import CONTACT_HOURS_MAX, PHONE_PATTERN, link_problem
from .auth import check_env_name, env_example, parse_auth
from .checker import Entry, did_you_mean, found, join_path
from .context import Context, amount, currency_code

__all__ = ["read_shop"]

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]+)?$")
_LOCALE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_DEFAULT_MARGIN = Decimal("0.30")

_T = TypeVar("_T")


def _read(
    ctx: Context, e: dict[str, Entry], key: str, reader: Callable[[Context, yaml.Node], _T]
) -> _T | None:
    """``reader``'s value for ``key`` if the section has the key, else ``None``."""
    return reader(ctx, e[key].value) if key in e else None


def read_shop(ctx: Context, node: yaml.Node) -> ShopSettings | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(
        node, "shop", allowed=object_keys("shop"), required=("platform", "domain", "currency")
    )
    if e is None:
        return None
    if "platform" in e:
        ctx.platform = ctx.c.choice(
            e["platform"].value, "shop.platform", registry.names(), what="platform"
        )
    domain = _read(ctx, e, "domain", _domain)
    if "currency" in e:
        ctx.currency = currency_code(ctx, e["currency"].value, "shop.currency")
    locale = _read(ctx, e, "locale", _locale) or "de_DE"
    timezone = _read(ctx, e, "timezone", _timezone) or "UTC"
    ctx.tz = ZoneInfo(timezone)
    api_base_url = _read(ctx, e, "api_base_url", _base_url)
    api_version = _read(ctx, e, "api_version", _api_version)
    secrets = _read(ctx, e, "secrets", _secrets) or ()
    auth = _read(ctx, e, "auth", lambda ctx, n: parse_auth(ctx.c, n, ctx.platform))
    default_margin, costs = _read(ctx, e, "margin", _margin) or (_DEFAULT_MARGIN, ())
    max_offers = _read(ctx, e, "limits", _limits)
    check_cost, min_orders = _read(ctx, e, "care", _care) or (None, DEFAULT_CARE_MIN_ORDERS)
    templates = _read(ctx, e, "templates_dir", _templates_dir)
    rates = _read(ctx, e, "exchange_rates", _exchange_rates) or ()
    redemption = _read(ctx, e, "backtest", _backtest)
    booking = _read(ctx, e, "booking_url", _booking_url)
    review = _read(ctx, e, "review_url", _review_url)
    contact = _read(ctx, e, "contact", _contact)
    if not ctx.c.clean_since(start) or ctx.platform is None or domain is None:
        return None
    return ShopSettings(
        platform=ctx.platform,
        domain=domain,
        currency=ctx.currency or "",
        locale=locale,
        timezone=timezone,
        secrets=secrets,
        api_base_url=api_base_url,
        api_version=api_version,
        default_margin=default_margin,
        product_costs=costs,
        max_offers_per_order=max_offers,
        service_check_cost=check_cost,
        care_min_orders=min_orders,
        templates_dir=templates,
        booking_url=booking,
        review_url=review,
        contact=contact,
        exchange_rates=rates,
        auth=auth,
        backtest_redemption_rate=redemption,
    )


def _domain(ctx: Context, node: yaml.Node) -> str | None:
    value = ctx.c.text(node, "shop.domain", expected="the shop's domain")
    if value is None:
        return None
    domain = value.strip().lower()
    if "://" in domain:
        bare = urlsplit(domain).netloc or domain.split("://", 1)[1]
        ctx.c.report(node, "shop.domain", f"write the domain without https://, e.g. {bare!r}")
        return None
    spec = registry.find(ctx.platform or "")
    problem = spec.check_domain(domain) if spec is not None else None
    if problem is not None:
        ctx.c.report(node, "shop.domain", f"{problem}, got {found(node)}")
        return None
    if not _HOST.match(domain):
        ctx.c.report(node, "shop.domain", f"expected a host name, got {found(node)}")
        return None
    return domain


def _locale(ctx: Context, node: yaml.Node) -> str | None:
    value = ctx.c.text(node, "shop.locale", expected="a locale such as de_DE")
    if value is None:
        return None
    if _LOCALE.match(value):
        return value
    fixed = value.replace("-", "_")
    fixed = fixed[:2].lower() + fixed[2:].upper() if len(fixed) == 5 else fixed
    hint = f" (did you mean {fixed!r}?)" if _LOCALE.match(fixed) else ""
    ctx.c.report(node, "shop.locale", f"expected a locale such as de_DE, got {found(node)}{hint}")
    return None


def _timezone(ctx: Context, node: yaml.Node) -> str | None:
    value = ctx.c.text(node, "shop.timezone", expected="a time zone such as Europe/Berlin")
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(value, sorted(available_timezones()))
        ctx.c.report(node, "shop.timezone", f"unknown time zone {value!r}{hint}")
        return None
    return value


def _base_url(ctx: Context, node: yaml.Node) -> str | None:
    value = ctx.c.text(node, "shop.api_base_url", expected="a web address")
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        ctx.c.report(
            node,
            "shop.api_base_url",
            f"expected a web address starting with https://, got {found(node)}",
        )
        return None
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        ctx.c.report(
            node,
            "shop.api_base_url",
            "plain http:// is only allowed for 127.0.0.1 or localhost; use https://",
        )
        return None
    return value.rstrip("/")


def _booking_url(ctx: Context, node: yaml.Node) -> str | None:
    return _link(ctx, node, "shop.booking_url", "https://shop.example/service/termin")


def _review_url(ctx: Context, node: yaml.Node) -> str | None:
    return _link(ctx, node, "shop.review_url", "https://shop.example/bewertungen")


def _link(ctx: Context, node: yaml.Node, path: str, example: str) -> str | None:
    """A page a button in the e-mails opens (:mod:`..weblinks`)."""
    value = ctx.c.text(node, path, expected=f"a web address such as {example}")
    if value is None:
        return None
    problem = link_problem(value.strip(), example)
    if problem is not None:
        ctx.c.report(node, path, problem)
        return None
    return value.strip()


def _contact(ctx: Context, node: yaml.Node) -> ShopContact | None:
    """``contact: {phone: ..., email: ..., hours: ...}``, each optional."""
    e = ctx.c.mapping(node, "shop.contact", allowed=object_keys("shop", "contact"))
    if not e:
        return None
    found: dict[str, str | None] = {}
    checks = {
        "phone": (re.compile(PHONE_PATTERN), "a phone number such as +49 30 1234567"),
        "email": (_EMAIL, "an e-mail address such as service@shop.example"),
        "hours": (None, f"one line of at most {CONTACT_HOURS_MAX} characters, e.g. Mo-Fr 9-18 Uhr"),
    }
    for key, (pattern, expected) in checks.items():
        if key in e:
            found[key] = _contact_part(ctx, e[key].value, f"shop.contact.{key}", pattern, expected)
    return ShopContact(**found) if any(found.values()) else None


def _contact_part(
    ctx: Context, node: yaml.Node, path: str, pattern: re.Pattern[str] | None, expected: str
) -> str | None:
    value = ctx.c.text(node, path, expected=expected)
    if value is None:
        return None
    text = value.strip()
    one_line = all(ch.isprintable() for ch in text) and len(text) <= CONTACT_HOURS_MAX
    if not text or not one_line or (pattern is not None and not pattern.match(text)):
        ctx.c.report(node, path, f"expected {expected}, got {found(node)}")
        return None
    return text


def _api_version(ctx: Context, node: yaml.Node) -> str | None:
    value = ctx.c.text(node, "shop.api_version", expected="an API version")
    if value is None:
        return None
    spec = registry.find(ctx.platform or "")
    problem = spec.check_api_version(value) if spec is not None else None
    if problem is not None:
        ctx.c.report(node, "shop.api_version", f"{problem}, got {found(node)}")
        return None
    return value


def _secrets(ctx: Context, node: yaml.Node) -> tuple[SecretRef, ...]:
    spec = registry.find(ctx.platform or "")
    names = (
        spec.secrets
        if spec is not None
        else {n: "" for known in registry.specs().values() for n in known.secrets}
    )
    e = ctx.c.mapping(node, "shop.secrets", allowed=None)
    if e is None:
        return ()
    refs = []
    for name, entry in e.items():
        if name not in names:
            hint = did_you_mean(name, list(names))
            platform = f" on {ctx.platform}" if ctx.platform else ""
            ctx.c.report(
                entry.key,
                "shop.secrets",
                f"unknown secret {name!r}{platform}{hint}; known: {', '.join(names)}",
            )
            continue
        path = join_path("shop.secrets", name)
        env = check_env_name(ctx.c, entry.value, path, env_example(ctx.platform, name))
        if env is not None:
            refs.append(SecretRef(name=name, env=env))
    return tuple(refs)


def _margin(ctx: Context, node: yaml.Node) -> tuple[Decimal, tuple[tuple[str, Decimal], ...]]:
    e = ctx.c.mapping(node, "shop.margin", allowed=object_keys("shop", "margin"))
    if e is None:
        return _DEFAULT_MARGIN, ()
    share = _DEFAULT_MARGIN
    if "default" in e:
        value = ctx.c.bounded(
            e["default"].value,
            "shop.margin.default",
            expected="a share between 0 and 1 (e.g. 0.35 for 35 %)",
            low=Decimal(0),
            high=Decimal(1),
            high_inclusive=False,
        )
        share = value if value is not None else _DEFAULT_MARGIN
    costs = _read(ctx, e, "product_costs", _product_costs) or ()
    return share, costs


def _backtest(ctx: Context, node: yaml.Node) -> Decimal | None:
    """``backtest: {redemption_rate: 0.25}``: what ``aftersale-kit backtest`` assumes."""
    e = ctx.c.mapping(node, "shop.backtest", allowed=object_keys("shop", "backtest"))
    if e is None or "redemption_rate" not in e:
        return None
    return ctx.c.bounded(
        e["redemption_rate"].value,
        "shop.backtest.redemption_rate",
        expected="a share between 0 and 1 (e.g. 0.25 if one coupon in four is redeemed)",
        low=Decimal(0),
        high=Decimal(1),
    )


def _product_costs(ctx: Context, node: yaml.Node) -> tuple[tuple[str, Decimal], ...]:
    path = "shop.margin.product_costs"
    items = ctx.c.mapping(node, path, allowed=None, expected="a mapping of SKU: cost")
    costs: list[tuple[str, Decimal]] = []
    for sku, entry in (items or {}).items():
        cost = amount(ctx, entry.value, join_path(path, sku), allow_zero=True)
        if cost is not None:
            costs.append((sku, cost))
    return tuple(costs)


def _exchange_rates(ctx: Context, node: yaml.Node) -> tuple[tuple[str, Decimal], ...]:
    """``{JPY: "0.0061"}``: 1 JPY is 0.0061 in the shop currency."""
    path = "shop.exchange_rates"
    shop = ctx.currency or "EUR"
    items = ctx.c.mapping(
        node,
        path,
        allowed=None,
        expected=f'a mapping of currency: rate, e.g. {{JPY: "0.0061"}} (1 JPY = 0.0061 {shop})',
    )
    rates: dict[str, Decimal] = {}
    for code, entry in (items or {}).items():
        upper = code.upper()
        if not _rate_key_ok(ctx, entry, code, rates):
            continue
        rate = ctx.c.bounded(
            entry.value,
            join_path(path, code),
            expected=f'a rate above 0: how many {shop} one {upper} is worth (e.g. "0.0061")',
            low=Decimal(0),
            low_inclusive=False,
        )
        if rate is not None:
            rates[upper] = rate
    return tuple(sorted(rates.items()))


def _rate_key_ok(ctx: Context, entry: Entry, code: str, rates: dict[str, Decimal]) -> bool:
    """Whether ``code`` may have a rate: a currency code, not the shop's, not given twice."""
    path = "shop.exchange_rates"
    upper = code.upper()
    if not re.fullmatch(r"[A-Za-z]{3}", code):
        ctx.c.report(entry.key, path, f"expected a currency code such as JPY, got {code!r}")
        return False
    if upper == ctx.currency:
        ctx.c.report(
            entry.key,
            join_path(path, code),
            f"{upper} is the shop currency and needs no rate; remove this line",
        )
        return False
    if upper in rates:
        ctx.c.report(entry.key, join_path(path, code), f"{upper} is given twice")
        return False
    return True


def _limits(ctx: Context, node: yaml.Node) -> int | None:
    e = ctx.c.mapping(node, "shop.limits", allowed=object_keys("shop", "limits"))
    if e is None:
        return None
    return ctx.c.optional_integer(
        e,
        "max_offers_per_order",
        "shop.limits",
        default=None,
        minimum=1,
        expected="a whole number of at least 1",
    )


def _care(ctx: Context, node: yaml.Node) -> tuple[Decimal | None, int]:
    """``shop.care``: what one service check costs the shop, and how many orders a customer
    needs before their care cost share is judged (``customer.care_cost_share``)."""
    e = ctx.c.mapping(node, "shop.care", allowed=object_keys("shop", "care"))
    if e is None:
        return None, DEFAULT_CARE_MIN_ORDERS
    cost = None
    if "service_check_cost" in e:
        cost = amount(
            ctx, e["service_check_cost"].value, "shop.care.service_check_cost", allow_zero=True
        )
    min_orders = ctx.c.optional_integer(
        e,
        "min_orders",
        "shop.care",
        default=DEFAULT_CARE_MIN_ORDERS,
        minimum=1,
        expected="a whole number of at least 1",
    )
    return cost, DEFAULT_CARE_MIN_ORDERS if min_orders is None else min_orders


def _templates_dir(ctx: Context, node: yaml.Node) -> str | None:
    value = ctx.c.text(node, "shop.templates_dir", expected="a folder")
    if value is None or ctx.base_dir is None:
        return value
    folder = (ctx.base_dir / value).resolve()
    if not folder.is_dir():
        ctx.c.report(
            node, "shop.templates_dir", f"folder {value!r} not found next to the config file"
        )
        return None
    return str(folder)
