"""Follow-ups end to end: a step plans them, the mail sweep sends them to a real SMTP server on
loopback at an injected time, under the shop's contact policy; cancellations take them off the
schedule. On the memory store, SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mail.smtp_sink import Sink, smtp_sink

from aftersale_kit.core.model import (
    Customer,
    EventKind,
    FinancialStatus,
    LineItem,
    Order,
)
from aftersale_kit.core.money import Money
from aftersale_kit.mail import message_id_for
from aftersale_kit.service import mail_sweep
from aftersale_kit.service.effects import Processor
from aftersale_kit.service.mail_sweep import MessageSender
from aftersale_kit.service.metrics import Metrics
from aftersale_kit.service.shops import ShopEntry, load_shops
from aftersale_kit.storage import MessageOutcome, MessageState, Store

SHOP = "elektro.myshopify.com"
ENV = {"SHOP_WEBHOOK_SECRET": "whsec-test", "SHOP_CODE_SECRET": "code-secret-for-follow-ups"}
HEAD = f"""version: 1
shop:
  platform: shopify
  domain: {SHOP}
  currency: EUR
  locale: de_DE
  timezone: Europe/Berlin
  secrets:
    webhook_secret: SHOP_WEBHOOK_SECRET
    code_secret: SHOP_CODE_SECRET
mail:
  sender: "Elektro Krause <service@elektro-krause.de>"
  smtp: {{host: 127.0.0.1, port: PORT, security: none, timeout_seconds: 5}}
  rate_per_minute: 100000
"""
QUARTERLY = """campaigns:
  - id: wartung
    trigger: order_paid
    actions:
      - follow_up:
          kind: service_reminder
          template: service_reminder
          after: {months: 3}
          repeat: {every: {months: 3}, times: 3}
"""


def reminder(campaign: str, days: int, purpose: str = "marketing") -> str:
    template = "survey" if purpose == "transactional" else "service_reminder"
    kind = "survey" if purpose == "transactional" else "service_reminder"
    return f"""  - id: {campaign}
    trigger: order_paid
    actions:
      - follow_up:
          kind: {kind}
          template: {template}
          after: {{days: {days}}}
          purpose: {purpose}
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def order(
    order_id: str = "1001",
    *,
    paid_at: datetime,
    customer: str = "77",
    email: str = "kim@example.com",
    accepts_marketing: bool | None = True,
) -> Order:
    eur = Money.of("499.00", "EUR")
    return Order(
        platform="shopify",
        shop=SHOP,
        id=order_id,
        number=f"#{order_id}",
        currency="EUR",
        created_at=paid_at,
        paid_at=paid_at,
        financial_status=FinancialStatus.PAID,
        subtotal=eur,
        total=eur,
        discounts=Money.zero("EUR"),
        shipping=Money.zero("EUR"),
        tax=Money.zero("EUR"),
        line_items=(LineItem(id="l1", title="Kaffeevollautomat", quantity=1, unit_price=eur),),
        customer=Customer(
            id=customer, email=email, first_name="Kim", accepts_marketing=accepts_marketing
        ),
        email=email,
    )


class Flow:
    """A shop with follow-ups, a processor at an injected time and the mail sweep."""

    def __init__(
        self, tmp_path: Path, store: Any, sink: Sink, body: str, start: datetime, shop: str = ""
    ) -> None:
        path = tmp_path / "shop.yaml"
        head = HEAD.replace("PORT", str(sink.port)).replace("mail:\n", f"{shop}mail:\n", 1)
        path.write_text(head + body, encoding="utf-8")
        self.registry = load_shops(path, env=ENV)
        self.store = store
        self.sink = sink
        self.clock = Clock(start)
        self.processor = Processor(registry=self.registry, store=store, clock=self.clock)
        self.metrics = Metrics()
        self.sender = MessageSender(
            self.processor, metrics=self.metrics, public_url="http://127.0.0.1:8000", environ={}
        )

    @property
    def entry(self) -> ShopEntry:
        entry = self.registry.by_domain(SHOP)
        assert entry is not None
        return entry

    def paid(self, the_order: Order) -> None:
        self.processor.process_order(self.entry, the_order, EventKind.ORDER_PAID)

    def at(self, moment: datetime) -> dict[str, int]:
        self.clock.now = moment
        return self.sender.sweep_until_idle().counts

    def rows(self, state: MessageState | None = None) -> list[Any]:
        return list(self.store.messages(SHOP, state=state, limit=1000))


