"""The ``aftersale-kit`` command (also ``python -m aftersale_kit``).

Subcommands are looked up in :data:`COMMANDS` as ``"package.module:function"``; the function takes
the remaining arguments and returns the exit code. More subcommands are plugged in by adding an
entry; an entry whose module is not installed is not offered. Nothing heavy is imported until a
subcommand runs.

Exit codes: 0 success, 1 a problem with the input or a missing optional dependency (every
problem is printed, no traceback), 2 wrong usage, 70 an internal error (one line; with
``AFTERSALE_KIT_TRACEBACK=1`` the traceback), 130 interrupted. A closed output pipe ends quietly.
The library side of ``evaluate`` (loading, enrichment, deciding) is :mod:`aftersale_kit.evaluation`.
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
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import __version__
from .core.contact.follow_up import FollowUp
from .core.contact.presale import VipPresale
from .core.errors import AftersaleKitError, ConfigError, MissingExtraError, PayloadError
from .evaluation import (
    DEMO_CODE_SECRET,
    EvaluationError,
    apply_enrichment,
    default_event,
    evaluate_payload,
    load_shop_config,
    parse_now,
    read_json_file,
)

if TYPE_CHECKING:
    from .core.campaign import Action
    from .core.decision import Decision
    from .core.model import Order

__all__ = [
    "COMMANDS",
    "DEMO_CODE_SECRET",
    "EXTRA_OF_MODULE",
    "EvaluationError",
    "apply_enrichment",
    "available_commands",
    "decision_json",
    "default_event",
    "evaluate_payload",
    "format_decision",
    "load_shop_config",
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
    "backtest": (
        "aftersale_kit.backtest.command:main",
        "what the campaigns would have cost over past orders: a report",
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
    "loyalty": (
        "aftersale_kit.service.loyalty_cli:loyalty_main",
        "loyalty points: show, adjust, import, export, report",
    ),
    "surveys": (
        "aftersale_kit.service.surveys_report:surveys_main",
        "survey answers: response rate, ratings, delivery and payment problems",
    ),
    "report": (
        "aftersale_kit.service.report_cli:report_main",
        "what the campaigns brought: redemptions net of refunds, leaks, budgets, care cost",
    ),
    "messages": (
        "aftersale_kit.service.messages_cli:messages_main",
        "the follow-up e-mail schedule: list, show, cancel, preview",
    ),
}

#: Top-level modules of optional dependencies -> the extra that brings them (for the one-line
#: message when a command needs one that is not installed).
EXTRA_OF_MODULE: dict[str, str] = {
    "shopify": "shopify",
    "graphql": "sandbox",
    "pyactiveresource": "shopify",
    "woocommerce": "woocommerce",
    "psycopg": "postgres",
    "starlette": "server",
    "uvicorn": "server",
    "sqlalchemy": "server",
    "alembic": "server",
    "prometheus_client": "server",
    "jwt": "server",
    "httpx": "demo",
    "trustme": "sandbox",
}

_PROG = "aftersale-kit"


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


def _missing_module(name: str, exc: ModuleNotFoundError) -> str:
    """One line for a command that needs a module that is not installed."""
    module = (exc.name or "").partition(".")[0]
    extra = EXTRA_OF_MODULE.get(module)
    if extra is None:
        return (
            f"{_PROG} {name}: module {exc.name!r} is not installed; install the extra that "
            "brings it, e.g. pip install 'aftersale-kit[all]'"
        )
    return (
        f"{_PROG} {name}: needs an optional dependency (module {module!r} is not installed): "
        f"pip install 'aftersale-kit[{extra}]'"
    )


def _quiet_stdout() -> None:
    """After a closed pipe (``aftersale-kit schema | head -1``): send what is still buffered
    nowhere, so that the interpreter's final flush does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass


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
    """Entry point of the console script; returns the exit code.

    No traceback reaches the user: a missing optional dependency is one line naming the extra
    and its ``pip install``; a closed output pipe ends quietly; anything unexpected is one line
    (``AFTERSALE_KIT_TRACEBACK=1`` shows the traceback, for a bug report).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _dispatch(args)
        # what is still buffered goes out here, where a closed pipe is caught, not in the
        # interpreter's final flush (a text larger than the pipe's buffer)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 1


def _dispatch(args: list[str]) -> int:
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
        return command(rest)
    except KeyboardInterrupt:
        return 130
    except MissingExtraError as exc:
        print(f"{_PROG} {name}: {exc}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:
        # the command imports an optional dependency that is not installed
        print(_missing_module(name, exc), file=sys.stderr)
        return 1
    except AftersaleKitError as exc:
        print(f"{_PROG} {name}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise
    except Exception as exc:
        if os.environ.get("AFTERSALE_KIT_TRACEBACK"):
            raise
        print(
            f"{_PROG} {name}: internal error ({type(exc).__name__}: {exc}); please report it "
            "(AFTERSALE_KIT_TRACEBACK=1 shows the traceback)",
            file=sys.stderr,
        )
        return 70


# -- validate ---------------------------------------------------------------------------------


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
    "AwardPoints": "award_points",
    "Stamp": "stamp",
    "FollowUp": "follow_up",
    "VipPresale": "vip_presale",
}


def _action_json(action: Action) -> dict[str, Any]:
    """An action's fields, named as in the config file (a coupon's ``kind`` is its ``type``)."""
    if isinstance(action, FollowUp | VipPresale):
        return action.summary()
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
    from .core.loyalty.actions import AwardPoints, Stamp

    if isinstance(action, FollowUp):
        return f"follow-up: {action.describe()}"
    if isinstance(action, VipPresale):
        return action.describe()
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
    if isinstance(action, AwardPoints | Stamp):
        return action.describe()
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
        now = parse_now(args.now, config) if args.now else None
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
