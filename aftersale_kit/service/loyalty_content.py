"""The ledger in what the customer sees: the loyalty blocks of an order, and the balance and
tier on the platform.

* :func:`order_view` builds the :class:`~aftersale_kit.core.loyalty.view.LoyaltyView` of an
  order's content from the ledger: the account's balances, the points the order earned as
  booked (net of what its refunds took back, its campaigns' bonus, pending until released), the
  tier standing and the stamp cards. The processor passes it to every rendering of the order
  (the block endpoint, the content written to the platform, the preview page), so they agree.
* The content follows the ledger: a step that books points or stamps for an order queues the
  rewrite of that order's content in the step's transaction (the store does it when the order
  shows a loyalty block); a release or expiry of the order's points (the sweeper) and a
  redemption from the order's page queue it here (:func:`queue_content`). Other orders of the
  same customer keep the figures of their own last change: rewriting every past order on each
  booking would cost a platform write per order.
* :func:`write_customer` is the ``write_customer_loyalty`` job, queued by the store with every
  movement of an account with a platform customer (a guest's ``email:`` account has none): it
  writes the balance and tier the account holds when it runs, and only while its movement is
  the account's latest, so a burst of movements ends in one write.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..core.blocks import LOYALTY_BLOCKS
from ..core.campaign import ShowBlock
from ..core.decision import Decision
from ..core.errors import NotFoundError
from ..core.loyalty.actions import AwardPoints
from ..core.loyalty.customer import platform_customer_id
from ..core.loyalty.earning import points_for
from ..core.loyalty.movements import earn_key
from ..core.loyalty.program import LoyaltyProgram, account_key
from ..core.loyalty.tiers import standing
from ..core.loyalty.view import LoyaltyView, loyalty_view
from ..core.model import Order
from ..core.money import CurrencyMismatchError
from ..storage.decisions import content_key
from ..storage.loyalty import AccountView, JournalRow, shows_loyalty
from ..storage.ports import ProcessorStore
from ..storage.records import DecisionRecord, Job, JobKind
from .logs import log_event
from .shops import ShopEntry

if TYPE_CHECKING:
    from .effects import Processor

__all__ = [
    "account_view",
    "bonuses_of",
    "order_of_grant",
    "order_view",
    "queue_content",
    "with_order",
    "write_customer",
]


def _shows(decision: Decision) -> bool:
    return any(
        isinstance(p.action, ShowBlock) and p.action.block in LOYALTY_BLOCKS
        for p in decision.actions
    )


def account_view(
    program: LoyaltyProgram, found: AccountView | None, *, now: datetime
) -> LoyaltyView:
    """The account's figures without an order: balances, tier standing at ``now`` (or at its
    latest activity when a platform's clock dated that a little ahead of ours), cards."""
    if found is None:
        return loyalty_view(program)
    at = max([now, *(a.at for a in found.history)])
    return loyalty_view(
        program,
        state=found.state,
        standing=standing(found.history, program, at),
        cards=tuple(found.cards.values()),
    )


def bonuses_of(decision: Decision) -> tuple[AwardPoints, ...]:
    """The ``award_points`` actions of a decision (an order's timeline: all its steps)."""
    return tuple(p.action for p in decision.actions if isinstance(p.action, AwardPoints))


def _bonus(
    program: LoyaltyProgram, order: Order, bonuses: Sequence[AwardPoints], row: JournalRow
) -> int:
    """The campaigns' share of what the order earned (recomputed at the rate it earned with)."""
    if not bonuses:
        return 0
    levels = program.tiers.levels if program.tiers is not None else ()
    tier = next((t for t in levels if t.name == row.tier), None)
    try:
        return points_for(order, program, tier, bonuses).bonus
    except CurrencyMismatchError:
        return 0


def with_order(
    view: LoyaltyView,
    program: LoyaltyProgram,
    order: Order,
    bonuses: Sequence[AwardPoints],
    found: AccountView,
) -> LoyaltyView:
    """``view`` with the points ``order`` earned as booked: net of what its refunds took back,
    the campaigns' share (``bonuses``: its ``award_points`` actions), pending until released."""
    key = earn_key(order.id)
    grant = found.state.grants.get(key)
    row = found.earned.get(key)
    if grant is None or row is None:
        return view  # not earned (yet): the points block shows nothing
    earned = max(grant.points - grant.reversed, 0)
    bonus = _bonus(program, order, bonuses, row)
    if grant.reversed and grant.points > 0:
        bonus = bonus * earned // grant.points
    return replace(
        view,
        earned=earned,
        bonus=min(bonus, earned),
        pending_days=0 if grant.released else program.pending_days,
    )


def order_view(
    store: ProcessorStore, entry: ShopEntry, order: Order, decision: Decision, *, now: datetime
) -> LoyaltyView | None:
    """The loyalty figures of the order's content (``decision``: its timeline's union), or
    ``None`` when it shows no loyalty block, the shop has no program or the order no account."""
    program = entry.config.loyalty
    if program is None or not _shows(decision):
        return None
    account = account_key(order, program)
    if account is None:
        return None
    found = store.loyalty_account(entry.domain, account)
    view = account_view(program, found, now=now)
    if found is None:
        return view
    return with_order(view, program, order, bonuses_of(decision), found)


def queue_content(
    store: ProcessorStore,
    *,
    shop: str,
    order_id: str,
    version: str,
    now: datetime,
    records: Sequence[DecisionRecord] | None = None,
) -> bool:
    """Queue one rewrite of the order's content after a change of its loyalty figures
    (``version`` names the change), when the order shows a loyalty block."""
    if records is None:
        records = store.decisions_for_order(shop, order_id)
    if not shows_loyalty(records):
        return False
    return store.enqueue(
        shop=shop,
        kind=JobKind.WRITE_CONTENT.value,
        idempotency_key=content_key(shop, order_id, version),
        payload={"order_id": order_id},
        run_at=min(now, datetime.now(UTC)),  # due at once, also at an injected time ahead
    )


def order_of_grant(grant: str | None) -> str | None:
    """The order whose earning is ``grant`` (``earn:<order>``), else ``None``."""
    prefix = earn_key("")
    if grant is None or not grant.startswith(prefix):
        return None
    return grant[len(prefix) :] or None


def write_customer(processor: Processor, job: Job) -> None:
    """The ``write_customer_loyalty`` job (see the module docstring)."""
    entry = processor.entry(job.shop)
    program = entry.config.loyalty
    account = str(job.payload["account"])
    customer = platform_customer_id(account)
    if program is None or customer is None:
        return
    store = processor.store
    journal = store.loyalty_journal(job.shop, account)
    if not journal or journal[-1].movement.key != job.payload.get("movement"):
        return  # a later movement queued its own write (or the account was redacted)
    found = store.loyalty_account(job.shop, account)
    if found is None:
        return
    value = account_view(program, found, now=processor.clock()).customer()
    try:
        entry.adapter.write_customer_loyalty(customer, value)
    except NotFoundError:
        log_event(logging.INFO, "loyalty: customer gone on the platform", shop=job.shop)
        return
    log_event(
        logging.INFO,
        "loyalty written to the customer",
        shop=job.shop,
        balance=value.balance,
        pending=value.pending,
        tier=value.tier,
    )