@pytest.fixture
def flow_for(tmp_path: Path, any_store: Any, sink: Sink) -> Any:
    flows: list[Flow] = []

    def build(body: str, start: datetime, shop: str = "") -> Flow:
        flows.append(Flow(tmp_path, any_store, sink, body, start, shop))
        return flows[-1]

    yield build
    for flow in flows:
        flow.sender.close()


@pytest.fixture
def sink() -> Any:

    with smtp_sink() as server:
        yield server


PAID = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def test_a_quarterly_reminder_arrives_at_3_6_and_9_months_and_not_after_an_unsubscribe(
    flow_for: Any,
) -> None:
    flow = flow_for(QUARTERLY, PAID)
    flow.paid(order(paid_at=PAID))
    flow.paid(order(paid_at=PAID))  # a redelivery plans nothing more
    assert len(flow.rows()) == 4
    assert flow.at(PAID + timedelta(days=80)) == {}  # nothing due yet
    months = [
        datetime(2026, 4, 15, 8, 0, tzinfo=UTC),  # 10:00 in Berlin, summer time
        datetime(2026, 7, 15, 8, 0, tzinfo=UTC),
        datetime(2026, 10, 15, 8, 0, tzinfo=UTC),
    ]
    for n, due in enumerate(months, start=1):
        assert flow.at(due - timedelta(minutes=1)) == {}
        assert flow.at(due) == {"sent": 1}
        assert len(flow.sink.received) == n
    first = flow.sink.received[0].message
    assert first["To"] == "Kim <kim@example.com>"
    assert "List-Unsubscribe" in first and first["List-Unsubscribe-Post"]
    assert flow.store.unsubscribe(SHOP, "KIM@example.com", "one-click link") == 1
    assert flow.at(datetime(2027, 1, 15, 9, 0, tzinfo=UTC)) == {}
    assert len(flow.sink.received) == 3
    ids = flow.sink.message_ids()
    assert len(set(ids)) == 3
    rows = flow.rows()
    assert [r.state for r in rows] == [MessageState.SENT] * 3 + [MessageState.CANCELLED]
    assert rows[3].reason == "unsubscribed: one-click link"
    assert [r.message_id for r in rows[:3]] == ids
    assert [r.sent_at for r in rows[:3]] == months


def test_the_reminders_carry_the_campaigns_link_else_the_shops_booking_and_review_pages(
    flow_for: Any,
) -> None:
    shop = (
        "  booking_url: https://elektro-krause.de/werkstatt\n"
        "  review_url: https://elektro-krause.de/bewertungen\n"
    )
    body = "campaigns:\n" + reminder("ohne-link", 30) + reminder("mit-link", 60)
    body = body.replace(
        "after: {days: 60}",
        "after: {days: 60}\n          link: https://elektro-krause.de/service/termin\n"
        "          link_text: 'Prüftermin <buchen>'",
    )
    body += "  - id: bewertung\n    trigger: order_paid\n    actions:\n"
    body += "      - follow_up: {kind: review_request, after: {days: 21}}\n"
    flow = flow_for(body, PAID, shop)
    flow.paid(order(paid_at=PAID))
    for days in (21, 30, 60):
        assert flow.at(PAID + timedelta(days=days)) == {"sent": 1}
    parts = []
    for received in flow.sink.received:
        text, html = received.message.get_body(("plain",)), received.message.get_body(("html",))
        assert text is not None and html is not None
        parts.append((text.get_content(), html.get_content()))
    (review, review_html), (shop_link, _), (own, own_html) = parts
    assert "Bewertung schreiben: https://elektro-krause.de/bewertungen" in review
    assert 'href="https://elektro-krause.de/bewertungen"' in review_html
    assert "Termin vereinbaren: https://elektro-krause.de/werkstatt" in shop_link
    assert "Prüftermin <buchen>: https://elektro-krause.de/service/termin" in own
    assert ">Prüftermin &lt;buchen&gt;</a>" in own_html and "werkstatt" not in own


