"""Strict decoding of stored decisions: each kind of wrongly shaped value is refused with its
path, beside the cases in test_storage_codec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_storage_codec import decision

from aftersale_kit.storage.codec import decision_from_dict, decision_to_dict

Mutate = Callable[[dict[str, Any]], Any]


def _coupon(d: dict[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = d["actions"][0]["action"]
    return action


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: _coupon(d).update(single_use="yes"),
            "actions[0].action.single_use: expected true or false, found 'yes'",
        ),
        (
            lambda d: _coupon(d).update(valid_days=True),
            "actions[0].action.valid_days: expected int, found True",
        ),
        (
            lambda d: _coupon(d).update(valid_days="14"),
            "actions[0].action.valid_days: expected int, found '14'",
        ),
        (
            lambda d: _coupon(d).update(code_prefix=5),
            "actions[0].action.code_prefix: expected str, found 5",
        ),
        (
            lambda d: _coupon(d).update(product_ids="111"),
            "actions[0].action.product_ids: expected a list, found str",
        ),
        (
            lambda d: _coupon(d).update(product_ids=["111", 2]),
            "actions[0].action.product_ids[1]: expected str, found 2",
        ),
        (
            lambda d: _coupon(d).update(value=12.5),
            "actions[0].action.value: expected a decimal string, found 12.5",
        ),
        (lambda d: d.update(shop=None), "shop: expected a value, found null"),
        (
            lambda d: d["actions"][0].update(action=5),
            "actions[0].action: expected an action object with a 'type'",
        ),
        (
            lambda d: d["actions"][0].update(action={"tag": "x"}),
            "actions[0].action: expected an action object with a 'type'",
        ),
        (lambda d: d.update(actions={}), "actions: expected a list, found dict"),
        (
            lambda d: d["actions"][0].update(cost=["1.00", "EUR"]),
            "actions[0].cost: expected an object, found list",
        ),
        (
            lambda d: d["actions"][0]["cost"].pop("currency"),
            "actions[0].cost: Money.__init__() missing 1 required positional argument",
        ),
        (lambda d: d.update(event="order/paid"), "event: 'order/paid' is not a EventKind"),
    ],
)
def test_wrong_shapes_name_the_path(mutate: Mutate, message: str) -> None:
    data = decision_to_dict(decision())
    mutate(data)
    with pytest.raises(ValueError) as caught:
        decision_from_dict(data)
    assert str(caught.value).startswith(message), str(caught.value)


def test_optional_fields_take_null() -> None:
    data = decision_to_dict(decision())
    data["actions"][0]["coupon_code"] = None
    assert decision_from_dict(data).actions[0].coupon_code is None
