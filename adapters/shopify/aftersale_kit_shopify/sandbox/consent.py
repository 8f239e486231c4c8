"""``customerEmailMarketingConsentUpdate``: sets a customer's e-mail marketing consent.

As documented (https://shopify.dev/docs/api/admin-graphql/latest/mutations/customerEmailMarketingConsentUpdate):
only ``SUBSCRIBED``, ``UNSUBSCRIBED`` and ``PENDING`` are accepted as input, and the customer
must have an e-mail address. The sandbox answers an unknown customer with a user error on
``customerId``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .util import now_utc, parse_gid, user_error

if TYPE_CHECKING:
    from .views import Context

__all__ = ["update_email_consent"]

_SETTABLE = ("SUBSCRIBED", "UNSUBSCRIBED", "PENDING")


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _refused(path: list[str], message: str, code: str) -> dict[str, Any]:
    return {"customer": None, "userErrors": [user_error(path, message, code)]}


def update_email_consent(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    from .views import CustomerView

    parsed = parse_gid(str(data.get("customerId", "")))
    record = ctx.state.customers.get(parsed[1]) if parsed and parsed[0] == "Customer" else None
    if record is None:
        return _refused(["input", "customerId"], "Customer not found", "INVALID")
    consent = data.get("emailMarketingConsent") or {}
    state = str(consent.get("marketingState", ""))
    if state not in _SETTABLE:
        path = ["input", "emailMarketingConsent", "marketingState"]
        return _refused(path, f"Marketing state {state} cannot be set", "INVALID")
    if not record.email:
        path = ["input", "customerId"]
        return _refused(path, "Customer must have an email address", "MISSING_ARGUMENT")
    when = _when(consent.get("consentUpdatedAt"))
    if when is not None and when > now_utc():
        path = ["input", "emailMarketingConsent", "consentUpdatedAt"]
        return _refused(path, "Consent updated at cannot be in the future", "INVALID")
    record.email_marketing_state = state
    record.email_opt_in_level = consent.get("marketingOptInLevel") or record.email_opt_in_level
    record.email_consent_updated_at = when or now_utc()
    record.updated_at = now_utc()
    return {"customer": CustomerView(ctx, record), "userErrors": []}
