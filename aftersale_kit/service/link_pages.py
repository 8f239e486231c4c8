"""The small HTML pages behind the follow-up links: plain forms, no JavaScript, German or
English by the shop's locale. Every value is escaped (:func:`html.escape`); the pages are sent
with a Content-Security-Policy that allows no script at all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from ..content.messages import language_of
from ..storage.links import WAIT_CHOICES, SurveyAnswer

__all__ = ["PAGE_HEADERS", "TEXTS", "language_of", "page", "survey_body"]

#: No script, no frames, forms only to this service, no referrer (the link's token is in the
#: address), never cached.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

_DE = {
    "unsub_title": "Abmelden",
    "unsub_text": "Möchten Sie keine weiteren E-Mails von {shop} nach Ihren Bestellungen erhalten?",
    "unsub_button": "Ja, abmelden",
    "unsub_done_title": "Sie sind abgemeldet",
    "unsub_done": "Sie erhalten von {shop} keine weiteren E-Mails dieser Art.",
    "survey_title": "Vielen Dank für Ihre Bewertung",
    "survey_rated": "Ihre Bewertung: {rating} von 5.",
    "survey_more": "Möchten Sie uns noch etwas mehr erzählen? Alle Fragen sind freiwillig.",
    "q_satisfied": "Waren Sie mit unserem Service zufrieden?",
    "q_delivery": "Hat bei der Lieferung alles geklappt?",
    "q_payment": "Hat bei der Zahlung alles geklappt?",
    "q_wait": "Wie lange mussten Sie auf das Produkt warten?",
    "q_comment": "Möchten Sie uns noch etwas sagen?",
    "yes": "Ja",
    "no": "Nein",
    "wait_shorter": "Kürzer als erwartet",
    "wait_as_expected": "Wie erwartet",
    "wait_longer": "Etwas länger als erwartet",
    "wait_much_longer": "Viel zu lange",
    "send": "Absenden",
    "survey_thanks": "Danke, Ihre Antworten sind angekommen.",
    "survey_sorry": "Das tut uns leid. Wir haben Ihr Anliegen an unser Team weitergegeben und "
    "melden uns.",
    "your_answers": "Ihre Antworten",
    "rating_label": "Bewertung",
    "signup_title": "Fast geschafft",
    "signup_text": "Wir haben Ihnen eine E-Mail geschickt. Bitte bestätigen Sie darin Ihre "
    "Anmeldung zum Newsletter von {shop}.",
    "confirm_title": "Anmeldung bestätigt",
    "confirm_text": "Danke! Sie erhalten ab jetzt den Newsletter von {shop}. Sie können sich "
    "jederzeit mit einem Klick abmelden.",
    "error_title": "Dieser Link funktioniert nicht",
    "error_expired": "Dieser Link ist abgelaufen.",
    "error_invalid": "Dieser Link ist ungültig oder unvollständig.",
    "error_rating": "Bitte wählen Sie eine Bewertung von 1 bis 5.",
    "error_form": "Das Formular war unvollständig: {reason}.",
    "error_unknown": "Zu diesem Link gibt es keine Anmeldung.",
}

_EN = {
    "unsub_title": "Unsubscribe",
    "unsub_text": "Do you want to stop receiving e-mails from {shop} after your orders?",
    "unsub_button": "Yes, unsubscribe",
    "unsub_done_title": "You are unsubscribed",
    "unsub_done": "You will receive no more e-mails like this from {shop}.",
    "survey_title": "Thank you for your rating",
    "survey_rated": "Your rating: {rating} of 5.",
    "survey_more": "Would you like to tell us a little more? Every question is optional.",
    "q_satisfied": "Were you happy with our service?",
    "q_delivery": "Did everything go well with the delivery?",
    "q_payment": "Did everything go well with the payment?",
    "q_wait": "How long did you have to wait for the product?",
    "q_comment": "Anything else you would like to tell us?",
    "yes": "Yes",
    "no": "No",
    "wait_shorter": "Shorter than expected",
    "wait_as_expected": "As expected",
    "wait_longer": "A little longer than expected",
    "wait_much_longer": "Far too long",
    "send": "Send",
    "survey_thanks": "Thank you, we have received your answers.",
    "survey_sorry": "We are sorry. We have passed this on to our team and will get back to you.",
    "your_answers": "Your answers",
    "rating_label": "Rating",
    "signup_title": "Almost done",
    "signup_text": "We have sent you an e-mail. Please confirm your signup to the newsletter of "
    "{shop} there.",
    "confirm_title": "Signup confirmed",
    "confirm_text": "Thank you! From now on you will receive the newsletter of {shop}. You can "
    "unsubscribe at any time with one click.",
    "error_title": "This link does not work",
    "error_expired": "This link has expired.",
    "error_invalid": "This link is invalid or incomplete.",
    "error_rating": "Please choose a rating from 1 to 5.",
    "error_form": "The form was incomplete: {reason}.",
    "error_unknown": "There is no signup for this link.",
}

TEXTS: Mapping[str, Mapping[str, str]] = {"de": _DE, "en": _EN}

_STYLE = (
    "body{margin:0;background:#f4f5f7;color:#1f2933;font:16px/1.5 Arial,Helvetica,sans-serif}"
    "main{max-width:36rem;margin:2rem auto;background:#fff;border-radius:12px;padding:1.5rem 2rem;"
    "box-shadow:0 1px 4px rgba(0,0,0,.08)}h1{font-size:1.4rem;margin:0 0 .75rem}"
    "fieldset{border:0;margin:0 0 1rem;padding:0}legend{font-weight:bold;margin-bottom:.25rem}"
    "label{margin-right:1.25rem;display:inline-block;padding:.2rem 0}"
    "textarea{width:100%;box-sizing:border-box;font:inherit;min-height:5rem}"
    "button{background:#0f6b5c;color:#fff;border:0;border-radius:8px;padding:.7rem 1.4rem;"
    "font:bold 1rem Arial,Helvetica,sans-serif;cursor:pointer}"
    "dl{margin:0}dt{font-weight:bold;margin-top:.5rem}dd{margin:0;white-space:pre-wrap}"
    ".shop{color:#6b7684;font-size:.9rem;margin:0 0 1rem}"
)


def page(lang: str, title: str, body: str, *, shop: str = "") -> str:
    """A whole page; ``body`` is HTML built here (escaped), ``title`` and ``shop`` are text."""
    head = f'<p class="shop">{escape(shop)}</p>' if shop else ""
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><main>{head}<h1>{escape(title)}</h1>{body}"
        "</main></body></html>"
    )


def para(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _choice(name: str, legend: str, options: Sequence[tuple[str, str]]) -> str:
    inputs = "".join(
        f'<label><input type="radio" name="{name}" value="{escape(value)}"> {escape(label)}</label>'
        for value, label in options
    )
    return f"<fieldset><legend>{escape(legend)}</legend>{inputs}</fieldset>"


def survey_form(t: Mapping[str, str], action: str) -> str:
    yes_no = (("yes", t["yes"]), ("no", t["no"]))
    waits = tuple((w, t[f"wait_{w}"]) for w in WAIT_CHOICES)
    return (
        f'<form method="post" action="{escape(action)}">'
        + para(t["survey_more"])
        + _choice("satisfied", t["q_satisfied"], yes_no)
        + _choice("delivery", t["q_delivery"], yes_no)
        + _choice("payment", t["q_payment"], yes_no)
        + _choice("wait", t["q_wait"], waits)
        + f'<fieldset><legend><label for="comment">{escape(t["q_comment"])}</label></legend>'
        '<textarea id="comment" name="comment" maxlength="2000"></textarea></fieldset>'
        f'<button type="submit">{escape(t["send"])}</button></form>'
    )


def _yes_no(t: Mapping[str, str], value: bool | None) -> str:
    return "-" if value is None else (t["yes"] if value else t["no"])


def answers(t: Mapping[str, str], answer: SurveyAnswer) -> str:
    form = answer.form
    rows = [
        (t["rating_label"], f"{answer.rating} / 5"),
        (t["q_satisfied"], _yes_no(t, form.satisfied)),
        (t["q_delivery"], _yes_no(t, form.delivery_ok)),
        (t["q_payment"], _yes_no(t, form.payment_ok)),
        (t["q_wait"], t.get(f"wait_{form.wait}", "-") if form.wait else "-"),
        (t["q_comment"], form.comment or "-"),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f"<h2>{escape(t['your_answers'])}</h2><dl>{items}</dl>"


def survey_body(t: Mapping[str, str], answer: SurveyAnswer, action: str) -> str:
    """The survey page after a rating: the rating, then the form, or what was answered."""
    body = para(t["survey_rated"].format(rating=answer.rating))
    if answer.complaint:
        body += para(t["survey_sorry"])
    if answer.answered_at is None:
        return body + survey_form(t, action)
    return body + para(t["survey_thanks"]) + answers(t, answer)
