"""The structured data of each block: what its template shows and what JSON clients receive.

Every builder returns a JSON-safe ``dict`` (strings, numbers, booleans, ``None``, lists, dicts)
with the texts already in the customer's language and the amounts and dates already formatted.
The HTML template, the e-mail templates and the Shopify extension all show this one dict, so the
three never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

from aftersale_kit.core.campaign import (
    Campaign,
    CouponKind,
    FreeGift,
    IssueCoupon,
    ShopConfig,
    ShowBlock,
)
from aftersale_kit.core.currency import buyer_rate
from aftersale_kit.core.decision import Decision, PlannedAction
from aftersale_kit.core.loyalty.view import LoyaltyView
from aftersale_kit.core.model import EventKind, Order

from .delivery import delivery_window
from .errors import ContentError
from .formatting import Formatter
from .loyalty_blocks import LOYALTY_BUILDERS
from .params import PARSERS, tel_href

__all__ = ["BUILDERS", "BlockContext", "build_block", "countdown_text", "iso_utc"]

#: A countdown is shown for coupons valid this many days or fewer.
COUNTDOWN_MAX_DAYS = 7

_NETWORKS = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "pinterest": "Pinterest",
    "linkedin": "LinkedIn",
    "x": "X",
    "twitter": "X",
    "threads": "Threads",
    "mastodon": "Mastodon",
}
_VIDEO_FILES = (".mp4", ".webm", ".ogv", ".mov")
_URL_PARAMS = frozenset(
    {
        "photo_url",
        "image_url",
        "video_url",
        "faq_url",
        "contact_url",
        "signup_url",
        "booking_url",
        "url",
    }
)


@dataclass(frozen=True, slots=True)
class BlockContext:
    """Everything one block's data is made from."""

    planned: PlannedAction
    show: ShowBlock
    decision: Decision
    order: Order
    config: ShopConfig
    now: datetime
    fmt: Formatter
    #: The customer's loyalty figures, for the loyalty blocks (``None``: not known).
    loyalty: LoyaltyView | None = None

    @property
    def campaign_id(self) -> str:
        return self.planned.campaign_id

    def campaign(self) -> Campaign | None:
        for campaign in self.config.campaigns:
            if campaign.id == self.campaign_id:
                return campaign
        return None

    def sibling(self, kind: type[Any]) -> PlannedAction | None:
        """The first planned action of this campaign whose action is of ``kind``."""
        for planned in self.decision.actions:
            if planned.campaign_id == self.campaign_id and isinstance(planned.action, kind):
                return planned
        return None

    def param(self, name: str) -> Any:
        """A parameter, parsed by its parser; ``None`` when not given."""
        value = self.show.param(name)
        if value is None:
            return None
        parser = PARSERS.get(name)
        if parser is None:
            return value
        try:
            parsed = parser(value, name=name)
        except ValueError as exc:
            raise ContentError(
                f"campaign {self.campaign_id!r}, block {self.show.block!r}: {exc}"
            ) from exc
        if name in _URL_PARAMS:
            return self.absolute(parsed)
        if name == "links":
            return [(label, self.absolute(url)) for label, url in parsed]
        return parsed

    def absolute(self, url: str) -> str:
        """A path on the shop made absolute (``/faq`` -> ``https://shop.example/faq``): e-mails
        and the Shopify extension show links outside the shop's pages."""
        if url.startswith("data:") or urlsplit(url).scheme or url.startswith("//"):
            return url
        return urljoin(f"https://{self.config.settings.domain}/", url)

    def required(self, name: str) -> Any:
        value = self.param(name)
        if value is None:
            raise ContentError(
                f"campaign {self.campaign_id!r}, block {self.show.block!r}: "
                f"the parameter {name!r} is required"
            )
        return value

    def text(self, name: str, default_key: str, **values: object) -> str:
        """The shop owner's text (one string or one per language) or the built-in one."""
        own = self.fmt.localized(self.show.param(name))
        return own if own else self.fmt.text(default_key, **values)

    def optional_text(self, name: str) -> str | None:
        own = self.fmt.localized(self.show.param(name))
        return own or None


