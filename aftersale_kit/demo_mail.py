"""The follow-up e-mails of the live demo: what each shop's follow-ups would send, and when.

After a shop's orders, the service's own sweep (:class:`~.service.mail_sweep.MessageSender`)
works off every planned message at an injected clock moved from one due time to the next, so a
shop owner sees months of e-mails in a second: due date in the shop's time zone, kind,
recipient, subject and what the contact policy did. The e-mails are written as ``.eml`` files
(the shop's ``mail:`` section turned into a dry run) into the demo's output folder; the ones the
contact policy held back are written beside them as previews (``vorschau/``), so the owner can
read what a customer with consent would get.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .mail import MailError
from .storage.message_records import MessageRecord, MessageState

__all__ = ["KIND_NAMES", "RULES", "dry_run_mail", "mail_lines", "work_off"]

KIND_NAMES = {
    "service_reminder": "Service-Check",
    "survey": "Umfrage",
    "review_request": "Bewertungsbitte",
    "points_reminder": "Punktestand",
    "vip_presale": "VIP-Vorverkauf",
    "custom": "eigene E-Mail",
}

_WAITING = (MessageState.PLANNED, MessageState.DEFERRED)


def dry_run_mail(mail: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The shop's ``mail:`` section with the SMTP server replaced by a dry-run ``folder``."""
    kept = {k: v for k, v in mail.items() if k in ("sender", "reply_to", "support_address")}
    return {**kept, "dry_run": str(folder)}


RULES = {
    "consent": "keine Werbe-Einwilligung",
    "marketing_cap": "Obergrenze für Werbe-E-Mails erreicht",
    "suppressed": "Adresse gesperrt",
    "unsubscribed": "abgemeldet",
}


def work_off(sender: Any, set_clock: Callable[[datetime], None]) -> None:
    """Every shop's waiting messages, the clock moved to each next due time (one clock for
    all shops: the service's own sweeper may run in between and must see the same time)."""
    store = sender.store
    for _ in range(500):
        waiting = [m for s in _WAITING for m in store.messages(state=s, limit=1000)]
        if not waiting:
            return
        set_clock(min(m.due_at for m in waiting))
        sender.sweep(limit=200)


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M") if moment is not None else "-"


def _outcome(record: MessageRecord, due: datetime, tz: ZoneInfo) -> str:
    if record.state is MessageState.SENT:
        if record.sent_at is not None and record.sent_at > due:
            return f"verschoben, gesendet {_when(record.sent_at, tz)}"
        return "gesendet"
    if record.state is MessageState.HELD_BACK:
        rule = (record.reason or "").rsplit("(", 1)[-1].rstrip(")")
        return f"zurückgehalten: {RULES.get(rule, rule)}"
    if record.state in _WAITING:
        return f"wartet bis {_when(record.due_at, tz)}"
    return f"{record.state.value}: {record.reason}"


def _subject(sender: Any, entry: Any, record: MessageRecord, previews: Path) -> str:
    try:
        mail = sender.compose(sender.shop_mail(entry), record)
    except MailError as exc:
        return f"(nicht baubar: {exc})"
    if record.state is MessageState.HELD_BACK:
        previews.mkdir(parents=True, exist_ok=True)
        (previews / f"{record.id:04d}-{record.kind}.eml").write_bytes(mail.as_bytes())
    return str(mail.message["Subject"])


def mail_lines(
    sender: Any, entry: Any, planned: dict[int, datetime], *, folder: Path
) -> Iterator[str]:
    """``entry``'s messages after :func:`work_off`, each in German (``planned``: the due
    times before it)."""
    store, shop = sender.store, entry.domain
    tz = ZoneInfo(entry.config.policy.timezone)
    if not store.messages(shop, limit=1):
        return
    yield ""
    yield f"Folge-E-Mails (Probelauf, nichts verschickt), Zeiten in {tz.key}:"
    for record in store.messages(shop, limit=1000):
        due = planned.get(record.id, record.due_at)
        kind = KIND_NAMES.get(record.kind, record.kind)
        yield f"  {_when(due, tz)}  {kind:<15} an {record.email}"
        subject = _subject(sender, entry, record, folder / "vorschau")
        yield f"    „{subject}“ – {_outcome(record, due, tz)}"
    yield from _summary(store.messages(shop, limit=1000), folder)


def _summary(records: list[MessageRecord], folder: Path) -> Iterator[str]:
    states = [r.state for r in records]
    sent, held = states.count(MessageState.SENT), states.count(MessageState.HELD_BACK)
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    yield f"  gesendet {sent}, zurückgehalten {held}, sonstige {len(states) - sent - held}"
    previews = f", zurückgehaltene als Vorschau in {folder}/vorschau/" if held else ""
    yield f"  {len(files)} E-Mails als .eml-Dateien in {folder}/{previews}"
    if any(r.reason and r.reason.endswith("(consent)") for r in records):
        yield "  Hinweis: Werbe-E-Mails gehen nur an Kunden, die Werbung zugestimmt oder ihre"
        yield "  Newsletter-Anmeldung bestätigt haben (Double-Opt-in)."
