"""Link key ids for rotation: the first key signs, every key verifies, tokens without a key id
(signed before key ids) verify with the legacy key, an unknown key id is refused, and
``$AFTERSALE_LINK_KEYS`` is checked with a precise message that never shows a secret."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from aftersale_kit.mail import LinkKeyError, LinkKeys, LinkSigner, Purpose, Refusal, TokenRefused
from aftersale_kit.service.followups import FollowUps

from .conftest import KEY, SHOP, Clock

OLD = ("2026-a", b"a" * 32 + b"-old-secret")
NEW = ("2026-b", b"b" * 32 + b"-new-secret")


def _sign(keys: LinkKeys, clock: Clock) -> str:
    signer = LinkSigner(keys, clock=clock)
    return signer.sign(Purpose.UNSUBSCRIBE, shop=SHOP, subject="17", valid_for=timedelta(days=1))


def _verify(keys: LinkKeys, token: str, clock: Clock) -> str:
    return (
        LinkSigner(keys, clock=clock).verify(token, purpose=Purpose.UNSUBSCRIBE, shop=SHOP).subject
    )


def _refusal(keys: LinkKeys, token: str, clock: Clock) -> Refusal:
    with pytest.raises(TokenRefused) as info:
        _verify(keys, token, clock)
    return info.value.reason


def _body(token: str) -> list[object]:
    head = token.split(".")[0]
    decoded: list[object] = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return decoded


def test_rotation_keeps_old_links_until_the_old_key_is_removed(clock: Clock) -> None:
    # given links signed with the old key id
    old_link = _sign(LinkKeys(KEY, (OLD,)), clock)
    assert _body(old_link)[0] == 2 and _body(old_link)[-1] == "2026-a"
    # when a new key is added in front, the old link still verifies and new links name it
    rotated = LinkKeys(KEY, (NEW, OLD))
    assert _verify(rotated, old_link, clock) == "17"
    new_link = _sign(rotated, clock)
    assert _body(new_link)[-1] == "2026-b"
    assert (
        LinkSigner(rotated, clock=clock)
        .verify(new_link, purpose=Purpose.UNSUBSCRIBE, shop=SHOP)
        .kid
        == "2026-b"
    )
    # when the old key is removed, the old link is refused (unknown key), the new one works
    removed = LinkKeys(KEY, (NEW,))
    assert _refusal(removed, old_link, clock) is Refusal.UNKNOWN_KEY
    assert _verify(removed, new_link, clock) == "17"


def test_tokens_without_a_key_id_verify_with_the_legacy_key(clock: Clock) -> None:
    legacy_link = LinkSigner(KEY, clock=clock).sign(
        Purpose.UNSUBSCRIBE, shop=SHOP, subject="17", valid_for=timedelta(days=1)
    )
    assert _body(legacy_link)[0] == 1 and len(_body(legacy_link)) == 6
    assert _verify(LinkKeys(KEY, (NEW, OLD)), legacy_link, clock) == "17"
    # another legacy key (AFTERSALE_LINK_KEY changed) does not verify it
    assert _refusal(LinkKeys(b"z" * 40, (NEW,)), legacy_link, clock) is Refusal.TAMPERED


def test_a_token_naming_a_key_cannot_borrow_another_keys_signature(clock: Clock) -> None:
    # a token signed with NEW whose key id is changed to OLD fails the signature check
    link = _sign(LinkKeys(KEY, (NEW, OLD)), clock)
    body = _body(link)
    body[-1] = "2026-a"
    raw = json.dumps(body, separators=(",", ":")).encode()
    forged = base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + link.split(".")[1]
    assert _refusal(LinkKeys(KEY, (NEW, OLD)), forged, clock) is Refusal.TAMPERED


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "AFTERSALE_LINK_KEYS is set but empty"),
        ("2026-a", "AFTERSALE_LINK_KEYS: entry 1 is not kid:secret"),
        (f"k1:{'x' * 40},:{'y' * 40}", "AFTERSALE_LINK_KEYS: entry 2 is not kid:secret"),
        ("k1:short-secret", "AFTERSALE_LINK_KEYS: the secret of link key id 'k1' has 12 bytes"),
        (f"bad id:{'x' * 40}", "AFTERSALE_LINK_KEYS: link key id 'bad id': use 1 to 32"),
        (f"k1:{'x' * 40},k1:{'y' * 40}", "AFTERSALE_LINK_KEYS: link key id 'k1' appears twice"),
    ],
)
def test_the_variable_is_checked_at_startup(value: str, message: str) -> None:
    with pytest.raises(LinkKeyError) as info:
        FollowUps.from_env({"AFTERSALE_LINK_KEYS": value})
    assert str(info.value).startswith(message)
    assert "x" * 12 not in str(info.value) and "short-secret" not in str(info.value)


def test_the_variable_gives_the_keys_in_order() -> None:
    value = f"2026-b:{'b' * 40}, 2026-a:{'a' * 32}:with:colons"
    follow_ups = FollowUps.from_env({"AFTERSALE_LINK_KEYS": value})
    assert [kid for kid, _ in follow_ups.kids] == ["2026-b", "2026-a"]
    assert follow_ups.kids[1][1] == b"a" * 32 + b":with:colons"
    with pytest.raises(LinkKeyError, match="AFTERSALE_LINK_KEY needs at least 32 bytes"):
        FollowUps.from_env({"AFTERSALE_LINK_KEY": "too short"})
