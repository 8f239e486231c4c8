"""The arms of an experiment from decisions and orders: who was split, what they did next within
the window, and who is left out because their window has not ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersale_kit.core.campaign import (
    Campaign,
    CouponKind,
    IssueCoupon,
    ShopConfig,
    ShopSettings,
    Split,
)
from aftersale_kit.core.decision import Decision, Outcome, Reason
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.order_facts import OrderFacts
from aftersale_kit.results.experiment_inputs import shop_experiments
from aftersale_kit.storage.records import DecisionRecord

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


def _config(split: Split) -> ShopConfig:
    campaign = Campaign(
        id="danke",
        actions=(IssueCoupon(kind=CouponKind.FIXED_AMOUNT, value=Decimal(5), valid_days=30),),
        split=split,
    )
    settings = ShopSettings(platform="shopify", domain="s.example", currency="EUR")
    return ShopConfig(settings=settings, campaigns=(campaign,))


def _exposed(n: int, customer: str | None, variant: str | None, at: datetime) -> DecisionRecord:
    outcome = Outcome(
        "danke",
        variant is not None,
        Reason.HOLDOUT if variant is None else Reason.FIRED,
        "",
        variant,
    )
    decision = Decision("s.example", f"x-{n}", EventKind.ORDER_PAID, at, (outcome,), ())
    return DecisionRecord(n, "s.example", f"x-{n}", EventKind.ORDER_PAID, customer, at, decision)


def _order(order_id: str, customer: str, at: datetime, net: str, **more: object) -> OrderFacts:
    values: dict[str, object] = {"refunded": Decimal(0), "closed": None}
    values.update(more)
    return OrderFacts(
        "s.example",
        order_id,
        customer,
        customer,
        None,
        at,
        "EUR",
        Decimal(net),
        Decimal(net) / 4,
        **values,  # type: ignore[arg-type]
    )


@pytest.mark.slow  # scipy's first import
def test_holdout_against_treated_within_the_window() -> None:
    days = timedelta(days=1)
    records = [
        _exposed(1, "h1", None, T0),
        _exposed(2, "h2", None, T0),
        _exposed(3, "h3", None, T0),
        _exposed(4, "t1", "", T0),
        _exposed(5, "t2", "", T0),
        _exposed(6, "t3", "", T0),
        _exposed(7, "t1", "", T0 + 10 * days),  # a later exposure: t1 stays in its first group
        _exposed(8, None, "", T0),  # no customer: nobody to follow
        _exposed(9, "t4", "", UNTIL - 5 * days),  # the window has not ended: left out
    ]
    facts = [
        _order("x-1", "h1", T0, "40"),
        _order("n-h1", "h1", T0 + 30 * days, "20"),
        _order("n-h2", "h2", T0 + 120 * days, "50"),  # after the 90 days
        _order("x-4", "t1", T0, "40"),
        _order("n-t1", "t1", T0 + 10 * days, "30"),
        _order("n-t2", "t2", T0 + 5 * days, "30", refunded=Decimal("10")),
        _order("n-t3", "t3", T0 + 6 * days, "30", closed="order_cancelled"),  # no repeat
        _order("n-t4", "t4", UNTIL - 4 * days, "30"),
    ]
    repeat, revenue = shop_experiments(
        _config(Split(holdout=Decimal("0.5"))), records, facts, until=UNTIL, min_customers=3
    )
    assert (repeat.metric, repeat.window_days, repeat.enough_data) == ("repeat_rate", 90, True)
    assert (repeat.control.name, repeat.control.customers) == ("holdout", 3)
    assert (repeat.treatment.name, repeat.treatment.customers) == ("campaign", 3)
    assert (repeat.control.value, repeat.treatment.value) == (Decimal("0.3333"), Decimal("0.6667"))
    assert repeat.difference == Decimal("0.3333")
    assert repeat.low is not None and repeat.high is not None and repeat.low < 0 < repeat.high
    # net revenue per customer: holdout 20/3, campaign (30 + 20 + 0)/3
    assert (revenue.control.value, revenue.treatment.value) == (Decimal("6.67"), Decimal("16.67"))


def test_two_variants_compare_first_against_second_and_say_when_data_is_short() -> None:
    records = [_exposed(1, "a", "A", T0), _exposed(2, "b", "B", T0)]
    repeat, _ = shop_experiments(
        _config(Split(variants=(("A", 1), ("B", 1)))), records, [], until=UNTIL
    )
    assert (repeat.control.name, repeat.treatment.name) == ("A", "B")
    assert repeat.enough_data is False and repeat.difference is None
    assert repeat.note.startswith("not enough data yet")
