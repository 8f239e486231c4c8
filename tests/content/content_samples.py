"""Hand-made shop config, order and decision for the content tests (no engine needed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aftersale_kit.core.campaign import (
    Action,
    Campaign,
    CouponKind,
    FreeGift,
    IssueCoupon,
    ShopConfig,
    ShopSettings,
    ShowBlock,
    Window,
)
from aftersale_kit.core.decision import Decision, Outcome, PlannedAction, Reason
from aftersale_kit.core.loyalty.earning import PointsAward
from aftersale_kit.core.loyalty.ledger import JournalState
from aftersale_kit.core.loyalty.program import (
    CatalogueReward,
    Earn,
    LoyaltyProgram,
    RedemptionOption,
    RedemptionRules,
    StampCard,
    Tier,
    TierBasis,
    TierRules,
)
from aftersale_kit.core.loyalty.stamps import CardState, StampEntry
from aftersale_kit.core.loyalty.tiers import Standing
from aftersale_kit.core.loyalty.view import LoyaltyView, loyalty_view
from aftersale_kit.core.model import Customer, EventKind, FinancialStatus, LineItem, Order
from aftersale_kit.core.money import Money

#: Friday 21 November 2025, 10:00 in Berlin.
ORDERED_AT = datetime(2025, 11, 21, 9, 0, tzinfo=UTC)
NOW = datetime(2025, 11, 21, 9, 5, tzinfo=UTC)

#: Every block with its parameters, as a shop owner would write them.
ALL_BLOCKS: dict[str, dict[str, Any]] = {
    "coupon": {},
    "contact_person": {
        "name": "Julia Berger",
        "role": "Kundenservice",
        "phone": "+49 30 1234567",
        "email": "julia@example.com",
        "hours": "Mo–Fr 9–17 Uhr",
    },
    "shipping": {"handling_days": 1, "transit_days": "2-4", "carrier": "DHL"},
    "thank_you": {"image_url": "https://cdn.example.com/thanks.jpg", "alt": "Unser Team"},
    "faq_contact": {
        "faq_url": "https://shop.example.com/faq",
        "contact_url": "https://shop.example.com/kontakt",
        "email": "service@example.com",
        "links": [{"label": "Rücksendung", "url": "/pages/returns"}],
    },
    "newsletter": {"signup_url": "https://shop.example.com/newsletter"},
    "vip_presale": {"url": "https://shop.example.com/vip", "starts_on": "2026-03-01"},
    "social_follow": {"links": {"instagram": "https://instagram.com/example"}},
    "free_gift": {},
    "service_check": {"interval_months": 3, "booking_url": "https://shop.example.com/service"},
    "survey": {"url": "https://survey.example.com/s/1"},
    "loyalty_points": {},
    "loyalty_balance": {"url": "/pages/bonusprogramm"},
    "loyalty_tier": {},
    "stamp_card": {"card": "kaffee-karte"},
}

SILBER = Tier("Silber", Decimal(200), Decimal("1.25"))
GOLD = Tier("Gold", Decimal(500), Decimal("1.5"))

#: A coffee roaster's bonus program: 1 point per euro, 14 days pending, two tiers, a 5-euro
#: coupon for 500 points and a cup for 1,500, and a stamp card of five.
PROGRAM = LoyaltyProgram(
    currency="EUR",
    earn=Earn(rate=Decimal(1)),
    pending_days=14,
    tiers=TierRules(basis=TierBasis.SPEND, window_months=12, levels=(SILBER, GOLD)),
    redemption=RedemptionRules(
        options=(
            RedemptionOption(
                "espresso-tasse", 1500, reward=CatalogueReward("81", "Espresso-Tasse")
            ),
            RedemptionOption("fuenf-euro", 500, coupon_value=Decimal(5)),
        ),
        minimum_balance=500,
    ),
    stamp_cards=(StampCard("kaffee-karte", "Kaffee-Sammelkarte", 5, reward=()),),
)


def loyalty_sample(
    *, available: int = 1240, pending: int = 120, earned: int = 120, stamps: int = 3
) -> LoyaltyView:
    """A Silber customer 120 EUR short of Gold, with a balance that buys the coupon but not
    the cup, whose order earns ``earned`` points (a third of them a campaign's bonus)."""
    award = PointsAward(
        points=earned, base=earned * 2 // 3, lines=(), fixed_bonus=0, tier="Silber", currency="EUR"
    )
    card = CardState(
        card="kaffee-karte", stamps=tuple(StampEntry(f"o{n}", ORDERED_AT) for n in range(stamps))
    )
    return loyalty_view(
        PROGRAM,
        state=JournalState(available=available, pending=pending),
        award=award,
        standing=Standing(SILBER, Decimal(380), GOLD, Decimal(120)),
        cards=[card],
    )


def settings(**changes: Any) -> ShopSettings:
    base = ShopSettings(
        platform="shopify",
        domain="kaffee-example.de",
        currency="EUR",
        locale="de_DE",
        timezone="Europe/Berlin",
    )
    return replace(base, **changes)


def order(
    *,
    first_name: str | None = "Anna",
    title: str = "Espressomühle Pro",
    locale: str | None = None,
    customer_locale: str | None = None,
    shipping_method: str | None = "DHL Paket",
    order_id: str = "820982911946154508",
) -> Order:
    eur = "EUR"
    customer = Customer(
        id="115310627314723954",
        email="anna@example.com",
        first_name=first_name,
        locale=customer_locale,
    )
    return Order(
        platform="shopify",
        shop="kaffee-example.de",
        id=order_id,
        number="#1001",
        currency=eur,
        created_at=ORDERED_AT,
        paid_at=ORDERED_AT,
        financial_status=FinancialStatus.PAID,
        subtotal=Money.of("249.00", eur),
        total=Money.of("253.90", eur),
        discounts=Money.zero(eur),
        shipping=Money.of("4.90", eur),
        tax=Money.of("40.54", eur),
        line_items=(
            LineItem(id="1", title=title, quantity=1, unit_price=Money.of("229.00", eur)),
            LineItem(
                id="2",
                title="Bohnen Hausmischung 1 kg",
                quantity=1,
                unit_price=Money.of("20.00", eur),
            ),
        ),
        customer=customer,
        email="anna@example.com",
        shipping_method=shipping_method,
        locale=locale,
    )


def coupon_action(
    kind: CouponKind = CouponKind.PERCENTAGE,
    value: str = "10",
    *,
    valid_days: int = 30,
    minimum_order: str | None = "50",
) -> IssueCoupon:
    return IssueCoupon(
        kind=kind,
        value=Decimal(value),
        valid_days=valid_days,
        minimum_order=Decimal(minimum_order) if minimum_order else None,
        code_prefix="DANKE-",
    )


def campaign(
    campaign_id: str, actions: tuple[Action, ...], *, window: Window | None = None
) -> Campaign:
    return Campaign(id=campaign_id, actions=actions, window=window)


def show(block: str, /, **params: Any) -> ShowBlock:
    return ShowBlock(block=block, params=tuple(params.items()))


def decide_by_hand(
    campaigns: tuple[Campaign, ...],
    the_order: Order,
    *,
    code: str = "DANKE-7KQ2M9XA",
    event: EventKind = EventKind.ORDER_PAID,
) -> Decision:
    """What the engine would decide when every campaign fires: every action planned."""
    planned: list[PlannedAction] = []
    for c in campaigns:
        for index, action in enumerate(c.actions):
            planned.append(
                PlannedAction(
                    campaign_id=c.id,
                    action=action,
                    idempotency_key=f"{the_order.shop}:{the_order.id}:{c.id}:{index}",
                    cost=Money.zero("EUR"),
                    coupon_code=code if isinstance(action, IssueCoupon) else None,
                )
            )
    return Decision(
        shop=the_order.shop,
        order_id=the_order.id,
        event=event,
        decided_at=NOW,
        outcomes=tuple(Outcome(c.id, True, Reason.FIRED, "fired") for c in campaigns),
        actions=tuple(planned),
    )


def full_setup(
    *, the_order: Order | None = None, locale: str = "de_DE", **coupon: Any
) -> tuple[ShopConfig, Order, Decision]:
    """One campaign per block: a coupon campaign, a gift campaign, and the content blocks."""
    the_order = the_order or order()
    campaigns = (
        campaign("danke-coupon", (coupon_action(**coupon), show("coupon"))),
        campaign(
            "gratis-probe",
            (FreeGift(note="eine Probe unserer Röstung"), show("free_gift")),
        ),
        campaign(
            "bestaetigung",
            tuple(
                show(name, **params)
                for name, params in ALL_BLOCKS.items()
                if name not in {"coupon", "free_gift"}
            ),
        ),
    )
    config = ShopConfig(settings=settings(locale=locale), campaigns=campaigns, loyalty=PROGRAM)
    return config, the_order, decide_by_hand(campaigns, the_order)
