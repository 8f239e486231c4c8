"""Care cost per customer: the share of their margin, unknown while the history is too short."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftersale_kit.results.care import care_figures, customer_care, too_short

D = Decimal


def test_share_is_cost_over_margin() -> None:
    care = customer_care("c1", 4, D("12.00"), D("48.00"))
    assert care.share == D("0.2500") and care.note == ""
    assert (care.customer, care.orders, care.cost, care.margin) == ("c1", 4, D("12.00"), D("48.00"))


def test_too_few_orders_say_so() -> None:
    care = customer_care("c1", 1, D("5.00"), D("30.00"))
    assert care.share is None
    assert care.note == "the customer has 1 order, at least 3 are needed"
    assert customer_care("c1", 2, D(0), D(1), min_orders=5).note == (
        "the customer has 2 orders, at least 5 are needed"
    )


def test_no_margin_says_so() -> None:
    care = customer_care("c1", 6, D("5.00"), D("0.00"))
    assert care.share is None
    assert care.note == "no margin earned on the customer's orders yet (margin 0.00)"
    assert too_short(3, D("-1")) is not None and too_short(3, D("0.01")) is None


def test_negative_input_is_a_bug() -> None:
    with pytest.raises(ValueError, match="cost must not be negative"):
        customer_care("c1", 3, D("-1"), D("10"))
    with pytest.raises(ValueError, match="orders must not be negative"):
        customer_care("c1", -1, D("1"), D("10"))


def test_figures_total_everyone_and_rank_the_costliest() -> None:
    rows = [
        customer_care("low", 3, D("1.00"), D("100.00")),
        customer_care("high", 5, D("30.00"), D("60.00")),
        customer_care("new", 1, D("50.00"), D("10.00")),
        customer_care("lost", 4, D("8.00"), D("0.00")),
        customer_care("mid", 3, D("10.00"), D("40.00")),
        customer_care("mid2", 3, D("20.00"), D("80.00")),
    ]
    figures = care_figures(rows, top=4)
    assert figures.customers == 6
    assert figures.cost == sum((r.cost for r in rows), D(0)) == D("119.00")
    assert figures.margin == sum((r.margin for r in rows), D(0)) == D("290.00")
    # no margin at all ranks first; "new" (too short) is never ranked; ties by higher cost
    assert [r.customer for r in figures.top] == ["lost", "high", "mid2", "mid"]


def test_figures_of_nobody() -> None:
    figures = care_figures([])
    assert (figures.customers, figures.cost, figures.margin, figures.top) == (0, D(0), D(0), ())
