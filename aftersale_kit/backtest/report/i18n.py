"""The report's words in German and English, and numbers, money and months as each writes them.

The German is the shop owner's, not a translation of the English: "Budget aufgebraucht",
"Gutscheine", "Kontakte pro Kunde". Formatting is done here by hand (two languages, fixed
rules) so that the report needs no locale data installed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from aftersale_kit.content.messages import language_of

__all__ = ["LANGUAGES", "Texts", "language_of", "texts"]

LANGUAGES = ("de", "en")

_MONTHS = {
    "de": ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
_MONTHS_LONG = {
    "de": (
        "Januar", "Februar", "März", "April", "Mai", "Juni",
        "Juli", "August", "September", "Oktober", "November", "Dezember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip

_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Testlauf über vergangene Bestellungen",
        "lead": "Was Ihre Aktionen gekostet hätten, wären sie in diesem Zeitraum schon "
        "gelaufen. Es wurde nichts verschickt und kein Gutschein angelegt.",
        "shop": "Shop",
        "config": "Einstellungen",
        "period": "Zeitraum",
        "orders": "Bestellungen",
        "customers": "Kunden",
        "redemption": "Angenommene Einlösequote",
        "bad_rows": "Nicht lesbare Zeilen (übersprungen)",
        "budget_alert": "Budget aufgebraucht",
        "budget_alert_lead": "Diese Aktionen hätten ihr Budget überschritten; ab da wären "
        "keine weiteren Angebote mehr gemacht worden:",
        "budget_ok": "Keine Aktion hätte ihr Budget überschritten.",
        "ran_out_in": "Budget aufgebraucht:",
        "refused": "abgelehnte Angebote",
        "campaigns": "Aktionen im Überblick",
        "campaign": "Aktion",
        "reach_orders": "Bestellungen erreicht",
        "reach_customers": "Kunden erreicht",
        "issued": "Ausgegeben",
        "coupons": "Gutscheine",
        "points": "Punkte",
        "gifts": "Geschenke",
        "follow_ups": "Nachfass-Mails",
        "face_value": "Nennwert",
        "expected_cost": "Erwartete Kosten",
        "taken_back": "Zurückgenommen",
        "taken_back_why": "Angebote, die ein Storno oder eine Erstattung zurückgenommen hätte",
        "budget_months": "Budget aufgebraucht",
        "total": "Gesamt",
        "none": "–",
        "cost_chart": "Kosten pro Monat und Budget",
        "cost_chart_lead": "Balken: was die Aktion im Monat verbraucht hätte; Linie: ihr "
        "Budget. Rot: Monat, in dem das Budget aufgebraucht war.",
        "no_budget": "ohne Budget",
        "budget": "Budget",
        "spent": "Verbraucht",
        "budget_table": "Budget pro Zeitraum",
        "exhausted": "aufgebraucht",
        "ok": "reicht",
        "reach_chart": "Reichweite pro Aktion",
        "hits": "Warum eine Aktion nicht gegriffen hat",
        "reason": "Grund",
        "count": "Anzahl",
        "contacts": "Kontakte pro Kunde",
        "contacts_lead": "Wie viele Nachrichten ein Kunde bekommen hätte.",
        "contacts_cap": "Obergrenze",
        "contacts_cap_none": "Keine Obergrenze für Kontakte eingestellt.",
        "contacts_n": "Kontakte",
        "customers_n": "Kunden",
        "sent": "Verschickt",
        "held_back": "Zurückgehalten",
        "top_orders": "Die zehn teuersten Bestellungen",
        "order": "Bestellung",
        "placed": "Datum",
        "customer": "Kunde",
        "cost": "Kosten",
        "guest": "Gast",
        "loyalty": "Bonusprogramm",
        "accounts": "Punktekonten",
        "points_earned": "Punkte gesammelt",
        "points_reversed": "Punkte zurückgebucht",
        "stamp_rewards": "Stempelkarten voll",
        "liability": "Offene Punkte (Wert)",
        "variants": "A/B-Varianten",
        "compare": "Vergleich der Einstellungen",
        "compare_lead": "Dieselben Bestellungen, einmal mit jeder Einstellung. Differenz: "
        "zweite minus erste.",
        "difference": "Differenz",
        "first": "Erste",
        "second": "Zweite",
        "files": "Auch als JSON und CSV im selben Ordner.",
        "made_by": "Erstellt von aftersale-kit",
        "bad_rows_more": "weitere",
        "no_hits": "Ohne Kosten im Zeitraum (kein Diagramm):",
        "sum_head": "Testlauf für {shop}: {orders} Bestellungen von {customers} Kunden, {period}",
        "sum_bad": "{count} nicht lesbare Zeilen übersprungen:",
        "sum_bad_one": "1 nicht lesbare Zeile übersprungen:",
        "sum_orders": "Bestellungen",
        "sum_cost": "erwartete Kosten",
        "sum_report": "Bericht: {path} (JSON und CSV im selben Ordner)",
        "sum_compare": "Vergleich mit {other}:",
        "sum_no_orders": "Keine Bestellung im Zeitraum gelesen.",
    },
    "en": {
        "title": "Backtest over past orders",
        "lead": "What your campaigns would have cost had they run over this period. Nothing "
        "was sent and no coupon was created.",
        "shop": "Shop",
        "config": "Config",
        "period": "Period",
        "orders": "Orders",
        "customers": "Customers",
        "redemption": "Assumed redemption rate",
        "bad_rows": "Rows that could not be read (skipped)",
        "budget_alert": "Budget ran out",
        "budget_alert_lead": "These campaigns would have exceeded their budget; from then on "
        "no further offers would have been made:",
        "budget_ok": "No campaign would have exceeded its budget.",
        "ran_out_in": "budget ran out:",
        "refused": "offers refused",
        "campaigns": "Campaigns at a glance",
        "campaign": "Campaign",
        "reach_orders": "Orders reached",
        "reach_customers": "Customers reached",
        "issued": "Issued",
        "coupons": "coupons",
        "points": "points",
        "gifts": "gifts",
        "follow_ups": "Follow-up e-mails",
        "face_value": "Face value",
        "expected_cost": "Expected cost",
        "taken_back": "Taken back",
        "taken_back_why": "Offers a cancellation or refund would have taken back",
        "budget_months": "Budget ran out",
        "total": "Total",
        "none": "–",
        "cost_chart": "Cost per month against the budget",
        "cost_chart_lead": "Bars: what the campaign would have spent in the month; line: its "
        "budget. Red: a month in which the budget ran out.",
        "no_budget": "no budget",
        "budget": "Budget",
        "spent": "Spent",
        "budget_table": "Budget per period",
        "exhausted": "ran out",
        "ok": "enough",
        "reach_chart": "Reach per campaign",
        "hits": "Why a campaign did not fire",
        "reason": "Reason",
        "count": "Count",
        "contacts": "Contacts per customer",
        "contacts_lead": "How many messages a customer would have received.",
        "contacts_cap": "cap",
        "contacts_cap_none": "No contact cap is set.",
        "contacts_n": "contacts",
        "customers_n": "customers",
        "sent": "Sent",
        "held_back": "Held back",
        "top_orders": "The ten orders that cost the most",
        "order": "Order",
        "placed": "Date",
        "customer": "Customer",
        "cost": "Cost",
        "guest": "guest",
        "loyalty": "Bonus program",
        "accounts": "Points accounts",
        "points_earned": "Points earned",
        "points_reversed": "Points reversed",
        "stamp_rewards": "Stamp cards completed",
        "liability": "Points outstanding (value)",
        "variants": "A/B variants",
        "compare": "Comparison of the configs",
        "compare_lead": "The same orders, once with each config. Difference: second minus first.",
        "difference": "Difference",
        "first": "First",
        "second": "Second",
        "files": "Also as JSON and CSV in the same folder.",
        "made_by": "Made by aftersale-kit",
        "bad_rows_more": "more",
        "no_hits": "No cost in the period (no chart):",
        "sum_head": "Backtest of {shop}: {orders} orders from {customers} customers, {period}",
        "sum_bad": "{count} unreadable rows skipped:",
        "sum_bad_one": "1 unreadable row skipped:",
        "sum_orders": "orders",
        "sum_cost": "expected cost",
        "sum_report": "Report: {path} (JSON and CSV in the same folder)",
        "sum_compare": "Compared with {other}:",
        "sum_no_orders": "No order read in the period.",
    },
}

#: Reasons a campaign did not fire (the engine's ``Reason`` values), in the owner's words.
_REASONS: dict[str, dict[str, str]] = {
    "de": {
        "budget_exhausted": "Budget aufgebraucht",
        "margin_guard": "Marge zu knapp (Margenschutz)",
        "customer_limit": "Kunde hatte schon genug",
        "usage_limit": "Gesamtlimit erreicht",
        "cooldown": "Wartezeit noch nicht um",
        "lost_to_priority": "Andere Aktion hatte Vorrang",
        "contact_limit": "Kontakt-Obergrenze erreicht",
        "holdout": "Kontrollgruppe (A/B)",
        "condition_failed": "Bedingung nicht erfüllt",
        "field_unknown": "Angabe fehlt in den Bestelldaten",
        "outside_window": "außerhalb des Aktionszeitraums",
        "disabled": "ausgeschaltet",
        "other_trigger": "anderer Auslöser",
        "no_actions": "nichts zu tun",
    },
    "en": {
        "budget_exhausted": "budget ran out",
        "margin_guard": "margin too thin (margin guard)",
        "customer_limit": "customer limit reached",
        "usage_limit": "overall limit reached",
        "cooldown": "cooldown not over",
        "lost_to_priority": "another campaign had priority",
        "contact_limit": "contact cap reached",
        "holdout": "holdout group (A/B)",
        "condition_failed": "conditions not met",
        "field_unknown": "a field the order data lacks",
        "outside_window": "outside the campaign's dates",
        "disabled": "switched off",
        "other_trigger": "another trigger",
        "no_actions": "nothing to do",
    },
}


class Texts:
    """The words and number formats of one language; templates call it as ``t("orders")``."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        self.lang = lang
        self._words = _WORDS[lang]
        self._reasons = _REASONS[lang]

    def __call__(self, key: str) -> str:
        return self._words[key]

    def reason(self, code: str) -> str:
        """A hit's reason in words; an unknown code as it is."""
        return self._reasons.get(code, code.replace("_", " "))

    def number(self, value: int | Decimal, places: int = 0) -> str:
        """1.234 / 1,234 (German groups with dots and writes a decimal comma)."""
        quantum = Decimal(1).scaleb(-places)
        text = f"{Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"
        if self.lang == "de":
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return text

    def money(self, value: Decimal, currency: str) -> str:
        """1.234,50 € / €1,234.50; other currencies by their code."""
        amount = self.number(abs(value), 2)
        sign = "-" if value < 0 else ""
        symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency.upper())
        if self.lang == "de":
            return f"{sign}{amount} {symbol or currency}"
        return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"

    def signed_money(self, value: Decimal, currency: str) -> str:
        """A difference: +12,00 € / -3,00 € / ±0,00 €."""
        text = self.money(value, currency)
        return f"+{text}" if value > 0 else ("±" + text if value == 0 else text)

    def signed(self, value: int) -> str:
        return (
            f"+{self.number(value)}" if value > 0 else ("±0" if value == 0 else self.number(value))
        )

    def percent(self, share: Decimal) -> str:
        return f"{self.number(share * 100, 0)} %"

    def month(self, month: str, *, long: bool = False) -> str:
        """``"2025-03"`` as "Mär 2025" (chart axis) or "März 2025" (text)."""
        year, _, number = month.partition("-")
        try:
            names = (_MONTHS_LONG if long else _MONTHS)[self.lang]
            return f"{names[int(number) - 1]} {year}"
        except (ValueError, IndexError):
            return month


def texts(lang: str) -> Texts:
    return Texts(lang)
