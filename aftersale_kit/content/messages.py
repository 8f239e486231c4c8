"""The texts of the confirmation content, per language (German and English).

Formal German ("Sie"); calm wording without pressure: the content reassures first and offers
second. Placeholders in braces are filled with :meth:`str.format` from data; these strings are the
only format strings, data is never used as one.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LANGUAGES", "MESSAGES", "language_of"]

_DE: dict[str, str] = {
    # page
    "page_title": "Vielen Dank für Ihre Bestellung",
    "greeting": "Vielen Dank für Ihre Bestellung!",
    "greeting_named": "Vielen Dank, {name}!",
    "order_number": "Bestellnummer {number}",
    "order_received": "Ihre Bestellung ist bei uns eingegangen.",
    "order_confirmation_to": "Die Bestätigung haben wir an {email} geschickt.",
    "summary": "Bestellübersicht",
    "subtotal": "Zwischensumme",
    "shipping_cost": "Versand",
    "discounts": "Rabatt",
    "tax": "Steuern",
    "total": "Gesamt",
    "quantity": "{quantity} ×",
    "continue_shopping": "Weiter einkaufen",
    "preview_note": "Vorschau",
    # coupon
    "coupon_headline": "{value} Rabatt auf Ihre nächste Bestellung",
    "coupon_headline_free_shipping": "Gratisversand für Ihre nächste Bestellung",
    "coupon_value_free_shipping": "Gratisversand",
    "coupon_text": "Als Dankeschön für Ihren Einkauf. Geben Sie den Code bei Ihrer nächsten "
    "Bestellung einfach an der Kasse ein.",
    "coupon_code_label": "Ihr Gutscheincode",
    "coupon_valid_until": "Gültig bis {date}",
    "coupon_minimum": "ab {amount} Bestellwert",
    "coupon_estimate": "{value} sind etwa {estimate} (geschätzt; der Code gilt in {currency})",
    "coupon_single_use": "einmal einlösbar",
    "copy_code": "Code kopieren",
    "copied": "Kopiert!",
    "copy_failed": "Bitte markieren und kopieren",
    "countdown": "Noch {time} gültig",
    "day_one": "Tag",
    "day_other": "Tage",
    "expired": "Dieses Angebot ist abgelaufen.",
    # contact_person
    "contact_headline": "Ihr persönlicher Kontakt",
    "contact_text": "Haben Sie Fragen zu Ihrer Bestellung? Ich bin gern persönlich für Sie da.",
    "phone": "Telefon",
    "email": "E-Mail",
    "hours": "Erreichbar",
    "photo_alt": "Foto von {name}",
    # shipping
    "shipping_headline": "Versand & Lieferung",
    "shipping_expected": "Voraussichtliche Zustellung",
    "shipping_method": "Versandart",
    "shipping_carrier": "Versand mit",
    "shipping_handling": "Bearbeitungszeit",
    "shipping_transit": "Laufzeit",
    "up_to": "bis zu {days}",
    "shipping_tracking": "Sobald Ihr Paket unterwegs ist, schicken wir Ihnen eine E-Mail mit dem "
    "Link zur Sendungsverfolgung.",
    "business_days_one": "{count} Werktag",
    "business_days_other": "{count} Werktage",
    # thank_you
    "thank_you_headline": "Schön, dass Sie bei uns eingekauft haben!",
    "thank_you_text": "Wir freuen uns über Ihre Bestellung und packen sie mit Sorgfalt.",
    "video_link": "Video ansehen",
    # faq_contact
    "faq_headline": "Fragen? Wir helfen gern.",
    "faq_text": "Antworten zu Lieferung, Rückgabe und Zahlung finden Sie in unseren FAQ.",
    "faq_link": "Zu den FAQ",
    "contact_link": "Kontakt aufnehmen",
    # newsletter
    "newsletter_headline": "Neuigkeiten nicht verpassen",
    "newsletter_text": "Neue Produkte, Tipps und Angebote für Stammkunden per E-Mail.",
    "newsletter_button": "Newsletter abonnieren",
    "newsletter_doi": "Sie bestätigen Ihre Anmeldung über einen Link in einer E-Mail "
    "(Double-Opt-In) und können sich jederzeit abmelden.",
    # vip_presale
    "vip_headline": "Exklusiv für Sie: unser VIP-Vorverkauf",
    "vip_text": "Als Kunde sehen Sie neue Produkte vor allen anderen und können sie vorab "
    "bestellen.",
    "vip_starts": "Start: {date}",
    "vip_button": "Zum VIP-Vorverkauf",
    # social_follow
    "social_headline": "Folgen Sie uns",
    # free_gift
    "gift_headline": "Ein kleines Geschenk für Sie",
    "gift_text": "In Ihrem Paket liegt zusätzlich: {note}",
    # service_check
    "service_headline_one": "Kostenloser Check jeden Monat",
    "service_headline_other": "Kostenloser Check alle {months} Monate",
    "service_text": "Wir prüfen Ihr Gerät regelmäßig kostenlos, damit es lange zuverlässig läuft.",
    "service_first": "Ihr erster kostenloser Check: ab {month}",
    "service_button": "Termin vereinbaren",
    # survey
    "survey_headline": "Wie war Ihr Einkauf?",
    "survey_text": "Hat bei Bestellung und Bezahlung alles geklappt? Ihre Meinung hilft uns, "
    "besser zu werden. Die Umfrage dauert nur eine Minute.",
    "survey_button": "Zur Umfrage",
    # loyalty (points, balance, tier, stamp card)
    "points_one": "{count} Punkt",
    "points_other": "{count} Punkte",
    "loyalty_points_headline": "Sie sammeln {points} mit dieser Bestellung",
    "loyalty_points_bonus": "Darin enthalten: {points} Bonus aus einer Aktion.",
    "loyalty_points_pending_one": "Die Punkte werden nach einem Tag gutgeschrieben und sind dann "
    "einlösbar.",
    "loyalty_points_pending_other": "Die Punkte werden nach {count} Tagen gutgeschrieben und "
    "sind dann einlösbar.",
    "loyalty_points_now": "Die Punkte sind sofort einlösbar.",
    "loyalty_balance_headline": "Ihr Punktestand: {points}",
    "loyalty_balance_pending": "Dazu kommen {points}, die noch vorgemerkt sind.",
    "loyalty_balance_reaches": "Damit können Sie einlösen:",
    "loyalty_balance_none": "Sammeln Sie weiter, Ihre erste Prämie ist nicht mehr weit.",
    "loyalty_option_coupon": "{value} Gutschein",
    "loyalty_option_cost": "für {points}",
    "loyalty_next": "Noch {points} bis: {option}",
    "loyalty_balance_button": "Punkte einlösen",
    "loyalty_tier_headline": "Ihr Status: {tier}",
    "loyalty_tier_headline_none": "Ihr Weg zum ersten Status",
    "loyalty_tier_next": "Noch {amount} bis {tier}",
    "loyalty_tier_top": "Sie haben den höchsten Status erreicht. Danke für Ihre Treue!",
    "stamp_card_summary": "{stamps} von {needed} Stempeln gesammelt",
    "stamp_card_missing_one": "Noch 1 Stempel bis zu Ihrer Prämie.",
    "stamp_card_missing_other": "Noch {count} Stempel bis zu Ihrer Prämie.",
    "stamp_card_full": "Ihre Karte ist voll: Ihre Prämie ist unterwegs.",
    "stamp_card_completed_one": "Bereits 1 Karte vollständig gesammelt.",
    "stamp_card_completed_other": "Bereits {count} Karten vollständig gesammelt.",
    "stamp_slot_filled": "Stempel {n}: gesammelt",
    "stamp_slot_empty": "Stempel {n}: offen",
}

_EN: dict[str, str] = {
    "page_title": "Thank you for your order",
    "greeting": "Thank you for your order!",
    "greeting_named": "Thank you, {name}!",
    "order_number": "Order {number}",
    "order_received": "We have received your order.",
    "order_confirmation_to": "We have sent the confirmation to {email}.",
    "summary": "Order summary",
    "subtotal": "Subtotal",
    "shipping_cost": "Shipping",
    "discounts": "Discount",
    "tax": "Taxes",
    "total": "Total",
    "quantity": "{quantity} ×",
    "continue_shopping": "Continue shopping",
    "preview_note": "Preview",
    "coupon_headline": "{value} off your next order",
    "coupon_headline_free_shipping": "Free shipping on your next order",
    "coupon_value_free_shipping": "Free shipping",
    "coupon_text": "As a thank-you for your purchase. Just enter the code at checkout next time.",
    "coupon_code_label": "Your coupon code",
    "coupon_valid_until": "Valid until {date}",
    "coupon_minimum": "on orders of {amount} or more",
    "coupon_estimate": "{value} is about {estimate} (an estimate; the code is in {currency})",
    "coupon_single_use": "single use",
    "copy_code": "Copy code",
    "copied": "Copied!",
    "copy_failed": "Select the code to copy it",
    "countdown": "{time} left",
    "day_one": "day",
    "day_other": "days",
    "expired": "This offer has expired.",
    "contact_headline": "Your personal contact",
    "contact_text": "Questions about your order? I'm happy to help you personally.",
    "phone": "Phone",
    "email": "E-mail",
    "hours": "Available",
    "photo_alt": "Photo of {name}",
    "shipping_headline": "Shipping & delivery",
    "shipping_expected": "Expected delivery",
    "shipping_method": "Shipping method",
    "shipping_carrier": "Shipped with",
    "shipping_handling": "Handling time",
    "shipping_transit": "Transit time",
    "up_to": "up to {days}",
    "shipping_tracking": "As soon as your parcel is on its way, we will e-mail you the tracking "
    "link.",
    "business_days_one": "{count} business day",
    "business_days_other": "{count} business days",
    "thank_you_headline": "We're glad you shopped with us!",
    "thank_you_text": "We are delighted about your order and will pack it with care.",
    "video_link": "Watch the video",
    "faq_headline": "Questions? We're happy to help.",
    "faq_text": "Find answers about delivery, returns and payment in our FAQ.",
    "faq_link": "Read the FAQ",
    "contact_link": "Contact us",
    "newsletter_headline": "Stay in the loop",
    "newsletter_text": "New products, tips and offers for regular customers by e-mail.",
    "newsletter_button": "Subscribe to the newsletter",
    "newsletter_doi": "You confirm your subscription through a link in an e-mail (double opt-in) "
    "and can unsubscribe at any time.",
    "vip_headline": "Just for you: our VIP pre-sale",
    "vip_text": "As a customer you see new products before everyone else and can order them early.",
    "vip_starts": "Starts {date}",
    "vip_button": "Go to the VIP pre-sale",
    "social_headline": "Follow us",
    "gift_headline": "A little gift for you",
    "gift_text": "Your parcel also contains: {note}",
    "service_headline_one": "Free check every month",
    "service_headline_other": "Free check every {months} months",
    "service_text": "We check your device regularly and free of charge so that it keeps working "
    "reliably.",
    "service_first": "Your first free check: from {month}",
    "service_button": "Book an appointment",
    "survey_headline": "How was your shopping experience?",
    "survey_text": "Did everything go smoothly with ordering and payment? Your feedback helps us "
    "improve. The survey takes just a minute.",
    "survey_button": "Take the survey",
    "points_one": "{count} point",
    "points_other": "{count} points",
    "loyalty_points_headline": "You earn {points} with this order",
    "loyalty_points_bonus": "Including {points} bonus from a promotion.",
    "loyalty_points_pending_one": "Your points are credited after one day and can then be "
    "redeemed.",
    "loyalty_points_pending_other": "Your points are credited after {count} days and can then "
    "be redeemed.",
    "loyalty_points_now": "Your points can be redeemed right away.",
    "loyalty_balance_headline": "Your balance: {points}",
    "loyalty_balance_pending": "Plus {points} still pending.",
    "loyalty_balance_reaches": "You can redeem:",
    "loyalty_balance_none": "Keep collecting, your first reward is not far away.",
    "loyalty_option_coupon": "{value} coupon",
    "loyalty_option_cost": "for {points}",
    "loyalty_next": "{points} to go until: {option}",
    "loyalty_balance_button": "Redeem points",
    "loyalty_tier_headline": "Your tier: {tier}",
    "loyalty_tier_headline_none": "On your way to your first tier",
    "loyalty_tier_next": "{amount} to go until {tier}",
    "loyalty_tier_top": "You have reached the highest tier. Thank you for your loyalty!",
    "stamp_card_summary": "{stamps} of {needed} stamps collected",
    "stamp_card_missing_one": "1 more stamp until your reward.",
    "stamp_card_missing_other": "{count} more stamps until your reward.",
    "stamp_card_full": "Your card is full: your reward is on its way.",
    "stamp_card_completed_one": "1 card completed so far.",
    "stamp_card_completed_other": "{count} cards completed so far.",
    "stamp_slot_filled": "Stamp {n}: collected",
    "stamp_slot_empty": "Stamp {n}: open",
}

#: language code -> message key -> text
MESSAGES: Mapping[str, Mapping[str, str]] = {"de": _DE, "en": _EN}

LANGUAGES: tuple[str, ...] = tuple(MESSAGES)


def language_of(tag: str | None) -> str:
    """``de`` for a German locale or language tag (``de``, ``de_DE``, ``de-AT``), else ``en``:
    the language of the pages, reports and e-mails written in German or English."""
    return "de" if (tag or "").strip().lower().startswith("de") else "en"
