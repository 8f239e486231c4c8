"""JSON as PHP's ``wp_json_encode($value)`` writes it (flags 0), byte for byte.

WordPress encodes every REST response and every webhook body this way: ``/`` escaped as ``\\/``,
everything outside ASCII as ``\\uXXXX`` (lower-case hex, UTF-16 surrogate pairs), floats with
``serialize_precision = -1`` (shortest round-trip digits, no ``.0`` on integral values, ``1.0e+25``
style exponents), and PHP arrays: an empty or ``0..n-1``-keyed map is a JSON list, because PHP
cannot tell them apart once decoded. The webhook signature covers these exact bytes, so a receiver
that re-serialises the parsed body computes a different HMAC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "encode"]

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _string(value: str) -> str:
    out: list[str] = ['"']
    for char in value:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
            continue
        code = ord(char)
        if code < 0x20:
            out.append(f"\\u{code:04x}")
        elif code < 0x80:
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    out.append('"')
    return "".join(out)


def _float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        # json_encode() fails on these ("Inf and NaN cannot be JSON encoded").
        raise ValueError(f"PHP cannot JSON-encode {value!r}")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(str(d) for d in digits_tuple).rstrip("0") or "0"
    # Position of the decimal point relative to the first significant digit.
    decpt = len(digits_tuple) + exponent
    prefix = "-" if sign else ""
    if decpt < -3 or decpt > 17:
        mantissa = digits[0] + "." + (digits[1:] or "0")
        power = decpt - 1
        return f"{prefix}{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"
    if decpt <= 0:
        return f"{prefix}0.{'0' * -decpt}{digits}"
    if decpt >= len(digits):
        return prefix + digits + "0" * (decpt - len(digits))
    return f"{prefix}{digits[:decpt]}.{digits[decpt:]}"


def _is_php_list(mapping: Mapping[Any, Any]) -> bool:
    return all(str(key) == str(index) for index, key in enumerate(mapping))


def encode(value: Any) -> str:
    """The text ``wp_json_encode($value)`` returns for the PHP equivalent of ``value``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Decimal):
        return _float(float(value))
    if isinstance(value, Mapping):
        if _is_php_list(value):
            return "[" + ",".join(encode(item) for item in value.values()) + "]"
        return (
            "{"
            + ",".join(f"{_string(str(key))}:{encode(item)}" for key, item in value.items())
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(item) for item in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as PHP JSON")


def dumps(value: Any) -> bytes:
    """UTF-8 bytes of :func:`encode` (pure ASCII by construction)."""
    return encode(value).encode("ascii")
