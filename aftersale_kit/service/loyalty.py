"""The loyalty program in the service: the order timeline books points and stamps, the
storefront and operators redeem and read balances, the worker sweeps releases and expiries.

* :func:`step_loyalty` goes with each step of an order (:meth:`Processor.step
  <aftersale_kit.service.effects.Processor.step>`): in the step's transaction, what the order
  stands for now is planned under the account lock
  (:func:`~aftersale_kit.storage.loyalty_plan.order_plan`) and only what is new is booked.
* :func:`redeem` (the ``POST .../redeem`` route: the customer of an order) and
  :func:`redeem_for_account` (operators: an account by customer id or e-mail address) check and
  debit the points and queue the customer-bound coupon in one transaction; the
  ``create_loyalty_coupon`` job creates it (:func:`create_redemption_coupon`).
* :class:`LoyaltySweeper` (a daemon thread of the worker, like the pruner; no cron) books the
  releases and expiries due (:func:`sweep`), each once, and leaves expiry reminder events.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from ..core.campaign import CouponKind, ShopConfig
from ..core.codes import coupon_code
from ..core.fields import FIELDS
from ..core.loyalty.actions import AwardPoints
from ..core.loyalty.program import (
    LoyaltyProgram,
    RedemptionOption,
    account_key,
    normalise_email,
)
from ..core.model import Order
from ..core.platform import CouponSpec
from ..storage.loyalty import (
    AccountView,
    Identity,
    JournalRow,
    LoyaltyBalance,
    LoyaltyOutcome,
    LoyaltyPlan,
    LoyaltyRedemption,
    RedeemOutcome,
    StepLoyalty,
    TimelineFacts,
)
from ..storage.loyalty_plan import OrderFacts, order_plan
from ..storage.records import CouponStatus, Job
from .logs import log_event
from .loyalty_csv import owners_by_email
from .shops import ShopEntry

if TYPE_CHECKING:
    from .effects import Processor

__all__ = [
    "LoyaltySweeper",
    "balance",
    "create_redemption_coupon",
    "find_account",
    "identity_of",
    "log_booked",
    "loyalty_fields",
    "redeem",
    "redeem_for_account",
    "step_loyalty",
    "sweep",
]

#: How far ahead an expiry reminder event is left.
REMIND_WITHIN = timedelta(days=30)


class LoyaltyError(ValueError):
    """A loyalty request that cannot be served (no program, no account): a 4xx."""


def identity_of(order: Order) -> Identity:
    customer = order.customer
    email = order.email or (customer.email if customer is not None else None)
    return Identity(customer_id=customer.id if customer is not None else None, email=email)


def _program(entry: ShopEntry) -> LoyaltyProgram:
    program = entry.config.loyalty
    if program is None:
        raise LoyaltyError(f"shop {entry.domain} has no loyalty program")
    return program


def _account(order: Order, program: LoyaltyProgram) -> str:
    account = account_key(order, program)
    if account is None:
        raise LoyaltyError("the order has no customer account (a guest order) and earns no points")
    return account


def step_loyalty(entry: ShopEntry, order: Order, *, now: datetime) -> StepLoyalty | None:
    """What the order's step books on its customer's account, in the step's transaction
    (``decide_step(loyalty=...)``); ``None`` without a program or an account (a guest)."""
    program = entry.config.loyalty
    if program is None:
        return None
    account = account_key(order, program)
    if account is None:
        return None
    config, secret = entry.config, entry.code_secret

    def plan(known: TimelineFacts, view: AccountView) -> LoyaltyPlan:
        facts = OrderFacts(
            order=order,
            records=known.records,
            refunds=known.refunds,
            closed=known.closed,
            now=now,
        )
        return order_plan(config, facts, view, code_secret=secret)

    return StepLoyalty(
        account=account, identity=identity_of(order), policy=program.on_spent_refund, plan=plan
    )


def loyalty_fields(config: ShopConfig) -> frozenset[str]:
    """The order fields the program reads beyond the campaigns' conditions, to enrich before
    the order earns: product types and categories of its multipliers and of the campaigns'
    ``award_points`` filters, and the fields of the stamp cards' conditions."""
    program = config.loyalty
    if program is None:
        return frozenset()
    paths: set[str] = set()
    bonuses = [a for c in config.campaigns for a in c.actions if isinstance(a, AwardPoints)]
    if program.earn.product_types or any(b.product_types for b in bonuses):
        paths.add("line_items.product_type")
    if program.earn.categories or any(b.categories for b in bonuses):
        paths.add("line_items.categories")
    for card in program.stamp_cards:
        for condition in card.conditions:
            paths.update(condition.fields)
    return frozenset(p for p in paths if p in FIELDS and FIELDS[p].needs_enrichment)


