"""Coupon codes: deterministic, unguessable, easy to read aloud and to type.

A code is derived with HMAC-SHA256 from a shop secret and the (shop, order, campaign) it belongs to,
so the same order always gets the same code: a redelivered webhook or a retried platform call
creates nothing new, and nobody without the secret can predict another customer's code.

Alphabet
    ``23456789BCDFGHJKMNPQRSTVWXYZ``: 28 symbols, upper case, without the look-alikes 0/O, 1/I/L
    and without vowels (A, E, I, O, U), so a code never spells a word.

Collision math
    A code of ``length`` L has N = 28**L possible values (L = 8: N = 3.8e11, about 38.5 bits).
    The digest is a 256-bit integer written in base 28, so each value is equally likely up to a
    bias below N / 2**256 (under 2**-100 for every allowed length). Among n codes of one shop the
    chance that any two coincide (birthday bound) is about n**2 / (2 N). For L = 8 that is
    1.3e-6 for 1,000 codes, 1.3e-4 for 10,000 and 1.3 % for 100,000; a shop issuing more than
    ~30,000 codes should use L = 10 (N = 3e14; 100,000 codes: 1.7e-5). Guessing a valid code
    takes N / n tries on average (L = 8, 10,000 live codes: 3.8e7), which the platforms' rate
    limits stretch to years. The platforms refuse a duplicate code; an adapter that meets one
    for a *different* order derives again with ``attempt=1, 2, ...`` (still deterministic).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

__all__ = ["ALPHABET", "coupon_code"]

ALPHABET: Final = "23456789BCDFGHJKMNPQRSTVWXYZ"
MIN_LENGTH: Final = 4
MAX_LENGTH: Final = 32
_PREFIX_RE: Final = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,19}")
_DOMAIN: Final = b"aftersale-kit/coupon/v1"


def _frame(*parts: str) -> bytes:
    """Length-prefixed parts, so that ("ab", "c") and ("a", "bc") never give the same message."""
    out = bytearray(_DOMAIN)
    for part in parts:
        data = part.encode("utf-8")
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


def coupon_code(
    *,
    secret: bytes,
    shop: str,
    order_id: str,
    campaign_id: str,
    prefix: str = "",
    length: int = 8,
    sequence: int = 0,
    attempt: int = 0,
) -> str:
    """The coupon code of one campaign for one order, e.g. ``DANKE-7KQ9MZ4T``.

    ``prefix`` is kept as given (upper-cased) and joined with ``-``. ``sequence`` tells apart
    several coupons of one campaign on the same order (0 for the first); ``attempt`` derives a new
    code after a collision on the platform. Both default to 0.
    """
    if not secret:
        raise ValueError("the coupon code secret is empty; set it in the shop's secrets")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"code length must be {MIN_LENGTH}..{MAX_LENGTH}, got {length}")
    if sequence < 0 or attempt < 0:
        raise ValueError("sequence and attempt must not be negative")
    head = prefix.upper()
    if head and not _PREFIX_RE.fullmatch(head):
        raise ValueError(
            f"code prefix {prefix!r} must be 1-20 letters, digits, '-' or '_', starting with a "
            "letter or digit"
        )
    parts = [shop, order_id, campaign_id]
    if sequence or attempt:
        parts += [str(sequence), str(attempt)]
    digest = hmac.new(secret, _frame(*parts), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    base = len(ALPHABET)
    symbols = []
    for _ in range(length):
        number, index = divmod(number, base)
        symbols.append(ALPHABET[index])
    body = "".join(symbols)
    return f"{head}-{body}" if head else body