def test_the_marketing_cap_holds_back_naming_the_rule_and_transactional_is_not_counted(
    flow_for: Any,
) -> None:
    body = "contact_policy:\n  marketing_cap: {max: 2, days: 30}\ncampaigns:\n" + "".join(
        reminder(f"angebot-{d}", d) for d in (1, 2, 3, 20, 35)
    )
    body += reminder("umfrage", 2, "transactional") + reminder("umfrage-2", 3, "transactional")
    flow = flow_for(body, PAID)
    flow.paid(order(paid_at=PAID))
    assert len(flow.rows()) == 7
    for day in range(1, 40):
        flow.at(PAID + timedelta(days=day))
    sent = flow.rows(MessageState.SENT)
    marketing = sorted(r.sent_at for r in sent if r.purpose == "marketing")
    assert [r.campaign_id for r in sent if r.purpose == "transactional"] == ["umfrage", "umfrage-2"]
    assert marketing == [PAID + timedelta(days=d) for d in (1, 2, 35)]
    for start in marketing:  # any 30-day window: at most 2
        assert sum(start <= t < start + timedelta(days=30) for t in marketing) <= 2
    held = flow.rows(MessageState.HELD_BACK)
    assert sorted(r.campaign_id for r in held) == ["angebot-20", "angebot-3"]
    for r in held:
        assert "marketing_cap" in r.reason and "the marketing cap is 2 per 30 days" in r.reason
    assert len(flow.sink.received) == 5
    assert flow.metrics.messages.labels("held_back")._value.get() == 2


def test_a_message_due_in_the_quiet_hours_goes_out_when_they_end_across_the_dst_change(
    flow_for: Any,
) -> None:
    body = 'contact_policy:\n  quiet_hours: {from: "20:00", until: "08:00"}\ncampaigns:\n'
    body += reminder("umfrage", 1, "transactional")
    paid = datetime(2026, 3, 27, 21, 0, tzinfo=UTC)  # Friday 22:00 in Berlin
    flow = flow_for(body, paid)
    flow.paid(order(paid_at=paid))
    due = datetime(2026, 3, 28, 21, 0, tzinfo=UTC)  # Saturday 22:00, winter time
    assert flow.at(due) == {"deferred": 1}
    [row] = flow.rows()
    # Sunday 08:00 in Berlin is summer time already (the clocks went forward at 02:00): 06:00 UTC
    quiet_end = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert (row.state, row.due_at) == (MessageState.DEFERRED, quiet_end)
    assert "quiet_hours" in (row.reason or "")
    assert flow.at(quiet_end - timedelta(seconds=1)) == {}
    assert flow.sink.received == []
    assert flow.at(quiet_end) == {"sent": 1}
    assert flow.rows()[0].sent_at == quiet_end


