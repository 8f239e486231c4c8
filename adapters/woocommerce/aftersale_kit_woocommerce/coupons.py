"""Coupons on WooCommerce (``/coupons``): creation that is idempotent by code, and deactivation.

How a :class:`~aftersale_kit.core.platform.CouponSpec` becomes a WooCommerce coupon:

* ``code`` lower-cased: WooCommerce stores codes lower-case (``wc_strtolower`` in the
  ``woocommerce_coupon_code`` filter) and compares them case-insensitively, so do we.
* percentage -> ``discount_type: percent``; fixed amount -> ``fixed_cart``; free shipping ->
  ``fixed_cart`` with ``amount "0"`` and ``free_shipping: true`` (the shipping method must allow
  free-shipping coupons). Amounts are decimal strings.
* ``ends_at`` -> ``date_expires`` as an instant with ``Z`` (``WC_Data::set_date_prop`` honours
  the offset, so the store's own time zone does not matter). Not ``date_expires_gmt``: it is in
  the schema, but ``WC_Coupon`` has no ``set_date_expires_gmt`` and the controller drops it
  silently. WooCommerce coupons have no start date, so ``starts_at`` is not sent.
* ``usage_limit``, ``usage_limit_per_user: 1`` when once per customer, ``email_restrictions:
  [email]`` (WooCommerce restricts by e-mail, not by customer id), ``minimum_amount``,
  ``individual_use`` (default on: a follow-up coupon does not stack with others), ``product_ids``.
* collections are category slugs, mapped to category ids with ``GET products/categories?slug=``;
  an unknown slug is an InvalidRequestError naming it.
* ``description`` is the spec's title; meta ``_aftersale_kit_key`` holds the idempotency key.

A second creation of the same code answers 400 ``woocommerce_rest_coupon_code_already_exists``;
the coupon is then looked up (``GET coupons?code=``, an exact match) and accepted as
``CouponRef(created=False)`` when it is the same coupon (same type, amount, free shipping and
e-mail restriction), otherwise refused naming the conflict.

**Deactivation** (clawback): WooCommerce has no "inactive" coupon, and ``usage_limit: 0`` means
unlimited. The coupon's ``date_expires`` is set to a day in the past (every expiry check,
by timestamp or by date, then refuses it) and meta ``_aftersale_kit_deactivated_at`` records when.
A coupon that is absent or already expired is left alone, so deactivation is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from aftersale_kit.core.campaign import CouponKind
from aftersale_kit.core.errors import InvalidRequestError
from aftersale_kit.core.platform import CouponRef, CouponSpec

from .client import WooClient

__all__ = [
    "coupon_body",
    "create_coupon",
    "deactivate_coupon",
    "find_coupon",
    "same_coupon",
    "wc_datetime",
    "wc_instant",
]

PLATFORM = "woocommerce"
EXISTS = "woocommerce_rest_coupon_code_already_exists"
IDEMPOTENCY_META = "_aftersale_kit_key"
DEACTIVATED_META = "_aftersale_kit_deactivated_at"

_TYPES = {
    CouponKind.PERCENTAGE: "percent",
    CouponKind.FIXED_AMOUNT: "fixed_cart",
    CouponKind.FREE_SHIPPING: "fixed_cart",
}


def wc_datetime(value: datetime) -> str:
    """An aware datetime as WooCommerce's ``*_gmt`` text: UTC, no offset, seconds."""
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def wc_instant(value: datetime) -> str:
    """An aware datetime as an ISO 8601 instant in UTC with ``Z``, as ``set_date_prop`` reads it."""
    return f"{wc_datetime(value)}Z"


