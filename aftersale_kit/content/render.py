"""Rendering API: confirmation blocks (HTML + JSON data), the order e-mail fragment and a page.

All four functions take the same keyword arguments and derive everything from the decision's
``show_block`` actions, in decision order. ``now`` must be time-zone aware; it dates the coupon's
expiry and the countdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup

from aftersale_kit.core.campaign import ShopConfig, ShowBlock
from aftersale_kit.core.decision import Decision
from aftersale_kit.core.loyalty.view import LoyaltyView
from aftersale_kit.core.model import Order
from aftersale_kit.core.platform import ConfirmationContent

from .environment import EMAIL_HTML, EMAIL_TEXT, PAGE, ContentRenderer, block_template
from .errors import ContentError
from .formatting import Formatter, Texts
from .views import BlockContext, build_block

__all__ = [
    "RenderedBlock",
    "blocks_payload",
    "confirmation_content",
    "render_blocks",
    "render_email",
    "render_page",
]


@dataclass(frozen=True, slots=True)
class RenderedBlock:
    """One block: its HTML for pages, and its data for clients that cannot show HTML."""

    block: str
    campaign_id: str
    html: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "campaign_id": self.campaign_id,
            "html": self.html,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class _Prepared:
    fmt: Formatter
    blocks: list[tuple[str, str, dict[str, Any]]]
    base: dict[str, Any]


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ContentError("now must be time-zone aware, e.g. datetime.now(UTC)")


def _amounts(order: Order, fmt: Formatter) -> dict[str, Any]:
    """The order's amounts as the buyer saw them: in the presentment currency where the buyer
    paid in another currency than the shop's (Shopify ``presentment_money``)."""
    p = order.presentment
    lines = []
    for item in order.line_items:
        unit = p.unit_price(item.id) if p is not None else None
        total = unit * item.quantity if unit is not None else item.total
        lines.append(
            {
                "title": item.title,
                "quantity": item.quantity,
                "quantity_text": fmt.text("quantity", quantity=item.quantity),
                "total": fmt.money(total),
            }
        )
    src = p if p is not None else order
    return {
        "currency": src.subtotal.currency,
        "lines": lines,
        "subtotal": fmt.money(src.subtotal),
        "shipping": fmt.money(src.shipping),
        "discounts": fmt.money(src.discounts) if src.discounts.amount else None,
        "tax": fmt.money(src.tax) if src.tax.amount else None,
        "total": fmt.money(src.total),
    }


def _order_view(order: Order, fmt: Formatter) -> dict[str, Any]:
    first_name = order.customer.first_name if order.customer else None
    email = order.email or (order.customer.email if order.customer else None)
    return {
        "id": order.id,
        "number": order.number,
        "number_text": fmt.text("order_number", number=order.number),
        "first_name": first_name,
        "email": email,
        "greeting": fmt.text("greeting_named", name=first_name)
        if first_name
        else fmt.text("greeting"),
        "received": fmt.text("order_received"),
        "confirmation_to": fmt.text("order_confirmation_to", email=email) if email else None,
        "placed_on": fmt.medium_date(fmt.local(order.created_at).date()),
        **_amounts(order, fmt),
    }


def _prepare(
    *,
    decision: Decision,
    order: Order,
    config: ShopConfig,
    now: datetime,
    times: Mapping[str, datetime] | None = None,
    loyalty: LoyaltyView | None = None,
) -> _Prepared:
    """``times``: per planned action (idempotency key), when its step was decided (a coupon's
    expiry counts from there); actions not in it use ``now``. ``loyalty``: the customer's
    figures for the loyalty blocks (:func:`~aftersale_kit.core.loyalty.view.loyalty_view`);
    without them those blocks show nothing."""
    _check_now(now)
    if decision.order_id != order.id:
        raise ContentError(
            f"the decision is for order {decision.order_id!r}, not for order {order.id!r}"
        )
    fmt = Formatter.create(order=order, settings=config.settings)
    blocks: list[tuple[str, str, dict[str, Any]]] = []
    for planned in decision.actions:
        if not isinstance(planned.action, ShowBlock):
            continue
        ctx = BlockContext(
            planned=planned,
            show=planned.action,
            decision=decision,
            order=order,
            config=config,
            now=times.get(planned.idempotency_key, now) if times else now,
            fmt=fmt,
            loyalty=loyalty,
        )
        data = build_block(ctx)
        if data is not None:
            blocks.append((planned.action.block, planned.campaign_id, data))
    base = {
        "t": Texts(fmt.messages),
        "locale": fmt.tag,
        "lang": fmt.language,
        "shop": {"domain": config.settings.domain, "url": f"https://{config.settings.domain}"},
        "order": _order_view(order, fmt),
    }
    return _Prepared(fmt=fmt, blocks=blocks, base=base)