def test_no_marketing_without_consent_but_with_a_confirmed_double_opt_in(flow_for: Any) -> None:
    body = "campaigns:\n" + reminder("angebot", 1) + reminder("umfrage", 1, "transactional")
    flow = flow_for(body, PAID)
    flow.paid(order("1", paid_at=PAID, customer="1", email="a@example.com", accepts_marketing=None))
    flow.paid(
        order("2", paid_at=PAID, customer="2", email="b@example.com", accepts_marketing=False)
    )
    flow.paid(
        order("3", paid_at=PAID, customer="3", email="c@example.com", accepts_marketing=False)
    )
    flow.store.request_consent(
        shop=SHOP, subject="3", email="C@example.com", customer_id="3", source="thank_you",
        text_version="newsletter-v1", now=PAID,
    )  # fmt: skip
    flow.store.confirm_consent(shop=SHOP, subject="3", now=PAID)
    flow.at(PAID + timedelta(days=2))
    got = sorted(
        (r.order_id, r.campaign_id, r.state.value) for r in flow.rows() if r.purpose == "marketing"
    )
    assert got == [("1", "angebot", "held_back"), ("2", "angebot", "held_back"),
                   ("3", "angebot", "sent")]  # fmt: skip
    assert all("(consent)" in (r.reason or "") for r in flow.rows(MessageState.HELD_BACK))
    surveys = [r for r in flow.rows() if r.purpose == "transactional"]
    assert {r.state for r in surveys} == {MessageState.SENT}
    recipients = sorted(to for r in flow.sink.received for to in r.rcpt_tos)
    assert recipients == ["a@example.com", "b@example.com", "c@example.com", "c@example.com"]


def test_a_full_refund_cancellation_or_uninstall_cancels_what_is_planned(flow_for: Any) -> None:
    flow = flow_for(QUARTERLY, PAID)
    flow.paid(order("1", paid_at=PAID))
    flow.paid(order("2", paid_at=PAID))
    flow.paid(order("3", paid_at=PAID))
    flow.at(datetime(2026, 4, 15, 8, 0, tzinfo=UTC))  # the first of each went out
    refunded = replace(order("1", paid_at=PAID), financial_status=FinancialStatus.REFUNDED)
    flow.processor.process_order(flow.entry, refunded, EventKind.REFUND_CREATED)
    cancelled = replace(order("2", paid_at=PAID), cancelled_at=PAID + timedelta(days=100))
    flow.processor.process_order(flow.entry, cancelled, EventKind.ORDER_CANCELLED)
    by_order = {
        oid: sorted({(r.state.value, r.reason) for r in flow.rows() if r.order_id == oid})
        for oid in ("1", "2", "3")
    }
    assert by_order["1"] == [("cancelled", "order refund_created"), ("sent", None)]
    assert by_order["2"] == [("cancelled", "order order_cancelled"), ("sent", None)]
    assert by_order["3"] == [("planned", None), ("sent", None)]
    flow.processor.uninstall(flow.entry, at=datetime(2026, 5, 1, tzinfo=UTC))
    assert {r.reason for r in flow.rows(MessageState.CANCELLED) if r.order_id == "3"} == {
        "app uninstalled"
    }
    assert flow.at(datetime(2027, 6, 1, tzinfo=UTC)) == {}
    assert len(flow.sink.received) == 3


def test_a_customer_redact_cancels_and_erases(flow_for: Any, any_store: Any) -> None:
    if not isinstance(any_store, Store):
        pytest.skip("the memory store has no erasure (CustomerData)")
    flow = flow_for(QUARTERLY, PAID)
    flow.paid(order(paid_at=PAID))
    any_store.redact_customer(SHOP, customer_id="77", email="kim@example.com")
    rows = flow.rows()
    assert {(r.state, r.reason, r.email) for r in rows} == {
        (MessageState.CANCELLED, "customer redacted", None)
    }
    assert flow.at(datetime(2027, 6, 1, tzinfo=UTC)) == {}
    assert flow.sink.received == []


def test_a_permanent_refusal_is_recorded_with_the_reply_and_a_4xx_is_retried(
    flow_for: Any,
) -> None:
    flow = flow_for("campaigns:\n" + reminder("umfrage", 1, "transactional"), PAID)
    flow.paid(order("1", paid_at=PAID))
    flow.paid(order("2", paid_at=PAID, customer="2", email="jo@example.com"))
    flow.sink.data_replies = ["451 4.3.0 try again later", "554 5.7.1 rejected: spam"]
    due = PAID + timedelta(days=1)
    assert flow.at(due) == {"deferred": 1, "failed": 1}
    failed = flow.rows(MessageState.FAILED)[0]
    assert failed.reply and "5.7.1 rejected: spam" in failed.reply
    retry = flow.rows(MessageState.DEFERRED)[0]
    assert retry.attempts == 1 and retry.due_at == due + timedelta(minutes=1)
    assert "try again later" in (retry.reason or "")
    assert flow.at(due + timedelta(minutes=1)) == {"sent": 1}
    assert flow.rows(MessageState.SENT)[0].attempts == 2


