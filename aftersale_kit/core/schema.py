"""The JSON Schema (2020-12) of a shop owner's config file, for editors and other tools.

Editors with a YAML language server show these descriptions and complete the keys: save the output
of ``aftersale-kit schema`` as ``shop.schema.json`` and make the first line of ``shop.yaml``
``# yaml-language-server: $schema=shop.schema.json``.

The loader (:mod:`aftersale_kit.core.config`) takes the names of the allowed keys from this schema,
so the two cannot drift apart; it checks far more than a schema can say (conditions, currencies,
cross references), and its messages are the ones to read.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from . import registry
from .blocks import BLOCKS
from .campaign import BudgetBasis, BudgetPeriod, CouponKind, RefundPolicy
from .model import EventKind
from .schema_contact import CONTACT_ACTION_SCHEMAS, contact_policy_schema, link_schema
from .schema_loyalty import LOYALTY_ACTION_SCHEMAS, loyalty_schema
from .schema_mail import mail_schema
from .weblinks import CONTACT_HOURS_MAX, PHONE_PATTERN

__all__ = [
    "ENV_VAR_PATTERN",
    "ID_PATTERN",
    "config_json_schema",
    "object_keys",
]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
ENV_VAR_PATTERN = r"^[A-Z_][A-Z0-9_]*$"
_MONEY_TEXT = r"^[0-9]+(\.[0-9]+)?$"
_DATE_OR_TIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?)?$"
)


def _obj(
    description: str,
    properties: dict[str, Any],
    *,
    required: tuple[str, ...] = (),
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _money(description: str, *, allow_zero: bool = False) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "number"}
    number["minimum" if allow_zero else "exclusiveMinimum"] = 0
    return {
        "description": description + " A plain amount in the shop currency, e.g. 4.20.",
        "anyOf": [number, {"type": "string", "pattern": _MONEY_TEXT}],
    }


def _str(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _int(description: str, *, minimum: int | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "description": description, **extra}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def _bool(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def _enum(description: str, values: list[str]) -> dict[str, Any]:
    return {"type": "string", "description": description, "enum": values}


_VARIANT = _str(
    "Only in this A/B variant (a name under split.variants); without it, in every variant.",
    pattern=ID_PATTERN,
)


def _auth() -> dict[str, Any]:
    specs = registry.specs().values()
    methods = sorted({m.name for spec in specs for m in spec.auth_methods})
    fields = sorted({f for spec in specs for m in spec.auth_methods for f in m.reads})
    help_text = "; ".join(
        f"{spec.name} {m.name}: {m.help}" for spec in specs for m in spec.auth_methods
    )
    defaults = ", ".join(f"{spec.title} {spec.default_auth}" for spec in specs)
    env = {
        "type": "string",
        "pattern": ENV_VAR_PATTERN,
        "description": "Name of the environment variable that holds it.",
    }
    return _obj(
        f"How the service gets the shop's API credentials (default: {defaults}). "
        f"Methods: {help_text}.",
        {
            "method": _enum("The method.", methods),
            **{name: dict(env) for name in fields},
        },
        required=("method",),
    )


def _shop() -> dict[str, Any]:
    specs = registry.specs()
    all_secret_names = sorted({n for spec in specs.values() for n in spec.secrets})
    secret_help = "; ".join(f"{name}: {', '.join(spec.secrets)}" for name, spec in specs.items())
    domains = "; ".join(f"{spec.title}: {spec.domain_help}" for spec in specs.values())
    versions = "; ".join(f"{spec.title} {spec.api_version_help}" for spec in specs.values())
    example = next(
        (e for spec in specs.values() for e in spec.env_examples.values()), "SHOP_API_TOKEN"
    )
    return _obj(
        "The shop: platform, domain, currency, where its secrets are, its margins and limits.",
        {
            "platform": _enum("The shop system.", list(specs)),
            "domain": _str(f"The shop's domain without https:// ({domains})."),
            "currency": _str("The shop currency (ISO 4217, e.g. EUR).", pattern="^[A-Z]{3}$"),
            "locale": _str(
                "Language of texts shown to customers, e.g. de_DE.",
                pattern="^[a-z]{2}(_[A-Z]{2})?$",
                default="de_DE",
            ),
            "timezone": _str(
                "Time zone of schedules and budget periods (IANA name, e.g. Europe/Berlin).",
                default="UTC",
            ),
            "api_base_url": _str(
                "Optional: call the platform at this address instead (e.g. a sandbox). "
                "Plain http:// only for 127.0.0.1 or localhost.",
                pattern="^https?://",
            ),
            "api_version": _str(f"Platform API version: {versions}."),
            "secrets": {
                "type": "object",
                "description": "Names of the environment variables that hold the secrets; never "
                f"the secrets themselves. Known names: {secret_help}.",
                "propertyNames": {"enum": all_secret_names},
                "additionalProperties": {
                    "type": "string",
                    "pattern": ENV_VAR_PATTERN,
                    "description": f"Name of an environment variable, e.g. {example}.",
                },
            },
            "auth": _auth(),
            "margin": _obj(
                "What the shop earns on a sale, for margin guards.",
                {
                    "default": {
                        "type": "number",
                        "description": "Margin share (0 to 1) assumed for products without a "
                        "cost below, e.g. 0.35 for 35 %.",
                        "minimum": 0,
                        "exclusiveMaximum": 1,
                    },
                    "product_costs": {
                        "type": "object",
                        "description": "Unit cost per SKU in the shop currency.",
                        "additionalProperties": _money("Unit cost.", allow_zero=True),
                    },
                },
            ),
            "limits": _obj(
                "Limits over all campaigns, so that customers are not pestered.",
                {
                    "max_offers_per_order": _int(
                        "At most this many offers (coupons or gifts) per order.", minimum=1
                    ),
                },
            ),
            "care": _obj(
                "What after-sales care costs, for customer.care_cost and care_cost_share.",
                {
                    "service_check_cost": _money(
                        "What one service check (a service_reminder follow-up sent) costs.",
                        allow_zero=True,
                    ),
                    "min_orders": _int(
                        "Orders a customer needs before care_cost_share is said (default 3).",
                        minimum=1,
                    ),
                },
            ),
            "backtest": _obj(
                "What `aftersale-kit backtest` assumes for this shop.",
                {
                    "redemption_rate": {
                        "type": "number",
                        "description": "Share of issued coupons assumed to be redeemed (0 to "
                        "1), for the expected cost; --redemption-rate overrides it.",
                        "minimum": 0,
                        "maximum": 1,
                    },
                },
            ),
            "templates_dir": _str(
                "Optional folder with your own block templates (relative to this file)."
            ),
            "booking_url": link_schema(
                "Optional: where customers book an appointment; the button of every service "
                "reminder whose follow_up has no link:."
            ),
            "review_url": link_schema(
                "Optional: where customers write a review; the button of every review request "
                "whose follow_up has no link:."
            ),
            "contact": _obj(
                "Optional: how customers reach the shop, shown in a service reminder without a "
                "booking page (follow_up link: or booking_url).",
                {
                    "phone": _str("A phone number, e.g. +49 30 1234567.", pattern=PHONE_PATTERN),
                    "email": _str("An e-mail address, e.g. service@shop.example."),
                    "hours": _str(
                        "When the shop is reachable, as written, e.g. Mo-Fr 9-18 Uhr.",
                        maxLength=CONTACT_HOURS_MAX,
                    ),
                },
            ),
            "exchange_rates": {
                "type": "object",
                "description": "Optional: what one unit of another currency is worth in the "
                'shop currency, e.g. {JPY: "0.0061"}. Orders in such a currency (from '
                "multi-currency plugins) are converted for conditions, budgets and margin "
                "guards; without a rate their money conditions are unknown.",
                "propertyNames": {"pattern": "^[A-Za-z]{3}$"},
                "additionalProperties": {
                    "description": "The rate: shop-currency units per unit of this currency.",
                    "anyOf": [
                        {"type": "number", "exclusiveMinimum": 0},
                        {"type": "string", "pattern": _MONEY_TEXT},
                    ],
                },
            },
        },
        required=("platform", "domain", "currency"),
    )


def _issue_coupon() -> dict[str, Any]:
    return _obj(
        "Create a coupon for the customer's next order.",
        {
            "type": _enum(
                "percentage: value in percent; fixed_amount: value in the shop currency; "
                "free_shipping: no value.",
                [k.value for k in CouponKind],
            ),
            "value": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "Percent (up to 100) or amount, depending on type.",
            },
            "valid_days": _int("Days the coupon stays valid (default 30).", minimum=1),
            "minimum_order": _money("Minimum order value for the coupon."),
            "single_use": _bool("The coupon can be used once (default true)."),
            "restrict_to_email": _bool(
                "Only the buyer's e-mail address can redeem it (default true)."
            ),
            "code_prefix": _str(
                "Start of every code, e.g. DANKE (letters, digits, - and _).",
                pattern="^[A-Za-z0-9_-]{0,20}$",
            ),
            "code_length": _int(
                "Length of the random part of the code (6 to 32, default 8).",
                minimum=6,
                maximum=32,
            ),
            "products": {
                "type": "array",
                "description": "Product ids the coupon applies to (default: all).",
                "items": {"type": ["string", "integer"]},
            },
            "collections": {
                "type": "array",
                "description": "Collections or categories the coupon applies to "
                "(their handles or slugs).",
                "items": {"type": "string"},
            },
            "estimated_value": _money(
                "Free shipping only: what one coupon is assumed to cost (for budgets)."
            ),
            "variant": _VARIANT,
        },
        required=("type",),
    )


def _block_params() -> list[dict[str, Any]]:
    rules = []
    for spec in BLOCKS.values():
        params: dict[str, Any] = {
            "type": "object",
            "properties": {name: {} for name in (*spec.required, *spec.optional)},
            "additionalProperties": False,
        }
        if spec.required:
            params["required"] = list(spec.required)
        rule: dict[str, Any] = {
            "if": {"properties": {"block": {"const": spec.name}}, "required": ["block"]},
            "then": {"properties": {"params": params}},
        }
        if spec.required:
            rule["then"]["required"] = ["params"]
        rules.append(rule)
    return rules


def _show_block() -> dict[str, Any]:
    block_help = "; ".join(f"{s.name}: {s.description}" for s in BLOCKS.values())
    long_form = _obj(
        "Show a content block on the confirmation page and in the order e-mail.",
        {
            "block": _enum(f"The block. {block_help}", sorted(BLOCKS)),
            "params": {"type": "object", "description": "The block's parameters."},
            "variant": _VARIANT,
        },
        required=("block",),
    )
    long_form["allOf"] = _block_params()
    return {
        "description": long_form["description"],
        "anyOf": [
            _enum("A block without parameters.", sorted(BLOCKS)),
            long_form,
        ],
    }


def _free_gift() -> dict[str, Any]:
    return _obj(
        "Put a free gift in the parcel: a note for the packer and an order tag.",
        {
            "note": _str("What to put in the parcel, e.g. Probierpäckchen Espresso."),
            "tag": _str("Order tag for the packer (default free-gift)."),
            "cost": _money("What the gift costs you (counts against budgets).", allow_zero=True),
            "variant": _VARIANT,
        },
        required=("note",),
    )


def _tag_order() -> dict[str, Any]:
    long_form = _obj(
        "Add a tag to the order.",
        {"tag": _str("The tag."), "variant": _VARIANT},
        required=("tag",),
    )
    return {
        "description": long_form["description"],
        "anyOf": [_str("The tag."), long_form],
    }


ACTION_SCHEMAS = {
    "issue_coupon": _issue_coupon,
    "show_block": _show_block,
    "free_gift": _free_gift,
    "tag_order": _tag_order,
    **LOYALTY_ACTION_SCHEMAS,
    **CONTACT_ACTION_SCHEMAS,
}


def _action() -> dict[str, Any]:
    return {
        "description": "One action, written as `- <kind>: ...`.",
        "oneOf": [
            {
                "type": "object",
                "properties": {kind: {"$ref": f"#/$defs/{kind}"}},
                "required": [kind],
                "additionalProperties": False,
            }
            for kind in ACTION_SCHEMAS
        ],
    }


def _campaign() -> dict[str, Any]:
    condition_list = {
        "description": "Conditions that must all hold, e.g. 'subtotal >= 30' or first_order.",
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
        ],
    }
    return _obj(
        "One campaign: when it fires and what it does.",
        {
            "id": _str(
                "Unique name of the campaign (letters, digits, - and _), e.g. danke-gutschein.",
                pattern=ID_PATTERN,
            ),
            "description": _str("What the campaign is for, in your own words."),
            "enabled": _bool("false switches the campaign off (default true)."),
            "trigger": _enum(
                f"The order event the campaign reacts to (default order_paid{_trigger_notes()}).",
                [k.value for k in EventKind],
            ),
            "when": condition_list,
            "conditions": {**condition_list, "description": "Another name for when."},
            "priority": _int(
                "Higher is decided first and wins inside an exclusive group (default 0)."
            ),
            "exclusive_group": _str(
                "Of the campaigns with the same group, at most one fires per order.",
                pattern=ID_PATTERN,
            ),
            "schedule": _obj(
                "When the campaign runs. Dates are days in the shop's time zone; "
                "until includes that day.",
                {
                    "from": _str("First day (e.g. 2026-11-01) or moment.", pattern=_DATE_OR_TIME),
                    "until": _str(
                        "Last day (e.g. 2026-12-24) or end moment.", pattern=_DATE_OR_TIME
                    ),
                },
            ),
            "per_customer": _obj(
                "How often one customer can get this campaign.",
                {
                    "once": _bool("true: once per customer."),
                    "max": _int("At most this many times per customer.", minimum=1),
                    "cooldown_days": _int(
                        "At least this many days between two offers to the same customer.",
                        minimum=1,
                    ),
                },
            ),
            "usage_limit": _int("At most this many times over all customers.", minimum=1),
            "budget": _obj(
                "At most this much offer cost (coupons and gifts) per period.",
                {
                    "amount": _money("The budget."),
                    "period": _enum(
                        "day, week, month, quarter or year (calendar, in the shop's time "
                        "zone), or total.",
                        [p.value for p in BudgetPeriod],
                    ),
                    "currency": _str("Optional; must be the shop currency.", pattern="^[A-Z]{3}$"),
                    "basis": _enum(
                        "Which cost the budget limits: reserved (default: the cost of every "
                        "offer made) or redeemed (the discounts customers actually took).",
                        [b.value for b in BudgetBasis],
                    ),
                },
                required=("amount", "period"),
            ),
            "on_refund": _enum(
                "What a partial refund of the order takes back: reevaluate (default: the "
                "conditions are decided again on the order net of refunds), revoke (any refund "
                "takes the offer back) or keep. A full refund or cancellation takes back "
                "everything not yet redeemed.",
                [p.value for p in RefundPolicy],
            ),
            "margin_guard": _obj(
                "No offer that costs more than this share of the order's margin.",
                {
                    "max_share": {
                        "type": "number",
                        "description": "Share of the margin (0 to 1), e.g. 0.3.",
                        "exclusiveMinimum": 0,
                        "maximum": 1,
                    }
                },
                required=("max_share",),
            ),
            "split": _obj(
                "A/B test: a holdout share gets nothing, the rest is split over variants.",
                {
                    "holdout": {
                        "type": "number",
                        "description": "Share of customers (0 to 1) who get nothing, e.g. 0.1.",
                        "minimum": 0,
                        "exclusiveMaximum": 1,
                    },
                    "variants": {
                        "type": "object",
                        "description": "Variant names and their weights, e.g. {A: 50, B: 50}.",
                        "propertyNames": {"pattern": ID_PATTERN},
                        "additionalProperties": {"type": "integer", "minimum": 1},
                    },
                },
            ),
            "actions": {
                "type": "array",
                "description": "What the campaign does when it fires.",
                "minItems": 1,
                "items": {"$ref": "#/$defs/action"},
            },
        },
        required=("id", "actions"),
    )


def _trigger_notes() -> str:
    notes = [
        f"; {spec.title} never reports {kind.value}"
        for spec in registry.specs().values()
        for kind in EventKind
        if kind not in spec.triggers
    ]
    return "".join(notes)


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a config file. A fresh dict on every call."""
    return copy.deepcopy(_schema())


