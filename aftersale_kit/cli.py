"""The ``aftersale-kit`` command (also ``python -m aftersale_kit``).

Subcommands are looked up in :data:`COMMANDS` as ``"package.module:function"``; the function takes
the remaining arguments and returns the exit code. More subcommands are plugged in by adding an
entry; an entry whose module is not installed is not offered. Nothing heavy is imported until a
subcommand runs.

Exit codes: 0 success, 1 a problem with the input (every problem is printed, no traceback),
2 wrong usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from . import __version__
from .core.errors import AftersaleKitError, ConfigError, PayloadError

if TYPE_CHECKING:
    from .core.campaign import Action, ShopConfig
    from .core.decision import Decision
    from .core.model import EventKind, Order

__all__ = [
    "COMMANDS",
    "DEMO_CODE_SECRET",
    "EvaluationError",
    "apply_enrichment",
    "available_commands",
    "decision_json",
    "default_event",
    "evaluate_payload",
    "format_decision",
    "main",
    "read_json_file",
]

#: name -> (target "module:function" taking argv and returning the exit code, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("aftersale_kit.cli:validate_main", "check config files; every mistake at once"),
    "evaluate": (
        "aftersale_kit.cli:evaluate_main",
        "which campaigns fire for an order (raw platform JSON), and why",
    ),
    "schema": ("aftersale_kit.cli:schema_main", "print the JSON Schema of config files"),
    "preview": (
        "aftersale_kit.content.preview:main",
        "render an order's thank-you page and e-mail into a folder",
    ),
    "sandbox": (
        "aftersale_kit.sandbox_cli:main",
        "run a local Shopify or WooCommerce sandbox",
    ),
    "serve": ("aftersale_kit.service.cli:serve_main", "run the webhook service and its worker"),
    "worker": ("aftersale_kit.service.cli:worker_main", "run service jobs without HTTP"),
    "reconcile": (
        "aftersale_kit.service.cli:reconcile_main",
        "process orders the webhooks missed",
    ),
    "shops": (
        "aftersale_kit.service.shops_cli:shops_main",
        "install state of the shops; activate one after a reinstall",
    ),
    "privacy": (
        "aftersale_kit.service.privacy_cli:privacy_main",
        "export or erase what the service holds about a customer",
    ),
    "storage": ("aftersale_kit.service.privacy_cli:storage_main", "rows and bytes per table"),
}

#: Used for coupon codes when the config names no code secret or its variable is unset. Codes
#: made with it are guessable: fine for trying a config out, never for a live shop.
DEMO_CODE_SECRET = b"aftersale-kit-demo-code-secret"

_PROG = "aftersale-kit"


class EvaluationError(AftersaleKitError):
    """An input of ``evaluate`` is unusable (order file, enrichment file, options)."""


# -- dispatch ---------------------------------------------------------------------------------


def available_commands() -> dict[str, tuple[str, str]]:
    """The entries of :data:`COMMANDS` whose module can be imported here."""
    found = {}
    for name, (target, help_text) in COMMANDS.items():
        module = target.partition(":")[0]
        try:
            spec = importlib.util.find_spec(module)
        except ImportError:
            spec = None
        if spec is not None:
            found[name] = (target, help_text)
    return found


def _resolve(target: str) -> Callable[[list[str]], int]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    function: Callable[[list[str]], int] = getattr(module, attr)
    return function


def _usage(commands: Mapping[str, tuple[str, str]]) -> str:
    width = max(len(name) for name in commands)
    lines = [
        f"usage: {_PROG} COMMAND [ARGS...]",
        "",
        "After-sales campaigns for online shops: check config files and try them on orders.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {help_text}" for name, (_, help_text) in commands.items()),
        "",
        f"Run '{_PROG} COMMAND --help' for the options of a command.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands = available_commands()
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage(commands), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if args[0] == "--version":
        print(f"{_PROG} {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in commands:
        close = difflib.get_close_matches(name, list(commands), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        print(f"{_PROG}: unknown command {name!r}{hint}", file=sys.stderr)
        print(_usage(commands), file=sys.stderr)
        return 2
    try:
        command = _resolve(commands[name][0])
    except ModuleNotFoundError as exc:
        # the command's module imports an optional dependency that is not installed
        print(
            f"{_PROG} {name}: module {exc.name!r} is not installed; install the extra that "
            "brings it, e.g. pip install 'aftersale-kit[all]'",
            file=sys.stderr,
        )
        return 1
    try:
        return command(rest)
    except KeyboardInterrupt:
        return 130
    except AftersaleKitError as exc:
        print(f"{_PROG} {name}: {exc}", file=sys.stderr)
        return 1


# -- validate ---------------------------------------------------------------------------------


def load_shop_config(path: str | os.PathLike[str]) -> ShopConfig:
    """:func:`~aftersale_kit.core.config.load_config`, also checking the values of block
    parameters with the content layer's checks (when the content layer is installed)."""
    from .core.config import ParamCheck, load_config

    param_check: ParamCheck | None
    try:
        from .content.params import param_problems
    except ImportError:  # pragma: no cover - the content layer ships with the core
        param_check = None
    else:
        param_check = param_problems
    return load_config(path, param_check=param_check)