def test_a_later_order_that_makes_stop_when_true_stops_the_repeats(flow_for: Any) -> None:
    body = QUARTERLY.replace(
        "times: 3}", "times: 3, stop_when: 'any line_items.sku == \"WARTUNG\"'}"
    )
    flow = flow_for(body, PAID)
    flow.paid(order("1", paid_at=PAID))
    assert flow.at(datetime(2026, 4, 15, 8, 0, tzinfo=UTC)) == {"sent": 1}
    later = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
    other = order("2", paid_at=later)
    flow.paid(other)  # no service booked: the repeats stay
    assert len(flow.rows(MessageState.PLANNED)) == 3 + 4
    booked = order("3", paid_at=later)
    item = replace(booked.line_items[0], sku="WARTUNG")
    flow.paid(replace(booked, line_items=(item,)))
    first = {(r.occurrence, r.state.value, r.reason) for r in flow.rows() if r.order_id == "1"}
    assert first == {
        (1, "sent", None),
        (2, "cancelled", "stopped by order 3 (stop_when)"),
        (3, "cancelled", "stopped by order 3 (stop_when)"),
        (4, "cancelled", "stopped by order 3 (stop_when)"),
    }
    # order 2's reminders stop too (the customer's service is booked); order 3's own stay
    assert {r.order_id for r in flow.rows(MessageState.PLANNED)} == {"3"}
    assert {r.order_id for r in flow.rows(MessageState.CANCELLED)} == {"1", "2"}


def _claimed_by_a_worker_that_dies(flow: Flow, due: datetime, *, handed_over: bool) -> Any:
    """A worker claims the due message and is killed, after marking the hand-over or before."""
    [claimed] = flow.store.claim_messages(worker_id="dead", lease_seconds=60, now=due)
    if handed_over:
        assert flow.store.hand_over_message(claimed.id, worker_id="dead", lease_seconds=60, now=due)
    return claimed


def test_a_message_handed_over_before_its_worker_died_counts_as_sent_and_is_not_sent_again(
    flow_for: Any,
) -> None:
    flow = flow_for("campaigns:\n" + reminder("umfrage", 1, "transactional"), PAID)
    flow.paid(order("1", paid_at=PAID))
    due = PAID + timedelta(days=1)
    claimed = _claimed_by_a_worker_that_dies(flow, due, handed_over=True)
    # on its way: an unsubscribe, refund or redact arriving now cannot call it back
    assert flow.store.cancel_messages(SHOP, order_id="1", reason="order refunded", now=due) == 0
    if isinstance(flow.store, Store):
        flow.store.redact_customer(SHOP, customer_id="77", email="kim@example.com")
    assert flow.at(due + timedelta(seconds=30)) == {}  # the lease is still the dead worker's
    assert flow.at(due + timedelta(minutes=2)) == {"sent": 1}
    assert flow.sink.received == []
    [row] = flow.rows()
    assert row.state is MessageState.SENT and row.handed_over_at is None
    assert row.message_id == message_id_for(claimed.key, "elektro-krause.de")
    assert row.sent_at == due and "not sent again" in (row.reason or "")
    assert row.email == (None if isinstance(flow.store, Store) else "kim@example.com")


def test_a_message_claimed_by_a_worker_that_died_before_the_hand_over_is_sent_once(
    flow_for: Any,
) -> None:
    flow = flow_for("campaigns:\n" + reminder("umfrage", 1, "transactional"), PAID)
    flow.paid(order("1", paid_at=PAID))
    due = PAID + timedelta(days=1)
    claimed = _claimed_by_a_worker_that_dies(flow, due, handed_over=False)
    assert flow.at(due + timedelta(minutes=2)) == {"sent": 1}
    assert flow.sink.message_ids() == [message_id_for(claimed.key, "elektro-krause.de")]
    # the dead worker's lease is gone: marking it now is refused
    assert not flow.store.hand_over_message(claimed.id, worker_id="dead", now=due)