def _amount(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def coupon_body(
    spec: CouponSpec, *, category_ids: Sequence[int] = (), individual_use: bool = True
) -> dict[str, Any]:
    """The ``POST coupons`` body for ``spec`` (pure)."""
    free_shipping = spec.kind is CouponKind.FREE_SHIPPING
    body: dict[str, Any] = {
        "code": spec.code.strip().lower(),
        "discount_type": _TYPES[spec.kind],
        "amount": "0" if free_shipping else _amount(spec.value),
        "free_shipping": free_shipping,
        "individual_use": individual_use,
        "description": spec.title,
    }
    if spec.ends_at is not None:
        body["date_expires"] = wc_instant(spec.ends_at)
    if spec.usage_limit is not None:
        body["usage_limit"] = spec.usage_limit
    if spec.once_per_customer:
        body["usage_limit_per_user"] = 1
    if spec.email:
        body["email_restrictions"] = [spec.email.strip().lower()]
    if spec.minimum_order is not None:
        body["minimum_amount"] = _amount(spec.minimum_order.amount)
    if spec.product_ids:
        body["product_ids"] = [_int_id(p, "product id") for p in spec.product_ids]
    if category_ids:
        body["product_categories"] = list(category_ids)
    if spec.idempotency_key:
        body["meta_data"] = [{"key": IDEMPOTENCY_META, "value": spec.idempotency_key}]
    return body


def _int_id(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidRequestError(
            f"WooCommerce {what}s are numbers, got {value!r}", platform=PLATFORM, status=None
        ) from None


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None and value != "" else None
    except InvalidOperation:
        return None


def _emails(value: object) -> set[str]:
    if not isinstance(value, list):
        return set()
    return {str(v).strip().lower() for v in value if v}


def same_coupon(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """The differences that make ``existing`` another coupon than ``wanted`` (empty: the same).

    Compared: type, amount (as decimals: ``"10.00"`` is ``"10"``), free shipping, e-mail
    restriction. Expiry and limits are not: a coupon of ours that was deactivated or used is
    still the coupon that was asked for.
    """
    diffs: list[str] = []
    if str(existing.get("discount_type")) != wanted["discount_type"]:
        diffs.append(f"type {existing.get('discount_type')!r} (wanted {wanted['discount_type']!r})")
    if _decimal(existing.get("amount")) != _decimal(wanted["amount"]):
        diffs.append(f"amount {existing.get('amount')!r} (wanted {wanted['amount']!r})")
    have_free = bool(existing.get("free_shipping"))
    if have_free != bool(wanted["free_shipping"]):
        diffs.append(f"free_shipping {have_free} (wanted {wanted['free_shipping']})")
    have, want = (
        _emails(existing.get("email_restrictions")),
        _emails(wanted.get("email_restrictions")),
    )
    if have != want:
        diffs.append(
            f"email restriction {sorted(have) or 'none'} (wanted {sorted(want) or 'none'})"
        )
    return diffs


def find_coupon(client: WooClient, code: str) -> Mapping[str, Any] | None:
    """The coupon with this code (case-insensitive), or ``None``."""
    wanted = code.strip().lower()
    found = client.get("coupons", params={"code": wanted})
    items = found.data if isinstance(found.data, list) else []
    for item in items:
        if isinstance(item, Mapping) and str(item.get("code", "")).strip().lower() == wanted:
            return item
    return None


def create_coupon(
    client: WooClient,
    spec: CouponSpec,
    *,
    category_ids: Callable[[Sequence[str]], list[int]],
    individual_use: bool = True,
) -> CouponRef:
    """Create the coupon, or accept the same coupon that already exists under its code."""
    ids = category_ids(spec.collections) if spec.collections else []
    body = coupon_body(spec, category_ids=ids, individual_use=individual_use)
    code = body["code"]
    try:
        # A repeat after a lost answer is harmless: it is answered "exists" and accepted below.
        created = client.post("coupons", body, retry=True)
    except InvalidRequestError as exc:
        if exc.code != EXISTS:
            raise
        existing = find_coupon(client, code)
        if existing is None:
            raise InvalidRequestError(
                f"WooCommerce says coupon code {code!r} already exists, but GET coupons?code= "
                "does not find it (trashed or hidden by a plugin?): choose another code",
                platform=PLATFORM,
                status=exc.status,
                code=EXISTS,
            ) from exc
        diffs = same_coupon(existing, body)
        if diffs:
            raise InvalidRequestError(
                f"coupon code {code!r} already exists on the store as a different coupon "
                f"(id {existing.get('id')}): {'; '.join(diffs)}. Choose another code or prefix",
                platform=PLATFORM,
                status=exc.status,
                code=EXISTS,
            ) from exc
        return CouponRef(platform_id=str(existing.get("id")), code=code, created=False)
    data = created.data if isinstance(created.data, Mapping) else {}
    if "id" not in data:
        raise InvalidRequestError(
            f"WooCommerce answered POST coupons for {code!r} without a coupon id",
            platform=PLATFORM,
            status=created.status,
        )
    return CouponRef(
        platform_id=str(data["id"]), code=str(data.get("code") or code).lower(), created=True
    )


def deactivate_coupon(client: WooClient, code: str, *, now: datetime | None = None) -> bool:
    """Expire the coupon (see the module docstring). ``True`` if it was changed."""
    existing = find_coupon(client, code)
    if existing is None:
        return False
    moment = now or datetime.now(UTC)
    expires = existing.get("date_expires_gmt")
    if isinstance(expires, str) and expires.strip():
        try:
            when = datetime.fromisoformat(expires.strip())
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if when is not None and when < moment:
            return False
    client.put(
        f"coupons/{existing['id']}",
        {
            "date_expires": wc_instant(moment - timedelta(days=1)),
            "meta_data": [{"key": DEACTIVATED_META, "value": wc_datetime(moment)}],
        },
    )
    return True