def iso_utc(moment: datetime) -> str:
    """``2026-12-24T09:30:00Z``."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def countdown_text(fmt: Formatter, remaining: timedelta, *, clock: bool = True) -> str:
    """The countdown as the page's script writes it (``Noch 6 Tage 23:59:59 gültig``), or, with
    ``clock=False``, the text that stands without script (``Noch 7 Tage gültig``)."""
    seconds = int(remaining.total_seconds())
    if seconds <= 0:
        return fmt.text("expired")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    word = fmt.text("day_one" if days == 1 else "day_other")
    if not clock and days:
        return fmt.text("countdown", time=f"{days} {word}")
    time = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if days:
        time = f"{days} {word} {time}"
    return fmt.text("countdown", time=time)


def _coupon(ctx: BlockContext) -> dict[str, Any] | None:
    planned = ctx.sibling(IssueCoupon)
    if planned is None or planned.coupon_code is None:
        return None
    action = planned.action
    assert isinstance(action, IssueCoupon)
    fmt = ctx.fmt
    if action.kind is CouponKind.PERCENTAGE:
        value = fmt.percent(action.value)
        default_headline = fmt.text("coupon_headline", value=value)
    elif action.kind is CouponKind.FIXED_AMOUNT:
        value = fmt.money(action.value)
        default_headline = fmt.text("coupon_headline", value=value)
    else:
        value = fmt.text("coupon_value_free_shipping")
        default_headline = fmt.text("coupon_headline_free_shipping")
    expires_at = ctx.now + timedelta(days=action.valid_days)
    expires_on = fmt.local(expires_at).date()
    minimum = fmt.money(action.minimum_order) if action.minimum_order else None
    estimate, approx = _in_buyer_currency(ctx, action, value)
    if minimum and action.minimum_order and approx is not None:
        minimum = f"{minimum} (≈ {approx(action.minimum_order)})"
    terms = [fmt.text("coupon_valid_until", date=fmt.medium_date(expires_on))]
    if estimate:
        terms.append(estimate)
    if minimum:
        terms.append(fmt.text("coupon_minimum", amount=minimum))
    if action.single_use:
        terms.append(fmt.text("coupon_single_use"))
    campaign = ctx.campaign()
    window_end = campaign.window.ends_at if campaign and campaign.window else None
    forced = ctx.param("countdown")
    countdown = (
        forced
        if forced is not None
        else window_end is not None or action.valid_days <= COUNTDOWN_MAX_DAYS
    )
    own_headline = ctx.optional_text("headline")
    return {
        "code": planned.coupon_code,
        "kind": action.kind.value,
        "value": value,
        "value_number": str(action.value),
        "currency": fmt.currency if action.kind is CouponKind.FIXED_AMOUNT else None,
        "headline": own_headline or default_headline,
        "text": ctx.text("text", "coupon_text"),
        "code_label": fmt.text("coupon_code_label"),
        "minimum_order": minimum,
        "estimate": estimate,
        "minimum_order_amount": str(action.minimum_order) if action.minimum_order else None,
        "single_use": action.single_use,
        "expires_on": expires_on.isoformat(),
        "expires_at_iso": iso_utc(expires_at),
        "valid_until": terms[0],
        "terms": terms,
        "countdown": bool(countdown),
        "countdown_text": countdown_text(fmt, expires_at - ctx.now, clock=False)
        if countdown
        else None,
        "rendered_at_iso": iso_utc(ctx.now),
    }


def _in_buyer_currency(
    ctx: BlockContext, action: IssueCoupon, value: str
) -> tuple[str | None, Callable[[Decimal], str] | None]:
    """Where the buyer pays in another currency than the shop's: the estimate of a fixed-amount
    code in the buyer's currency (the code itself is in the shop currency: Shopify converts it
    at checkout at the rate of that day, https://help.shopify.com/en/manual/international/pricing/discounts),
    and a formatter of shop amounts as estimates in the buyer's currency."""
    found = buyer_rate(ctx.order, ctx.config.settings)
    if found is None:
        return None, None
    buyer, per_unit = found
    fmt = ctx.fmt

    def approx(amount: Decimal) -> str:
        return fmt.money(amount * per_unit, buyer)

    estimate = None
    if action.kind is CouponKind.FIXED_AMOUNT:
        estimate = fmt.text(
            "coupon_estimate", value=value, estimate=approx(action.value), currency=fmt.currency
        )
    return estimate, approx


