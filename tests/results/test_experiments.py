"""Experiments: groups from the engine's split, and an interval that holds the true difference."""

from __future__ import annotations

import random
import sys
from decimal import Decimal

import pytest

from aftersale_kit.core.campaign import Split
from aftersale_kit.core.engine import assign_variant
from aftersale_kit.core.errors import AftersaleKitError, MissingExtraError
from aftersale_kit.results.experiments import (
    HOLDOUT,
    NET_REVENUE,
    REPEAT_RATE,
    TREATED,
    Arm,
    arms_from,
    compare,
)

SHOP = "kaffee.example"
CAMPAIGN = "welcome-back"


def _assignments(customers: int, split: Split) -> list[tuple[str, str | None]]:
    keys = [f"c{i}" for i in range(customers)]
    return [(k, assign_variant(split, shop=SHOP, campaign_id=CAMPAIGN, key=k)) for k in keys]


def _repeat_history(
    seed: int, *, per_group: int = 5_000, control_rate: float = 0.15, treated_rate: float = 0.20
) -> tuple[Arm, Arm]:
    """A generated shop: 5,000 customers per group, each repeats with the group's true rate."""
    rng = random.Random(seed)
    control = tuple(float(rng.random() < control_rate) for _ in range(per_group))
    treated = tuple(float(rng.random() < treated_rate) for _ in range(per_group))
    return Arm(HOLDOUT, control), Arm(TREATED, treated)


def _revenue_history(seed: int, *, per_group: int = 5_000) -> tuple[Arm, Arm]:
    """Net revenue per customer: a later order of mean 40.00 with probability 15% vs 20%
    (true means 6.00 and 8.00, true difference 2.00)."""
    rng = random.Random(seed)

    def one(rate: float) -> float:
        return rng.expovariate(1 / 40) if rng.random() < rate else 0.0

    control = tuple(one(0.15) for _ in range(per_group))
    treated = tuple(one(0.20) for _ in range(per_group))
    return Arm(HOLDOUT, control), Arm(TREATED, treated)


@pytest.mark.slow
def test_true_uplift_in_the_interval_with_the_engine_split() -> None:
    # given 10,000 customers split by the engine's holdout (half) and a true uplift 15% -> 20%
    assignments = _assignments(10_000, Split(holdout=Decimal("0.5")))
    rng = random.Random(7)
    rate = {None: 0.15, "": 0.20}
    outcomes = {k: float(rng.random() < rate[v]) for k, v in assignments}
    # when the arms are taken from the assignments and compared
    control, treated = arms_from(assignments, outcomes)
    result = compare(CAMPAIGN, REPEAT_RATE, control, treated, window_days=90)
    # then the groups are the holdout and the rest, and the interval holds 0.05
    assert result.control.name == HOLDOUT and result.treatment.name == TREATED
    assert result.control.customers + result.treatment.customers == 10_000
    assert 4_800 < result.control.customers < 5_200
    assert result.enough_data and result.note == ""
    assert result.low is not None and result.high is not None and result.difference is not None
    assert result.low < Decimal("0.05") < result.high
    assert result.low < result.difference < result.high
    assert result.difference == result.treatment.value - result.control.value
    assert result.window_days == 90


def test_repeat_rate_5000_per_group_holds_the_true_difference() -> None:
    control, treated = _repeat_history(2026)
    result = compare(CAMPAIGN, REPEAT_RATE, control, treated, window_days=60)
    assert result.control.customers == result.treatment.customers == 5_000
    assert result.low is not None and result.high is not None
    assert result.low < Decimal("0.05") < result.high
    # a 95% interval for 5,000 per group is about +-1.5 points wide, not wider
    assert result.high - result.low < Decimal("0.035")


@pytest.mark.slow
def test_repeat_rate_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    hits = 0
    for seed in range(200):
        result = compare(CAMPAIGN, REPEAT_RATE, *_repeat_history(seed), window_days=60)
        assert result.low is not None and result.high is not None
        hits += result.low <= Decimal("0.05") <= result.high
    assert 0.90 <= hits / 200 <= 0.99


def test_revenue_per_customer_holds_the_true_mean_difference() -> None:
    result = compare(CAMPAIGN, NET_REVENUE, *_revenue_history(2026), window_days=None)
    assert result.low is not None and result.high is not None
    assert result.low < Decimal("2.00") < result.high
    assert result.control.value == pytest.approx(Decimal("6.00"), abs=Decimal("0.8"))
    assert result.difference is not None and result.difference.as_tuple().exponent == -2


