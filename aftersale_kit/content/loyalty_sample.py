"""Sample loyalty figures for a preview: what one order would show without a ledger.

``aftersale-kit preview`` has no store, so it builds the
:class:`~aftersale_kit.core.loyalty.view.LoyaltyView` from the shop file and the order: the
points the order earns (:func:`~aftersale_kit.core.loyalty.earning.points_for`, with the
``award_points`` bonuses the decision planned), pending for ``pending_days``; a balance given on
the command line (0 when unknown); the tier this order alone reaches; and on each stamp card the
stamps given on the command line plus this order's stamp when a campaign stamped it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from aftersale_kit.core.campaign import ShopConfig
from aftersale_kit.core.currency import price_order
from aftersale_kit.core.decision import Decision
from aftersale_kit.core.loyalty.actions import AwardPoints, Stamp
from aftersale_kit.core.loyalty.earning import PointsAward, line_values, points_for
from aftersale_kit.core.loyalty.ledger import JournalState
from aftersale_kit.core.loyalty.program import LoyaltyProgram
from aftersale_kit.core.loyalty.stamps import CardState, StampEntry
from aftersale_kit.core.loyalty.tiers import Activity, standing
from aftersale_kit.core.loyalty.view import LoyaltyView, loyalty_view
from aftersale_kit.core.model import Order
from aftersale_kit.core.money import CurrencyMismatchError

__all__ = ["sample_view"]


def _award(order: Order, program: LoyaltyProgram, decision: Decision) -> PointsAward | None:
    bonuses = [p.action for p in decision.actions if isinstance(p.action, AwardPoints)]
    try:
        return points_for(order, program, None, bonuses)
    except CurrencyMismatchError:
        return None


def _cards(
    program: LoyaltyProgram, decision: Decision, stamps: int, now: datetime
) -> list[CardState]:
    stamped = {p.action.card for p in decision.actions if isinstance(p.action, Stamp)}
    out = []
    for card in program.stamp_cards:
        count = min(max(stamps, 0) + (1 if card.id in stamped else 0), card.stamps)
        entries = tuple(StampEntry(f"preview-{n}", now) for n in range(count))
        out.append(CardState(card=card.id, stamps=entries))
    return out


def sample_view(
    config: ShopConfig,
    order: Order,
    decision: Decision,
    *,
    now: datetime,
    balance: int = 0,
    stamps: int = 0,
) -> LoyaltyView | None:
    """The figures a preview shows; ``None`` when the shop has no ``loyalty:`` section.

    ``balance``: the customer's available points before this order; ``stamps``: the stamps on
    each of their cards before it. The order's points are pending when the program has
    ``pending_days``, else available at once.
    """
    program = config.loyalty
    if program is None:
        return None
    priced = price_order(order, config.settings).order
    award = _award(priced, program, decision)
    earned = award.points if award is not None else 0
    if program.pending_days > 0:
        state = JournalState(pending=earned, available=balance)
    else:
        state = JournalState(available=balance + earned)
    spend = sum((value for _, value in line_values(priced, program)), start=Decimal(0))
    history = [Activity(at=now, spend=spend, points=earned)] if award is not None else []
    return loyalty_view(
        program,
        state=state,
        award=award,
        standing=standing(history, program, now),
        cards=_cards(program, decision, stamps, now),
    )
