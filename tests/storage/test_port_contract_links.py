"""The follow-up link port's contract (:class:`~aftersale_kit.storage.ports.LinkStore`) on the
memory store, SQLite and PostgreSQL: single-use nonces, one survey answer per order, the
double opt-in, and the jobs each enqueues once (the suppression list, which cancels messages,
is in test_port_contract_messages.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from storage_builders import NOW, SHOP

from aftersale_kit.storage.links import LinkJob, SurveyAnswer, SurveyForm

AnyStore = Any
LATER = NOW + timedelta(hours=1)


def complaint_jobs(answer: SurveyAnswer) -> Sequence[LinkJob]:
    if not answer.complaint:
        return ()
    return (LinkJob("survey_complaint", f"complaint:{answer.order_id}:mail", {"order_id": "1"}),)


def job_keys(store: AnyStore) -> list[str]:
    claimed = store.claim(worker_id="t", limit=100, now=LATER + timedelta(days=1))
    return sorted(job.idempotency_key for job in claimed)


def test_a_nonce_is_spent_once_and_its_jobs_enqueued_once(port_store: AnyStore) -> None:
    jobs = (LinkJob("newsletter_confirmation", "signup:1", {"order_id": "1"}),)
    args = {"shop": SHOP, "nonce": "n1", "purpose": "newsletter-signup", "subject": "1"}
    assert port_store.spend_link_nonce(**args, jobs=jobs, now=NOW) is True
    assert port_store.spend_link_nonce(**args, jobs=jobs, now=LATER) is False
    # another shop's nonce of the same text is its own
    assert port_store.spend_link_nonce(**{**args, "shop": "other.example"}, now=NOW) is True
    assert job_keys(port_store) == ["signup:1"]


def test_the_rating_is_stored_once_per_order(port_store: AnyStore) -> None:
    first = port_store.record_survey_rating(
        shop=SHOP,
        order_id="1001",
        nonce="n1",
        rating=1,
        shipping_method="DHL Paket",
        jobs_for=complaint_jobs,
        now=NOW,
    )
    again = port_store.record_survey_rating(
        shop=SHOP, order_id="1001", nonce="n1", rating=5, jobs_for=complaint_jobs, now=LATER
    )
    assert first.stored and not again.stored
    assert again.answer.rating == 1 and again.answer.rated_at == NOW
    assert again.answer.shipping_method == "DHL Paket"
    assert port_store.survey_answer(SHOP, "1001") == first.answer
    assert port_store.survey_answer(SHOP, "1002") is None
    assert job_keys(port_store) == ["complaint:1001:mail"]


def test_the_form_is_stored_once_and_only_after_a_rating(port_store: AnyStore) -> None:
    form = SurveyForm(satisfied=True, delivery_ok=False, payment_ok=True, wait="longer")
    assert port_store.record_survey_form(shop=SHOP, order_id="7", form=form, now=NOW) is None
    port_store.record_survey_rating(shop=SHOP, order_id="7", nonce="n7", rating=4, now=NOW)
    first = port_store.record_survey_form(
        shop=SHOP, order_id="7", form=form, jobs_for=complaint_jobs, now=LATER
    )
    other = SurveyForm(satisfied=False, comment="<script>x</script>")
    again = port_store.record_survey_form(
        shop=SHOP, order_id="7", form=other, jobs_for=complaint_jobs, now=LATER
    )
    assert first is not None and first.stored and first.answer.complaint
    assert again is not None and not again.stored
    assert again.answer.form == form and again.answer.answered_at == LATER
    assert job_keys(port_store) == ["complaint:7:mail"]


def test_answers_since_a_time_oldest_first(port_store: AnyStore) -> None:
    for n, at in enumerate((NOW + timedelta(days=2), NOW - timedelta(days=40), NOW)):
        port_store.record_survey_rating(
            shop=SHOP, order_id=f"o{n}", nonce=f"n{n}", rating=n + 1, now=at
        )
    found = port_store.survey_answers(SHOP, since=NOW - timedelta(days=1))
    assert [a.order_id for a in found] == ["o2", "o0"]
    assert port_store.survey_answers("other.example", since=NOW) == []


def test_consent_needs_its_confirmation(port_store: AnyStore) -> None:
    asked = port_store.request_consent(
        shop=SHOP,
        subject="1001",
        email=" Kim@Example.com ",
        customer_id="77",
        source="thank_you",
        text_version="newsletter-v1",
        now=NOW,
    )
    assert asked.confirmed_at is None and asked.email == "kim@example.com"
    assert port_store.confirmed_consent(SHOP, "kim@example.com") is None
    # asking again keeps the first request
    again = port_store.request_consent(
        shop=SHOP,
        subject="1001",
        email="kim@example.com",
        customer_id="77",
        source="email",
        text_version="newsletter-v2",
        now=LATER,
    )
    assert again == asked
    jobs = (LinkJob("record_consent", "consent:1001", {"subject": "1001"}),)
    found = port_store.confirm_consent(shop=SHOP, subject="1001", jobs=jobs, now=LATER)
    assert found is not None
    confirmed, first = found
    assert first and confirmed.confirmed_at == LATER and confirmed.source == "thank_you"
    second = port_store.confirm_consent(shop=SHOP, subject="1001", jobs=jobs, now=LATER)
    assert second == (confirmed, False)
    assert port_store.confirm_consent(shop=SHOP, subject="nope", now=LATER) is None
    assert port_store.confirmed_consent(SHOP, "KIM@example.com") == confirmed
    assert port_store.consent(SHOP, "1001") == confirmed
    assert job_keys(port_store) == ["consent:1001"]
