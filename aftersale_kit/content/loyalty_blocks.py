"""The data of the loyalty blocks: points of this order, balance, tier, stamp card.

Each builder reads the :class:`~aftersale_kit.core.loyalty.view.LoyaltyView` the caller passed to
the rendering (``loyalty=``) and returns a JSON-safe ``dict`` with the texts in the customer's
language and the numbers and amounts formatted for the locale, like every block
(:mod:`.views`). Without a view, or without anything to say (no points earned, no tiers, no
card), a block shows nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aftersale_kit.core.blocks import LOYALTY_BLOCKS
from aftersale_kit.core.campaign import ShopConfig, ShowBlock
from aftersale_kit.core.loyalty.view import CardView, LoyaltyView, OptionView, TierView

if TYPE_CHECKING:
    from .formatting import Formatter
    from .views import BlockContext

__all__ = ["LOYALTY_BLOCKS", "LOYALTY_BUILDERS", "loyalty_problems"]


def _points(ctx: BlockContext) -> dict[str, Any] | None:
    view = ctx.loyalty
    if view is None or not view.earned or view.earned <= 0:
        return None
    fmt = ctx.fmt
    if view.pending_days > 0:
        when = fmt.plural("loyalty_points_pending", view.pending_days)
    else:
        when = fmt.text("loyalty_points_now")
    bonus = fmt.text("loyalty_points_bonus", points=fmt.points(view.bonus)) if view.bonus else None
    return {
        "headline": ctx.optional_text("headline")
        or fmt.text("loyalty_points_headline", points=fmt.points(view.earned)),
        "text": ctx.optional_text("text") or when,
        "points": view.earned,
        "points_text": fmt.points(view.earned),
        "bonus": view.bonus,
        "bonus_text": bonus,
        "pending_days": view.pending_days,
    }


def _option_label(fmt: Formatter, option: OptionView) -> str:
    if option.kind == "coupon":
        return fmt.text("loyalty_option_coupon", value=fmt.money(option.value))
    return option.title or option.id


def _option(fmt: Formatter, option: OptionView) -> dict[str, Any]:
    return {
        "id": option.id,
        "label": _option_label(fmt, option),
        "points": option.points,
        "points_text": fmt.points(option.points),
        "cost": fmt.text("loyalty_option_cost", points=fmt.points(option.points)),
        "reached": option.reached,
        "missing": option.missing,
    }


def _balance(ctx: BlockContext) -> dict[str, Any] | None:
    view = ctx.loyalty
    if view is None:
        return None
    fmt = ctx.fmt
    following = view.next_option
    next_data = None
    if following is not None:
        next_data = {
            **_option(fmt, following),
            "text": fmt.text(
                "loyalty_next",
                points=fmt.points(following.missing),
                option=_option_label(fmt, following),
            ),
        }
    reached = [_option(fmt, o) for o in view.reached]
    pending = view.pending
    url = ctx.param("url")
    return {
        "headline": ctx.optional_text("headline")
        or fmt.text("loyalty_balance_headline", points=fmt.points(view.available)),
        "text": ctx.optional_text("text")
        or fmt.text("loyalty_balance_reaches" if reached else "loyalty_balance_none"),
        "balance": view.available,
        "balance_text": fmt.points(view.available),
        "pending": pending,
        "pending_text": fmt.text("loyalty_balance_pending", points=fmt.points(pending))
        if pending > 0
        else None,
        "options": reached,
        "next": next_data,
        "url": url,
        "button": fmt.text("loyalty_balance_button") if url else None,
    }


def _tier_amount(fmt: Formatter, tier: TierView) -> str | None:
    if tier.missing is None:
        return None
    if tier.basis == "points":
        return fmt.points(int(tier.missing))
    return fmt.money(tier.missing)


def _tier(ctx: BlockContext) -> dict[str, Any] | None:
    view = ctx.loyalty
    tier = view.tier if view is not None else None
    if tier is None:
        return None
    fmt = ctx.fmt
    amount = _tier_amount(fmt, tier)
    if tier.next is not None and amount is not None:
        progress = fmt.text("loyalty_tier_next", amount=amount, tier=tier.next)
    else:
        progress = fmt.text("loyalty_tier_top")
    if tier.current:
        headline = fmt.text("loyalty_tier_headline", tier=tier.current)
    else:
        headline = fmt.text("loyalty_tier_headline_none")
    return {
        "headline": ctx.optional_text("headline") or headline,
        "text": ctx.optional_text("text") or progress,
        "tier": tier.current,
        "next_tier": tier.next,
        "basis": tier.basis,
        "missing": str(tier.missing) if tier.missing is not None else None,
        "missing_text": amount,
        "progress": progress,
        "top": tier.next is None,
    }


def _card_of(ctx: BlockContext, view: LoyaltyView) -> CardView | None:
    wanted = ctx.show.param("card")
    if wanted is None:
        return view.cards[0] if view.cards else None
    return view.card(str(wanted))


def _stamp_card(ctx: BlockContext) -> dict[str, Any] | None:
    view = ctx.loyalty
    card = _card_of(ctx, view) if view is not None else None
    if card is None:
        return None
    fmt = ctx.fmt
    missing = card.missing
    status = fmt.plural("stamp_card_missing", missing) if missing else fmt.text("stamp_card_full")
    slots = [
        {
            "filled": n <= card.stamps,
            "label": fmt.text("stamp_slot_filled" if n <= card.stamps else "stamp_slot_empty", n=n),
        }
        for n in range(1, card.needed + 1)
    ]
    return {
        "headline": ctx.optional_text("headline") or card.name,
        "text": ctx.optional_text("text") or status,
        "card": card.id,
        "stamps": card.stamps,
        "needed": card.needed,
        "missing": missing,
        "summary": fmt.text(
            "stamp_card_summary", stamps=fmt.number(card.stamps), needed=fmt.number(card.needed)
        ),
        "slots": slots,
        "completed": card.completed,
        "completed_text": fmt.plural("stamp_card_completed", card.completed)
        if card.completed
        else None,
    }


#: Block name -> builder, merged into :data:`.views.BUILDERS`.
LOYALTY_BUILDERS: Mapping[str, Callable[[BlockContext], dict[str, Any] | None]] = {
    "loyalty_points": _points,
    "loyalty_balance": _balance,
    "loyalty_tier": _tier,
    "stamp_card": _stamp_card,
}


def loyalty_problems(config: ShopConfig, show: ShowBlock) -> list[tuple[str, str]]:
    """``(parameter or "", message)`` for a loyalty block the shop's program cannot fill: no
    ``loyalty:`` section, no tiers for ``loyalty_tier``, a ``card`` that is not a stamp card."""
    if show.block not in LOYALTY_BLOCKS:
        return []
    program = config.loyalty
    if program is None:
        return [("", f"block {show.block!r} shows loyalty figures: add a loyalty: section")]
    if show.block == "loyalty_tier" and program.tiers is None:
        return [("", "block 'loyalty_tier' needs loyalty.tiers")]
    if show.block != "stamp_card":
        return []
    known = [c.id for c in program.stamp_cards]
    if not known:
        return [("", "block 'stamp_card' needs a card under loyalty.stamp_cards")]
    wanted = show.param("card")
    if wanted is not None and str(wanted) not in known:
        return [("card", f"no stamp card {wanted!r}; cards: {', '.join(known)}")]
    return []