def validate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{_PROG} validate",
        description="Check config files completely; print every mistake as "
        "file:line:col: path: message.",
    )
    parser.add_argument("configs", nargs="+", metavar="CONFIG", help="shop config file (YAML)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    args = parser.parse_args(argv)
    total = 0
    bad_files = 0
    for path in args.configs:
        try:
            config = load_shop_config(path)
        except ConfigError as exc:
            for problem in exc.problems:
                print(problem)
            total += len(exc.problems)
            bad_files += 1
            continue
        if not args.quiet:
            enabled = sum(1 for c in config.campaigns if c.enabled)
            print(
                f"ok: {path} ({config.settings.platform}, {config.settings.domain}): "
                f"{len(config.campaigns)} campaigns, {enabled} enabled"
            )
    if total:
        noun = "problem" if total == 1 else "problems"
        files = "file" if bad_files == 1 else "files"
        print(f"{total} {noun} in {bad_files} {files}", file=sys.stderr)
        return 1
    return 0


# -- schema -----------------------------------------------------------------------------------


def schema_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{_PROG} schema",
        description="Print the JSON Schema (2020-12) of config files, for editors.",
    )
    parser.parse_args(argv)
    from .core.schema import config_json_schema

    json.dump(config_json_schema(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


# -- evaluate ---------------------------------------------------------------------------------


def read_json_file(path: str | os.PathLike[str]) -> Any:
    """A JSON file's content; :class:`EvaluationError` with file:line:col when it is not JSON."""
    name = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise EvaluationError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise EvaluationError(f"{name}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvaluationError(
            f"{name}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from None


def default_event(order: Order, payload: Any = None) -> EventKind:
    """The event an order's state implies: cancelled, refunded, fulfilled, paid, else created.

    Fulfilled is read from the raw ``payload``: Shopify ``fulfillment_status: fulfilled``,
    WooCommerce ``status: completed``.
    """
    from .core.model import EventKind, FinancialStatus

    status = order.financial_status
    if order.cancelled_at is not None or status in (
        FinancialStatus.VOIDED,
        FinancialStatus.CANCELLED,
    ):
        return EventKind.ORDER_CANCELLED
    if status in (FinancialStatus.REFUNDED, FinancialStatus.PARTIALLY_REFUNDED):
        return EventKind.REFUND_CREATED
    body = payload.get("order", payload) if isinstance(payload, dict) else None
    if isinstance(body, dict) and (
        (order.platform == "shopify" and body.get("fulfillment_status") == "fulfilled")
        or (order.platform == "woocommerce" and body.get("status") == "completed")
    ):
        return EventKind.ORDER_FULFILLED
    if status in (FinancialStatus.PAID, FinancialStatus.PARTIALLY_PAID):
        return EventKind.ORDER_PAID
    return EventKind.ORDER_CREATED


_ENRICH_CUSTOMER = ("orders_count", "total_spent", "tags")
_ENRICH_PRODUCT = ("product_type", "tags", "categories")


def _str_tuple(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EvaluationError(f"{where}: expected a list of texts, got {value!r}")
    return tuple(value)


def apply_enrichment(order: Order, data: Any, *, source: str = "enrichment") -> Order:
    """``order`` with what an adapter would fetch from the platform filled in.

    ``data`` is a JSON object::

        {"customer": {"orders_count": 3, "total_spent": "412.50", "tags": ["vip"]},
         "products": {"KAF-ESP-500": {"product_type": "Kaffee", "tags": [], "categories": []}}}

    ``products`` keys are SKUs or product ids. Offline, this file stands in for the platform's
    customer and product data that webhooks do not carry.
    """
    from .core.model import LineItem
    from .core.money import Money

    if not isinstance(data, dict):
        raise EvaluationError(f"{source}: expected a JSON object")
    unknown = sorted(set(data) - {"customer", "products"})
    if unknown:
        raise EvaluationError(f"{source}: unknown key {unknown[0]!r}; expected customer, products")
    customer = order.customer
    if "customer" in data:
        facts = data["customer"]
        if not isinstance(facts, dict):
            raise EvaluationError(f"{source}: customer: expected a JSON object")
        if customer is None:
            raise EvaluationError(f"{source}: the order is a guest order; remove customer")
        changes: dict[str, Any] = {}
        for key, value in facts.items():
            where = f"{source}: customer.{key}"
            if key not in _ENRICH_CUSTOMER:
                raise EvaluationError(f"{where}: unknown; expected one of {_ENRICH_CUSTOMER}")
            if key == "orders_count":
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise EvaluationError(f"{where}: expected a whole number of at least 1")
                changes[key] = value
            elif key == "total_spent":
                try:
                    changes[key] = Money.of(value, order.currency)
                except ValueError as exc:
                    raise EvaluationError(f"{where}: {exc}") from None
            else:
                changes[key] = _str_tuple(value, where)
        customer = dataclasses.replace(customer, **changes)
    items: tuple[LineItem, ...] = order.line_items
    if "products" in data:
        products = data["products"]
        if not isinstance(products, dict):
            raise EvaluationError(f"{source}: products: expected a JSON object")
        for ref, facts in products.items():
            where = f"{source}: products.{ref}"
            if not isinstance(facts, dict):
                raise EvaluationError(f"{where}: expected a JSON object")
            for key in facts:
                if key not in _ENRICH_PRODUCT:
                    raise EvaluationError(
                        f"{where}.{key}: unknown; expected one of {_ENRICH_PRODUCT}"
                    )
        enriched = []
        for item in items:
            facts = products.get(item.sku or "") or products.get(item.product_id or "")
            if facts is None:
                enriched.append(item)
                continue
            changes = {}
            for key, value in facts.items():
                where = f"{source}: products: {key}"
                if key == "product_type":
                    if not isinstance(value, str):
                        raise EvaluationError(f"{where}: expected a text")
                    changes[key] = value
                else:
                    changes[key] = _str_tuple(value, where)
            enriched.append(dataclasses.replace(item, **changes))
        items = tuple(enriched)
    return dataclasses.replace(order, customer=customer, line_items=items)


def _parse_now(text: str, config: ShopConfig) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EvaluationError(
            f"--now: expected an ISO time such as 2026-11-28T10:00:00+01:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(config.settings.timezone))
    return moment


def _code_secret(config: ShopConfig, *, warn: TextIO | None) -> bytes:
    ref = config.settings.secret("code_secret")
    value = os.environ.get(ref.env) if ref is not None else None
    if value:
        return value.encode("utf-8")
    if warn is not None:
        why = (
            f"environment variable {ref.env} is not set"
            if ref is not None
            else "the config names no secrets.code_secret"
        )
        print(
            f"warning: {why}; coupon codes are made with a fixed demo secret (guessable, "
            "for trying out only)",
            file=warn,
        )
    return DEMO_CODE_SECRET


def evaluate_payload(
    config: ShopConfig,
    payload: Any,
    *,
    platform: str | None = None,
    event: EventKind | None = None,
    now: datetime | None = None,
    enrichment: Any = None,
    enrichment_source: str = "enrichment",
    code_secret: bytes | None = None,
    counters: Any = None,
    warn: TextIO | None = None,
) -> tuple[Order, Decision]:
    """Normalize a raw platform order, fill in ``enrichment``, and decide on it.

    ``platform`` defaults to a guess from the payload (the config's platform if no guess);
    ``event`` to :func:`default_event`; ``now`` to when the order was paid (else created).
    """
    from .core.counters import InMemoryCounters
    from .core.engine import decide
    from .core.normalize import guess_platform, normalize_order

    settings = config.settings
    if platform is None:
        try:
            platform = guess_platform(payload)
        except PayloadError:
            platform = settings.platform
    if platform != settings.platform:
        raise EvaluationError(
            f"this is a {platform} order, but {config.source} is for a {settings.platform} shop"
        )
    order = normalize_order(payload, platform=platform, shop=settings.domain)
    if order.currency != settings.currency and warn is not None:
        print(
            f"warning: the order is in {order.currency}, the shop in {settings.currency}; "
            f"the order's amounts are compared as if they were {settings.currency}",
            file=warn,
        )
    if enrichment is not None:
        order = apply_enrichment(order, enrichment, source=enrichment_source)
    if event is None:
        event = default_event(order, payload)
    if now is None:
        now = order.paid_at or order.created_at
    secret = code_secret if code_secret is not None else _code_secret(config, warn=warn)
    decision = decide(
        config,
        order,
        event=event,
        counters=counters if counters is not None else InMemoryCounters(),
        now=now,
        code_secret=secret,
    )
    return order, decision


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


_ACTION_KIND = {
    "IssueCoupon": "issue_coupon",
    "ShowBlock": "show_block",
    "FreeGift": "free_gift",
    "TagOrder": "tag_order",
}


def _action_json(action: Action) -> dict[str, Any]:
    """An action's fields, named as in the config file (a coupon's ``kind`` is its ``type``)."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(action):
        value = getattr(action, field.name)
        if field.name == "params":
            value = dict(value)
        name = "type" if field.name == "kind" else field.name
        fields[name] = _plain(value)
    return fields


def _cost_currency(order: Order, decision: Decision) -> str:
    """Costs are in the shop currency (that of the planned actions)."""
    return decision.actions[0].cost.currency if decision.actions else order.currency


def decision_json(order: Order, decision: Decision) -> dict[str, Any]:
    """The decision as JSON-ready data (money as decimal strings)."""
    total = sum((a.cost.amount for a in decision.actions), Decimal(0))
    return {
        "shop": decision.shop,
        "platform": order.platform,
        "order_id": decision.order_id,
        "order_number": order.number,
        "event": decision.event.value,
        "decided_at": decision.decided_at.isoformat(),
        "fired": list(decision.fired),
        "outcomes": [
            {
                "campaign_id": o.campaign_id,
                "fired": o.fired,
                "reason": o.reason.value,
                "detail": o.detail,
                "variant": o.variant,
            }
            for o in decision.outcomes
        ],
        "actions": [
            {
                "campaign_id": a.campaign_id,
                "idempotency_key": a.idempotency_key,
                "kind": _ACTION_KIND[type(a.action).__name__],
                "coupon_code": a.coupon_code,
                "cost": {"amount": str(a.cost.rounded().amount), "currency": a.cost.currency},
                "details": _action_json(a.action),
            }
            for a in decision.actions
        ],
        "total_cost": {
            "amount": str(total.quantize(Decimal("0.01"))),
            "currency": _cost_currency(order, decision),
        },
    }


def _describe_action(action: Action, currency: str) -> str:
    from .core.campaign import CouponKind, FreeGift, IssueCoupon, ShowBlock, TagOrder

    if isinstance(action, IssueCoupon):
        if action.kind is CouponKind.PERCENTAGE:
            what = f"{action.value} % coupon"
        elif action.kind is CouponKind.FIXED_AMOUNT:
            what = f"{action.value} {currency} coupon"
        else:
            what = "free-shipping coupon"
        extra = f", minimum order {action.minimum_order} {currency}" if action.minimum_order else ""
        return f"issue {what}, valid {action.valid_days} days{extra}"
    if isinstance(action, ShowBlock):
        return f"show block {action.block}"
    if isinstance(action, FreeGift):
        return f"free gift: {action.note} (tag {action.tag})"
    if isinstance(action, TagOrder):
        return f"tag order: {action.tag}"
    raise TypeError(f"unknown action {action!r}")  # pragma: no cover


def format_decision(order: Order, decision: Decision, *, timezone: str | None = None) -> str:
    """The decision in words: one line per campaign, then the planned actions and their cost.
    Times are shown in ``timezone`` (the shop's) when given."""
    fired = len(decision.fired)
    moment = decision.decided_at
    if timezone is not None:
        moment = moment.astimezone(ZoneInfo(timezone))
    lines = [
        f"Order {order.number} (id {order.id}) of {order.shop} [{order.platform}]",
        f"Event {decision.event.value} at {moment.isoformat()}: "
        f"{fired} of {len(decision.outcomes)} campaigns fire",
        "",
    ]
    width = max((len(o.campaign_id) for o in decision.outcomes), default=0)
    for o in decision.outcomes:
        if o.fired:
            lines.append(f"  FIRED  {o.campaign_id:<{width}}  {o.detail}")
        else:
            lines.append(f"    -    {o.campaign_id:<{width}}  {o.reason.value}: {o.detail}")
    if decision.actions:
        lines += ["", "Planned actions:"]
        for a in decision.actions:
            code = f", code {a.coupon_code}" if a.coupon_code else ""
            cost = f"  cost {a.cost}" if a.cost.amount else ""
            lines.append(
                f"  {a.campaign_id:<{width}}  {_describe_action(a.action, order.currency)}"
                f"{code}{cost}"
            )
        total = sum((a.cost.amount for a in decision.actions), Decimal(0))
        currency = _cost_currency(order, decision)
        lines.append(f"  total cost: {total.quantize(Decimal('0.01'))} {currency}")
    return "\n".join(lines)


def evaluate_main(argv: list[str]) -> int:
    from .core.model import EventKind

    parser = argparse.ArgumentParser(
        prog=f"{_PROG} evaluate",
        description="Decide which campaigns fire for one order and explain why each one does "
        "or does not. Nothing is sent to the platform.",
    )
    parser.add_argument("config", metavar="CONFIG", help="shop config file (YAML)")
    parser.add_argument("order", metavar="ORDER.json", help="raw order JSON (webhook body)")
    parser.add_argument(
        "--platform",
        choices=("shopify", "woocommerce"),
        help="platform of the order JSON (default: recognised from its fields)",
    )
    parser.add_argument(
        "--event",
        choices=[k.value for k in EventKind],
        help="the order event (default: from the order's state: paid, cancelled, ...)",
    )
    parser.add_argument(
        "--now",
        metavar="ISO",
        help="decide as of this time (default: when the order was paid, else created)",
    )
    parser.add_argument(
        "--enrich",
        metavar="FILE.json",
        help="customer and product data the webhook lacks (what the adapter would fetch)",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    args = parser.parse_args(argv)
    try:
        config = load_shop_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    try:
        payload = read_json_file(args.order)
        enrichment = read_json_file(args.enrich) if args.enrich else None
        now = _parse_now(args.now, config) if args.now else None
        order, decision = evaluate_payload(
            config,
            payload,
            platform=args.platform,
            event=EventKind(args.event) if args.event else None,
            now=now,
            enrichment=enrichment,
            enrichment_source=args.enrich or "enrichment",
            warn=sys.stderr,
        )
    except PayloadError as exc:
        field = f" (field {exc.field})" if exc.field else ""
        print(f"{args.order}: not a usable order{field}: {exc}", file=sys.stderr)
        return 1
    except EvaluationError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        json.dump(decision_json(order, decision), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(format_decision(order, decision, timezone=config.settings.timezone))
    return 0