def test_a_customer_another_worker_writes_to_is_left_out_of_a_claim(flow_for: Any) -> None:
    body = "campaigns:\n" + reminder("a", 1, "transactional") + reminder("b", 1, "transactional")
    flow = flow_for(body, PAID)
    flow.paid(order("1", paid_at=PAID))
    flow.paid(order("2", paid_at=PAID, customer="2", email="jo@example.com"))
    due = PAID + timedelta(days=1)
    store = flow.store
    [first] = store.claim_messages(worker_id="w1", limit=1, lease_seconds=60, now=due)
    others = store.claim_messages(worker_id="w2", limit=10, lease_seconds=60, now=due)
    # w2 gets customer 2's messages, not the other message of w1's customer
    assert {m.customer_key for m in others} == {"2"} and len(others) == 2
    sent = MessageOutcome(MessageState.SENT, message_id="<x@y>", sent_at=due)
    assert store.finish_message(first.id, worker_id="w1", outcome=sent, now=due)
    [rest] = store.claim_messages(worker_id="w2", limit=10, lease_seconds=60, now=due)
    assert rest.customer_key == first.customer_key and rest.id != first.id


def test_two_workers_sweeping_at_once_keep_the_cap_for_every_customer(flow_for: Any) -> None:
    """Five marketing campaigns due on the same day for 20 customers, two workers sweeping at the
    same moment in threads: each customer gets exactly 2 (the cap), never 3."""
    body = "contact_policy:\n  marketing_cap: {max: 2, days: 30}\ncampaigns:\n" + "".join(
        reminder(f"angebot-{n}", 1) for n in range(5)
    )
    flow = flow_for(body, PAID)
    for n in range(20):
        flow.paid(order(str(n), paid_at=PAID, customer=f"c{n}", email=f"k{n}@example.com"))
    other = MessageSender(
        flow.processor, public_url="http://127.0.0.1:8000", environ={}, worker_id="second"
    )
    flow.clock.now = PAID + timedelta(days=1)
    start = threading.Barrier(2)

    def sweep(sender: MessageSender) -> None:
        start.wait()
        for _ in range(200):
            if not sender.sweep(limit=7).claimed:
                return

    try:
        threads = [threading.Thread(target=sweep, args=(s,)) for s in (flow.sender, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        other.close()
    sent = Counter(r.customer_key for r in flow.rows(MessageState.SENT))
    assert sent == {f"c{n}": 2 for n in range(20)}
    assert len(flow.rows(MessageState.HELD_BACK)) == 60
    assert len(flow.sink.received) == 40


GARANTIE_TXT = """{% set subject = "Ihre Garantie für " ~ v.order_number ~ " läuft bald ab" %}
{% extends "mail/layout.txt.j2" %}
{% block content %}
Ihre Bestellung {{ v.order_number }}: {{ v.products | join(", ") }}.
{% if v.link %}{{ v.button }}: {{ v.link }}{% endif %}
{% endblock %}
"""
GARANTIE_HTML = """{% extends "mail/layout.html.j2" %}
{% block content %}
<p>Ihre Bestellung {{ v.order_number }}: {{ v.products | join(", ") }}.</p>
{% if v.link %}<p><a href="{{ v.link }}">{{ v.button }}</a></p>{% endif %}
{% endblock %}
"""


def test_a_custom_follow_up_is_sent_from_the_shops_own_template_with_its_subject(
    tmp_path: Path, flow_for: Any
) -> None:
    folder = tmp_path / "vorlagen" / "follow_up"
    folder.mkdir(parents=True)
    (folder / "garantie.txt.j2").write_text(GARANTIE_TXT, encoding="utf-8")
    (folder / "garantie.html.j2").write_text(GARANTIE_HTML, encoding="utf-8")
    body = """campaigns:
  - id: garantie
    trigger: order_paid
    actions:
      - follow_up:
          kind: custom
          template: garantie
          after: {months: 23}
          purpose: transactional
          link: https://elektro-krause.de/garantie
          link_text: Garantie verlängern
"""
    flow = flow_for(body, PAID, shop="  templates_dir: vorlagen\n")
    hostile = replace(order("1", paid_at=PAID), number="#1<script>alert(1)</script>")
    hostile = replace(
        hostile,
        line_items=(replace(hostile.line_items[0], title='Akku <img src=x onerror="x()">'),),
    )
    flow.paid(hostile)
    assert flow.at(PAID + timedelta(days=31 * 23)) == {"sent": 1}
    [got] = flow.sink.received
    message = got.message
    assert message["Subject"] == "Ihre Garantie für #1<script>alert(1)</script> läuft bald ab"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Garantie verlängern: https://elektro-krause.de/garantie" in text
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert '<a href="https://elektro-krause.de/garantie">Garantie verlängern</a>' in html
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "Kim" in html  # the layout's greeting


@pytest.mark.parametrize("part_seconds", [5.0, 0.0], ids=["one-part", "a-part-per-message"])
def test_a_message_sent_earlier_in_a_sweep_counts_for_the_customers_later_ones(
    flow_for: Any, monkeypatch: pytest.MonkeyPatch, part_seconds: float
) -> None:
    monkeypatch.setattr(mail_sweep, "PART_SECONDS", part_seconds)
    body = "contact_policy:\n  marketing_cap: {max: 2, days: 30}\ncampaigns:\n" + "".join(
        reminder(f"angebot-{n}", 1) for n in range(4)
    )
    flow = flow_for(body, PAID)
    flow.paid(order("1", paid_at=PAID))
    flow.paid(order("2", paid_at=PAID, customer="2", email="jo@example.com"))
    # all eight due at once, claimed in one sweep: two each are sent, the rest held back
    assert flow.at(PAID + timedelta(days=1)) == {"sent": 4, "held_back": 4}
    sent = flow.rows(MessageState.SENT)
    assert sorted(r.customer_key for r in sent) == ["2", "2", "77", "77"]
    assert len(flow.sink.received) == 4
    held = flow.rows(MessageState.HELD_BACK)
    assert all("marketing_cap" in (r.reason or "") for r in held)


def test_a_refusal_at_the_end_of_data_is_recorded_at_once_not_with_the_part(
    flow_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The part's outcomes are recorded together; a message refused after its hand-over mark
    is recorded at once, so a crash before the part is recorded cannot count it as sent."""
    flow = flow_for("campaigns:\n" + reminder("umfrage", 1, "transactional"), PAID)
    flow.paid(order("1", paid_at=PAID))
    flow.paid(order("2", paid_at=PAID, customer="2", email="jo@example.com"))
    flow.sink.data_replies = ["451 4.3.0 try again later"]  # the first end of data
    real = flow.store.finish_messages

    def crash_on_the_part(items: Any, **kw: Any) -> Any:
        if len(items) > 1 or items[0][1].state is MessageState.SENT:
            raise RuntimeError("worker killed before the part was recorded")
        return real(items, **kw)

    monkeypatch.setattr(flow.store, "finish_messages", crash_on_the_part)
    due = PAID + timedelta(days=1)
    flow.clock.now = due
    with pytest.raises(RuntimeError):
        flow.sender.sweep()
    monkeypatch.setattr(flow.store, "finish_messages", real)
    refused = [r for r in flow.rows() if r.state is MessageState.DEFERRED]
    assert len(refused) == 1 and refused[0].handed_over_at is None
    assert "try again later" in (refused[0].reason or "")
    # after the lease: the one accepted is recorded as sent (not sent again), the refused one
    # is sent when its retry is due
    assert flow.at(due + timedelta(minutes=3)) == {"sent": 2}
    assert len(flow.sink.received) == 2