def _schema() -> dict[str, Any]:
    """The schema for the platforms known now (rebuilt when one is registered)."""
    return _schema_of(registry.generation())


@functools.lru_cache(maxsize=4)
def _schema_of(generation: int) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aftersale-kit shop config",
        "description": "One shop and its after-sales campaigns.",
        "type": "object",
        "properties": {
            "version": {"const": 1, "description": "Version of this file format (1)."},
            "shop": {"$ref": "#/$defs/shop"},
            "campaigns": {
                "type": "array",
                "description": "The campaigns, decided in order of priority.",
                "items": {"$ref": "#/$defs/campaign"},
            },
            "loyalty": loyalty_schema(),
            "contact_policy": contact_policy_schema(),
            "mail": mail_schema(),
        },
        "required": ["shop", "campaigns"],
        "additionalProperties": False,
        "$defs": {
            "shop": _shop(),
            "campaign": _campaign(),
            "action": _action(),
            **{kind: build() for kind, build in ACTION_SCHEMAS.items()},
        },
    }


def object_keys(*path: str) -> tuple[str, ...]:
    """The keys the schema allows in one object, e.g. ``object_keys("campaign", "budget")``.

    The first name is a ``$defs`` entry (or ``""`` for the top level), the rest are property
    names, following ``anyOf`` to the object form.
    """
    return _object_keys(registry.generation(), path)


@functools.lru_cache(maxsize=256)
def _object_keys(generation: int, path: tuple[str, ...]) -> tuple[str, ...]:
    schema = _schema_of(generation)
    node: dict[str, Any] = schema if path[0] == "" else schema["$defs"][path[0]]
    for name in path[1:]:
        node = node["properties"][name]
    if "properties" not in node:
        for option in node.get("anyOf", ()):
            if "properties" in option:
                node = option
                break
    return tuple(node["properties"])
