"""Load a shop owner's YAML config file into a validated :class:`ShopConfig`.

The whole file is checked at load time and **every** mistake is reported at once, each as
``file:line:column: path: message`` with what was expected, what was found and, for a misspelt
name, a suggestion::

    shop.yaml:14:12: campaigns[2].actions[0].issue_coupon.value: expected a percentage above 0
    and at most 100, got 'zehn'

Conditions are compiled here (never when an order arrives), so a config that loads cannot fail
later for a reason that could have been seen now. The format is described by
:func:`aftersale_kit.core.schema.config_json_schema` and in ``examples/README.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

from .blocks import BLOCKS, check_block
from .campaign import (
    Action,
    Budget,
    BudgetBasis,
    BudgetPeriod,
    Campaign,
    CouponKind,
    FreeGift,
    IssueCoupon,
    MarginGuard,
    PerCustomerLimit,
    RefundPolicy,
    SecretRef,
    ShopConfig,
    ShopSettings,
    ShowBlock,
    SourceSpan,
    Split,
    TagOrder,
    Window,
)
from .conditions import Condition, compile_condition
from .config_auth import parse_auth
from .config_check import Checker, Entry, did_you_mean, found, join_path
from .config_yaml import YamlSyntaxError, compose
from .errors import ConditionError, ConfigError, ConfigProblem
from .fields import FIELDS, canonical_name
from .model import EventKind
from .money import Money
from .schema import (
    ENV_VAR_PATTERN,
    ID_PATTERN,
    PLATFORMS,
    SECRET_NAMES,
    object_keys,
)

__all__ = ["ParamCheck", "load_config", "load_config_text"]

_ID_HELP = "a name of letters, digits, - and _ (at most 64 characters)"
_SHOPIFY_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]+)?$")
_LOCALE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")
_SHOPIFY_VERSION = re.compile(r"^[0-9]{4}-(01|04|07|10)$|^unstable$")
_CODE_PREFIX = re.compile(r"^[A-Za-z0-9_-]{0,20}$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Values that are secrets themselves, not names of environment variables.
_SECRET_PREFIXES = ("shpat_", "shpss_", "shpca_", "shppa_", "shpua_", "ck_", "cs_")
_ENV_EXAMPLES = {
    ("shopify", "webhook_secret"): "SHOPIFY_WEBHOOK_SECRET",
    ("shopify", "api_token"): "SHOPIFY_ACCESS_TOKEN",
    ("shopify", "client_secret"): "SHOPIFY_CLIENT_SECRET",
    ("woocommerce", "webhook_secret"): "WC_WEBHOOK_SECRET",
    ("woocommerce", "consumer_key"): "WC_CONSUMER_KEY",
    ("woocommerce", "consumer_secret"): "WC_CONSUMER_SECRET",
}

# Words shop owners write for a key; named in the "did you mean" of an unknown key.
_SYNONYMS = {
    "condition": "when",
    "if": "when",
    "rules": "when",
    "event": "trigger",
    "on": "trigger",
    "name": "id",
    "active": "enabled",
    "start": "from",
    "starts": "from",
    "begin": "from",
    "end": "until",
    "ends": "until",
    "to": "until",
    "max_uses": "max",
    "cooldown": "cooldown_days",
    "coupon": "issue_coupon",
    "block": "show_block",
    "gift": "free_gift",
    "tag": "tag_order",
    "percent": "percentage",
    "fixed": "fixed_amount",
    "amount": "fixed_amount",
    "shipping": "free_shipping",
}
_COUPON_TYPE_SYNONYMS = {k: v for k, v in _SYNONYMS.items() if v in {c.value for c in CouponKind}}
_ACTION_KINDS = ("issue_coupon", "show_block", "free_gift", "tag_order")
_TRIGGERS = tuple(k.value for k in EventKind)
#: The triggers each platform's webhooks deliver (the adapters' topic maps are the source:
#: Shopify orders/create, orders/paid, orders/fulfilled, orders/cancelled and refunds/create;
#: WooCommerce reports an order by its status, first when it is paid, so never "created"). For
#: a trigger a platform lacks: what to write instead, and why.
_PLATFORM_TRIGGERS: dict[str, tuple[str, ...]] = {
    "shopify": _TRIGGERS,
    "woocommerce": tuple(t for t in _TRIGGERS if t != EventKind.ORDER_CREATED.value),
}
_TRIGGER_INSTEAD = {
    ("woocommerce", EventKind.ORDER_CREATED.value): (
        EventKind.ORDER_PAID.value,
        "WooCommerce reports an order by its status, first when it is paid",
    ),
}
_PERIODS = tuple(p.value for p in BudgetPeriod)
_BASES = tuple(b.value for b in BudgetBasis)
_REFUND_POLICIES = tuple(p.value for p in RefundPolicy)
_COUPON_KINDS = tuple(k.value for k in CouponKind)

#: Checks the *values* of one ``show_block``'s parameters: ``(param, message)`` per problem. The
#: core knows block and parameter names (:mod:`.blocks`); the shapes of values (URLs, day ranges,
#: links) belong to the content layer, which passes its checker in (e.g.
#: ``aftersale_kit.content.params.param_problems``) so that those problems get a position too.
ParamCheck = Callable[[Sequence[tuple[str, Any]]], Sequence[tuple[str, str]]]


def load_config(
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    param_check: ParamCheck | None = None,
) -> ShopConfig:
    """Read and validate one config file. ``name`` is how messages name the file (default: the
    path as given). Relative ``templates_dir`` are resolved against the file's folder.
    ``param_check`` (optional) also checks the values of block parameters.

    Raises :class:`ConfigError` listing every problem; never another exception for a bad file.
    """
    display = name if name is not None else os.fspath(path)
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        problem = ConfigProblem(display, 1, 1, "", f"cannot read the file: {reason}")
        raise ConfigError([problem]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            [
                ConfigProblem(
                    display, line, column, "", "the file is not UTF-8 text; save it as UTF-8"
                )
            ]
        ) from None
    return load_config_text(text, filename=display, base_dir=file.parent, param_check=param_check)


def load_config_text(
    text: str,
    *,
    filename: str = "<config>",
    base_dir: str | os.PathLike[str] | None = None,
    param_check: ParamCheck | None = None,
) -> ShopConfig:
    """Validate config text. ``filename`` is used in messages; ``base_dir`` (if given) resolves
    and checks a relative ``templates_dir``; ``param_check`` as in :func:`load_config`."""
    try:
        root = compose(text)
    except YamlSyntaxError as exc:
        raise ConfigError(
            [ConfigProblem(filename, exc.line, exc.column, "", exc.message)]
        ) from None
    if root is None:
        raise ConfigError(
            [
                ConfigProblem(
                    filename, 1, 1, "", "the file is empty; it needs a shop: section and campaigns:"
                )
            ]
        )
    checker = Checker(text=text, filename=filename)
    folder = Path(base_dir) if base_dir is not None else None
    config = _Loader(checker, base_dir=folder, param_check=param_check).load(root)
    if checker.problems or config is None:
        raise ConfigError(checker.sorted_problems())
    return config


class _Loader:
    def __init__(
        self, checker: Checker, *, base_dir: Path | None, param_check: ParamCheck | None
    ) -> None:
        self.c = checker
        self.base_dir = base_dir
        self.param_check = param_check
        self.platform: str | None = None
        self.currency: str | None = None
        self.tz: tzinfo = ZoneInfo("UTC")

    # -- file --------------------------------------------------------------------------------

    def load(self, root: yaml.Node) -> ShopConfig | None:
        top = self.c.mapping(
            root,
            "",
            allowed=object_keys(""),
            required=("shop", "campaigns"),
            expected="a mapping with shop: and campaigns:",
        )
        if top is None:
            return None
        if "version" in top:
            version = top["version"].value
            if not (isinstance(version, yaml.ScalarNode) and version.value == "1"):
                self.c.report(version, "version", f"expected 1, got {found(version)}")
        settings = self.shop(top["shop"].value) if "shop" in top else None
        campaigns: list[Campaign] = []
        if "campaigns" in top:
            campaigns = self.campaigns(top["campaigns"].value)
        if settings is None:
            return None
        return ShopConfig(settings=settings, campaigns=tuple(campaigns), source=self.c.file)

    # -- shop --------------------------------------------------------------------------------

    def shop(self, node: yaml.Node) -> ShopSettings | None:
        start = self.c.mark()
        e = self.c.mapping(
            node, "shop", allowed=object_keys("shop"), required=("platform", "domain", "currency")
        )
        if e is None:
            return None
        c = self.c
        if "platform" in e:
            self.platform = c.choice(
                e["platform"].value, "shop.platform", PLATFORMS, what="platform"
            )
        domain = self._domain(e["domain"].value) if "domain" in e else None
        if "currency" in e:
            self.currency = self._currency(e["currency"].value, "shop.currency")
        locale = "de_DE"
        if "locale" in e:
            locale = self._locale(e["locale"].value) or locale
        timezone = "UTC"
        if "timezone" in e:
            timezone = self._timezone(e["timezone"].value) or timezone
            self.tz = ZoneInfo(timezone)
        api_base_url = self._base_url(e["api_base_url"].value) if "api_base_url" in e else None
        api_version = self._api_version(e["api_version"].value) if "api_version" in e else None
        secrets = self._secrets(e["secrets"].value) if "secrets" in e else ()
        auth = parse_auth(c, e["auth"].value, self.platform) if "auth" in e else None
        default_margin = Decimal("0.30")
        costs: tuple[tuple[str, Decimal], ...] = ()
        if "margin" in e:
            default_margin, costs = self._margin(e["margin"].value, default_margin)
        max_offers = self._limits(e["limits"].value) if "limits" in e else None
        templates = self._templates_dir(e["templates_dir"].value) if "templates_dir" in e else None
        rates = self._exchange_rates(e["exchange_rates"].value) if "exchange_rates" in e else ()
        if not c.clean_since(start) or self.platform is None or domain is None:
            return None
        return ShopSettings(
            platform=self.platform,
            domain=domain,
            currency=self.currency or "",
            locale=locale,
            timezone=timezone,
            secrets=secrets,
            api_base_url=api_base_url,
            api_version=api_version,
            default_margin=default_margin,
            product_costs=costs,
            max_offers_per_order=max_offers,
            templates_dir=templates,
            exchange_rates=rates,
            auth=auth,
        )

    def _domain(self, node: yaml.Node) -> str | None:
        value = self.c.text(node, "shop.domain", expected="the shop's domain")
        if value is None:
            return None
        domain = value.strip().lower()
        if "://" in domain:
            bare = urlsplit(domain).netloc or domain.split("://", 1)[1]
            self.c.report(node, "shop.domain", f"write the domain without https://, e.g. {bare!r}")
            return None
        if self.platform == "shopify" and not _SHOPIFY_DOMAIN.match(domain):
            self.c.report(
                node,
                "shop.domain",
                "expected the shop's myshopify.com domain (e.g. kaffeeroesterei.myshopify.com; "
                f"not the shop's own domain), got {found(node)}",
            )
            return None
        if not _HOST.match(domain):
            self.c.report(node, "shop.domain", f"expected a host name, got {found(node)}")
            return None
        return domain

    def _currency(self, node: yaml.Node, path: str) -> str | None:
        value = self.c.text(node, path, expected="a currency code such as EUR")
        if value is None:
            return None
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            self.c.report(node, path, f"expected a currency code such as EUR, got {found(node)}")
            return None
        return value.upper()

    def _locale(self, node: yaml.Node) -> str | None:
        value = self.c.text(node, "shop.locale", expected="a locale such as de_DE")
        if value is None:
            return None
        if _LOCALE.match(value):
            return value
        fixed = value.replace("-", "_")
        fixed = fixed[:2].lower() + fixed[2:].upper() if len(fixed) == 5 else fixed
        hint = f" (did you mean {fixed!r}?)" if _LOCALE.match(fixed) else ""
        self.c.report(
            node, "shop.locale", f"expected a locale such as de_DE, got {found(node)}{hint}"
        )
        return None

    def _timezone(self, node: yaml.Node) -> str | None:
        value = self.c.text(node, "shop.timezone", expected="a time zone such as Europe/Berlin")
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            hint = did_you_mean(value, sorted(available_timezones()))
            self.c.report(node, "shop.timezone", f"unknown time zone {value!r}{hint}")
            return None
        return value

    def _base_url(self, node: yaml.Node) -> str | None:
        value = self.c.text(node, "shop.api_base_url", expected="a web address")
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.c.report(
                node,
                "shop.api_base_url",
                f"expected a web address starting with https://, got {found(node)}",
            )
            return None
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            self.c.report(
                node,
                "shop.api_base_url",
                "plain http:// is only allowed for 127.0.0.1 or localhost; use https://",
            )
            return None
        return value.rstrip("/")

    def _api_version(self, node: yaml.Node) -> str | None:
        value = self.c.text(node, "shop.api_version", expected="an API version")
        if value is None:
            return None
        if self.platform == "shopify" and not _SHOPIFY_VERSION.match(value):
            self.c.report(
                node,
                "shop.api_version",
                'expected a Shopify API version YYYY-01, -04, -07 or -10 (e.g. "2026-01"), '
                f"got {found(node)}",
            )
            return None
        if self.platform == "woocommerce" and value != "wc/v3":
            self.c.report(node, "shop.api_version", f"expected wc/v3, got {found(node)}")
            return None
        return value

    def _secrets(self, node: yaml.Node) -> tuple[SecretRef, ...]:
        names = (
            SECRET_NAMES[self.platform]
            if self.platform is not None
            else {n: "" for names in SECRET_NAMES.values() for n in names}
        )
        e = self.c.mapping(node, "shop.secrets", allowed=None)
        if e is None:
            return ()
        refs = []
        for name, entry in e.items():
            if name not in names:
                hint = did_you_mean(name, list(names))
                platform = f" on {self.platform}" if self.platform else ""
                self.c.report(
                    entry.key,
                    "shop.secrets",
                    f"unknown secret {name!r}{platform}{hint}; known: {', '.join(names)}",
                )
                continue
            path = join_path("shop.secrets", name)
            example = _ENV_EXAMPLES.get((self.platform or "", name), "AFTERSALE_CODE_SECRET")
            value = entry.value
            if not isinstance(value, yaml.ScalarNode) or value.value == "":
                self.c.report(
                    value, path, f"expected the name of an environment variable, e.g. {example}"
                )
                continue
            text = str(value.value)
            if _looks_like_secret(text):
                # Never repeat the value: it is probably the secret itself.
                self.c.report(
                    value,
                    path,
                    "this looks like the secret itself; put it in an environment variable and "
                    f"write the variable's name here, e.g. {example}",
                )
                continue
            if not re.fullmatch(ENV_VAR_PATTERN, text):
                self.c.report(
                    value,
                    path,
                    "expected the name of an environment variable in capitals, digits and _, "
                    f"e.g. {example}",
                )
                continue
            refs.append(SecretRef(name=name, env=text))
        return tuple(refs)

    def _margin(
        self, node: yaml.Node, default: Decimal
    ) -> tuple[Decimal, tuple[tuple[str, Decimal], ...]]:
        e = self.c.mapping(node, "shop.margin", allowed=object_keys("shop", "margin"))
        if e is None:
            return default, ()
        share = default
        if "default" in e:
            value = self.c.bounded(
                e["default"].value,
                "shop.margin.default",
                expected="a share between 0 and 1 (e.g. 0.35 for 35 %)",
                low=Decimal(0),
                high=Decimal(1),
                high_inclusive=False,
            )
            share = value if value is not None else default
        costs: list[tuple[str, Decimal]] = []
        if "product_costs" in e:
            path = "shop.margin.product_costs"
            items = self.c.mapping(
                e["product_costs"].value, path, allowed=None, expected="a mapping of SKU: cost"
            )
            for sku, entry in (items or {}).items():
                cost = self._amount(entry.value, join_path(path, sku), allow_zero=True)
                if cost is not None:
                    costs.append((sku, cost))
        return share, tuple(costs)

    def _exchange_rates(self, node: yaml.Node) -> tuple[tuple[str, Decimal], ...]:
        """``{JPY: "0.0061"}``: 1 JPY is 0.0061 in the shop currency."""
        path = "shop.exchange_rates"
        shop = self.currency or "EUR"
        items = self.c.mapping(
            node,
            path,
            allowed=None,
            expected=f'a mapping of currency: rate, e.g. {{JPY: "0.0061"}} (1 JPY = 0.0061 {shop})',
        )
        rates: dict[str, Decimal] = {}
        for code, entry in (items or {}).items():
            upper = code.upper()
            if not re.fullmatch(r"[A-Za-z]{3}", code):
                self.c.report(
                    entry.key, path, f"expected a currency code such as JPY, got {code!r}"
                )
                continue
            if upper == self.currency:
                self.c.report(
                    entry.key,
                    join_path(path, code),
                    f"{upper} is the shop currency and needs no rate; remove this line",
                )
                continue
            if upper in rates:
                self.c.report(entry.key, join_path(path, code), f"{upper} is given twice")
                continue
            rate = self.c.bounded(
                entry.value,
                join_path(path, code),
                expected=f'a rate above 0: how many {shop} one {upper} is worth (e.g. "0.0061")',
                low=Decimal(0),
                low_inclusive=False,
            )
            if rate is not None:
                rates[upper] = rate
        return tuple(sorted(rates.items()))

    def _limits(self, node: yaml.Node) -> int | None:
        e = self.c.mapping(node, "shop.limits", allowed=object_keys("shop", "limits"))
        if e is None:
            return None
        return self.c.optional_integer(
            e,
            "max_offers_per_order",
            "shop.limits",
            default=None,
            minimum=1,
            expected="a whole number of at least 1",
        )

    def _templates_dir(self, node: yaml.Node) -> str | None:
        value = self.c.text(node, "shop.templates_dir", expected="a folder")
        if value is None or self.base_dir is None:
            return value
        folder = (self.base_dir / value).resolve()
        if not folder.is_dir():
            self.c.report(
                node, "shop.templates_dir", f"folder {value!r} not found next to the config file"
            )
            return None
        return str(folder)

    def _amount(self, node: yaml.Node, path: str, *, allow_zero: bool = False) -> Decimal | None:
        expected = "an amount of 0 or more" if allow_zero else "a positive amount"
        return self.c.bounded(
            node,
            path,
            expected=f"{expected} (e.g. 4.20)",
            low=Decimal(0),
            low_inclusive=allow_zero,
        )

    # -- campaigns ---------------------------------------------------------------------------

    def campaigns(self, node: yaml.Node) -> list[Campaign]:
        items = self.c.sequence(node, "campaigns", expected="a list of campaigns (- id: ...)")
        campaigns: list[Campaign] = []
        seen_ids: dict[str, yaml.Node] = {}
        groups: dict[tuple[str, int], tuple[str, yaml.Node]] = {}
        for index, item in enumerate(items):
            path = f"campaigns[{index}]"
            campaign = self.campaign(item, path, seen_ids=seen_ids, groups=groups)
            if campaign is not None:
                campaigns.append(campaign)
        return campaigns

    def campaign(
        self,
        node: yaml.Node,
        path: str,
        *,
        seen_ids: dict[str, yaml.Node],
        groups: dict[tuple[str, int], tuple[str, yaml.Node]],
    ) -> Campaign | None:
        start = self.c.mark()
        e = self.c.mapping(
            node,
            path,
            allowed=object_keys("campaign"),
            required=("id", "actions"),
            synonyms=_SYNONYMS,
        )
        if e is None:
            return None
        c = self.c
        cid = None
        if "id" in e:
            id_node = e["id"].value
            cid = c.text(id_node, f"{path}.id", pattern=ID_PATTERN, pattern_help=_ID_HELP)
            if cid is not None and cid in seen_ids:
                first = seen_ids[cid].start_mark.line + 1
                c.report(
                    id_node,
                    f"{path}.id",
                    f"campaign id {cid!r} is used twice (first at line {first})",
                )
            elif cid is not None:
                seen_ids[cid] = id_node
        description = ""
        if "description" in e:
            description = c.text(e["description"].value, f"{path}.description") or ""
        enabled = True
        if "enabled" in e:
            enabled = c.boolean(e["enabled"].value, f"{path}.enabled") is not False
        trigger = EventKind.ORDER_PAID
        if "trigger" in e:
            value = c.choice(
                e["trigger"].value, f"{path}.trigger", _TRIGGERS, what="trigger", synonyms=_SYNONYMS
            )
            if value is not None and self._delivered(e["trigger"].value, f"{path}.trigger", value):
                trigger = EventKind(value)
        conditions: tuple[Condition, ...] = ()
        if "when" in e and "conditions" in e:
            c.report(e["conditions"].key, path, "write the conditions under when: only, not twice")
        elif "when" in e or "conditions" in e:
            key = "when" if "when" in e else "conditions"
            conditions = self._conditions(e[key].value, f"{path}.{key}")
        priority = c.optional_integer(e, "priority", path, default=0)
        group = None
        if "exclusive_group" in e:
            group_node = e["exclusive_group"].value
            group = c.text(
                group_node, f"{path}.exclusive_group", pattern=ID_PATTERN, pattern_help=_ID_HELP
            )
            if group is not None and cid is not None:
                where = e["priority"].value if "priority" in e else group_node
                other = groups.get((group, priority))
                if other is not None:
                    c.report(
                        where,
                        f"{path}.priority",
                        f"campaigns {other[0]!r} and {cid!r} are both in exclusive group "
                        f"{group!r} with priority {priority}; give them different priorities so "
                        "that it is clear which one wins",
                    )
                else:
                    groups[(group, priority)] = (cid, where)
        window = (
            self._schedule(e["schedule"].value, f"{path}.schedule") if "schedule" in e else None
        )
        per_customer = None
        if "per_customer" in e:
            per_customer = self._per_customer(e["per_customer"].value, f"{path}.per_customer")
        usage_limit = c.optional_integer(
            e, "usage_limit", path, default=None, minimum=1, expected="a whole number of at least 1"
        )
        budget = self._budget(e["budget"].value, f"{path}.budget") if "budget" in e else None
        guard = None
        if "margin_guard" in e:
            guard = self._margin_guard(e["margin_guard"].value, f"{path}.margin_guard")
        split = self._split(e["split"].value, f"{path}.split") if "split" in e else None
        on_refund = RefundPolicy.REEVALUATE
        if "on_refund" in e:
            value = c.choice(
                e["on_refund"].value, f"{path}.on_refund", _REFUND_POLICIES, what="refund policy"
            )
            on_refund = RefundPolicy(value) if value is not None else on_refund
        actions: tuple[Action, ...] = ()
        if "actions" in e:
            actions = self._actions(e["actions"].value, f"{path}.actions", split=split)
        if not c.clean_since(start) or cid is None:
            return None
        mark = node.start_mark
        return Campaign(
            id=cid,
            actions=actions,
            description=description,
            enabled=enabled,
            trigger=trigger,
            conditions=conditions,
            priority=priority,
            exclusive_group=group,
            window=window,
            per_customer=per_customer,
            usage_limit=usage_limit,
            budget=budget,
            margin_guard=guard,
            split=split,
            on_refund=on_refund,
            source=SourceSpan(self.c.file, mark.line + 1, mark.column + 1),
        )

    def _delivered(self, node: yaml.Node, path: str, trigger: str) -> bool:
        """Whether the shop's platform delivers ``trigger`` at all (reported when not)."""
        known = _PLATFORM_TRIGGERS.get(self.platform or "")
        if known is None or trigger in known:
            return True
        instead, why = _TRIGGER_INSTEAD.get((self.platform or "", trigger), (known[0], ""))
        self.c.report(
            node,
            path,
            f"trigger {trigger!r} is never delivered on {self.platform} "
            f"({why + '; ' if why else ''}did you mean {instead!r}?); "
            f"expected one of {', '.join(known)}",
        )
        return False

    def _conditions(self, node: yaml.Node, path: str) -> tuple[Condition, ...]:
        if isinstance(node, yaml.SequenceNode):
            items = [(f"{path}[{i}]", item) for i, item in enumerate(node.value)]
        else:
            items = [(path, node)]
        compiled = []
        for item_path, item in items:
            text = self.c.text(item, item_path, expected="a condition such as 'subtotal >= 30'")
            if text is None or not isinstance(item, yaml.ScalarNode):
                continue
            try:
                condition = compile_condition(text)
            except ConditionError as exc:
                message = exc.message
                if exc.suggestion is not None:
                    message += f" (did you mean {exc.suggestion!r}?)"
                self.c.report_in_text(item, exc.column, item_path, message)
                continue
            if self._fields_available(condition, text, item, item_path):
                compiled.append(condition)
        return tuple(compiled)

    def _fields_available(
        self, condition: Condition, text: str, node: yaml.ScalarNode, path: str
    ) -> bool:
        if self.platform is None:
            return True
        ok = True
        for name in sorted(condition.fields):
            spec = FIELDS.get(name)
            if spec is None or self.platform in spec.platforms:
                continue
            offset, written = _find_field(text, name)
            where = ", ".join(sorted(spec.platforms)) or "no platform"
            self.c.report_in_text(
                node,
                offset,
                path,
                f"field {written!r} is not available on {self.platform} (only on {where})",
            )
            ok = False
        return ok

    def _moment(self, node: yaml.Node, path: str, *, end: bool) -> datetime | None:
        expected = "a date such as 2026-11-01 or a moment such as 2026-11-01T08:00"
        if not isinstance(node, yaml.ScalarNode) or node.value == "":
            self.c.report(node, path, f"expected {expected}, got {found(node)}")
            return None
        value: Any = None
        if node.tag.endswith(":timestamp"):
            value = self.c.timestamp(node)
        else:
            raw = str(node.value).strip()
            try:
                value = date.fromisoformat(raw) if len(raw) == 10 else datetime.fromisoformat(raw)
            except ValueError:
                value = None
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=self.tz)
        if isinstance(value, date):
            day = value + timedelta(days=1) if end else value
            return datetime.combine(day, time(0), tzinfo=self.tz)
        self.c.report(node, path, f"expected {expected}, got {found(node)}")
        return None

    def _schedule(self, node: yaml.Node, path: str) -> Window | None:
        e = self.c.mapping(
            node, path, allowed=object_keys("campaign", "schedule"), synonyms=_SYNONYMS
        )
        if e is None:
            return None
        if not e:
            self.c.report(node, path, "write from: and/or until:")
            return None
        starts = self._moment(e["from"].value, f"{path}.from", end=False) if "from" in e else None
        ends = self._moment(e["until"].value, f"{path}.until", end=True) if "until" in e else None
        if starts is not None and ends is not None and ends <= starts:
            self.c.report(e["until"].value, f"{path}.until", "until is before from")
            return None
        return Window(starts_at=starts, ends_at=ends)

    def _per_customer(self, node: yaml.Node, path: str) -> PerCustomerLimit | None:
        e = self.c.mapping(
            node, path, allowed=object_keys("campaign", "per_customer"), synonyms=_SYNONYMS
        )
        if e is None:
            return None
        if not e:
            self.c.report(node, path, "write once: true, max: N and/or cooldown_days: N")
            return None
        max_uses = None
        if "once" in e:
            once = self.c.boolean(e["once"].value, f"{path}.once")
            max_uses = 1 if once else None
        if "max" in e:
            if "once" in e:
                self.c.report(e["max"].key, path, "write either once: true or max: N, not both")
            else:
                max_uses = self.c.integer(
                    e["max"].value,
                    f"{path}.max",
                    minimum=1,
                    expected="a whole number of at least 1",
                )
        cooldown = self.c.optional_integer(
            e,
            "cooldown_days",
            path,
            default=None,
            minimum=1,
            expected="a whole number of days, at least 1",
        )
        return PerCustomerLimit(max_uses=max_uses, cooldown_days=cooldown)

    def _budget(self, node: yaml.Node, path: str) -> Budget | None:
        e = self.c.mapping(
            node, path, allowed=object_keys("campaign", "budget"), required=("amount", "period")
        )
        if e is None:
            return None
        amount = self._amount(e["amount"].value, f"{path}.amount") if "amount" in e else None
        period = None
        if "period" in e:
            period = self.c.choice(e["period"].value, f"{path}.period", _PERIODS, what="period")
        if "currency" in e:
            currency = self._currency(e["currency"].value, f"{path}.currency")
            if currency is not None and self.currency is not None and currency != self.currency:
                self.c.report(
                    e["currency"].value,
                    f"{path}.currency",
                    f"budgets are in the shop currency {self.currency}, got {currency}",
                )
        basis: str | None = BudgetBasis.RESERVED.value
        if "basis" in e:
            basis = self.c.choice(e["basis"].value, f"{path}.basis", _BASES, what="budget basis")
        if amount is None or period is None or basis is None:
            return None
        return Budget(
            amount=Money(amount, self.currency or ""),
            period=BudgetPeriod(period),
            basis=BudgetBasis(basis),
        )

    def _margin_guard(self, node: yaml.Node, path: str) -> MarginGuard | None:
        e = self.c.mapping(
            node, path, allowed=object_keys("campaign", "margin_guard"), required=("max_share",)
        )
        if e is None or "max_share" not in e:
            return None
        share = self.c.bounded(
            e["max_share"].value,
            f"{path}.max_share",
            expected="a share above 0 and at most 1 (e.g. 0.3 for 30 %)",
            low=Decimal(0),
            low_inclusive=False,
            high=Decimal(1),
        )
        return MarginGuard(max_share=share) if share is not None else None

    def _split(self, node: yaml.Node, path: str) -> Split | None:
        e = self.c.mapping(node, path, allowed=object_keys("campaign", "split"))
        if e is None:
            return None
        if not e:
            self.c.report(node, path, "write holdout: and/or variants:")
            return None
        holdout = Decimal(0)
        if "holdout" in e:
            value = self.c.bounded(
                e["holdout"].value,
                f"{path}.holdout",
                expected="a share of at least 0 and below 1 (e.g. 0.1 for 10 %)",
                low=Decimal(0),
                high=Decimal(1),
                high_inclusive=False,
            )
            holdout = value if value is not None else holdout
        variants: list[tuple[str, int]] = []
        if "variants" in e:
            vpath = f"{path}.variants"
            items = self.c.mapping(
                e["variants"].value, vpath, allowed=None, expected="a mapping of variant: weight"
            )
            for name, entry in (items or {}).items():
                if not re.fullmatch(ID_PATTERN, name):
                    self.c.report(entry.key, vpath, f"expected {_ID_HELP} as a variant name")
                    continue
                weight = self.c.integer(
                    entry.value,
                    join_path(vpath, name),
                    minimum=1,
                    expected="a positive whole-number weight",
                )
                # A bad weight is reported; the name still counts for the actions' variant check.
                variants.append((name, weight or 0))
            if items is not None and not items:
                self.c.report(e["variants"].value, vpath, "name at least one variant, e.g. A: 50")
        return Split(variants=tuple(variants), holdout=holdout)

    # -- actions -----------------------------------------------------------------------------

    def _actions(self, node: yaml.Node, path: str, *, split: Split | None) -> tuple[Action, ...]:
        items = self.c.sequence(node, path, expected="a list of actions (- issue_coupon: ...)")
        if isinstance(node, yaml.SequenceNode) and not items:
            self.c.report(node, path, "a campaign needs at least one action")
        variants = tuple(name for name, _ in split.variants) if split is not None else ()
        actions: list[Action] = []
        block_nodes: list[tuple[ShowBlock, yaml.Node, str]] = []
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]"
            e = self.c.mapping(
                item,
                item_path,
                allowed=_ACTION_KINDS,
                synonyms=_SYNONYMS,
                expected="an action such as '- issue_coupon: {...}'",
            )
            if not e:
                if e is not None:
                    self.c.report(item, item_path, "empty action")
                continue
            if len(e) > 1:
                second = list(e.values())[1].key
                self.c.report(
                    second,
                    item_path,
                    f"one action per list item; start {second.value!r} with '- ' on its own line",
                )
                continue
            kind, entry = next(iter(e.items()))
            kind_path = f"{item_path}.{kind}"
            action: Action | None = None
            if kind == "issue_coupon":
                action = self._issue_coupon(entry.value, kind_path, variants)
            elif kind == "show_block":
                action = self._show_block(entry.value, kind_path, variants)
                if action is not None:
                    block_nodes.append((action, entry.value, kind_path))
            elif kind == "free_gift":
                action = self._free_gift(entry.value, kind_path, variants)
            elif kind == "tag_order":
                action = self._tag_order(entry.value, kind_path, variants)
            if action is not None:
                actions.append(action)
        for block, block_node, block_path in block_nodes:
            self._block_needs(block, block_node, block_path, actions, variants)
        return tuple(actions)

    def _variant(self, e: dict[str, Entry], path: str, variants: Sequence[str]) -> str | None:
        if "variant" not in e:
            return None
        node = e["variant"].value
        name = self.c.text(node, f"{path}.variant", pattern=ID_PATTERN, pattern_help=_ID_HELP)
        if name is None:
            return None
        if not variants:
            self.c.report(
                node,
                f"{path}.variant",
                f"variant {name!r} needs a split with variants in this campaign",
            )
            return None
        if name not in variants:
            hint = did_you_mean(name, variants)
            self.c.report(
                node,
                f"{path}.variant",
                f"unknown variant {name!r}{hint}; the split has {', '.join(variants)}",
            )
            return None
        return name

    def _issue_coupon(
        self, node: yaml.Node, path: str, variants: Sequence[str]
    ) -> IssueCoupon | None:
        start = self.c.mark()
        c = self.c
        e = c.mapping(node, path, allowed=object_keys("issue_coupon"), required=("type",))
        if e is None:
            return None
        kind = None
        if "type" in e:
            value = c.choice(
                e["type"].value,
                f"{path}.type",
                _COUPON_KINDS,
                what="coupon type",
                synonyms=_COUPON_TYPE_SYNONYMS,
            )
            kind = CouponKind(value) if value is not None else None
        amount = Decimal(0)
        if kind is CouponKind.FREE_SHIPPING and "value" in e:
            c.report(
                e["value"].key, f"{path}.value", "free_shipping coupons have no value; remove it"
            )
        elif kind is not None and kind is not CouponKind.FREE_SHIPPING:
            if "value" not in e:
                what = "percent off" if kind is CouponKind.PERCENTAGE else "amount off"
                c.report(node, path, f"missing required key 'value' (the {what})")
            elif kind is CouponKind.PERCENTAGE:
                amount = c.bounded(
                    e["value"].value,
                    f"{path}.value",
                    expected="a percentage above 0 and at most 100",
                    low=Decimal(0),
                    low_inclusive=False,
                    high=Decimal(100),
                ) or Decimal(0)
            else:
                amount = self._amount(e["value"].value, f"{path}.value") or Decimal(0)
        valid_days = c.optional_integer(
            e,
            "valid_days",
            path,
            default=30,
            minimum=1,
            maximum=3650,
            expected="a whole number of days from 1 to 3650",
        )
        minimum = None
        if "minimum_order" in e:
            minimum = self._amount(e["minimum_order"].value, f"{path}.minimum_order")
        single_use = restrict = True
        if "single_use" in e:
            single_use = c.boolean(e["single_use"].value, f"{path}.single_use") is not False
        if "restrict_to_email" in e:
            restrict = (
                c.boolean(e["restrict_to_email"].value, f"{path}.restrict_to_email") is not False
            )
        prefix = ""
        if "code_prefix" in e:
            prefix = (
                c.text(
                    e["code_prefix"].value,
                    f"{path}.code_prefix",
                    pattern=_CODE_PREFIX.pattern,
                    pattern_help="at most 20 letters, digits, - and _",
                )
                or ""
            )
        length = c.optional_integer(
            e,
            "code_length",
            path,
            default=8,
            minimum=6,
            maximum=32,
            expected="a whole number from 6 to 32",
        )
        products = (
            self._names(e["products"].value, f"{path}.products", "a product id")
            if "products" in e
            else ()
        )
        collections = (
            self._names(e["collections"].value, f"{path}.collections", "a collection handle")
            if "collections" in e
            else ()
        )
        estimated = None
        if "estimated_value" in e:
            if kind is not None and kind is not CouponKind.FREE_SHIPPING:
                c.report(
                    e["estimated_value"].key,
                    f"{path}.estimated_value",
                    "estimated_value is only for free_shipping coupons",
                )
            else:
                estimated = self._amount(e["estimated_value"].value, f"{path}.estimated_value")
        variant = self._variant(e, path, variants)
        if not c.clean_since(start) or kind is None:
            return None
        return IssueCoupon(
            kind=kind,
            value=amount,
            valid_days=valid_days,
            minimum_order=minimum,
            single_use=single_use,
            restrict_to_email=restrict,
            code_prefix=prefix,
            code_length=length,
            product_ids=products,
            collections=collections,
            estimated_value=estimated,
            variant=variant,
        )

    def _names(self, node: yaml.Node, path: str, what: str) -> tuple[str, ...]:
        names = []
        for index, item in enumerate(self.c.sequence(node, path)):
            name = self.c.text(item, f"{path}[{index}]", expected=what)
            if name is not None:
                names.append(name)
        return tuple(names)

    def _show_block(self, node: yaml.Node, path: str, variants: Sequence[str]) -> ShowBlock | None:
        start = self.c.mark()
        if isinstance(node, yaml.ScalarNode):
            name = self.c.text(node, path, expected="a block name")
            if name is None:
                return None
            self._check_block(
                name, {}, name_node=node, params_node=node, path=path, entries={}, has_params=False
            )
            return ShowBlock(block=name) if self.c.clean_since(start) else None
        e = self.c.mapping(
            node, path, allowed=object_keys("show_block"), required=("block",), synonyms=_SYNONYMS
        )
        if e is None or "block" not in e:
            return None
        name_node = e["block"].value
        name = self.c.text(name_node, f"{path}.block", expected="a block name")
        params: dict[str, Any] = {}
        entries: dict[str, Entry] = {}
        params_node: yaml.Node = node
        if "params" in e:
            params_node = e["params"].value
            entries = self.c.mapping(params_node, f"{path}.params", allowed=None) or {}
            params = {key: self.c.plain_value(entry.value) for key, entry in entries.items()}
        variant = self._variant(e, path, variants)
        if name is None:
            return None
        self._check_block(
            name,
            params,
            name_node=name_node,
            params_node=params_node,
            path=path,
            entries=entries,
            has_params="params" in e,
        )
        if not self.c.clean_since(start):
            return None
        return ShowBlock(block=name, params=tuple(params.items()), variant=variant)

    def _check_block(
        self,
        name: str,
        params: dict[str, Any],
        *,
        name_node: yaml.Node,
        params_node: yaml.Node,
        path: str,
        entries: dict[str, Entry],
        has_params: bool,
    ) -> None:
        problems = check_block(name, params)
        params_path = f"{path}.params" if has_params else path
        for param, message in problems:
            if param and param in entries:
                entry = entries[param]
                if (
                    " " in param
                    and isinstance(entry.value, yaml.ScalarNode)
                    and not entry.value.value
                ):
                    message += " (inside {...}, put a text that contains a comma in quotes)"
                self.c.report(entry.key, join_path(f"{path}.params", param), message)
            elif name not in BLOCKS:
                name_path = path if isinstance(params_node, yaml.ScalarNode) else f"{path}.block"
                self.c.report(name_node, name_path, message)
            else:
                self.c.report(params_node, params_path, message)
        if problems or self.param_check is None:
            return
        for param, message in self.param_check(tuple(params.items())):
            found_entry = entries.get(param)
            at = found_entry.value if found_entry is not None else params_node
            self.c.report(at, join_path(params_path, param), message)

    def _block_needs(
        self,
        block: ShowBlock,
        node: yaml.Node,
        path: str,
        actions: list[Action],
        variants: Sequence[str],
    ) -> None:
        spec = BLOCKS.get(block.block)
        if spec is None or spec.needs_action is None:
            return
        kind = IssueCoupon if spec.needs_action == "issue_coupon" else FreeGift
        candidates = [a for a in actions if isinstance(a, kind)]
        where = node
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == "block":
                    where = value_node
        if not candidates:
            self.c.report(
                where,
                path,
                f"block {block.block!r} shows this campaign's {spec.needs_action}, but the "
                f"campaign has no {spec.needs_action} action; add one",
            )
            return
        have_variants = {a.variant for a in candidates}
        covered = None in have_variants or block.variant in have_variants
        if block.variant is None and variants and have_variants >= set(variants):
            covered = True
        if not covered:
            shown = f"variant {block.variant!r}" if block.variant else "every variant"
            have = ", ".join(sorted(str(v) for v in have_variants))
            self.c.report(
                where,
                path,
                f"block {block.block!r} is shown in {shown}, but {spec.needs_action} only in "
                f"variant {have}; give the block the same variant",
            )

    def _free_gift(self, node: yaml.Node, path: str, variants: Sequence[str]) -> FreeGift | None:
        start = self.c.mark()
        e = self.c.mapping(node, path, allowed=object_keys("free_gift"), required=("note",))
        if e is None:
            return None
        note = self.c.text(e["note"].value, f"{path}.note") if "note" in e else None
        tag = "free-gift"
        if "tag" in e:
            tag = self._tag(e["tag"].value, f"{path}.tag") or tag
        cost = Decimal(0)
        if "cost" in e:
            cost = self._amount(e["cost"].value, f"{path}.cost", allow_zero=True) or cost
        variant = self._variant(e, path, variants)
        if not self.c.clean_since(start) or note is None:
            return None
        return FreeGift(note=note, tag=tag, cost=cost, variant=variant)

    def _tag(self, node: yaml.Node, path: str) -> str | None:
        tag = self.c.text(node, path, expected="a tag")
        if tag is not None and "," in tag:
            self.c.report(node, path, "a tag cannot contain commas; add one tag_order per tag")
            return None
        return tag.strip() if tag is not None else None

    def _tag_order(self, node: yaml.Node, path: str, variants: Sequence[str]) -> TagOrder | None:
        if isinstance(node, yaml.ScalarNode):
            tag = self._tag(node, path)
            return TagOrder(tag=tag) if tag is not None else None
        start = self.c.mark()
        e = self.c.mapping(node, path, allowed=object_keys("tag_order"), required=("tag",))
        if e is None or "tag" not in e:
            return None
        tag = self._tag(e["tag"].value, f"{path}.tag")
        variant = self._variant(e, path, variants)
        if not self.c.clean_since(start) or tag is None:
            return None
        return TagOrder(tag=tag, variant=variant)


def _find_field(text: str, path: str) -> tuple[int, str]:
    """Where a condition names a field (or a field derived from it), and how it is written."""
    fallback: tuple[int, str] | None = None
    for match in re.finditer(r"[A-Za-z_][A-Za-z0-9_.]*", text):
        canonical = canonical_name(match.group())
        if canonical == path:
            return match.start(), match.group()
        spec = FIELDS.get(canonical) if canonical is not None else None
        if fallback is None and spec is not None and path in spec.source_fields:
            fallback = (match.start(), match.group())
    return fallback or (0, path)


def _looks_like_secret(value: str) -> bool:
    if value.lower().startswith(_SECRET_PREFIXES):
        return True
    has_lower = any(ch.islower() for ch in value)
    has_digit = any(ch.isdigit() for ch in value)
    return len(value) >= 20 and has_lower and has_digit
