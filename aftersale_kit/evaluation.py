"""Trying a config on an order, offline: the library side of ``aftersale-kit evaluate``.

Everything here is importable without the command line (and re-exported from
:mod:`aftersale_kit`): load a shop's config with every check, read an order file, fill in what the
platform would have added (:func:`apply_enrichment`, :func:`load_enrichment`), and decide
(:func:`evaluate_payload`) with the same defaults the commands use: the event the order's state
implies and the moment it was paid. Nothing is sent to a platform.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from .core.errors import AftersaleKitError, PayloadError

if TYPE_CHECKING:
    from collections.abc import Callable

    from .core.campaign import ShopConfig
    from .core.decision import Decision
    from .core.model import EventKind, LineItem, Order

__all__ = [
    "CODE_SECRET_ENV",
    "DEMO_CODE_SECRET",
    "EvaluationError",
    "apply_enrichment",
    "default_event",
    "evaluate_payload",
    "load_enrichment",
    "load_shop_config",
    "parse_now",
    "read_json_file",
    "read_payload",
    "trial_code_secret",
]

#: Used for coupon codes when the config names no code secret or its variable is unset. Codes
#: made with it are guessable: fine for trying a config out, never for a live shop.
DEMO_CODE_SECRET = b"aftersale-kit-demo-code-secret"
#: A code secret for all configs tried out here, when the shop's own variable is not set.
CODE_SECRET_ENV = "AFTERSALE_KIT_CODE_SECRET"


class EvaluationError(AftersaleKitError):
    """An input of ``evaluate`` is unusable (order file, enrichment file, options)."""


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


def read_json_file(path: str | os.PathLike[str]) -> Any:
    """A JSON file's content; :class:`EvaluationError` with file:line:col when it is not JSON."""
    from .core.jsonread import DEFAULT_MAX_BYTES, JSONInputError, read_json

    name = os.fspath(path)
    try:
        if Path(path).stat().st_size > DEFAULT_MAX_BYTES:
            raise EvaluationError(f"{name}: larger than {DEFAULT_MAX_BYTES:,} bytes, not an order")
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise EvaluationError(f"{name}: cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise EvaluationError(f"{name}: not UTF-8 text") from None
    try:
        return read_json(text, what=name)
    except JSONInputError as exc:
        if exc.reason == "not_json":
            raise EvaluationError(
                f"{name}:{exc.line}:{exc.column}: not valid JSON: {exc.parser_message}"
            ) from None
        raise EvaluationError(str(exc)) from None


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


_ENRICH_CUSTOMER = (
    "orders_count",
    "total_spent",
    "tags",
    "care_cost",
    "care_cost_share",
    "care_cost_note",
)
_ENRICH_PRODUCT = ("product_type", "tags", "categories")


def _str_tuple(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EvaluationError(f"{where}: expected a list of texts, got {value!r}")
    return tuple(value)


def _orders_count(value: Any, where: str, currency: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise EvaluationError(f"{where}: expected a whole number of at least 1")
    return value


def _total_spent(value: Any, where: str, currency: str) -> Any:
    from .core.money import Money

    try:
        return Money.of(value, currency)
    except ValueError as exc:
        raise EvaluationError(f"{where}: {exc}") from None


def _share(value: Any, where: str, currency: str = "") -> Any:
    """A share such as ``0.25`` (a number or a text holding one, never below 0); JSON ``null``
    keeps it unknown (with ``care_cost_note`` saying why)."""
    from decimal import Decimal, InvalidOperation

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EvaluationError(f"{where}: expected a number such as 0.25, got {value!r}")
    try:
        share = Decimal(str(value))
    except InvalidOperation:
        raise EvaluationError(f"{where}: expected a number such as 0.25, got {value!r}") from None
    if not share.is_finite() or share < 0:
        raise EvaluationError(f"{where}: expected a number of at least 0, got {value!r}")
    return share


def _texts(value: Any, where: str, currency: str = "") -> tuple[str, ...]:
    return _str_tuple(value, where)


def _text(value: Any, where: str, currency: str = "") -> str:
    if not isinstance(value, str):
        raise EvaluationError(f"{where}: expected a text")
    return value


_CUSTOMER_FACTS: dict[str, Callable[[Any, str, str], Any]] = {
    "orders_count": _orders_count,
    "total_spent": _total_spent,
    "tags": _texts,
    "care_cost": _total_spent,
    "care_cost_share": _share,
    "care_cost_note": _text,
}
_PRODUCT_FACTS: dict[str, Callable[[Any, str, str], Any]] = {
    "product_type": _text,
    "tags": _texts,
    "categories": _texts,
}


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EvaluationError(f"{where}: expected a JSON object")
    return value


def _enriched_customer(order: Order, data: Any, source: str) -> Any:
    facts = _object(data, f"{source}: customer")
    if order.customer is None:
        raise EvaluationError(f"{source}: the order is a guest order; remove customer")
    changes: dict[str, Any] = {}
    for key, value in facts.items():
        where = f"{source}: customer.{key}"
        parse = _CUSTOMER_FACTS.get(key)
        if parse is None:
            raise EvaluationError(f"{where}: unknown; expected one of {_ENRICH_CUSTOMER}")
        changes[key] = parse(value, where, order.currency)
    return dataclasses.replace(order.customer, **changes)


def _checked_products(data: Any, source: str) -> dict[str, Any]:
    products = _object(data, f"{source}: products")
    for ref, facts in products.items():
        where = f"{source}: products.{ref}"
        for key in _object(facts, where):
            if key not in _PRODUCT_FACTS:
                raise EvaluationError(f"{where}.{key}: unknown; expected one of {_ENRICH_PRODUCT}")
    return products


def _enriched_item(item: LineItem, products: dict[str, Any], source: str) -> LineItem:
    facts = products.get(item.sku or "") or products.get(item.product_id or "")
    if facts is None:
        return item
    changes = {
        key: _PRODUCT_FACTS[key](value, f"{source}: products: {key}", "")
        for key, value in facts.items()
    }
    return dataclasses.replace(item, **changes)


def apply_enrichment(order: Order, data: Any, *, source: str = "enrichment") -> Order:
    """``order`` with what an adapter would fetch from the platform filled in.

    ``data`` is a JSON object::

        {"customer": {"orders_count": 3, "total_spent": "412.50", "tags": ["vip"],
                      "care_cost": "18.40", "care_cost_share": "0.12"},
         "products": {"KAF-ESP-500": {"product_type": "Kaffee", "tags": [], "categories": []}}}

    ``products`` keys are SKUs or product ids. Offline, this file stands in for the platform's
    customer and product data that webhooks do not carry, and for what the service would add
    from its own records: ``care_cost`` (like ``total_spent``, in the order currency) and
    ``care_cost_share`` (``null`` while unknown, with ``care_cost_note`` saying why, e.g. "the
    customer has 1 order, at least 3 are needed").
    """
    if not isinstance(data, dict):
        raise EvaluationError(f"{source}: expected a JSON object")
    unknown = sorted(set(data) - {"customer", "products"})
    if unknown:
        raise EvaluationError(f"{source}: unknown key {unknown[0]!r}; expected customer, products")
    customer = order.customer
    if "customer" in data:
        customer = _enriched_customer(order, data["customer"], source)
    items = order.line_items
    if "products" in data:
        products = _checked_products(data["products"], source)
        items = tuple(_enriched_item(item, products, source) for item in items)
    return dataclasses.replace(order, customer=customer, line_items=items)


def load_enrichment(order: Order, path: str | os.PathLike[str]) -> Order:
    """``order`` with the customer and product data of an enrichment file filled in (the format
    of :func:`apply_enrichment`); :class:`EvaluationError` names the file and the field."""
    return apply_enrichment(order, read_json_file(path), source=os.fspath(path))


def parse_now(text: str, config: ShopConfig) -> datetime:
    """``--now``: an ISO time; without a zone, the shop's."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EvaluationError(
            f"--now: expected an ISO time such as 2026-11-28T10:00:00+01:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(config.settings.timezone))
    return moment


def trial_code_secret(config: ShopConfig, *, warn: TextIO | None = None) -> bytes:
    """The key for coupon codes when trying a config out: the shop's ``code_secret`` variable,
    else :data:`CODE_SECRET_ENV`, else :data:`DEMO_CODE_SECRET` (said on ``warn``)."""
    ref = config.settings.secret("code_secret")
    for name in (ref.env if ref is not None else None, CODE_SECRET_ENV):
        value = os.environ.get(name) if name else None
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


def read_payload(
    config: ShopConfig,
    payload: Any,
    *,
    platform: str | None = None,
    enrichment: Any = None,
    enrichment_source: str = "enrichment",
    warn: TextIO | None = None,
) -> Order:
    """Normalize a raw platform order for ``config``'s shop and fill in ``enrichment``.

    ``platform`` defaults to a guess from the payload (the config's platform if no guess).
    """
    from .core.normalize import guess_platform, normalize_order

    settings = config.settings
    unrecognised: PayloadError | None = None
    if platform is None:
        try:
            platform = guess_platform(payload)
        except PayloadError as exc:
            platform, unrecognised = settings.platform, exc
    if platform != settings.platform:
        raise EvaluationError(
            f"this is a {platform} order, but {config.source} is for a {settings.platform} shop"
        )
    try:
        order = normalize_order(payload, platform=platform, shop=settings.domain)
    except PayloadError:
        # read as the shop's platform for want of a better guess: the guess's reason is clearer
        if unrecognised is not None:
            raise unrecognised from None
        raise
    if order.currency != settings.currency and warn is not None:
        rate = settings.exchange_rate(order.currency)
        how = (
            f"its amounts are converted at 1 {order.currency} = {rate} {settings.currency}"
            if rate is not None
            else f"the shop file gives no exchange rate for {order.currency}, so conditions on "
            "amounts, margin guards and costs that depend on them are unknown"
        )
        print(
            f"warning: the order is in {order.currency}, the shop in {settings.currency}; {how}",
            file=warn,
        )
    if enrichment is not None:
        order = apply_enrichment(order, enrichment, source=enrichment_source)
    return order


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

    order = read_payload(
        config,
        payload,
        platform=platform,
        enrichment=enrichment,
        enrichment_source=enrichment_source,
        warn=warn,
    )
    if event is None:
        event = default_event(order, payload)
    if now is None:
        now = order.paid_at or order.created_at
    secret = code_secret if code_secret is not None else trial_code_secret(config, warn=warn)
    decision = decide(
        config,
        order,
        event=event,
        counters=counters if counters is not None else InMemoryCounters(),
        now=now,
        code_secret=secret,
    )
    return order, decision
