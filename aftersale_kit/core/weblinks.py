"""Which web addresses a shop may put into an e-mail button (``follow_up.link``,
``shop.booking_url``, ``shop.review_url``): checked when the config loads. Also the limits of
the shop's contact block (``shop.contact``).

A link is a web page: ``https://`` with a host, plain ``http://`` only to this machine (a test
shop on localhost). ``javascript:``, ``data:``, ``mailto:`` and every other scheme are refused,
so a link in an e-mail can only ever open a page. No spaces, control characters, quotes or
angle brackets (a link is one token in the plain-text part, too), and no user name or password.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .mail_settings import LOOPBACK_HOSTS

__all__ = [
    "CONTACT_HOURS_MAX",
    "LINK_MAX",
    "LINK_TEXT_MAX",
    "PHONE_PATTERN",
    "link_problem",
    "link_text_problem",
]

#: The longest address accepted (browsers and mail clients handle far longer; a longer one in
#: a config file is a pasted tracking link or a mistake).
LINK_MAX = 2000
#: The longest button text: a button, not a sentence.
LINK_TEXT_MAX = 60
#: A phone number as people write it: digits, spaces, ``+ ( ) . / -`` (``shop.contact.phone``).
PHONE_PATTERN = r"^\+?[0-9 ()./-]{3,30}$"
#: The longest ``shop.contact.hours``: a line, not a paragraph.
CONTACT_HOURS_MAX = 120
_FORBIDDEN = frozenset('<>"\\`')


def link_problem(value: str, example: str) -> str | None:
    """Why ``value`` cannot be a link in an e-mail, or ``None`` if it can. ``example`` is a
    good address of the same kind, named in the suggestion."""
    if not value:
        return f"write the page's full address, e.g. {example}"
    if len(value) > LINK_MAX:
        return f"the address has {len(value)} characters; at most {LINK_MAX} are allowed"
    if any(ch.isspace() or not ch.isprintable() or ch in _FORBIDDEN for ch in value):
        return (
            "the address contains spaces, quotes or other characters a link cannot have; "
            f"write it as the browser shows it, e.g. {example}"
        )
    scheme, colon, rest = value.partition(":")
    scheme = scheme.lower()
    if not colon or "." in scheme or "/" in scheme or rest[:1].isdigit():
        return f"write the address with https://, e.g. 'https://{value.lstrip('/')}'"
    if scheme not in ("https", "http"):
        return f"a link must open a web page (https://...), not a {scheme}: address"
    if not rest.startswith("//"):
        return f"write {scheme}:// with two slashes, e.g. {example}"
    return _host(value, example)


def _host(value: str, example: str) -> str | None:
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"not a valid web address, e.g. {example}"
    if not host:
        return f"write the page's full address with its host, e.g. {example}"
    if parts.username is not None or parts.password is not None:
        return "write the address without a user name or password"
    if parts.scheme.lower() == "http" and host not in LOOPBACK_HOSTS:
        return f"plain http:// is only allowed for localhost; write 'https://{value[7:]}'"
    return None


def link_text_problem(value: str) -> str | None:
    """Why ``value`` cannot be a button's text, or ``None``: one line of 1 to 60 characters."""
    if not value.strip():
        return "write the button's text, e.g. 'Termin buchen', or remove link_text:"
    if any(not ch.isprintable() for ch in value):
        return "write the button's text on one line, without control characters"
    if len(value) > LINK_TEXT_MAX:
        return f"the text has {len(value)} characters; a button takes at most {LINK_TEXT_MAX}"
    return None