def log_booked(entry: ShopEntry, order: Order, outcome: LoyaltyOutcome | None) -> None:
    if outcome is not None and outcome.booked:
        log_event(
            logging.INFO,
            "loyalty booked",
            shop=entry.domain,
            order_id=order.id,
            movements=[f"{r.movement.kind.value}:{r.movement.points}" for r in outcome.booked],
        )


def _redemption_code(entry: ShopEntry, account: str, option_id: str, request: str) -> str:
    if not request.strip() or len(request) > 128:
        raise LoyaltyError("request: write a request id of 1 to 128 characters")
    return coupon_code(
        secret=entry.code_secret,
        shop=entry.domain,
        order_id=f"redeem:{request}",
        campaign_id=f"loyalty:{account}:{option_id}",
        prefix="PUNKTE",
    )


def _debit(
    processor: Processor,
    entry: ShopEntry,
    *,
    account: str,
    identity: Identity,
    option_id: str,
    request: str,
    cart_value: Decimal | None,
    now: datetime | None,
) -> RedeemOutcome:
    """The one store call of every redemption: check, debit and queue the coupon job."""
    program = _program(entry)
    outcome = processor.store.loyalty_redeem(
        shop=entry.domain,
        account=account,
        identity=identity,
        program=program,
        option_id=option_id,
        request=request,
        code=_redemption_code(entry, account, option_id, request),
        cart_value=cart_value,
        now=now or processor.clock(),
    )
    log_event(
        logging.INFO,
        "loyalty redeemed" if outcome.ok else "loyalty redemption refused",
        shop=entry.domain,
        option=option_id,
        reason=outcome.reason,
    )
    return outcome


def redeem(
    processor: Processor,
    entry: ShopEntry,
    *,
    order: Order,
    option_id: str,
    request: str,
    cart_value: Decimal | None = None,
    now: datetime | None = None,
) -> RedeemOutcome:
    """Redeem ``option_id`` for the customer of ``order``: the points are debited and a
    single-use coupon bound to the customer is queued, in one transaction; ``request`` (the
    caller's id of this request) makes a retry spend nothing again. Raises
    :class:`LoyaltyError` for a shop without a program or an order without an account."""
    account = _account(order, _program(entry))
    outcome = _debit(
        processor,
        entry,
        account=account,
        identity=identity_of(order),
        option_id=option_id,
        request=request,
        cart_value=cart_value,
        now=now,
    )
    if outcome.ok and not outcome.repeated:
        from .loyalty_content import queue_content

        queue_content(
            processor.store,
            shop=entry.domain,
            order_id=order.id,
            version=f"x{hashlib.sha256(request.encode()).hexdigest()[:24]}",
            now=processor.clock(),
        )
    return outcome


def find_account(
    processor: Processor,
    entry: ShopEntry,
    *,
    customer_id: str | None = None,
    email: str | None = None,
) -> str:
    """The key of the existing account named by the customer's id or e-mail address (exactly
    one of the two), as ``aftersale-kit loyalty show`` finds it. Raises :class:`LoyaltyError`
    when none (or several, by address) has it."""
    _program(entry)
    if (customer_id is None) == (email is None):
        raise LoyaltyError("name the account by exactly one of customer_id and email")
    shop, store = entry.domain, processor.store
    if customer_id is not None:
        account = customer_id.strip()
        if not account or store.loyalty_balance(shop, account) is None:
            raise LoyaltyError(f"no loyalty account {account!r} at {shop}")
        return account
    address = normalise_email(email)
    if address is None:
        raise LoyaltyError(f"{email!r} is not an e-mail address")
    keys = owners_by_email(store.loyalty_balances(shop)).get(address, [])
    if len(keys) > 1:
        raise LoyaltyError(
            f"several accounts have the e-mail {address} ({', '.join(keys)}): use the customer id"
        )
    if not keys:
        raise LoyaltyError(f"no loyalty account at {shop} has the e-mail {address}")
    return keys[0]


def redeem_for_account(
    processor: Processor,
    entry: ShopEntry,
    *,
    customer_id: str | None = None,
    email: str | None = None,
    option_id: str,
    request: str,
    now: datetime | None = None,
) -> RedeemOutcome:
    """An operator's redemption for the account named by ``customer_id`` or ``email`` (see
    :func:`find_account`): the same check, debit and queued customer-bound coupon in one
    transaction as :func:`redeem`, and the same ``request`` makes a repeat spend nothing.
    Raises :class:`LoyaltyError` for a shop without a program or an unknown account."""
    account = find_account(processor, entry, customer_id=customer_id, email=email)
    return _debit(
        processor,
        entry,
        account=account,
        identity=Identity(),
        option_id=option_id,
        request=request,
        cart_value=None,
        now=now,
    )


