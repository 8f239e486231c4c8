"""The catalogue of confirmation-content blocks and the parameters each needs.

This is data, not templates: the config loader checks a campaign's ``show_block`` actions against it
at load time (block exists, required parameters present, no unknown parameter), so that a template
never fails later for a reason that could have been seen at load. The Jinja2 templates of the same
names live in ``templates/blocks/``; a shop owner may override any of them in their own folder.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BLOCKS", "LOYALTY_BLOCKS", "BlockSpec", "check_block"]


@dataclass(frozen=True, slots=True)
class BlockSpec:
    name: str
    description: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    #: The block shows data of an action of the same campaign (e.g. the coupon it issues).
    needs_action: str | None = None


_SPECS = (
    BlockSpec(
        "coupon",
        "The coupon for the next order: code, value, minimum order, expiry, copy button, "
        "and a countdown for time-limited offers.",
        optional=("headline", "text", "countdown"),
        needs_action="issue_coupon",
    ),
    BlockSpec(
        "contact_person",
        "A personal contact with photo: name, role, phone, e-mail, hours.",
        required=("name",),
        optional=("role", "photo_url", "phone", "email", "hours", "text"),
    ),
    BlockSpec(
        "shipping",
        "Shipping method, carrier and the expected delivery window in business days.",
        required=("handling_days", "transit_days"),
        optional=("carrier", "method", "tracking_note"),
    ),
    BlockSpec(
        "thank_you",
        "A thank-you with an image or a video.",
        optional=("headline", "text", "image_url", "video_url", "alt"),
    ),
    BlockSpec(
        "faq_contact",
        "Links to the FAQ and the contact data.",
        required=("faq_url",),
        optional=("contact_url", "phone", "email", "hours", "links"),
    ),
    BlockSpec(
        "newsletter",
        "Newsletter signup through a double opt-in link.",
        required=("signup_url",),
        optional=("headline", "text", "incentive"),
    ),
    BlockSpec(
        "vip_presale",
        "An invitation to a VIP pre-sale.",
        required=("url",),
        optional=("headline", "text", "starts_on"),
    ),
    BlockSpec(
        "social_follow",
        "Links to the shop's social media profiles.",
        required=("links",),
        optional=("headline",),
    ),
    BlockSpec(
        "free_gift",
        "A note that a free gift is in the parcel.",
        optional=("headline", "text"),
        needs_action="free_gift",
    ),
    BlockSpec(
        "service_check",
        "A service reminder, e.g. a free check of the device every three months.",
        required=("interval_months",),
        optional=("headline", "text", "booking_url"),
    ),
    BlockSpec(
        "survey",
        "A short satisfaction survey.",
        required=("url",),
        optional=("headline", "text"),
    ),
    BlockSpec(
        "loyalty_points",
        "The bonus points this order earns and when they can be redeemed (needs loyalty:).",
        optional=("headline", "text"),
    ),
    BlockSpec(
        "loyalty_balance",
        "The points balance and what it buys: the options it reaches, the next one and the "
        "points still missing (needs loyalty:).",
        optional=("headline", "text", "url"),
    ),
    BlockSpec(
        "loyalty_tier",
        "The customer's tier and what is missing to the next one (needs loyalty.tiers).",
        optional=("headline", "text"),
    ),
    BlockSpec(
        "stamp_card",
        "A stamp card with its filled and empty slots; card: the id of a loyalty.stamp_cards "
        "card (default: the first).",
        optional=("card", "headline", "text"),
    ),
)

BLOCKS: Mapping[str, BlockSpec] = {spec.name: spec for spec in _SPECS}

#: The blocks that show a customer's loyalty figures (they change with the ledger).
LOYALTY_BLOCKS = frozenset({"loyalty_points", "loyalty_balance", "loyalty_tier", "stamp_card"})


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_block(name: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems of one ``show_block`` action as ``(parameter or "", message)``; empty if fine."""
    spec = BLOCKS.get(name)
    if spec is None:
        known = sorted(BLOCKS)
        return [("", f"unknown block {name!r}{_suggest(name, known)}; known: {', '.join(known)}")]
    problems: list[tuple[str, str]] = []
    allowed = list(spec.required + spec.optional)
    for required in spec.required:
        if required not in params:
            problems.append(("", f"block {name!r} needs the parameter {required!r}"))
    for key in params:
        if key not in allowed:
            hint = _suggest(key, allowed)
            problems.append((key, f"block {name!r} has no parameter {key!r}{hint}"))
    return problems
