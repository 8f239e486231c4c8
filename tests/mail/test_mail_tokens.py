"""Signed link tokens: a round trip, and each refusal with its own reason."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from aftersale_kit.mail import LinkSigner, Purpose, Refusal, TokenRefused

from .conftest import KEY, NOW, SHOP, Clock


def signer(clock: Clock) -> LinkSigner:
    return LinkSigner(KEY, clock=clock)


def refusal(s: LinkSigner, token: str, purpose: Purpose = Purpose.UNSUBSCRIBE, shop: str = SHOP):
    with pytest.raises(TokenRefused) as info:
        s.verify(token, purpose=purpose, shop=shop)
    return info.value.reason


def test_a_token_round_trips_with_its_claims(clock: Clock) -> None:
    s = signer(clock)
    token = s.sign(Purpose.SURVEY, shop=SHOP, subject="order-1001", valid_for=timedelta(days=30))
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    claims = s.verify(token, purpose=Purpose.SURVEY, shop=SHOP)
    assert (claims.purpose, claims.shop, claims.subject) == (Purpose.SURVEY, SHOP, "order-1001")
    assert claims.expires == NOW + timedelta(days=30)
    # each token has its own nonce, which the store records to make a link single-use
    again = s.sign(Purpose.SURVEY, shop=SHOP, subject="order-1001", valid_for=timedelta(days=30))
    assert again != token
    assert s.verify(again, purpose=Purpose.SURVEY, shop=SHOP).nonce != claims.nonce
    assert len(claims.nonce) >= 16


def test_a_changed_payload_or_signature_is_tampered(clock: Clock) -> None:
    s = signer(clock)
    token = s.sign(Purpose.UNSUBSCRIBE, shop=SHOP, subject="c-1", valid_for=timedelta(days=1))
    head, tail = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    body[3] = "c-2"  # another customer
    forged = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
    assert refusal(s, forged.decode().rstrip("=") + "." + tail) is Refusal.TAMPERED
    flipped = tail[:-2] + ("A" if tail[-2] != "A" else "B") + tail[-1]
    assert refusal(s, f"{head}.{flipped}") is Refusal.TAMPERED
    other_key = LinkSigner(b"another key of at least thirty-two bytes", clock=clock)
    assert refusal(other_key, token) is Refusal.TAMPERED


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "not base64!.xx", "x" * 3000, "e30.e30", "Zm9v.Zm9v"]
)
def test_garbage_is_malformed(clock: Clock, token: str) -> None:
    assert refusal(signer(clock), token) in (Refusal.MALFORMED, Refusal.TAMPERED)
    if "." not in token or token.count(".") > 1 or "!" in token or len(token) > 2048:
        assert refusal(signer(clock), token) is Refusal.MALFORMED


def test_wrong_purpose_and_other_shop_are_refused_with_their_reason(clock: Clock) -> None:
    s = signer(clock)
    token = s.sign(Purpose.SURVEY, shop=SHOP, subject="order-1", valid_for=timedelta(days=1))
    assert refusal(s, token, purpose=Purpose.UNSUBSCRIBE) is Refusal.WRONG_PURPOSE
    assert refusal(s, token, purpose=Purpose.NEWSLETTER_CONFIRM) is Refusal.WRONG_PURPOSE
    assert refusal(s, token, purpose=Purpose.SURVEY, shop="other.myshopify.com") is (
        Refusal.OTHER_SHOP
    )


def test_expiry_is_checked_against_the_injected_clock(clock: Clock) -> None:
    s = signer(clock)
    token = s.sign(Purpose.UNSUBSCRIBE, shop=SHOP, subject="c-1", valid_for=timedelta(hours=2))
    clock.now = NOW + timedelta(hours=2) - timedelta(seconds=1)
    assert s.verify(token, purpose=Purpose.UNSUBSCRIBE, shop=SHOP).subject == "c-1"
    clock.now = NOW + timedelta(hours=2)
    assert refusal(s, token) is Refusal.EXPIRED
    # the reasons are distinct and readable
    assert len({r.value for r in Refusal}) == 6


def test_a_short_key_and_a_non_positive_lifetime_are_refused(clock: Clock) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        LinkSigner(b"short")
    with pytest.raises(ValueError, match="positive"):
        signer(clock).sign(Purpose.SURVEY, shop=SHOP, subject="x", valid_for=timedelta(0))


def test_a_subject_with_any_characters_survives(clock: Clock) -> None:
    s = signer(clock)
    subject = 'order "7" ü\u2028\r\n.'
    token = s.sign(Purpose.SURVEY, shop=SHOP, subject=subject, valid_for=timedelta(days=1))
    assert s.verify(token, purpose=Purpose.SURVEY, shop=SHOP).subject == subject
