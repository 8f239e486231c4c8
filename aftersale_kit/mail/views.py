"""What each follow-up template prints, prepared in Python from the caller's data.

A view takes the texts of the chosen language and the message's data and returns the values its
template prints (already formatted, never HTML: the templates escape them). Each view also
names the subject. Data is only ever a value in a format call, never the format string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from ..core.weblinks import LINK_TEXT_MAX
from .errors import MailError

__all__ = ["VIEWS", "View"]

#: ``(texts, data) -> values for the template`` (including ``subject``).
View = Callable[[Mapping[str, str], Mapping[str, Any]], dict[str, Any]]


def _get(data: Mapping[str, Any], key: str, template: str) -> Any:
    if key not in data or data[key] is None:
        raise MailError(f"the {template} e-mail needs {key!r} in its data")
    return data[key]


def _web_url(value: object, key: str) -> str:
    """Only http(s) links reach a template (no ``javascript:`` or ``data:``)."""
    text = str(value)
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise MailError(f"{key} must be a web address starting with https://, got {text[:80]!r}")
    return text


def _button(t: Mapping[str, str], key: str, data: Mapping[str, Any]) -> str:
    """The button's text: the follow-up's ``link_text`` (one line), else the language's."""
    text = " ".join(str(data.get("link_text") or "").split())[:LINK_TEXT_MAX]
    return text or t[key]