def _initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p[:1].isalpha()]
    letters = [p[0] for p in parts[:1] + parts[1:][-1:]]
    return "".join(letters).upper() or name[:1].upper()


def _contact_channels(ctx: BlockContext) -> dict[str, Any]:
    phone = ctx.param("phone")
    email = ctx.param("email")
    return {
        "phone": phone,
        "phone_href": tel_href(phone) if phone else None,
        "email": email,
        "email_href": f"mailto:{email}" if email else None,
        "hours": ctx.optional_text("hours"),
        "labels": {
            "phone": ctx.fmt.text("phone"),
            "email": ctx.fmt.text("email"),
            "hours": ctx.fmt.text("hours"),
        },
    }


def _contact_person(ctx: BlockContext) -> dict[str, Any]:
    name = str(ctx.required("name"))
    return {
        "headline": ctx.fmt.text("contact_headline"),
        "name": name,
        "initials": _initials(name),
        "role": ctx.optional_text("role"),
        "photo_url": ctx.param("photo_url"),
        "photo_alt": ctx.fmt.text("photo_alt", name=name),
        "text": ctx.text("text", "contact_text"),
        **_contact_channels(ctx),
    }


def _shipping(ctx: BlockContext) -> dict[str, Any]:
    fmt = ctx.fmt
    # "handling_days: 1" promises shipping within one business day (0 to 1); "transit_days: 2"
    # is the carrier's usual time. Ranges ("1-2") are taken as written.
    handling = ctx.required("handling_days")
    if isinstance(ctx.show.param("handling_days"), int):
        handling = (0, handling[1])
    transit = ctx.required("transit_days")
    if ctx.decision.event is EventKind.ORDER_FULFILLED:
        # Already handed to the carrier: only the transit is left, counted from now.
        start = fmt.local(ctx.now).date()
        handling = (0, 0)
    else:
        start = fmt.local(ctx.order.paid_at or ctx.order.created_at).date()
    earliest, latest = delivery_window(start, handling_days=handling, transit_days=transit)
    method = ctx.optional_text("method") or ctx.order.shipping_method
    return {
        "headline": fmt.text("shipping_headline"),
        "expected_label": fmt.text("shipping_expected"),
        "window": fmt.day_range(earliest, latest),
        "earliest": earliest.isoformat(),
        "latest": latest.isoformat(),
        "method_label": fmt.text("shipping_method"),
        "method": method,
        "carrier_label": fmt.text("shipping_carrier"),
        "carrier": ctx.optional_text("carrier"),
        "handling_label": fmt.text("shipping_handling"),
        "handling": fmt.business_days(handling) if handling != (0, 0) else None,
        "transit_label": fmt.text("shipping_transit"),
        "transit": fmt.business_days(transit),
        "tracking_note": ctx.text("tracking_note", "shipping_tracking"),
    }


def _thank_you(ctx: BlockContext) -> dict[str, Any]:
    video = ctx.param("video_url")
    return {
        "headline": ctx.text("headline", "thank_you_headline"),
        "text": ctx.text("text", "thank_you_text"),
        "image_url": ctx.param("image_url"),
        "alt": ctx.optional_text("alt") or "",
        "video_url": video,
        "video_is_file": bool(video) and video.lower().split("?")[0].endswith(_VIDEO_FILES),
        "video_label": ctx.fmt.text("video_link"),
    }


def _links(ctx: BlockContext) -> list[dict[str, str]]:
    links = ctx.param("links") or []
    return [
        {"label": _NETWORKS.get(label.lower(), label), "url": url, "network": label.lower()}
        for label, url in links
    ]


