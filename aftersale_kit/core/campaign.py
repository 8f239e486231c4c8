"""What a shop owner's config file becomes after validation: shop settings and campaigns.

The YAML loader (:mod:`aftersale_kit.core.config`) builds these; the engine
(:mod:`aftersale_kit.core.engine`) reads them. Everything here is already validated: a value that
reached a dataclass is known to be well-formed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .contact.follow_up import FollowUp
from .contact.policy import ContactPolicy
from .contact.presale import VipPresale
from .loyalty.actions import AwardPoints, Stamp
from .model import EventKind
from .money import Money

if TYPE_CHECKING:
    from .conditions import Condition
    from .loyalty.program import LoyaltyProgram
    from .mail_settings import MailSettings

__all__ = [
    "DEFAULT_CARE_MIN_ORDERS",
    "Action",
    "Budget",
    "BudgetBasis",
    "BudgetPeriod",
    "Campaign",
    "CouponKind",
    "FreeGift",
    "IssueCoupon",
    "MarginGuard",
    "PerCustomerLimit",
    "RefundPolicy",
    "SecretRef",
    "ShopAuth",
    "ShopConfig",
    "ShopContact",
    "ShopSettings",
    "ShowBlock",
    "SourceSpan",
    "Split",
    "TagOrder",
    "Window",
]


@dataclass(frozen=True, slots=True)
class SourceSpan:
    """Where a value stood in its file (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class CouponKind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"
    FREE_SHIPPING = "free_shipping"


class BudgetPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    TOTAL = "total"


class BudgetBasis(StrEnum):
    """Which cost a budget limits: what was reserved when offers were made (the safe default),
    or what customers actually redeemed."""

    RESERVED = "reserved"
    REDEEMED = "redeemed"


class RefundPolicy(StrEnum):
    """What a refund of the order does to what a campaign gave it.

    ``reevaluate`` (default): decide the campaign's conditions again on the order net of all
    refunds so far and take back what the remaining order no longer earns; ``revoke``: take it
    back on any refund; ``keep``: a partial refund takes nothing back. A full refund or a
    cancellation takes back everything not yet redeemed, whatever the policy.
    """

    REEVALUATE = "reevaluate"
    REVOKE = "revoke"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class IssueCoupon:
    """Create a coupon on the platform for the customer's next order."""

    kind: CouponKind
    #: Percent (0 < v <= 100) for PERCENTAGE, an amount in the shop currency for FIXED_AMOUNT,
    #: 0 for FREE_SHIPPING.
    value: Decimal
    valid_days: int
    minimum_order: Decimal | None = None
    single_use: bool = True
    restrict_to_email: bool = True
    code_prefix: str = ""
    #: Length of the generated part of the code (after the prefix).
    code_length: int = 8
    product_ids: tuple[str, ...] = ()
    #: Collection handles / category slugs the coupon applies to.
    collections: tuple[str, ...] = ()
    #: For budgets of FREE_SHIPPING coupons: what one is assumed to cost (default: this order's
    #: shipping amount).
    estimated_value: Decimal | None = None
    #: Only in this A/B variant (``None``: in every variant).
    variant: str | None = None


@dataclass(frozen=True, slots=True)
class ShowBlock:
    """Show a content block on the confirmation page and in the order e-mail."""

    block: str
    params: tuple[tuple[str, Any], ...] = ()
    variant: str | None = None

    def param(self, name: str, default: Any = None) -> Any:
        for k, v in self.params:
            if k == name:
                return v
        return default


@dataclass(frozen=True, slots=True)
class FreeGift:
    """Put a free gift in the parcel: a note for the packer and an order tag."""

    note: str
    tag: str = "free-gift"
    #: What the gift costs the shop (counts against budgets and the margin guard).
    cost: Decimal = Decimal(0)
    variant: str | None = None


@dataclass(frozen=True, slots=True)
class TagOrder:
    tag: str
    variant: str | None = None


Action = IssueCoupon | ShowBlock | FreeGift | TagOrder | AwardPoints | Stamp | FollowUp | VipPresale


@dataclass(frozen=True, slots=True)
class Window:
    """A campaign runs from ``starts_at`` (inclusive) to ``ends_at`` (exclusive); either open."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PerCustomerLimit:
    """``max_uses``: how often one customer can get this campaign (1 = once);
    ``cooldown_days``: minimum days between two offers to the same customer."""

    max_uses: int | None = None
    cooldown_days: int | None = None


@dataclass(frozen=True, slots=True)
class Budget:
    """At most ``amount`` of offer cost per ``period`` (calendar periods in the shop's timezone)."""

    amount: Money
    period: BudgetPeriod
    basis: BudgetBasis = BudgetBasis.RESERVED


@dataclass(frozen=True, slots=True)
class MarginGuard:
    """No offer whose cost exceeds ``max_share`` (0..1) of the order's margin."""

    max_share: Decimal


@dataclass(frozen=True, slots=True)
class Split:
    """A/B split and holdout, deterministic by customer (or email for guests).

    ``holdout`` (0..1) of customers get nothing (control group); the rest are spread over
    ``variants`` by weight.
    """

    variants: tuple[tuple[str, int], ...] = ()
    holdout: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    actions: tuple[Action, ...]
    description: str = ""
    enabled: bool = True
    trigger: EventKind = EventKind.ORDER_PAID
    conditions: tuple[Condition, ...] = ()
    #: Higher wins inside an exclusive group, and is decided first.
    priority: int = 0
    exclusive_group: str | None = None
    window: Window | None = None
    per_customer: PerCustomerLimit | None = None
    #: Total number of times this campaign may fire, over all customers.
    usage_limit: int | None = None
    budget: Budget | None = None
    margin_guard: MarginGuard | None = None
    split: Split | None = None
    #: What a refund of the order takes back (see :class:`RefundPolicy`).
    on_refund: RefundPolicy = RefundPolicy.REEVALUATE
    source: SourceSpan | None = None


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A secret named by the environment variable that holds it; never the value itself."""

    name: str
    env: str


@dataclass(frozen=True, slots=True)
class ShopAuth:
    """How the service gets the shop's API credentials (``shop.auth``).

    ``method``: one of the platform's auth methods
    (:attr:`~.platform_spec.PlatformSpec.auth_methods`: a static token or keys, client
    credentials, an install link, keys approved in the shop's admin). ``refs``: the environment
    variables the method reads.
    """

    method: str
    refs: tuple[SecretRef, ...] = ()


#: Orders a customer needs before their care cost share is judged, unless ``shop.care.min_orders``
#: says otherwise (one order says little: its welcome offer alone would count against it).
DEFAULT_CARE_MIN_ORDERS = 3


@dataclass(frozen=True, slots=True)
class ShopContact:
    """``shop.contact``: how customers reach the shop, shown in a service reminder that has no
    booking page (``follow_up.link``, ``shop.booking_url``). Each part is optional."""

    phone: str | None = None
    email: str | None = None
    #: When the shop is reachable, as written (e.g. "Mo-Fr 9-18 Uhr").
    hours: str | None = None


@dataclass(frozen=True, slots=True)
class ShopSettings:
    platform: str
    domain: str
    currency: str
    locale: str = "de_DE"
    timezone: str = "UTC"
    secrets: tuple[SecretRef, ...] = ()
    #: Override of the platform's API base URL (e.g. a sandbox); ``None``: the real platform.
    api_base_url: str | None = None
    api_version: str | None = None
    #: Assumed margin share (0..1) for products without a cost in ``product_costs``.
    default_margin: Decimal = Decimal("0.30")
    #: Unit cost per SKU, in the shop currency.
    product_costs: tuple[tuple[str, Decimal], ...] = ()
    #: Contact limit: at most this many offers (campaigns firing with a coupon or gift) per order.
    max_offers_per_order: int | None = None
    #: ``shop.care.service_check_cost``: what one service check (a ``service_reminder``
    #: follow-up sent) costs the shop, counted in a customer's care cost; ``None``: not counted.
    service_check_cost: Decimal | None = None
    #: ``shop.care.min_orders``: orders a customer needs before ``customer.care_cost_share`` is
    #: said (the order being decided counts).
    care_min_orders: int = DEFAULT_CARE_MIN_ORDERS
    templates_dir: str | None = None
    #: ``shop.booking_url``: where customers book an appointment (https); the button of a
    #: service reminder whose ``follow_up`` has no ``link:``.
    booking_url: str | None = None
    #: ``shop.review_url``: where customers write a review (https); the button of a review
    #: request whose ``follow_up`` has no ``link:``.
    review_url: str | None = None
    #: ``shop.contact``: phone, e-mail and hours for the e-mails; ``None``: not written.
    contact: ShopContact | None = None
    #: ``(currency, rate)``: 1 unit of ``currency`` is ``rate`` units of the shop currency. Orders
    #: in such a currency (multi-currency plugins) are converted for rules, budgets
    #: and margins; orders in another currency without a rate leave money conditions unknown.
    exchange_rates: tuple[tuple[str, Decimal], ...] = ()
    #: ``shop.auth``; ``None``: the platform's first method (its static credentials).
    auth: ShopAuth | None = None
    #: ``shop.backtest.redemption_rate``: the share of issued coupons a backtest assumes are
    #: redeemed (0..1); ``None``: the command's default. ``--redemption-rate`` overrides it.
    backtest_redemption_rate: Decimal | None = None

    @property
    def auth_method(self) -> str:
        """The configured ``shop.auth.method``; without ``auth:``, the platform's first method
        (its static credentials from ``shop.secrets``; ``""`` for an unknown platform)."""
        if self.auth is not None:
            return self.auth.method
        from .registry import find

        spec = find(self.platform)
        return spec.default_auth if spec is not None else ""

    def exchange_rate(self, currency: str) -> Decimal | None:
        """Shop-currency units per unit of ``currency`` (1 for the shop currency itself)."""
        code = currency.upper()
        if code == self.currency.upper():
            return Decimal(1)
        for k, v in self.exchange_rates:
            if k == code:
                return v
        return None

    def secret(self, name: str) -> SecretRef | None:
        for ref in self.secrets:
            if ref.name == name:
                return ref
        return None

    def product_cost(self, sku: str | None) -> Decimal | None:
        if sku is None:
            return None
        for k, v in self.product_costs:
            if k == sku:
                return v
        return None


@dataclass(frozen=True, slots=True)
class ShopConfig:
    """One validated config file: the shop and its campaigns, in file order."""

    settings: ShopSettings
    campaigns: tuple[Campaign, ...] = field(default=())
    source: str = "<memory>"
    loyalty: LoyaltyProgram | None = None
    #: ``contact_policy:``; ``None``: the defaults (see :attr:`policy`).
    contact_policy: ContactPolicy | None = None
    mail: MailSettings | None = None

    @property
    def policy(self) -> ContactPolicy:
        """The shop's contact policy: the configured one, or consent and suppression only."""
        if self.contact_policy is not None:
            return self.contact_policy
        return ContactPolicy(timezone=self.settings.timezone)