@pytest.mark.slow
def test_revenue_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    hits = 0
    for seed in range(200):
        result = compare(CAMPAIGN, NET_REVENUE, *_revenue_history(seed), window_days=None)
        assert result.low is not None and result.high is not None
        hits += result.low <= Decimal("2.00") <= result.high
    assert 0.90 <= hits / 200 <= 0.99


@pytest.mark.parametrize("metric", [REPEAT_RATE, NET_REVENUE])
def test_30_customers_say_not_enough_data_yet(metric: str) -> None:
    # given a shop with 30 customers, split by the engine
    assignments = _assignments(30, Split(holdout=Decimal("0.5")))
    outcomes = {k: 1.0 for k, _ in assignments[::3]}
    control, treated = arms_from(assignments, outcomes)
    # when compared
    result = compare(CAMPAIGN, metric, control, treated, window_days=90)
    # then no number, and why
    assert not result.enough_data
    assert result.difference is None and result.low is None and result.high is None
    assert result.note.startswith("not enough data yet")
    assert f"{control.customers} and {treated.customers} customers" in result.note
    assert "at least 100 per group" in result.note
    assert result.control.customers + result.treatment.customers == 30


def test_minimum_is_per_group() -> None:
    big = Arm("a", (0.0, 1.0) * 100)
    small = Arm("b", (0.0, 1.0) * 49)
    assert not compare(CAMPAIGN, REPEAT_RATE, big, small, window_days=30).enough_data
    assert compare(CAMPAIGN, REPEAT_RATE, big, small, window_days=30, min_customers=98).enough_data


def test_ab_variants_compare_one_variant_against_another() -> None:
    # given an A/B split with a 10% holdout
    split = Split(variants=(("a", 1), ("b", 1)), holdout=Decimal("0.1"))
    assignments = _assignments(2_000, split)
    outcomes = {k: 1.0 for k, v in assignments if v == "b"}
    # when variant a is the control and b the treatment
    control, treated = arms_from(assignments, outcomes, control="a", treatment="b")
    # then the holdout counts in neither, and b's customers all repeated
    variants = [v for _, v in assignments]
    assert control.customers == variants.count("a") and treated.customers == variants.count("b")
    assert set(control.values) == {0.0} and set(treated.values) == {1.0}
    # and the holdout as control against every variant
    holdout, everyone = arms_from(assignments, outcomes)
    assert holdout.customers == variants.count(None)
    assert everyone.customers == variants.count("a") + variants.count("b")


def test_a_customer_counts_once_and_missing_outcomes_are_zero() -> None:
    control, treated = arms_from([("x", None), ("y", "v"), ("x", "v"), ("z", "v")], {"y": 12.5})
    assert control.values == (0.0,)
    assert sorted(treated.values) == [0.0, 12.5]


def test_no_spread_gives_no_interval_but_a_difference() -> None:
    zeros = Arm("a", (0.0,) * 150)
    result = compare(CAMPAIGN, NET_REVENUE, zeros, Arm("b", (0.0,) * 150), window_days=None)
    assert result.enough_data and result.difference == Decimal("0.00")
    assert result.low is None and result.high is None and "no spread" in result.note


def test_bad_input_is_refused() -> None:
    arm = Arm("a", (0.0, 1.0))
    with pytest.raises(ValueError, match="unknown metric 'ctr'"):
        compare(CAMPAIGN, "ctr", arm, arm, window_days=None)
    with pytest.raises(ValueError, match="repeat rate takes values 0 and 1"):
        compare(CAMPAIGN, REPEAT_RATE, arm, Arm("b", (2.0,)), window_days=None)
    with pytest.raises(ValueError, match="b: every value must be a finite number"):
        compare(CAMPAIGN, NET_REVENUE, arm, Arm("b", (float("nan"),)), window_days=None)


def test_importing_does_not_import_scipy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, aftersale_kit.results.experiments, aftersale_kit.results.care;"
        "print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_scipy_the_comparison_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given scipy cannot be imported (installed without the results extra)
    monkeypatch.setitem(sys.modules, "scipy", None)
    control = Arm("holdout", tuple(float(i % 2) for i in range(100)))
    treatment = Arm("campaign", tuple(float(i % 3 == 0) for i in range(100)))
    # then the error is one the command line and the dashboard report as what to install
    with pytest.raises(MissingExtraError) as raised:
        compare("c", REPEAT_RATE, control, treatment, window_days=90)
    assert isinstance(raised.value, AftersaleKitError)
    assert "pip install 'aftersale-kit[results]'" in str(raised.value)
