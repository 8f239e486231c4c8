"""A customer's follow-ups in the privacy duties: messages, consents, suppression entries,
survey answers and complaints are exported, and erased by a customer redact."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from storage_builders import NOW, SHOP

from aftersale_kit.service.followups import complaint_jobs
from aftersale_kit.storage import MessageOutcome, MessageState, NewMessage, Store
from aftersale_kit.storage.links import SurveyForm
from aftersale_kit.storage.tables import metadata

LATER = NOW + timedelta(days=10)


def _message(order_id: str, who: str, email: str, n: int, **changes: Any) -> NewMessage:
    values: dict[str, Any] = {
        "shop": SHOP,
        "key": f"{SHOP}:{order_id}:umfrage:0:{n}",
        "order_id": order_id,
        "customer_key": who,
        "email": email,
        "campaign_id": "umfrage",
        "occurrence": n,
        "kind": "survey",
        "template": "survey",
        "purpose": "transactional",
        "due_at": NOW,
        "data": {
            "to_name": f"{who} Muster",
            "order_number": f"#{order_id}",
            "locale": "de",
            "months": 3,
            "presale_url": "https://shop.example/vip",
        },
    }
    values.update(changes)
    return NewMessage(**values)


def _finish(store: Store, state: MessageState, **outcome: Any) -> None:
    [claimed] = store.claim_messages(worker_id="w", now=NOW, limit=1)
    done = MessageOutcome(state, attempts=1, **outcome)
    assert store.finish_message(claimed.id, worker_id="w", outcome=done, now=NOW)


def customer(store: Store, order_id: str, who: str, email: str, comment: str) -> None:
    """An order with a sent survey, a bounced reminder and one still planned, a confirmed
    opt-in, a low rating with a comment (a complaint), and then an unsubscribe."""
    guest = who.startswith("email:")
    store.accept_event(
        shop=SHOP,
        platform="shopify",
        topic="orders/paid",
        dedupe_key=f"orders/paid:{order_id}",
        received_at=NOW,
        body=json.dumps({"id": order_id, "email": email}).encode(),
    )
    event_id = max(j.event_id or 0 for j in store.jobs(shop=SHOP))
    store.link_event(event_id, order_id=order_id, customer_key=who)
    store.plan_messages([_message(order_id, who, email, 1)], now=NOW)
    _finish(store, MessageState.SENT, message_id=f"<{order_id}.1@shop.example>", sent_at=NOW)
    bounce = _message(order_id, who, email, 2, kind="service_reminder", purpose="marketing")
    store.plan_messages([bounce], now=NOW)
    _finish(store, MessageState.FAILED, reason=f"rejected: 550 <{email.upper()}> unknown user")
    store.plan_messages([_message(order_id, who, email, 3, due_at=LATER)], now=NOW)
    store.request_consent(
        shop=SHOP, subject=order_id, email=email, customer_id=None if guest else who,
        source="thank_you",
        text_version="newsletter-v1", now=NOW,
    )  # fmt: skip
    assert store.confirm_consent(shop=SHOP, subject=order_id, now=NOW) is not None
    store.record_survey_rating(
        shop=SHOP, order_id=order_id, nonce=f"n-{order_id}", rating=1,
        jobs_for=complaint_jobs, now=NOW,
    )  # fmt: skip
    form = SurveyForm(satisfied=False, delivery_ok=False, wait="longer", comment=comment)
    store.record_survey_form(
        shop=SHOP, order_id=order_id, form=form, jobs_for=complaint_jobs, now=NOW
    )
    store.unsubscribe(SHOP, email, "one-click", subject=order_id, now=NOW + timedelta(hours=1))


def two_customers(store: Store) -> None:
    customer(store, "1", "c1", "anna@example.org", "Karton nass, ruft Anna unter 0171 an")
    customer(store, "2", "c2", "bob@example.org", "Bob wartet noch")


def test_the_export_has_the_customers_follow_ups_and_nobody_elses(store: Store) -> None:
    two_customers(store)
    exported = store.export_customer(SHOP, customer_id="c1", email="Anna@Example.org")
    text = json.dumps(exported)
    assert "bob" not in text.lower() and "c2" not in text
    messages = exported["messages"]
    assert [(m["kind"], m["state"], m["occurrence"]) for m in messages] == [
        ("survey", "sent", 1),
        ("service_reminder", "failed", 2),
        ("survey", "cancelled", 3),
    ]
    sent = messages[0]
    assert (sent["message_id"], sent["sent_at"], sent["purpose"]) == (
        "<1.1@shop.example>",
        NOW.isoformat(),
        "transactional",
    )
    # the customer's own data of the template data, not the shop's settings
    assert sent["data"] == {"to_name": "c1 Muster", "order_number": "#1", "locale": "de"}
    assert messages[2]["reason"] == "unsubscribed: one-click"
    [consent] = exported["consents"]
    assert consent == {
        "email": "anna@example.org",
        "customer_id": "c1",
        "subject": "1",
        "source": "thank_you",
        "text_version": "newsletter-v1",
        "requested_at": NOW.isoformat(),
        "confirmed_at": NOW.isoformat(),
        "withdrawn_at": (NOW + timedelta(hours=1)).isoformat(),
    }
    [suppressed] = exported["suppressions"]
    assert (suppressed["email"], suppressed["reason"]) == ("anna@example.org", "one-click")
    [answer] = exported["survey_answers"]
    assert (answer["rating"], answer["delivery_ok"], answer["wait"], answer["comment"]) == (
        1,
        False,
        "longer",
        "Karton nass, ruft Anna unter 0171 an",
    )
    [complaint] = exported["complaints"]
    assert complaint["order_id"] == "1"
    assert complaint["reasons"] == ["rating 1/5", "delivery: no"]
    assert {a["kind"] for a in complaint["actions"]} == {
        "survey_complaint_mail",
        "survey_complaint_note",
        "survey_complaint_tag",
    }
    assert complaint["raised_at"] == NOW.isoformat()


def _rows(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table, read with plain SQL."""
    with store.db.read() as conn:
        return [
            (table.name, dict(row._mapping))
            for table in metadata.sorted_tables
            for row in conn.execute(select(table))
        ]


