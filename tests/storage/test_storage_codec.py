"""Decisions to JSON and back: every action type, every field, Decimal as strings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from aftersale_kit.core.campaign import (
    Action,
    CouponKind,
    FreeGift,
    IssueCoupon,
    ShowBlock,
    TagOrder,
)
from aftersale_kit.core.decision import Decision, Outcome, PlannedAction, Reason
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.money import Money
from aftersale_kit.storage.codec import (
    decision_from_dict,
    decision_from_json,
    decision_to_dict,
    decision_to_json,
    planned_action_from_dict,
)

COUPON = IssueCoupon(
    kind=CouponKind.PERCENTAGE,
    value=Decimal("12.5"),
    valid_days=14,
    minimum_order=Decimal("30.00"),
    single_use=False,
    restrict_to_email=False,
    code_prefix="DANKE-",
    code_length=10,
    product_ids=("111", "222"),
    collections=("summer",),
    estimated_value=Decimal("4.99"),
    variant="b",
)
BLOCK = ShowBlock(
    block="contact",
    params=(
        ("name", "Frau Meier"),
        ("photo", None),
        ("hours", ("Mo", "Fr")),
        ("fee", Decimal("0.10")),
        ("since", date(2020, 1, 2)),
        ("until", datetime(2026, 1, 1, 8, tzinfo=UTC)),
        ("nested", {"a": [1, 2.5, True]}),
    ),
)
GIFT = FreeGift(note="Probe beilegen", tag="gift", cost=Decimal("1.20"), variant=None)
TAG = TagOrder(tag="aftersale")


def decision() -> Decision:
    every: tuple[Action, ...] = (COUPON, BLOCK, GIFT, TAG)
    actions = tuple(
        PlannedAction(
            campaign_id="c",
            action=a,
            idempotency_key=f"shop:1:c:{i}",
            cost=Money(Decimal("1.23"), "EUR"),
            coupon_code="DANKE-ABCDEFGHJK" if isinstance(a, IssueCoupon) else None,
        )
        for i, a in enumerate(every)
    )
    return Decision(
        shop="shop",
        order_id="1",
        event=EventKind.ORDER_PAID,
        decided_at=datetime(2026, 3, 2, 12, 30, 15, 123456, tzinfo=UTC),
        outcomes=(
            Outcome("c", True, Reason.FIRED, "fired: ...", "b"),
            Outcome("d", False, Reason.BUDGET_EXHAUSTED, "budget 50.00 EUR exhausted"),
        ),
        actions=actions,
    )


def test_a_decision_survives_json_unchanged() -> None:
    original = decision()
    text = decision_to_json(original)
    assert decision_from_json(text) == original
    # and the JSON keeps money exact, as strings
    data = json.loads(text)
    assert data["actions"][0]["cost"] == {"amount": "1.23", "currency": "EUR"}
    assert data["actions"][0]["action"]["type"] == "issue_coupon"
    assert data["actions"][0]["action"]["value"] == "12.5"
    assert [a["action"]["type"] for a in data["actions"]] == [
        "issue_coupon",
        "show_block",
        "free_gift",
        "tag_order",
    ]


def test_free_form_parameters_keep_their_types() -> None:
    restored = decision_from_json(decision_to_json(decision())).actions[1].action
    assert isinstance(restored, ShowBlock)
    assert restored.param("fee") == Decimal("0.10")
    assert restored.param("hours") == ("Mo", "Fr")
    assert restored.param("since") == date(2020, 1, 2)
    assert restored.param("nested") == {"a": [1, 2.5, True]}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["actions"][0]["action"].update(type="send_sms"), "unknown action 'send_sms'"),
        (lambda d: d["actions"][0]["action"].update(value="abc"), r"action\.value: 'abc' is not"),
        (lambda d: d["outcomes"][0].update(reason="bored"), r"outcomes\[0\]\.reason: 'bored'"),
        (lambda d: d.update(colour="red"), "unknown field.*colour"),
        (lambda d: d.update(decided_at=5), "decided_at: expected an ISO 8601 timestamp"),
        (lambda d: d["actions"][0].update(cost=None), r"actions\[0\]\.cost: expected a value"),
    ],
)
def test_bad_json_names_the_path(mutate: object, message: str) -> None:
    data = decision_to_dict(decision())
    mutate(data)  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        decision_from_dict(data)


def test_planned_action_alone() -> None:
    planned = decision().actions[2]
    data = json.loads(json.dumps(decision_to_dict(decision())["actions"][2]))
    assert planned_action_from_dict(data) == planned
