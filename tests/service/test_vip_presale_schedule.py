"""The VIP pre-sale's announcement on the schedule, at injected time with a loopback SMTP
server, on the memory store, SQLite and PostgreSQL: due at the start (deferred by quiet hours,
never dropped), at once during the sale, never after it; cancelled when the sale ended while
it waited, by an unsubscribe and by a redact; once per customer whatever their orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aftersale_kit.storage import MessageState, Store

from . import test_follow_ups as base

SHOP, order = base.SHOP, base.order
flow_for, sink = base.flow_for, base.sink  # the fixtures of the follow-up tests

START = datetime(2027, 1, 15, 6, 0, tzinfo=UTC)  # 07:00 in Berlin: in the quiet hours
END = datetime(2027, 1, 22, 23, 0, tzinfo=UTC)  # the end of Jan 22 in Berlin
BEFORE = START - timedelta(days=10)


def presale(policy: str = "") -> str:
    return (
        policy
        + """campaigns:
  - id: vip
    trigger: order_paid
    when: order.subtotal >= 400
    actions:
      - vip_presale:
          name: Neue Ernte
          starts: 2027-01-15T07:00
          ends: 2027-01-22
"""
    )


QUIET = 'contact_policy:\n  quiet_hours: {from: "20:00", until: "08:00"}\n'


def _vip(flow: Any) -> list[Any]:
    return [r for r in flow.rows() if r.kind == "vip_presale"]


@pytest.mark.slow
def test_due_at_the_start_deferred_by_quiet_hours_and_once_per_customer(flow_for: Any) -> None:
    flow = flow_for(presale(QUIET), BEFORE)
    flow.paid(order("1", paid_at=BEFORE))
    flow.paid(order("2", paid_at=BEFORE + timedelta(days=1)))  # the same customer again
    (row,) = _vip(flow)
    assert row.due_at == START and row.order_id == "1"
    assert flow.at(START - timedelta(minutes=1)) == {}
    assert flow.at(START) == {"deferred": 1}  # 07:00 is quiet until 08:00
    assert flow.at(START + timedelta(hours=1)) == {"sent": 1}
    (mail,) = flow.sink.received
    assert str(mail.message["Subject"]) == "Ihr VIP-Vorverkauf: Neue Ernte ab 15.01.2027"
    text = mail.message.get_body(("plain",)).get_content()
    assert "Vom 15.01.2027, 07:00 Uhr bis 22.01.2027." in text
    assert flow.at(END) == {}


@pytest.mark.slow
def test_at_once_during_the_sale_and_nothing_after_it(flow_for: Any) -> None:
    during = START + timedelta(days=2, hours=4)
    flow = flow_for(presale(), during)
    flow.paid(order("1", paid_at=during))
    (row,) = _vip(flow)
    assert row.due_at == during
    assert flow.at(during) == {"sent": 1}
    flow.clock.now = END + timedelta(minutes=1)
    flow.paid(order("2", paid_at=flow.clock.now, customer="88", email="jo@example.com"))
    assert [r.email for r in _vip(flow)] == ["kim@example.com"]


def test_one_that_waited_past_the_end_is_cancelled(flow_for: Any) -> None:
    flow = flow_for(presale(), BEFORE)
    flow.paid(order("1", paid_at=BEFORE))
    assert flow.at(END) == {"cancelled": 1}
    (row,) = _vip(flow)
    assert row.state is MessageState.CANCELLED
    assert row.reason == "pre-sale 'Neue Ernte' ended at 2027-01-23T00:00:00+01:00"
    assert flow.sink.received == []


def test_an_unsubscribe_cancels_it(flow_for: Any) -> None:
    flow = flow_for(presale(), BEFORE)
    flow.paid(order("1", paid_at=BEFORE))
    assert flow.store.unsubscribe(SHOP, "kim@example.com", "one-click link") == 1
    assert flow.at(START) == {}
    (row,) = _vip(flow)
    assert (row.state, row.reason) == (MessageState.CANCELLED, "unsubscribed: one-click link")


def test_a_redact_cancels_it(flow_for: Any, any_store: Any) -> None:
    if not isinstance(any_store, Store):
        pytest.skip("the memory store has no erasure (CustomerData)")
    flow = flow_for(presale(), BEFORE)
    flow.paid(order("1", paid_at=BEFORE))
    any_store.redact_customer(SHOP, customer_id="77", email="kim@example.com")
    assert flow.at(START) == {}
    (row,) = _vip(flow)
    assert (row.state, row.reason, row.email) == (MessageState.CANCELLED, "customer redacted", None)


def test_without_consent_it_is_held_back_naming_the_rule(flow_for: Any) -> None:
    flow = flow_for(presale(), BEFORE)
    flow.paid(order("1", paid_at=BEFORE, accepts_marketing=False))
    assert flow.at(START) == {"held_back": 1}
    (row,) = _vip(flow)
    assert row.reason is not None and row.reason.endswith("(consent)")
    assert flow.sink.received == []
