"""Coupon codes: deterministic, keyed, readable, well spread."""

from __future__ import annotations

import re

import pytest

from aftersale_kit.core.codes import ALPHABET, coupon_code

SECRET = b"test-secret-0123456789"


def code(**changes: object) -> str:
    args: dict[str, object] = {
        "secret": SECRET,
        "shop": "kaffee.example",
        "order_id": "1001",
        "campaign_id": "welcome",
    }
    args.update(changes)
    return coupon_code(**args)  # type: ignore[arg-type]


def test_same_inputs_give_the_same_code() -> None:
    assert code() == code()
    assert len(code()) == 8


def test_the_alphabet_has_no_look_alikes_and_no_vowels() -> None:
    assert set(ALPHABET).isdisjoint("01OIL" + "AEIOU")
    assert ALPHABET.upper() == ALPHABET and len(set(ALPHABET)) == len(ALPHABET) == 28
    assert set(code(length=32)) <= set(ALPHABET)


@pytest.mark.parametrize(
    "changes",
    [
        {"secret": b"another-secret"},
        {"shop": "tee.example"},
        {"order_id": "1002"},
        {"campaign_id": "welcome2"},
        {"sequence": 1},
        {"attempt": 1},
    ],
)
def test_every_input_changes_the_code(changes: dict[str, object]) -> None:
    assert code(**changes) != code()


def test_parts_are_framed_so_they_cannot_shift() -> None:
    assert code(shop="ab", order_id="c") != code(shop="a", order_id="bc")
    assert code(order_id="1:2", campaign_id="x") != code(order_id="1", campaign_id="2:x")


def test_prefix_is_upper_cased_and_joined_with_a_dash() -> None:
    plain = code()
    assert code(prefix="danke") == f"DANKE-{plain}"
    assert code(prefix="BF_24") == f"BF_24-{plain}"
    assert re.fullmatch(r"DANKE-[" + ALPHABET + r"]{10}", code(prefix="danke", length=10))


def test_length_sets_the_generated_part() -> None:
    assert len(code(length=4)) == 4
    assert len(code(length=12)) == 12
    # a longer code starts with the shorter one (same digest, more base-28 digits)
    assert code(length=12).startswith(code(length=8))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"secret": b""}, "secret is empty"),
        ({"length": 3}, "length must be 4..32"),
        ({"length": 33}, "length must be 4..32"),
        ({"prefix": "dank e"}, "prefix 'dank e'"),
        ({"prefix": "-x"}, "prefix '-x'"),
        ({"prefix": "ä"}, "prefix 'ä'"),
        ({"sequence": -1}, "must not be negative"),
    ],
)
def test_bad_arguments_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        code(**changes)


def test_codes_are_spread_evenly_and_do_not_collide() -> None:
    # given 20,000 orders of one shop
    codes = [code(order_id=str(n)) for n in range(20_000)]
    # then no two codes coincide (expected collisions at length 8: 5e-4)
    assert len(set(codes)) == len(codes)
    # and each symbol appears about equally often in every position
    expected = len(codes) / len(ALPHABET)
    for position in range(8):
        counts = {s: 0 for s in ALPHABET}
        for c in codes:
            counts[c[position]] += 1
        assert min(counts.values()) > expected * 0.8
        assert max(counts.values()) < expected * 1.2