def _says_anna(row: dict[str, Any]) -> bool:
    text = " ".join(
        bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else str(v)
        for v in row.values()
    )
    return "anna" in text.lower() or "0171" in text or "c1 Muster" in text


def test_a_redact_leaves_none_of_the_customers_follow_up_data(store: Store) -> None:
    two_customers(store)
    counts = store.redact_customer(SHOP, customer_id="c1", email="anna@example.org", now=LATER)
    assert (counts["messages"], counts["consents"], counts["suppressions"]) == (3, 1, 1)
    assert counts["survey_answers"] == 1
    rows = _rows(store)
    assert [(t, r) for t, r in rows if _says_anna(r)] == []
    assert [
        (t, r) for t, r in rows if r.get("customer_key") == "c1" or r.get("customer_id") == "c1"
    ] == []
    # what the results need stays: the rating, the messages' kinds and states
    [answer] = [r for t, r in rows if t == "survey_answers" and r["order_id"] == "1"]
    assert (answer["rating"], answer["delivery_ok"], answer["comment"]) == (1, False, None)
    mine = [r for t, r in rows if t == "messages" and r["order_id"] == "1"]
    assert sorted((r["state"], r["reason"]) for r in mine) == [
        ("cancelled", "unsubscribed: one-click"),
        ("failed", "rejected: 550 <[redacted]> unknown user"),
        ("sent", None),
    ]
    [pseudonym] = {r["customer_key"] for r in mine}
    assert pseudonym.startswith("redacted:")
    # the other customer keeps everything
    bob = store.export_customer(SHOP, customer_id="c2", email="bob@example.org")
    assert len(bob["messages"]) == 3 and all(m["email"] for m in bob["messages"])
    assert len(bob["consents"]) == len(bob["suppressions"]) == 1
    assert bob["survey_answers"][0]["comment"] == "Bob wartet noch"
    # and a second request finds nothing left
    again = store.redact_customer(SHOP, customer_id="c1", email="anna@example.org", now=LATER)
    assert [again[k] for k in ("messages", "consents", "suppressions", "survey_answers")] == [
        0,
        0,
        0,
        0,
    ]


def test_the_customer_id_alone_finds_the_addresses_of_their_follow_ups(store: Store) -> None:
    two_customers(store)
    counts = store.redact_customer(SHOP, customer_id="c1", now=LATER)
    assert (counts["consents"], counts["suppressions"]) == (1, 1)
    assert store.suppression(SHOP, "anna@example.org") is None
    assert store.suppression(SHOP, "bob@example.org") is not None
    assert [(t, r) for t, r in _rows(store) if _says_anna(r)] == []


def test_a_guest_is_erased_by_the_address_alone(store: Store) -> None:
    customer(store, "3", "email:gast@example.org", "Gast@Example.org", "Gast sagt: zu spät")
    customer(store, "2", "c2", "bob@example.org", "Bob wartet noch")
    exported = store.export_customer(SHOP, email="gast@example.org")
    assert [len(exported[k]) for k in ("messages", "consents", "suppressions")] == [3, 1, 1]
    assert exported["survey_answers"][0]["comment"] == "Gast sagt: zu spät"
    store.redact_customer(SHOP, email="GAST@example.org", now=LATER)
    rows = _rows(store)
    assert [(t, r) for t, r in rows if "gast" in str(r).lower()] == []
    assert len([r for t, r in rows if t == "suppressions"]) == 1