def _faq_contact(ctx: BlockContext) -> dict[str, Any]:
    return {
        "headline": ctx.fmt.text("faq_headline"),
        "text": ctx.fmt.text("faq_text"),
        "faq_url": ctx.required("faq_url"),
        "faq_label": ctx.fmt.text("faq_link"),
        "contact_url": ctx.param("contact_url"),
        "contact_label": ctx.fmt.text("contact_link"),
        "links": _links(ctx),
        **_contact_channels(ctx),
    }


def _newsletter(ctx: BlockContext) -> dict[str, Any]:
    return {
        "headline": ctx.text("headline", "newsletter_headline"),
        "text": ctx.text("text", "newsletter_text"),
        "incentive": ctx.optional_text("incentive"),
        "signup_url": ctx.required("signup_url"),
        "button": ctx.fmt.text("newsletter_button"),
        "double_opt_in": ctx.fmt.text("newsletter_doi"),
    }


def _vip_presale(ctx: BlockContext) -> dict[str, Any]:
    starts: date | None = ctx.param("starts_on")
    return {
        "headline": ctx.text("headline", "vip_headline"),
        "text": ctx.text("text", "vip_text"),
        "url": ctx.required("url"),
        "starts_on": starts.isoformat() if starts else None,
        "starts": ctx.fmt.text("vip_starts", date=ctx.fmt.medium_date(starts)) if starts else None,
        "button": ctx.fmt.text("vip_button"),
    }


def _social_follow(ctx: BlockContext) -> dict[str, Any]:
    ctx.required("links")
    return {"headline": ctx.text("headline", "social_headline"), "links": _links(ctx)}


def _free_gift(ctx: BlockContext) -> dict[str, Any] | None:
    planned = ctx.sibling(FreeGift)
    if planned is None:
        return None
    assert isinstance(planned.action, FreeGift)
    note = planned.action.note
    return {
        "headline": ctx.text("headline", "gift_headline"),
        "text": ctx.text("text", "gift_text", note=note),
        "note": note,
    }


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, 1)


def _service_check(ctx: BlockContext) -> dict[str, Any]:
    fmt = ctx.fmt
    months: int = ctx.required("interval_months")
    ordered = fmt.local(ctx.order.paid_at or ctx.order.created_at).date()
    first = _add_months(ordered, months)
    own = ctx.optional_text("headline")
    return {
        "headline": own or fmt.plural("service_headline", months, months=months),
        "text": ctx.text("text", "service_text"),
        "interval_months": months,
        "first_check_month": first.isoformat()[:7],
        "first_check": fmt.text("service_first", month=fmt.month(first)),
        "booking_url": ctx.param("booking_url"),
        "button": fmt.text("service_button"),
    }


def _survey(ctx: BlockContext) -> dict[str, Any]:
    return {
        "headline": ctx.text("headline", "survey_headline"),
        "text": ctx.text("text", "survey_text"),
        "url": ctx.required("url"),
        "button": ctx.fmt.text("survey_button"),
    }


#: Block name -> builder; a builder returns ``None`` when the block has nothing to show (a coupon
#: block whose campaign issued no coupon in this decision).
BUILDERS: Mapping[str, Callable[[BlockContext], dict[str, Any] | None]] = {
    "coupon": _coupon,
    "contact_person": _contact_person,
    "shipping": _shipping,
    "thank_you": _thank_you,
    "faq_contact": _faq_contact,
    "newsletter": _newsletter,
    "vip_presale": _vip_presale,
    "social_follow": _social_follow,
    "free_gift": _free_gift,
    "service_check": _service_check,
    "survey": _survey,
    **LOYALTY_BUILDERS,
}


def build_block(ctx: BlockContext) -> dict[str, Any] | None:
    builder = BUILDERS.get(ctx.show.block)
    if builder is None:
        raise ContentError(
            f"campaign {ctx.campaign_id!r}: no content for the block {ctx.show.block!r}; "
            f"known blocks: {', '.join(sorted(BUILDERS))}"
        )
    return builder(ctx)
