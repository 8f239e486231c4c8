"""The campaign action ``vip_presale``: tag the segment's customers and announce the pre-sale.

::

    - id: vip-fruehjahr
      trigger: order_paid
      when: 'customer.orders_count >= 3 or customer.total_spent >= 500'   # the segment
      actions:
        - vip_presale:
            name: Frühjahrs-Vorverkauf
            starts: 2027-03-01T09:00       # the shop's time zone
            ends: 2027-03-07               # a date: the end of that day
            tag: vip-presale-fruehjahr     # default: vip-presale-<campaign id>
            url: https://shop.example/pages/vip   # the pre-sale page: a button in the e-mail
            template: vip_presale          # the built-in announcement

The announcement is advertising, so its purpose is always ``marketing``: it needs consent and
counts against the contact policy's cap (``purpose: transactional`` is refused). It has no
``variant:``: an invitation to some of the segment only would be a different segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import yaml

from ..contact.follow_up import FollowUpKind, Purpose
from ..contact.presale import VIP_TEMPLATE, VipPresale
from ..model import EventKind
from ..schema_contact import contact_keys
from .checker import Entry
from .context import Context
from .follow_up import _template
from .gates import read_moment

__all__ = ["read_vip_presale"]

_TRIGGERS = (EventKind.ORDER_PAID.value, EventKind.ORDER_FULFILLED.value)
_SYNONYMS = {
    "title": "name",
    "start": "starts",
    "from": "starts",
    "starts_at": "starts",
    "end": "ends",
    "until": "ends",
    "ends_at": "ends",
    "tags": "tag",
    "customer_tag": "tag",
}
#: Platforms refuse longer tags (and a meta value has no reason to be longer).
_TAG_MAX = 255


def read_vip_presale(
    ctx: Context, node: yaml.Node, path: str, variants: Sequence[str]
) -> VipPresale | None:
    start = ctx.c.mark()
    e = ctx.c.mapping(
        node,
        path,
        allowed=contact_keys("vip_presale"),
        required=("name", "starts", "ends"),
        synonyms=_SYNONYMS,
        expected="a mapping with name:, starts: and ends: (e.g. starts: 2027-03-01T09:00)",
    )
    if e is None:
        return None
    name = (
        ctx.c.text(e["name"].value, f"{path}.name", expected="the pre-sale's name")
        if ("name" in e)
        else None
    )
    starts = (
        read_moment(ctx, e["starts"].value, f"{path}.starts", end=False) if "starts" in e else None
    )
    ends = read_moment(ctx, e["ends"].value, f"{path}.ends", end=True) if "ends" in e else None
    if starts is not None and ends is not None and ends <= starts:
        ctx.c.report(e["ends"].value, f"{path}.ends", "the pre-sale ends before it starts")
    tag = _tag(ctx, e, path)
    template = VIP_TEMPLATE
    if "template" in e and _written(e["template"]) != VIP_TEMPLATE:
        template = _template(ctx, e, node, path, FollowUpKind.CUSTOM) or VIP_TEMPLATE
    _purpose(ctx, e, path)
    url = _url(ctx, e, path)
    _trigger(ctx, node, path)
    if not ctx.c.clean_since(start) or not name or starts is None or ends is None:
        return None
    return VipPresale(
        name=name.strip(), starts_at=starts, ends_at=ends, tag=tag, template=template,
        purpose=Purpose.MARKETING, url=url,
    )  # fmt: skip


def _written(entry: Entry) -> str | None:
    node = entry.value
    return str(node.value).strip() if isinstance(node, yaml.ScalarNode) else None


def _tag(ctx: Context, e: dict[str, Entry], path: str) -> str:
    default = f"vip-presale-{ctx.campaign_id or 'campaign'}"
    if "tag" not in e:
        return default
    node = e["tag"].value
    tag = ctx.c.text(node, f"{path}.tag", expected="a tag")
    if tag is None:
        return default
    tag = tag.strip()
    if not tag or "," in tag or len(tag) > _TAG_MAX:
        ctx.c.report(
            node,
            f"{path}.tag",
            f"write one tag of 1 to {_TAG_MAX} characters without commas, e.g. {default}",
        )
    return tag


def _url(ctx: Context, e: dict[str, Entry], path: str) -> str | None:
    if "url" not in e:
        return None
    node = e["url"].value
    url = ctx.c.text(node, f"{path}.url", expected="the pre-sale page's address")
    if url is None:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc:
        ctx.c.report(
            node,
            f"{path}.url",
            "write the page's full address, e.g. https://shop.example/pages/vip",
        )
        return None
    return url.strip()


def _purpose(ctx: Context, e: dict[str, Entry], path: str) -> None:
    if "purpose" not in e:
        return
    node = e["purpose"].value
    value = ctx.c.choice(node, f"{path}.purpose", [p.value for p in Purpose], what="purpose")
    if value == Purpose.TRANSACTIONAL.value:
        ctx.c.report(
            node,
            f"{path}.purpose",
            "a pre-sale invitation is advertising: it needs the customer's consent and counts "
            "against the marketing cap; remove purpose: or write purpose: marketing",
        )


def _trigger(ctx: Context, node: yaml.Node, path: str) -> None:
    if ctx.trigger is None or ctx.trigger in _TRIGGERS:
        return
    ctx.c.report(
        node,
        path,
        "a vip_presale invites the customers of paid orders, but this campaign's trigger is "
        f"{ctx.trigger!r}; use trigger: order_paid or order_fulfilled",
    )
