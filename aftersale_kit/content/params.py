"""Parsing and checking the values of ``show_block`` parameters.

The core's block catalogue checks parameter *names* when a config loads; the values that the
content needs in a certain shape (links, URLs, day ranges) are checked here, by the same functions
that the rendering uses, so that :meth:`ContentRenderer.check` finds at startup what would
otherwise fail on the first order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from .delivery import DayRange, parse_day_range

__all__ = [
    "PARSERS",
    "param_problems",
    "parse_bool",
    "parse_date",
    "parse_email",
    "parse_image_url",
    "parse_links",
    "parse_months",
    "parse_phone",
    "parse_url",
    "tel_href",
]

_LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f]")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./\-]{3,30}$")


def parse_url(value: object, *, name: str) -> str:
    """An absolute http(s), mailto or tel URL, or a path on the shop; never ``javascript:``."""
    text = str(value).strip()
    if not text or _UNSAFE_CHARS.search(text):
        raise ValueError(f"{name} must be a URL without spaces, got {value!r}")
    scheme = urlsplit(text).scheme.lower()
    if scheme in _LINK_SCHEMES or (scheme == "" and ":" not in text.split("/", 1)[0]):
        return text
    raise ValueError(
        f"{name} must start with https:// (or http://, mailto:, tel:, or / for a page of the "
        f"shop), got {value!r}"
    )


def parse_image_url(value: object, *, name: str) -> str:
    """An http(s) URL, a path on the shop, or a base64 ``data:image/png|jpeg|gif|webp`` URL."""
    text = str(value).strip()
    if _IMAGE_DATA.match(text):
        return re.sub(r"\s+", "", text)
    url = parse_url(value, name=name)
    if urlsplit(url).scheme.lower() in {"mailto", "tel"}:
        raise ValueError(f"{name} must be the address of an image, got {value!r}")
    return url


def parse_email(value: object, *, name: str) -> str:
    text = str(value).strip()
    if not _EMAIL.match(text):
        raise ValueError(
            f"{name} must be an e-mail address like service@example.com, got {value!r}"
        )
    return text


def parse_phone(value: object, *, name: str) -> str:
    text = str(value).strip()
    if not _PHONE.match(text) or sum(ch.isdigit() for ch in text) < 3:
        raise ValueError(f"{name} must be a phone number like '+49 30 1234567', got {value!r}")
    return text


def tel_href(phone: str) -> str:
    """``+49 (30) 123-45`` -> ``tel:+493012345``."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"tel:{'+' if phone.startswith('+') else ''}{digits}"


def parse_bool(value: object, *, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be true or false, got {value!r}")


def parse_months(value: object, *, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 60:
        return value
    raise ValueError(f"{name} must be a whole number of months from 1 to 60, got {value!r}")


def parse_date(value: object, *, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{name} must be a date like 2026-03-01, got {value!r}")


def parse_links(value: object, *, name: str) -> list[tuple[str, str]]:
    """Links as ``(label, url)``: ``{Instagram: https://...}`` or ``[{label: .., url: ..}]``."""
    items: list[tuple[object, object]] = []
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index, item in enumerate(value):
            entry = _as_mapping(item)
            if entry is not None and "url" in entry:
                label = entry.get("label", entry.get("name", entry["url"]))
                items.append((label, entry["url"]))
            elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
                items.append((item[0], item[1]))
            else:
                raise ValueError(
                    f"{name}[{index}] must be a link like {{label: Instagram, url: https://...}}, "
                    f"got {item!r}"
                )
    else:
        raise ValueError(f"{name} must be a list of links or a mapping label: url, got {value!r}")
    if not items:
        raise ValueError(f"{name} must name at least one link")
    return [(str(label), parse_url(url, name=f"{name}.{label}")) for label, url in items]


def _as_mapping(item: object) -> Mapping[str, object] | None:
    if isinstance(item, Mapping):
        return {str(k): v for k, v in item.items()}
    # A loader may freeze mappings into tuples of pairs.
    if (
        isinstance(item, tuple)
        and item
        and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in item)
    ):
        return dict(item)
    return None


def _days(value: object, *, name: str) -> DayRange:
    return parse_day_range(value, name=name)


#: Parameter name -> parser (raising ValueError with a message that names the fix).
PARSERS: Mapping[str, Callable[..., Any]] = {
    "photo_url": parse_image_url,
    "image_url": parse_image_url,
    "video_url": parse_url,
    "faq_url": parse_url,
    "contact_url": parse_url,
    "signup_url": parse_url,
    "booking_url": parse_url,
    "url": parse_url,
    "email": parse_email,
    "phone": parse_phone,
    "countdown": parse_bool,
    "interval_months": parse_months,
    "handling_days": _days,
    "transit_days": _days,
    "starts_on": parse_date,
    "links": parse_links,
}


def param_problems(params: Sequence[tuple[str, Any]]) -> list[tuple[str, str]]:
    """``(parameter, message)`` for every value that has the wrong shape."""
    problems: list[tuple[str, str]] = []
    for key, value in params:
        parser = PARSERS.get(key)
        if parser is None:
            continue
        try:
            parser(value, name=key)
        except ValueError as exc:
            problems.append((key, str(exc)))
    return problems
