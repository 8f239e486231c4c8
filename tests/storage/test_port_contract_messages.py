"""The follow-up schedule's port (:class:`MessageStore`): the same behaviour on the memory store,
SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from storage_builders import NOW, SECRET, SHOP, order

from aftersale_kit.core.campaign import Campaign, ShopConfig, ShopSettings
from aftersale_kit.core.contact.follow_up import (
    Delay,
    DelayUnit,
    FollowUp,
    FollowUpKind,
    Purpose,
    Repeat,
)
from aftersale_kit.core.contact.schedule import planned_messages
from aftersale_kit.core.decision import Decision
from aftersale_kit.core.engine import decide
from aftersale_kit.core.model import EventKind
from aftersale_kit.core.timeline import take_backs
from aftersale_kit.storage import (
    ContactFacts,
    ContactRef,
    MessageOutcome,
    MessageState,
    NewMessage,
    StepMessages,
    Store,
)
from aftersale_kit.storage.memory import MemoryStore
from aftersale_kit.storage.ports import MessageStore

AnyStore = Any


def message(n: int = 1, **changes: Any) -> NewMessage:
    values: dict[str, Any] = {
        "shop": SHOP,
        "key": f"{SHOP}:1:wartung:0:{n}",
        "order_id": "1",
        "customer_key": "c-1",
        "email": "Kim@Example.com",
        "campaign_id": "wartung",
        "occurrence": n,
        "kind": "service_reminder",
        "template": "service_reminder",
        "purpose": "marketing",
        "due_at": NOW + timedelta(days=n),
        "data": {"months": 3},
    }
    values.update(changes)
    return NewMessage(**values)


def sent(store: AnyStore, worker: str, row_id: int, at: Any) -> bool:
    outcome = MessageOutcome(MessageState.SENT, message_id=f"<{row_id}@x>", sent_at=at, attempts=1)
    return bool(store.finish_message(row_id, worker_id=worker, outcome=outcome, now=at))


def test_both_stores_have_every_method_of_the_port() -> None:
    wanted = {n for n in vars(MessageStore) if not n.startswith("_")}
    for cls in (Store, MemoryStore):
        assert sorted(n for n in wanted if not hasattr(cls, n)) == []


def test_a_message_is_planned_once_per_key_and_a_cancelled_one_stays(port_store: AnyStore) -> None:
    assert port_store.plan_messages([message(1), message(2)], now=NOW) == 2
    assert port_store.plan_messages([message(1), message(3)], now=NOW) == 1
    [first, *_] = port_store.messages(SHOP)
    assert (first.state, first.attempts, first.data) == (MessageState.PLANNED, 0, {"months": 3})
    assert port_store.cancel_messages(SHOP, ids=[first.id], reason="operator", now=NOW) == 1
    assert port_store.plan_messages([message(1)], now=NOW) == 0
    again = port_store.message(SHOP, first.id)
    assert (again.state, again.reason) == (MessageState.CANCELLED, "operator")
    assert port_store.message("other.example", first.id) is None
    assert port_store.message_counts(SHOP) == {MessageState.PLANNED: 2, MessageState.CANCELLED: 1}


def test_a_lease_keeps_a_due_message_from_a_second_worker(port_store: AnyStore) -> None:
    port_store.plan_messages([message(1), message(2)], now=NOW)
    at = NOW + timedelta(days=1, hours=1)  # message 1 is due, 2 not
    claimed = port_store.claim_messages(worker_id="a", limit=10, lease_seconds=60, now=at)
    assert [m.occurrence for m in claimed] == [1]
    assert port_store.claim_messages(worker_id="b", limit=10, lease_seconds=60, now=at) == []
    later = at + timedelta(seconds=61)  # a died: its lease expired
    [again] = port_store.claim_messages(worker_id="b", limit=10, lease_seconds=60, now=later)
    assert again.id == claimed[0].id
    assert not sent(port_store, "a", again.id, later)  # a lost its lease: nothing recorded
    assert sent(port_store, "b", again.id, later)
    assert not sent(port_store, "b", again.id, later)  # once
    row = port_store.message(SHOP, again.id)
    assert (row.state, row.message_id, row.sent_at) == (MessageState.SENT, f"<{row.id}@x>", later)


def test_a_deferred_message_comes_back_at_its_new_due_time(port_store: AnyStore) -> None:
    port_store.plan_messages([message(1)], now=NOW)
    at = NOW + timedelta(days=2)
    [m] = port_store.claim_messages(worker_id="a", now=at)
    until = at + timedelta(hours=5)
    outcome = MessageOutcome(MessageState.DEFERRED, reason="quiet_hours", due_at=until)
    assert port_store.finish_message(m.id, worker_id="a", outcome=outcome, now=at)
    assert port_store.claim_messages(worker_id="a", now=until - timedelta(seconds=1)) == []
    [back] = port_store.claim_messages(worker_id="a", now=until)
    assert (back.state, back.reason, back.due_at) == (MessageState.DEFERRED, "quiet_hours", until)


def test_the_history_counts_what_was_sent_to_the_customer_or_the_guest(
    port_store: AnyStore,
) -> None:
    guest = message(
        1, key="g:1", customer_key=None, email="Gast@Example.com", purpose="transactional"
    )
    port_store.plan_messages([message(1), message(2), guest], now=NOW)
    at = NOW + timedelta(days=3)
    claimed = port_store.claim_messages(worker_id="a", now=at)
    for m in claimed:
        assert sent(port_store, "a", m.id, at)
    mine = port_store.contact_history(SHOP, "c-1")
    assert [(h.sent_at, h.purpose) for h in mine] == [(at, Purpose.MARKETING)] * 2
    theirs = port_store.contact_history(SHOP, "email:gast@example.com")
    assert [h.purpose for h in theirs] == [Purpose.TRANSACTIONAL]
    assert port_store.contact_history(SHOP, "c-1", since=at + timedelta(seconds=1)) == []
    assert port_store.contact_history("other.example", "c-1") == []


def _opt_in(store: AnyStore, subject: str, email: str, at: Any) -> None:
    store.request_consent(
        shop=SHOP, subject=subject, email=email, customer_id="c-1", source="thank_you",
        text_version="newsletter-v1", now=at,
    )  # fmt: skip
    assert store.confirm_consent(shop=SHOP, subject=subject, now=at) is not None


def test_an_unsubscribe_cancels_what_is_planned_and_withdraws_the_opt_in(
    port_store: AnyStore,
) -> None:
    other = message(1, key="o:1", customer_key="c-2", email="jo@example.com")
    port_store.plan_messages([message(1), message(2), other], now=NOW)
    _opt_in(port_store, "1001", " KIM@example.com", NOW)
    assert port_store.confirmed_consent(SHOP, "kim@example.com").confirmed_at == NOW
    later = NOW + timedelta(hours=1)
    cancelled = port_store.unsubscribe(
        SHOP, "kim@EXAMPLE.com", "one-click link", subject="1", now=later
    )
    assert cancelled == 2
    # again: nothing left to cancel, the first reason stays
    assert port_store.unsubscribe(SHOP, "kim@example.com", "operator", now=later) == 0
    assert port_store.is_unsubscribed(SHOP, " Kim@example.com ")
    assert not port_store.is_unsubscribed("other.example", "kim@example.com")
    found = port_store.suppression(SHOP, "KIM@example.com")
    assert (found.email, found.reason, found.subject) == ("kim@example.com", "one-click link", "1")
    # the opt-in no longer counts, but its proof stays
    assert port_store.confirmed_consent(SHOP, "kim@example.com") is None
    proof = port_store.consent(SHOP, "1001")
    assert (proof.confirmed_at, proof.withdrawn_at) == (NOW, later)
    states = {(m.email, m.state, m.reason) for m in port_store.messages(SHOP)}
    assert states == {
        ("Kim@Example.com", MessageState.CANCELLED, "unsubscribed: one-click link"),
        ("jo@example.com", MessageState.PLANNED, None),
    }
    # a new double opt-in, confirmed after the unsubscribe, lifts it
    _opt_in(port_store, "1002", "kim@example.com", later + timedelta(days=1))
    assert not port_store.is_unsubscribed(SHOP, "kim@example.com")
    assert port_store.confirmed_consent(SHOP, "kim@example.com").subject == "1002"


def test_contact_facts_read_history_opt_in_and_suppression_of_many_contacts_at_once(
    port_store: AnyStore,
) -> None:
    guest = message(3, key="g:1", customer_key=None, email="Gast@Example.com")
    jo = message(4, key="j:1", customer_key="c-2", email="jo@example.com")
    port_store.plan_messages([message(1), message(2), guest, jo], now=NOW)
    at = NOW + timedelta(days=5)
    for m in port_store.claim_messages(worker_id="a", now=at):
        if m.customer_key != "c-2":
            assert sent(port_store, "a", m.id, at)
    _opt_in(port_store, "1001", "kim@example.com", NOW)
    _opt_in(port_store, "1002", "KIM@example.com", at)
    port_store.unsubscribe(SHOP, "jo@example.com", "one-click link", now=at)
    kim = ContactRef(SHOP, "c-1", "Kim@Example.com")
    gast = ContactRef(SHOP, "email:gast@example.com", "gast@example.com")
    jo_ref = ContactRef(SHOP, "c-2", "jo@example.com")
    elsewhere = ContactRef("other.example", "c-1", "kim@example.com")
    facts = port_store.contact_facts([kim, gast, jo_ref, elsewhere])
    assert set(facts) == {kim, gast, jo_ref, elsewhere}
    assert facts[kim].history == tuple(port_store.contact_history(SHOP, "c-1"))
    assert [h.purpose for h in facts[kim].history] == [Purpose.MARKETING] * 2
    assert (facts[kim].opt_in_confirmed_at, facts[kim].unsubscribed) == (NOW, False)
    assert [h.sent_at for h in facts[gast].history] == [at]
    assert facts[gast].opt_in_confirmed_at is None and not facts[gast].unsubscribed
    assert facts[jo_ref] == ContactFacts(history=(), opt_in_confirmed_at=None, unsubscribed=True)
    assert facts[elsewhere] == ContactFacts()
    assert port_store.contact_facts([]) == {}


def test_finishing_several_messages_records_only_those_still_held(port_store: AnyStore) -> None:
    port_store.plan_messages([message(1), message(2), message(3)], now=NOW)
    at = NOW + timedelta(days=5)
    first, second, third = port_store.claim_messages(worker_id="a", now=at)
    port_store.cancel_messages(SHOP, reason="operator", ids=[second.id], now=at)
    done = MessageOutcome(MessageState.SENT, message_id="<1@x>", sent_at=at, attempts=1)
    later = MessageOutcome(MessageState.DEFERRED, reason="gap", due_at=at + timedelta(days=1))
    recorded = port_store.finish_messages(
        [(first.id, done), (second.id, done), (third.id, later)], worker_id="a", now=at
    )
    assert recorded == [True, False, True]
    rows = {m.id: m for m in port_store.messages(SHOP)}
    assert (rows[first.id].state, rows[first.id].message_id, rows[first.id].attempts) == (
        MessageState.SENT, "<1@x>", 1,
    )  # fmt: skip
    assert rows[first.id].sent_at == at and rows[first.id].due_at == first.due_at
    assert (rows[second.id].state, rows[second.id].reason) == (MessageState.CANCELLED, "operator")
    assert (rows[third.id].state, rows[third.id].reason) == (MessageState.DEFERRED, "gap")
    assert rows[third.id].due_at == at + timedelta(days=1) and rows[third.id].attempts == 0
    # the lease ended: nothing is held any more, a second call records nothing
    assert port_store.finish_messages([(third.id, done)], worker_id="a", now=at) == [False]
    assert port_store.finish_messages([], worker_id="a", now=at) == []


def test_sent_messages_of_a_kind(port_store: AnyStore) -> None:
    survey = message(3, key="s:1", kind="survey", template="survey", purpose="transactional")
    port_store.plan_messages([message(1), survey], now=NOW)
    at = NOW + timedelta(days=5)
    for m in port_store.claim_messages(worker_id="a", now=at):
        assert sent(port_store, "a", m.id, at)
    [found] = port_store.sent_messages(SHOP, kind="survey", since=NOW)
    assert (found.key, found.sent_at) == ("s:1", at)
    assert port_store.sent_messages(SHOP, kind="survey", since=at + timedelta(seconds=1)) == []
    assert port_store.sent_messages("other.example", kind="survey", since=NOW) == []


def test_cancelling_by_order_or_customer_leaves_what_was_sent(port_store: AnyStore) -> None:
    port_store.plan_messages([message(1), message(2), message(3, order_id="2")], now=NOW)
    at = NOW + timedelta(days=1)
    [first] = port_store.claim_messages(worker_id="a", now=at)
    assert sent(port_store, "a", first.id, at)
    assert port_store.cancel_messages(SHOP, order_id="1", reason="order refunded", now=at) == 1
    assert port_store.cancel_messages(SHOP, customer_key="c-1", reason="x", now=at) == 1
    assert port_store.cancel_messages(SHOP, customer_key="c-1", reason="x", now=at) == 0
    assert [m.state for m in port_store.messages(SHOP)] == [
        MessageState.SENT,
        MessageState.CANCELLED,
        MessageState.CANCELLED,
    ]


# -- with the step --------------------------------------------------------------------------------

REMINDER = FollowUp(
    kind=FollowUpKind.SERVICE_REMINDER,
    template="service_reminder",
    after=Delay(3, DelayUnit.MONTHS),
    purpose=Purpose.MARKETING,
    repeat=Repeat(every=Delay(3, DelayUnit.MONTHS), times=2),
)
CONFIG = ShopConfig(
    settings=ShopSettings(
        platform="shopify", domain=SHOP, currency="EUR", timezone="Europe/Berlin"
    ),
    campaigns=(Campaign(id="wartung", trigger=EventKind.ORDER_PAID, actions=(REMINDER,)),),
)


def follow_ups(decision: Decision) -> list[NewMessage]:
    return [
        message(m.occurrence, key=m.key, due_at=m.due_at)
        for p in decision.actions
        for m in planned_messages(p, trigger_at=NOW, tz="Europe/Berlin")
    ]


def step(store: AnyStore, kind: EventKind, *, closing: str | None = None) -> Any:
    the_order = order("1", customer_id="c-1", email="kim@example.com")
    return store.decide_step(
        shop=SHOP,
        order=the_order,
        event_kind=kind,
        customer_key="c-1",
        decide=lambda counters: decide(
            CONFIG, the_order, event=kind, counters=counters, now=NOW, code_secret=SECRET
        ),
        settle=lambda facts: take_backs(
            config=CONFIG,
            order=the_order,
            refunds=facts.refunds,
            open_campaigns=facts.open_campaigns,
            closed=facts.closed,
        ),
        closing=closing,
        now=NOW,
        follow_ups=StepMessages(plan=follow_ups),
    )


def test_a_step_plans_its_follow_ups_once_and_a_cancellation_cancels_them(
    port_store: AnyStore,
) -> None:
    first = step(port_store, EventKind.ORDER_PAID)
    assert first.planned_messages == 3
    assert step(port_store, EventKind.ORDER_PAID).planned_messages == 0  # a redelivery
    [stored] = port_store.decisions_for_order(SHOP, "1")
    assert stored.decision.actions[0].action == REMINDER  # the codec keeps the follow_up
    dues = [m.due_at.isoformat() for m in port_store.messages(SHOP)]
    assert dues == [
        # 13:00 in Berlin each time: summer time (UTC+2), then winter time again (UTC+1)
        "2026-06-02T11:00:00+00:00",
        "2026-09-02T11:00:00+00:00",
        "2026-12-02T12:00:00+00:00",
    ]
    step(port_store, EventKind.ORDER_CANCELLED, closing="order_cancelled")
    assert {(m.state, m.reason) for m in port_store.messages(SHOP)} == {
        (MessageState.CANCELLED, "order order_cancelled")
    }


def test_closing_an_order_cancels_its_follow_ups(port_store: AnyStore) -> None:
    step(port_store, EventKind.ORDER_PAID)
    port_store.close_order(shop=SHOP, order_id="1", reason="refunded", now=NOW)
    assert {m.reason for m in port_store.messages(SHOP)} == {"order refunded"}


@pytest.mark.parametrize("engine", ["sqlite"])
def test_a_customer_redact_cancels_and_erases_their_messages(engine: str, store: Store) -> None:
    _opt_in(store, "1001", "kim@example.com", NOW)
    store.unsubscribe(SHOP, "kim@example.com", "link", now=NOW)
    store.plan_messages([message(1), message(2, customer_key=None, order_id="9", key="g")], now=NOW)
    counts = store.redact_customer(SHOP, customer_id="c-1", email="kim@example.com", now=NOW)
    assert counts["messages"] == 2
    rows = store.messages(SHOP)
    assert {(m.state, m.reason, m.email) for m in rows} == {
        (MessageState.CANCELLED, "customer redacted", None)
    }
    assert all(m.data == {} for m in rows)
    assert store.consent(SHOP, "1001") is None
    assert store.suppression(SHOP, "kim@example.com") is None
    store.redact_shop(SHOP)
    assert store.messages(SHOP) == []


def test_a_redelivered_plan_keeps_its_state(port_store: AnyStore) -> None:
    port_store.plan_messages([message(1)], now=NOW)
    [m] = port_store.claim_messages(worker_id="a", now=NOW + timedelta(days=1))
    assert sent(port_store, "a", m.id, NOW + timedelta(days=1))
    assert port_store.plan_messages([replace(message(1), due_at=NOW)], now=NOW) == 0
    assert port_store.message(SHOP, m.id).state is MessageState.SENT