def _render_prepared(prepared: _Prepared, renderer: ContentRenderer) -> list[RenderedBlock]:
    out: list[RenderedBlock] = []
    for index, (name, campaign_id, data) in enumerate(prepared.blocks):
        context = {
            **prepared.base,
            "block": data,
            "campaign_id": campaign_id,
            "uid": f"ak-{index + 1}",
        }
        html = renderer.render(block_template(name), context).strip()
        out.append(RenderedBlock(block=name, campaign_id=campaign_id, html=html, data=data))
    return out


def render_blocks(
    *,
    decision: Decision,
    order: Order,
    config: ShopConfig,
    now: datetime,
    renderer: ContentRenderer,
    times: Mapping[str, datetime] | None = None,
    loyalty: LoyaltyView | None = None,
) -> list[RenderedBlock]:
    """The decision's blocks, rendered, in decision order.

    A ``coupon`` block appears only when its campaign issues a coupon with a code in this
    decision, a ``free_gift`` block only when its campaign puts a gift in the parcel.
    """
    prepared = _prepare(
        decision=decision, order=order, config=config, now=now, times=times, loyalty=loyalty
    )
    return _render_prepared(prepared, renderer)


def blocks_payload(
    *,
    decision: Decision,
    order: Order,
    config: ShopConfig,
    now: datetime,
    renderer: ContentRenderer,
    times: Mapping[str, datetime] | None = None,
    loyalty: LoyaltyView | None = None,
) -> dict[str, Any]:
    """JSON for thank-you page clients (the Shopify extension polls it).

    ``{"status": "ready", "order_id": ..., "locale": "de_DE", "blocks": [{"block",
    "campaign_id", "html", "data"}, ...]}``
    """
    prepared = _prepare(
        decision=decision, order=order, config=config, now=now, times=times, loyalty=loyalty
    )
    return {
        "status": "ready",
        "order_id": order.id,
        "locale": prepared.fmt.tag,
        "blocks": [b.as_dict() for b in _render_prepared(prepared, renderer)],
    }


def render_email(
    *,
    decision: Decision,
    order: Order,
    config: ShopConfig,
    now: datetime,
    renderer: ContentRenderer,
    times: Mapping[str, datetime] | None = None,
    loyalty: LoyaltyView | None = None,
) -> tuple[str, str]:
    """The blocks for an order e-mail: an HTML fragment (inline styles, no script) and the same
    content as plain text."""
    prepared = _prepare(
        decision=decision, order=order, config=config, now=now, times=times, loyalty=loyalty
    )
    return _render_email(prepared, renderer)


def _render_email(prepared: _Prepared, renderer: ContentRenderer) -> tuple[str, str]:
    context = {
        **prepared.base,
        "blocks": [
            {"block": name, "campaign_id": cid, "data": data} for name, cid, data in prepared.blocks
        ],
    }
    html = renderer.render(EMAIL_HTML, context).strip()
    text = renderer.render(EMAIL_TEXT, context).strip() + "\n"
    return html, text


def render_page(
    *,
    decision: Decision,
    order: Order,
    config: ShopConfig,
    now: datetime,
    renderer: ContentRenderer,
    preview: bool = False,
    times: Mapping[str, datetime] | None = None,
    loyalty: LoyaltyView | None = None,
) -> str:
    """A standalone thank-you page: the order's number and summary, a thank-you, then the blocks.

    Self-contained (inline CSS and script, no external resource but images the shop configured).
    ``preview=True`` marks it as a preview.
    """
    prepared = _prepare(
        decision=decision, order=order, config=config, now=now, times=times, loyalty=loyalty
    )
    rendered = _render_prepared(prepared, renderer)
    context = {
        **prepared.base,
        "preview": preview,
        # Each block's HTML came out of an autoescaping template: safe to insert as markup.
        "blocks": [
            {"block": b.block, "campaign_id": b.campaign_id, "html": Markup(b.html)}
            for b in rendered
        ],
    }
    return renderer.render(PAGE, context)


def confirmation_content(
    *,
    decision: Decision,
    order: Order,
    config: ShopConfig,
    now: datetime,
    renderer: ContentRenderer,
    times: Mapping[str, datetime] | None = None,
    loyalty: LoyaltyView | None = None,
) -> ConfirmationContent:
    """What a platform adapter writes to the order (:meth:`Platform.write_content`).

    ``blocks`` are flat JSON objects, ``{"type": "coupon", "campaign_id": ..., "code": ...}``, for
    pages that render natively (Shopify's extensions). ``html`` is the e-mail fragment: inline
    styles and no script, so it looks right inside any shop theme and survives WooCommerce's
    ``wp_kses_post``; ``text`` is the same as plain text.
    """
    prepared = _prepare(
        decision=decision, order=order, config=config, now=now, times=times, loyalty=loyalty
    )
    html, text = _render_email(prepared, renderer)
    return ConfirmationContent(
        blocks=tuple(
            {"type": name, "campaign_id": cid, **data} for name, cid, data in prepared.blocks
        ),
        html=html,
        text=text,
        locale=prepared.fmt.tag,
    )
