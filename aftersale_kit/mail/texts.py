"""The texts of the follow-up e-mails, per language (German and English).

Formal German ("Sie"), calm wording. Placeholders in braces are filled with :meth:`str.format`
from data in :mod:`.views`; these strings are the only format strings, data never is one.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["MAIL_TEXTS"]

_DE: dict[str, str] = {
    # layout
    "greeting": "Guten Tag,",
    "greeting_named": "Guten Tag {name},",
    "signature": "Viele Grüße\n{shop}",
    "questions": "Fragen? Antworten Sie einfach auf diese E-Mail.",
    "questions_support": "Fragen? Schreiben Sie uns an {address}.",
    "why_marketing": "Sie erhalten diese E-Mail, weil Sie Werbung von {shop} zugestimmt haben.",
    "why_service": "Sie erhalten diese E-Mail zu Ihrer Bestellung bei {shop}.",
    "unsubscribe": "Keine weiteren E-Mails dieser Art erhalten",
    "unsubscribe_text": "Abmelden",
    # survey
    "survey_subject": "Wie zufrieden waren Sie mit Ihrer Bestellung {number}?",
    "survey_headline": "Wie war Ihr Einkauf?",
    "survey_text": "Ihre Bestellung {number} sollte inzwischen bei Ihnen sein. Waren Sie mit "
    "unserem Service zufrieden? Ein Klick genügt, danach können Sie uns gern noch mehr erzählen.",
    "survey_scale": "1 = gar nicht zufrieden, 5 = sehr zufrieden",
    "survey_rating": "{rating} von 5",
    # service reminder
    "service_subject": "Zeit für die kostenlose Überprüfung",
    "service_headline": "Ihre kostenlose Überprüfung ist fällig",
    "service_text": "Wir bieten Ihnen alle {months} Monate eine kostenlose Überprüfung an, damit "
    "alles zuverlässig läuft.",
    "service_products": "Betrifft:",
    "service_button": "Termin vereinbaren",
    "service_contact": "Melden Sie sich einfach bei uns, wir finden einen Termin.",
    "contact_phone": "Telefon",
    "contact_email": "E-Mail",
    "contact_hours": "Erreichbar",
    # newsletter double opt-in
    "newsletter_subject": "Bitte bestätigen Sie Ihre Newsletter-Anmeldung",
    "newsletter_headline": "Nur noch ein Klick",
    "newsletter_text": "Sie haben sich für den Newsletter von {shop} angemeldet. Bitte bestätigen "
    "Sie die Anmeldung mit dem Knopf unten. Ohne Bestätigung erhalten Sie keinen Newsletter.",
    "newsletter_button": "Anmeldung bestätigen",
    "newsletter_ignore": "Sie haben sich nicht angemeldet? Dann ignorieren Sie diese E-Mail "
    "einfach.",
    # review request
    "review_subject": "Wie gefällt Ihnen Ihr Einkauf (Bestellung {number})?",
    "review_headline": "Ihre Meinung hilft anderen Kunden",
    "review_text": "Sie haben Ihre Bestellung {number} jetzt eine Weile. Würden Sie uns in "
    "zwei Minuten eine Bewertung schreiben? Ehrlich ist uns am liebsten.",
    "review_products": "Ihre Bestellung:",
    "review_button": "Bewertung schreiben",
    "custom_button": "Mehr erfahren",
    "review_reply": "Antworten Sie einfach auf diese E-Mail, wir lesen jede Nachricht.",
    # points reminder
    "date_format": "%d.%m.%Y",
    "points_subject": "Sie haben {points} Punkte bei uns",
    "points_headline": "Ihr Punktestand",
    "points_balance": "Auf Ihrem Kundenkonto stehen {points} Punkte bereit.",
    "points_expiring": "Davon verfallen demnächst {points} Punkte.",
    "points_expiring_on": "Davon verfallen {points} Punkte am {date}.",
    "points_text": "Lösen Sie Ihre Punkte bei Ihrer nächsten Bestellung einfach an der Kasse ein.",
    "points_button": "Zum Shop",
    # complaint (to the shop's support address)
    "complaint_subject": "Beschwerde zu Bestellung {number}: Bewertung {rating} von 5",
    "complaint_headline": "Ein Kunde ist unzufrieden",
    "complaint_text": "Zur Bestellung {number} kam eben eine Umfrage-Antwort, die Aufmerksamkeit "
    "braucht.",
    "complaint_rating": "Bewertung",
    "complaint_delivery": "Lieferung in Ordnung",
    "complaint_payment": "Zahlung in Ordnung",
    "complaint_wait": "Wartezeit",
    "complaint_comment": "Kommentar",
    "complaint_customer": "Kunde",
    # VIP pre-sale
    "vip_subject": "Ihr VIP-Vorverkauf: {name} ab {day}",
    "vip_headline": "Exklusiv für Sie: {name}",
    "vip_text": "Weil Sie schon länger bei uns einkaufen, laden wir Sie zu unserem "
    "VIP-Vorverkauf ein: Sie erhalten exklusiven Zugang und kaufen früher ein als alle anderen.",
    "vip_when": "Vom {starts} bis {ends}.",
    "vip_login": "Melden Sie sich in Ihrem Kundenkonto an, dann ist der Vorverkauf für Sie "
    "freigeschaltet.",
    "vip_button": "Zum VIP-Vorverkauf",
    "vip_time_format": "%d.%m.%Y, %H:%M Uhr",
    "vip_day_format": "%d.%m.%Y",
}

_EN: dict[str, str] = {
    "greeting": "Hello,",
    "greeting_named": "Hello {name},",
    "signature": "Best regards,\n{shop}",
    "questions": "Questions? Just reply to this e-mail.",
    "questions_support": "Questions? Write to us at {address}.",
    "why_marketing": "You receive this e-mail because you agreed to hear from {shop}.",
    "why_service": "You receive this e-mail about your order at {shop}.",
    "unsubscribe": "Stop e-mails like this one",
    "unsubscribe_text": "Unsubscribe",
    "survey_subject": "How happy were you with your order {number}?",
    "survey_headline": "How was your purchase?",
    "survey_text": "Your order {number} should have reached you by now. Were you happy with our "
    "service? One click is enough; afterwards you can tell us more if you like.",
    "survey_scale": "1 = not happy at all, 5 = very happy",
    "survey_rating": "{rating} of 5",
    "service_subject": "Time for your free check",
    "service_headline": "Your free check is due",
    "service_text": "We offer you a free check every {months} months so that everything keeps "
    "working reliably.",
    "service_products": "For:",
    "service_button": "Book an appointment",
    "service_contact": "Just get in touch and we will find a date.",
    "contact_phone": "Phone",
    "contact_email": "E-mail",
    "contact_hours": "Hours",
    "newsletter_subject": "Please confirm your newsletter signup",
    "newsletter_headline": "Just one more click",
    "newsletter_text": "You signed up for the newsletter of {shop}. Please confirm with the "
    "button below. Without your confirmation you will not receive the newsletter.",
    "newsletter_button": "Confirm signup",
    "newsletter_ignore": "You did not sign up? Then simply ignore this e-mail.",
    "review_subject": "How do you like your purchase (order {number})?",
    "review_headline": "Your opinion helps other customers",
    "review_text": "You have had your order {number} for a while now. Would you write us a "
    "review? It takes two minutes, and honest is best.",
    "review_products": "Your order:",
    "review_button": "Write a review",
    "custom_button": "Learn more",
    "review_reply": "Just reply to this e-mail; we read every message.",
    "date_format": "%Y-%m-%d",
    "points_subject": "You have {points} points with us",
    "points_headline": "Your points",
    "points_balance": "Your customer account holds {points} points.",
    "points_expiring": "{points} of them expire soon.",
    "points_expiring_on": "{points} of them expire on {date}.",
    "points_text": "Redeem your points at checkout with your next order.",
    "points_button": "Visit the shop",
    "complaint_subject": "Complaint about order {number}: rating {rating} of 5",
    "complaint_headline": "A customer is unhappy",
    "complaint_text": "A survey answer about order {number} has just come in that needs attention.",
    "complaint_rating": "Rating",
    "complaint_delivery": "Delivery fine",
    "complaint_payment": "Payment fine",
    "complaint_wait": "Waiting time",
    "complaint_comment": "Comment",
    "complaint_customer": "Customer",
    # VIP pre-sale
    "vip_subject": "Your VIP pre-sale: {name} from {day}",
    "vip_headline": "Just for you: {name}",
    "vip_text": "Because you have been shopping with us for a while, we invite you to our VIP "
    "pre-sale: exclusive early access, before everyone else.",
    "vip_when": "From {starts} until {ends}.",
    "vip_login": "Sign in to your customer account and the pre-sale is open to you.",
    "vip_button": "Go to the VIP pre-sale",
    "vip_time_format": "%Y-%m-%d %H:%M",
    "vip_day_format": "%Y-%m-%d",
}

MAIL_TEXTS: Mapping[str, Mapping[str, str]] = {"de": _DE, "en": _EN}