def balance(processor: Processor, entry: ShopEntry, *, order: Order) -> LoyaltyBalance:
    """The balance of the customer of ``order`` (zero for an account without movements)."""
    program = _program(entry)
    account = _account(order, program)
    found = processor.store.loyalty_balance(entry.domain, account)
    return found or LoyaltyBalance(account, 0, 0, 0)


def _spec(entry: ShopEntry, redemption: LoyaltyRedemption, option: RedemptionOption) -> CouponSpec:
    currency = entry.config.settings.currency.upper()
    products: tuple[str, ...] = ()
    if option.reward is not None:
        kind, value, products = CouponKind.PERCENTAGE, Decimal(100), (option.reward.product_id,)
    else:
        kind, value = CouponKind.FIXED_AMOUNT, option.value
    return CouponSpec(
        code=redemption.coupon_code,
        kind=kind,
        value=value,
        currency=currency,
        title=f"aftersale-kit loyalty · {option.id}"[:255],
        starts_at=redemption.created_at,
        ends_at=redemption.created_at + timedelta(days=option.valid_days),
        usage_limit=1,
        once_per_customer=True,
        customer_id=redemption.customer_id,
        email=redemption.email,
        product_ids=products,
        idempotency_key=redemption.coupon_key,
    )


def create_redemption_coupon(processor: Processor, job: Job) -> None:
    """The ``create_loyalty_coupon`` job: create the redemption's coupon once (the code is
    fixed), unless it was revoked meanwhile (then switch off what an earlier attempt made)."""
    key = str(job.payload["coupon_key"])
    store = processor.store
    coupon = store.coupon(job.shop, key)
    redemption = store.loyalty_redemption(job.shop, key)
    if coupon is None or redemption is None:
        return
    entry = processor.entry(job.shop)
    if coupon.status == CouponStatus.REVOKED and coupon.platform_id is None:
        if job.attempts > 1:
            entry.adapter.deactivate_coupon(coupon.code)
        return
    if coupon.status != CouponStatus.PLANNED:
        return
    option = _program(entry).redemption.option(redemption.option_id)
    if option is None:
        from .effects import PermanentJobError

        raise PermanentJobError(f"redemption option {redemption.option_id!r} is gone")
    ref = entry.adapter.create_coupon(_spec(entry, redemption, option))
    store.mark_issued(shop=job.shop, idempotency_key=key, platform_id=ref.platform_id)
    log_event(logging.INFO, "loyalty coupon issued", shop=job.shop, option=option.id)


@dataclass(frozen=True, slots=True)
class SweepReport:
    accounts: int
    movements: int
    reminders: int


def sweep(
    processor: Processor, *, now: datetime | None = None, remind_within: timedelta = REMIND_WITHIN
) -> SweepReport:
    """Book the releases and expiries due at ``now`` on every account of every shop with a
    program (each once, by key), and leave the expiry reminders."""
    now = now or processor.clock()
    accounts = movements = reminders = 0
    for entry in processor.registry:
        program = entry.config.loyalty
        if program is None:
            continue
        for account in processor.store.loyalty_accounts(entry.domain):
            done = processor.store.loyalty_sweep(
                shop=entry.domain,
                account=account,
                program=program,
                now=now,
                remind_within=remind_within,
            )
            accounts += 1
            movements += len(done.booked)
            reminders += done.reminders
            _follow_content(processor, entry.domain, done.booked, now=processor.clock())
    if movements or reminders:
        log_event(logging.INFO, "loyalty swept", movements=movements, reminders=reminders)
    return SweepReport(accounts, movements, reminders)


def _follow_content(
    processor: Processor, shop: str, booked: Sequence[JournalRow], *, now: datetime
) -> None:
    """A release or expiry of an order's points changes what its content shows: rewrite it."""
    from .loyalty_content import order_of_grant, queue_content

    for row in booked:
        order_id = order_of_grant(row.movement.grant)
        if order_id is not None:
            version = f"s{row.movement.key}"
            queue_content(processor.store, shop=shop, order_id=order_id, version=version, now=now)


class LoyaltySweeper:
    """Runs :func:`sweep` every ``interval`` seconds in a daemon thread of the worker, at the
    processor's clock (injectable)."""

    def __init__(self, run: Callable[[], SweepReport], *, interval: float = 600.0) -> None:
        self.run = run
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="aftersale-loyalty", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run()
            except Exception as exc:  # the database is away: try again next round
                log_event(logging.WARNING, "loyalty sweep failed", error=type(exc).__name__)
            self._stop.wait(self.interval)