def survey(t: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """``order_number`` and ``rating_urls`` (five links, rating 1 to 5)."""
    number = str(_get(data, "order_number", "survey"))
    urls = _get(data, "rating_urls", "survey")
    if not isinstance(urls, Sequence) or isinstance(urls, str) or len(urls) != 5:
        raise MailError("the survey e-mail needs five rating_urls (for the ratings 1 to 5)")
    ratings = [
        {
            "value": n,
            "label": t["survey_rating"].format(rating=n),
            "url": _web_url(u, "rating_urls"),
        }
        for n, u in enumerate(urls, start=1)
    ]
    return {
        "subject": t["survey_subject"].format(number=number),
        "headline": t["survey_headline"],
        "text": t["survey_text"].format(number=number),
        "scale": t["survey_scale"],
        "ratings": ratings,
    }


def service_reminder(t: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """``months`` (the interval), optional ``products`` (titles), ``booking_url`` (else: the
    contact line and the shop's ``contact``: phone, email, hours) and ``link_text`` (the
    button's text)."""
    months = _get(data, "months", "service_reminder")
    booking = data.get("booking_url")
    return {
        "subject": t["service_subject"],
        "headline": t["service_headline"],
        "text": t["service_text"].format(months=int(months)),
        "products_label": t["service_products"],
        "products": _titles(data),
        "booking_url": _web_url(booking, "booking_url") if booking else None,
        "button": _button(t, "service_button", data),
        "contact": t["service_contact"],
        "channels": _channels(t, data.get("contact")),
    }


def _channels(t: Mapping[str, str], contact: object) -> list[dict[str, str]]:
    """The shop's phone, e-mail and hours (``shop.contact``) as labelled lines, each with the
    ``tel:`` or ``mailto:`` link of the HTML part (``""``: none)."""
    if not isinstance(contact, Mapping):
        return []
    found = []
    for key in ("phone", "email", "hours"):
        value = " ".join(str(contact.get(key) or "").split())
        if not value:
            continue
        href = ""
        if key == "phone":
            digits = "".join(ch for ch in value if ch.isdigit())
            href = f"tel:{'+' if value.startswith('+') else ''}{digits}"
        elif key == "email":
            href = f"mailto:{value}"
        found.append({"label": t[f"contact_{key}"], "value": value, "href": href})
    return found


def newsletter_confirm(t: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """``shop_name`` and ``confirm_url`` (the double opt-in link)."""
    shop = str(_get(data, "shop_name", "newsletter_confirm"))
    return {
        "subject": t["newsletter_subject"],
        "headline": t["newsletter_headline"],
        "text": t["newsletter_text"].format(shop=shop),
        "button": t["newsletter_button"],
        "confirm_url": _web_url(_get(data, "confirm_url", "newsletter_confirm"), "confirm_url"),
        "ignore": t["newsletter_ignore"],
    }


def _yes_no(value: object) -> str:
    if value is True:
        return "ja / yes"
    return "NEIN / NO" if value is False else "-"


def complaint(t: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """``order_number``, ``rating`` and optional ``delivery_ok``, ``payment_ok``, ``wait``,
    ``comment``, ``customer`` (the answer that raised the complaint)."""
    number = str(_get(data, "order_number", "complaint"))
    rating = int(_get(data, "rating", "complaint"))
    rows = [
        (t["complaint_rating"], f"{rating} / 5"),
        (t["complaint_delivery"], _yes_no(data.get("delivery_ok"))),
        (t["complaint_payment"], _yes_no(data.get("payment_ok"))),
        (t["complaint_wait"], str(data.get("wait") or "-")),
        (t["complaint_customer"], str(data.get("customer") or "-")),
    ]
    return {
        "subject": t["complaint_subject"].format(number=number, rating=rating),
        "headline": t["complaint_headline"],
        "text": t["complaint_text"].format(number=number),
        "rows": [{"label": label, "value": value} for label, value in rows],
        "comment_label": t["complaint_comment"],
        "comment": str(data.get("comment") or ""),
    }


def _titles(data: Mapping[str, Any]) -> list[str]:
    products = data.get("products") or ()
    if isinstance(products, str):
        products = (products,)
    return [str(p) for p in products]


def custom(t: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """A shop's own follow-up template (``follow_up/<name>.txt.j2`` and ``.html.j2``): what
    the message carries (``order_number``, ``products``, ``months``, ``shipping_method``,
    the follow-up's ``link`` and ``link_text``); the subject is the template's own."""
    link = data.get("link")
    number = data.get("order_number")
    months = data.get("months")
    shipping = data.get("shipping_method")
    return {
        "subject": None,
        "order_number": str(number) if number is not None else None,
        "products": _titles(data),
        "months": months if isinstance(months, int) else None,
        "shipping_method": str(shipping) if shipping else None,
        "link": _web_url(link, "link") if link else None,
        "button": _button(t, "custom_button", data),
    }


def review_request(t: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """``order_number``, optional ``products`` (titles), ``review_url`` (else: reply) and
    ``link_text`` (the button's text)."""
    number = str(_get(data, "order_number", "review_request"))
    review = data.get("review_url")
    return {
        "subject": t["review_subject"].format(number=number),
        "headline": t["review_headline"],
        "text": t["review_text"].format(number=number),
        "products_label": t["review_products"],
        "products": _titles(data),
        "review_url": _web_url(review, "review_url") if review else None,
        "button": _button(t, "review_button", data),
        "reply": t["review_reply"],
    }


def _points(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MailError(f"the points_reminder e-mail needs a whole number in {key!r}")
    try:
        return int(value)
    except ValueError:
        raise MailError(f"the points_reminder e-mail needs a whole number in {key!r}") from None


def _day(value: object, pattern: str) -> str | None:
    """An ISO date (or date-time) as the language writes a day; ``None`` when absent."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10]).strftime(pattern)
    except ValueError:
        shown = str(value)[:40]
        raise MailError(f"points_expire_on must be a date (YYYY-MM-DD), got {shown!r}") from None


def points_reminder(t: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """``points_balance`` (available points), optional ``points_expiring`` and
    ``points_expire_on`` (ISO date), optional ``shop_url`` (a button to the shop) and
    ``link_text`` (its text)."""
    balance = _points(_get(data, "points_balance", "points_reminder"), "points_balance")
    expiring = _points(data.get("points_expiring") or 0, "points_expiring")
    on = _day(data.get("points_expire_on"), t["date_format"])
    if expiring and on:
        expiry = t["points_expiring_on"].format(points=expiring, date=on)
    elif expiring:
        expiry = t["points_expiring"].format(points=expiring)
    else:
        expiry = None
    shop_url = data.get("shop_url")
    return {
        "subject": t["points_subject"].format(points=balance),
        "headline": t["points_headline"],
        "balance": t["points_balance"].format(points=balance),
        "expiry": expiry,
        "text": t["points_text"],
        "shop_url": _web_url(shop_url, "shop_url") if shop_url else None,
        "button": _button(t, "points_button", data),
    }


def _moment(value: object, pattern: str) -> str:
    """An ISO date-time with its offset (the shop's time zone), as the language writes it."""
    try:
        return datetime.fromisoformat(str(value)).strftime(pattern)
    except ValueError:
        raise MailError(
            f"the vip_presale e-mail needs ISO times, got {str(value)[:40]!r}"
        ) from None


def _end(value: object, t: Mapping[str, str]) -> str:
    """An end at midnight (``ends: 2027-03-07`` is the start of the 8th) is shown as the last
    day, which is how the shop wrote it; any other end with its time."""
    try:
        end = datetime.fromisoformat(str(value))
    except ValueError:
        raise MailError(
            f"the vip_presale e-mail needs ISO times, got {str(value)[:40]!r}"
        ) from None
    if (end.hour, end.minute, end.second) == (0, 0, 0):
        return (end - timedelta(days=1)).strftime(t["vip_day_format"])
    return end.strftime(t["vip_time_format"])


def vip_presale(t: Mapping[str, str], data: Mapping[str, Any]) -> dict[str, Any]:
    """``presale_name``, ``presale_starts`` and ``presale_ends`` (ISO, the shop's offset),
    optional ``presale_url`` (a button to the pre-sale page)."""
    name = str(_get(data, "presale_name", "vip_presale"))
    start = _get(data, "presale_starts", "vip_presale")
    starts = _moment(start, t["vip_time_format"])
    day = _moment(start, t["vip_day_format"])
    ends = _end(_get(data, "presale_ends", "vip_presale"), t)
    url = data.get("presale_url")
    return {
        "subject": t["vip_subject"].format(name=name, day=day),
        "headline": t["vip_headline"].format(name=name),
        "text": t["vip_text"],
        "when": t["vip_when"].format(starts=starts, ends=ends),
        "login": t["vip_login"],
        "url": _web_url(url, "presale_url") if url else None,
        "button": t["vip_button"],
    }


VIEWS: Mapping[str, View] = {
    "survey": survey,
    "service_reminder": service_reminder,
    "newsletter_confirm": newsletter_confirm,
    "complaint": complaint,
    "review_request": review_request,
    "points_reminder": points_reminder,
    "vip_presale": vip_presale,
}
