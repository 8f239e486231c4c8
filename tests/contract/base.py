"""The platform contract: one set of tests every adapter passes against its sandbox over real HTTP.

An adapter joins by writing a harness (the :class:`ContractHarness` protocol below) and a test
module with a subclass of :class:`PlatformContract` and a ``harness`` fixture::

    # tests/contract/test_acme_contract.py
    @pytest.fixture(scope="module")
    def harness() -> Iterator[AcmeHarness]:
        with AcmeHarness() as h:  # starts the sandbox
            yield h

    class TestAcmeContract(PlatformContract):
        pass

The harness knows the platform's sandbox: how to start it, how to build an adapter against it
(right or wrong credentials, fast retry bounds, a short timeout, an address nobody answers), how
to create a paid order there, how to sign a webhook as the platform does, how to inject faults
and how to read back what the adapter did (coupons, content, tags, request counts). The tests
below know only the port (:class:`aftersale_kit.core.platform.Platform`) and the harness.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import pytest

from aftersale_kit.core.campaign import CouponKind, IssueCoupon, ShopSettings
from aftersale_kit.core.decision import PlannedAction
from aftersale_kit.core.errors import (
    MalformedWebhookError,
    NotAuthorizedError,
    NotFoundError,
    PlatformUnavailableError,
    SignatureError,
    UnknownTopicError,
)
from aftersale_kit.core.model import Order
from aftersale_kit.core.money import Money
from aftersale_kit.core.platform import (
    CUSTOMER_ORDERS_COUNT,
    LINE_ITEMS_PRODUCT_TYPE,
    ConfirmationContent,
    CouponSpec,
    CustomerLoyalty,
    MarketingConsent,
    Platform,
    WebhookKind,
    coupon_spec,
    note_marker,
)

__all__ = ["ContractHarness", "Delivery", "PlatformContract"]

#: A webhook as the platform sends it: headers and the raw body.
Delivery = tuple[dict[str, str], bytes]


class ContractHarness(Protocol):
    """What a platform's test harness provides to the shared contract tests.

    All ids are the neutral ids the adapter reports (strings). Inspection methods read the
    sandbox's own records (its Python control API), never the adapter.
    """

    @property
    def platform(self) -> str:
        """The platform name, as ``Platform.name``."""
        ...

    @property
    def settings(self) -> ShopSettings:
        """Shop settings of the sandbox shop (domain, currency, ...)."""
        ...

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every credential the adapter holds (tokens, keys, webhook secrets): none may ever
        appear in an error message or a log record."""
        ...

    @property
    def unknown_topic(self) -> str:
        """A platform topic the product does not handle (e.g. ``products/update``)."""
        ...

    @property
    def paid_topic(self) -> str:
        """The topic of a paid-order delivery (``orders/paid``, ``order.updated``)."""
        ...

    @property
    def orders_page_size(self) -> int:
        """How many orders ``orders_since`` reads per page (the paging test creates more)."""
        ...

    def adapter(
        self,
        *,
        wrong_token: bool = False,
        unreachable: bool = False,
        timeout: float = 5.0,
        max_attempts: int = 3,
        max_total_wait: float = 3.0,
    ) -> Platform:
        """A fresh adapter for the sandbox shop, with fast retry bounds (delays <= 0.1 s).

        ``wrong_token``: credentials the sandbox refuses; ``unreachable``: an address where no
        server listens; ``timeout``: seconds per attempt.
        """
        ...

    def create_paid_order(
        self,
        *,
        customer_orders: int = 1,
        product_type: str = "Kaffee",
        guest: bool = False,
        email: str | None = None,
        customer_note: str | None = None,
    ) -> str:
        """A paid order whose customer has ``customer_orders`` orders (this one included) and
        whose line item's product has ``product_type``, with the ``customer_note`` the customer
        wrote at checkout; returns the order id."""
        ...

    def order_webhook(self, order_id: str, *, delivery: int = 0) -> Delivery:
        """The signed paid-order delivery for the order; ``delivery`` > 0 is a redelivery of the
        same platform event (same event, another delivery)."""
        ...

    def signed_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """Headers of a correctly signed delivery of ``body`` on ``topic``."""
        ...

    def inject(self, fault: str, *, count: int, retry_after: float = 0.2) -> None:
        """The next ``count`` API requests fail: ``"5xx"``, ``"429"`` (with ``Retry-After``) or
        ``"timeout"`` (connection held without answer); ``count`` < 0: every request."""
        ...

    def clear_faults(self) -> None: ...

    def api_requests(self) -> int:
        """API requests the sandbox has received so far (control calls excluded)."""
        ...

    def coupons(self, code: str) -> list[Mapping[str, Any]]:
        """Coupons on the sandbox with this code (case-insensitive); each has ``active``."""
        ...

    def content(self, order_id: str) -> str:
        """The confirmation content stored on the order, as stored (JSON or HTML text)."""
        ...

    def order_tags(self, order_id: str) -> set[str]: ...

    def staff_notes(self, order_id: str) -> list[str]:
        """What the shop's staff read as the order's notes, one entry per line or note (Shopify:
        the lines of the order note; WooCommerce: the private order notes)."""
        ...

    def customer_note(self, order_id: str) -> str:
        """Where the customer's checkout note is kept (Shopify: the order note, which staff
        notes are appended to; WooCommerce: the order's ``customer_note``)."""
        ...

    def customer_loyalty(self, customer_id: str) -> list[Mapping[str, Any]]:
        """Every loyalty document stored on the customer (decoded JSON), where a theme reads
        it (Shopify: the app's customer metafield; WooCommerce: the user meta)."""
        ...

    def marketing_consent(self, customer_id: str) -> tuple[bool, str | None]:
        """The customer's e-mail marketing consent as the platform keeps it: subscribed or not,
        and the time of the consent (ISO 8601, UTC) where one is kept."""
        ...

    def customer_tags(self, customer_id: str) -> list[str]:
        """The customer's tags as the platform keeps them (a theme gates pages by them)."""
        ...


def _planned(code: str, *, kind: CouponKind = CouponKind.PERCENTAGE) -> PlannedAction:
    value = Decimal(0) if kind is CouponKind.FREE_SHIPPING else Decimal(10)
    return PlannedAction(
        campaign_id="thanks",
        action=IssueCoupon(kind=kind, value=value, valid_days=30, minimum_order=Decimal(20)),
        idempotency_key=f"contract:{code}",
        cost=Money(Decimal(5), "EUR"),
        coupon_code=code,
    )


class PlatformContract:
    """The shared contract. Subclasses (``Test<Platform>Contract``) provide a ``harness``
    fixture; everything else is here."""

    @pytest.fixture(autouse=True)
    def _clean_faults(self, harness: ContractHarness) -> Iterator[None]:
        harness.clear_faults()
        yield
        harness.clear_faults()

    @pytest.fixture
    def adapter(self, harness: ContractHarness) -> Platform:
        return harness.adapter()

    def _spec(self, harness: ContractHarness, order: Order, code: str, **kw: Any) -> CouponSpec:
        now = datetime.now(UTC).replace(microsecond=0)
        return coupon_spec(_planned(code, **kw), order, harness.settings, now)

    # -- webhooks -----------------------------------------------------------------------------

    def test_signed_paid_order_webhook_is_an_order_event_with_a_stable_key(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        # given a paid order and its delivery, and a redelivery of the same event
        order_id = harness.create_paid_order()
        headers, body = harness.order_webhook(order_id)
        again_headers, again_body = harness.order_webhook(order_id, delivery=1)
        # when both are verified
        hook = adapter.verify_webhook(headers, body)
        again = adapter.verify_webhook(again_headers, again_body)
        # then both are the ORDER_PAID event of that order with one dedupe key
        assert hook.platform == harness.platform == adapter.name
        assert hook.kind is WebhookKind.ORDER_PAID
        assert hook.order is not None and hook.order.id == order_id
        assert hook.dedupe_key and again.dedupe_key == hook.dedupe_key
        assert hook.order_event(now=datetime.now(UTC)) is not None

    def test_forged_signature_is_refused(self, harness: ContractHarness, adapter: Platform) -> None:
        headers, body = harness.order_webhook(harness.create_paid_order())
        tampered = body.replace(b"1", b"2", 1) if b"1" in body else body + b" "
        with pytest.raises(SignatureError):
            adapter.verify_webhook(headers, tampered)
        forged = {k: v for k, v in headers.items()}
        for name in forged:
            if "signature" in name.lower() or "hmac" in name.lower():
                forged[name] = "bm90IHRoZSBzaWduYXR1cmU="
        with pytest.raises(SignatureError):
            adapter.verify_webhook(forged, body)

    def test_body_not_json_is_malformed(self, harness: ContractHarness, adapter: Platform) -> None:
        body = b"<html>not json</html>"
        with pytest.raises(MalformedWebhookError):
            adapter.verify_webhook(harness.signed_webhook(harness.paid_topic, body), body)

    def test_unknown_topic(self, harness: ContractHarness, adapter: Platform) -> None:
        body = json.dumps({"id": 1}).encode()
        with pytest.raises(UnknownTopicError):
            adapter.verify_webhook(harness.signed_webhook(harness.unknown_topic, body), body)

    # -- failures -----------------------------------------------------------------------------

    def test_wrong_token_is_not_authorized(self, harness: ContractHarness) -> None:
        order_id = harness.create_paid_order()
        with pytest.raises(NotAuthorizedError) as err:
            harness.adapter(wrong_token=True).fetch_order(order_id)
        assert err.value.platform == harness.platform
        assert not any(s in str(err.value) for s in harness.secrets)

    def test_unknown_order_is_not_found(self, adapter: Platform) -> None:
        with pytest.raises(NotFoundError):
            adapter.fetch_order("987654321")

    def test_outage_is_unavailable_after_bounded_retries(self, harness: ContractHarness) -> None:
        order_id = harness.create_paid_order()
        before = harness.api_requests()
        harness.inject("5xx", count=-1)
        with pytest.raises(PlatformUnavailableError):
            harness.adapter(max_attempts=3).fetch_order(order_id)
        assert harness.api_requests() - before == 3

    def test_stopped_server_is_unavailable(self, harness: ContractHarness) -> None:
        with pytest.raises(PlatformUnavailableError):
            harness.adapter(unreachable=True, max_attempts=2).fetch_order("1")

    def test_429_with_retry_after_then_recovery(self, harness: ContractHarness) -> None:
        order_id = harness.create_paid_order()
        harness.inject("429", count=1, retry_after=0.2)
        order = harness.adapter().fetch_order(order_id)
        assert order.id == order_id

    @pytest.mark.slow
    def test_timeout_is_unavailable_quickly_and_recovers(self, harness: ContractHarness) -> None:
        order_id = harness.create_paid_order()
        harness.inject("timeout", count=-1)
        started = datetime.now(UTC)
        with pytest.raises(PlatformUnavailableError):
            harness.adapter(timeout=0.3, max_attempts=2).fetch_order(order_id)
        assert datetime.now(UTC) - started < timedelta(seconds=3)
        harness.clear_faults()
        harness.inject("timeout", count=1)
        assert harness.adapter(timeout=0.3).fetch_order(order_id).id == order_id

    # -- coupons ------------------------------------------------------------------------------

    def test_create_coupon_is_idempotent(self, harness: ContractHarness, adapter: Platform) -> None:
        # given an order and the engine's coupon for it
        order = adapter.fetch_order(harness.create_paid_order())
        spec = self._spec(harness, order, "AK-CONTRACT-ONE")
        # when it is created five times
        refs = [adapter.create_coupon(spec) for _ in range(5)]
        # then the platform holds one coupon, and only the first call created it
        assert [r.created for r in refs] == [True, False, False, False, False]
        assert len({r.platform_id for r in refs}) == 1
        assert all(r.code.lower() == spec.code.lower() for r in refs)
        found = harness.coupons(spec.code)
        assert len(found) == 1 and found[0]["active"]

    def test_free_shipping_coupon_for_a_guest(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        order = adapter.fetch_order(harness.create_paid_order(guest=True))
        assert order.is_guest
        spec = self._spec(harness, order, "AK-CONTRACT-SHIP", kind=CouponKind.FREE_SHIPPING)
        first = adapter.create_coupon(spec)
        second = adapter.create_coupon(spec)
        assert first.created and not second.created
        assert len(harness.coupons(spec.code)) == 1

    def test_deactivate_coupon_is_idempotent(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        order = adapter.fetch_order(harness.create_paid_order())
        spec = self._spec(harness, order, "AK-CONTRACT-BACK")
        adapter.create_coupon(spec)
        adapter.deactivate_coupon(spec.code)
        adapter.deactivate_coupon(spec.code)
        adapter.deactivate_coupon("AK-NEVER-ISSUED")
        found = harness.coupons(spec.code)
        assert len(found) <= 1 and not any(c["active"] for c in found)

    # -- order writes -------------------------------------------------------------------------

    def test_write_content_is_visible_on_the_platform(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        order_id = harness.create_paid_order()
        order = adapter.fetch_order(order_id)
        marker = "Danke-fuer-Ihren-Einkauf-4711"
        content = ConfirmationContent(
            blocks=({"type": "thank_you", "headline": marker},),
            html=f"<p>{marker}</p>",
            text=marker,
            locale="de",
        )
        adapter.write_content(order, content)
        adapter.write_content(order, content)  # replaces, never duplicates
        stored = harness.content(order_id)
        assert marker in stored

    def test_tag_order(self, harness: ContractHarness, adapter: Platform) -> None:
        order_id = harness.create_paid_order()
        order = adapter.fetch_order(order_id)
        adapter.tag_order(order, ["vip", "free-gift"])
        adapter.tag_order(order, ["vip"])
        assert {"vip", "free-gift"} <= harness.order_tags(order_id)

    def test_staff_note_is_written_once_per_key_and_keeps_the_customers_note(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        # given a paid order on which the customer left a note at checkout
        customer = "Bitte beim Nachbarn (Nr. 12) abgeben"
        order_id = harness.create_paid_order(customer_note=customer)
        order = adapter.fetch_order(order_id)
        gift = "Probierpäckchen Espresso Crema (50 g) beilegen"
        # when the gift's note is written, then again, and again by another adapter (a retry in
        # another worker), and a second gift's note follows under another key
        written = [
            adapter.add_order_note(order, text=gift, key="contract:order:gift:0"),
            adapter.add_order_note(order, text=gift, key="contract:order:gift:0"),
            harness.adapter().add_order_note(order, text=gift, key="contract:order:gift:0"),
            adapter.add_order_note(order, text="Kopfhörer beilegen", key="contract:order:gift:1"),
        ]
        notes = harness.staff_notes(order_id)
        # then the first call wrote, the repeats found it, the second key wrote its own
        assert written == [True, False, False, True]
        ours = [n for n in notes if gift in n]
        assert ours == [f"{gift} {note_marker('contract:order:gift:0')}"]
        assert len([n for n in notes if "Kopfhörer beilegen" in n]) == 1
        # and the customer's note is still there, first, as written
        assert harness.customer_note(order_id).startswith(customer)

    def test_staff_note_on_a_missing_order_is_not_found(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        order = adapter.fetch_order(harness.create_paid_order())
        ghost = replace(order, id="987654321", platform_ref=())
        with pytest.raises(NotFoundError):
            adapter.add_order_note(ghost, text="Geschenk beilegen", key="contract:ghost:0")

    def test_staff_note_outage_is_unavailable(self, harness: ContractHarness) -> None:
        order = harness.adapter().fetch_order(harness.create_paid_order())
        harness.inject("5xx", count=-1)
        with pytest.raises(PlatformUnavailableError):
            harness.adapter(max_attempts=2).add_order_note(
                order, text="Geschenk beilegen", key="contract:outage:0"
            )
        harness.clear_faults()
        assert harness.adapter().add_order_note(
            order, text="Geschenk beilegen", key="contract:outage:0"
        )

    # -- reads --------------------------------------------------------------------------------

    @pytest.mark.parametrize("count", [1, 3])
    def test_fetch_and_enrich(self, harness: ContractHarness, count: int) -> None:
        order_id = harness.create_paid_order(customer_orders=count, product_type="Kaffee")
        fields = frozenset({CUSTOMER_ORDERS_COUNT, LINE_ITEMS_PRODUCT_TYPE})
        # fetched with enrichment
        fetched = harness.adapter().fetch_order(order_id, enrich=fields)
        assert fetched.customer is not None and fetched.customer.orders_count == count
        assert [li.product_type for li in fetched.line_items] == ["Kaffee"]
        # fetched plain (unknown), then enriched
        adapter = harness.adapter()
        plain = adapter.fetch_order(order_id)
        assert plain.customer is not None
        enriched = adapter.enrich(plain, fields)
        assert enriched.customer is not None and enriched.customer.orders_count == count
        assert [li.product_type for li in enriched.line_items] == ["Kaffee"]

    def test_no_call_when_no_enrichment_is_needed(self, harness: ContractHarness) -> None:
        adapter = harness.adapter()
        order = adapter.fetch_order(harness.create_paid_order())
        before = harness.api_requests()
        assert adapter.enrich(order, frozenset()) == order
        assert adapter.enrich(order, frozenset({"order.total", "customer.email"})) == order
        assert harness.api_requests() == before

    @pytest.mark.slow
    def test_orders_since_pages_through_every_order(self, harness: ContractHarness) -> None:
        since = datetime.now(UTC) - timedelta(seconds=5)
        created = {harness.create_paid_order() for _ in range(harness.orders_page_size + 2)}
        before = harness.api_requests()
        seen = [o.id for o in harness.adapter().orders_since(since)]
        assert created <= set(seen)
        assert len(seen) == len(set(seen))
        assert harness.api_requests() - before >= 2  # more than one page

    # -- secrets ------------------------------------------------------------------------------

    def test_no_secret_in_errors_or_logs(
        self, harness: ContractHarness, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        email = "geheim.kundin@example.org"
        order_id = harness.create_paid_order(email=email)
        messages: list[str] = []
        attempts: Sequence[Any] = (
            lambda: harness.adapter(wrong_token=True).fetch_order(order_id),
            lambda: harness.adapter(unreachable=True, max_attempts=2).fetch_order(order_id),
            lambda: harness.adapter().fetch_order("987654321"),
        )
        for attempt in attempts:
            with pytest.raises(Exception) as err:
                attempt()
            messages.append(str(err.value))
        harness.inject("5xx", count=-1)
        with pytest.raises(PlatformUnavailableError) as err5:
            harness.adapter(max_attempts=2).fetch_order(order_id)
        messages.append(str(err5.value))
        harness.clear_faults()
        adapter = harness.adapter()
        order = adapter.fetch_order(order_id, enrich=frozenset({CUSTOMER_ORDERS_COUNT}))
        adapter.create_coupon(self._spec(harness, order, "AK-CONTRACT-LOGS"))
        logged = [r.getMessage() for r in caplog.records]
        # a coupon code is redeemable: logs name the platform's id, never the code
        assert not any("ak-contract-logs" in text.lower() for text in logged), logged
        messages += logged
        for text in messages:
            assert not any(secret in text for secret in harness.secrets), text
            assert email not in text, text

    # -- customer loyalty ---------------------------------------------------------------------

    def _customer_id(self, harness: ContractHarness, adapter: Platform) -> str:
        order = adapter.fetch_order(harness.create_paid_order())
        assert order.customer is not None
        return order.customer.id

    def test_customer_loyalty_is_kept_once_and_replaced(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        # given a customer and their balance and tier
        customer = self._customer_id(harness, adapter)
        silver = CustomerLoyalty(
            balance=640,
            pending=120,
            tier="Silber",
            next_tier="Gold",
            to_next_tier=Decimal("120.00"),
            tier_basis="spend",
            currency="EUR",
        )
        # when it is written twice (a retry), then again after the customer reached Gold
        written = [
            adapter.write_customer_loyalty(customer, silver),
            adapter.write_customer_loyalty(customer, silver),
        ]
        assert harness.customer_loyalty(customer) == [silver.to_json_value()]
        gold = replace(silver, balance=15, tier="Gold", next_tier=None, to_next_tier=None)
        written.append(harness.adapter().write_customer_loyalty(customer, gold))
        # then each call wrote, and the customer holds one document: the latest
        assert written == [True, True, True]
        assert harness.customer_loyalty(customer) == [gold.to_json_value()]
        assert harness.customer_loyalty(customer)[0]["balance"] == 15

    def test_customer_loyalty_of_a_guest_is_no_call(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        value = CustomerLoyalty(balance=10, currency="EUR")
        before = harness.api_requests()
        results = [
            adapter.write_customer_loyalty(None, value),
            adapter.write_customer_loyalty("", value),
            adapter.write_customer_loyalty("email:gast@example.org", value),
        ]
        assert results == [False, False, False]
        assert harness.api_requests() == before

    def test_customer_loyalty_of_an_unknown_customer_is_not_found(self, adapter: Platform) -> None:
        with pytest.raises(NotFoundError):
            adapter.write_customer_loyalty("987654321", CustomerLoyalty(balance=1, currency="EUR"))

    def test_marketing_consent_is_written_to_the_customer(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        # given a customer who has not subscribed
        customer = self._customer_id(harness, adapter)
        assert harness.marketing_consent(customer)[0] is False
        at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
        consent = MarketingConsent(
            opted_in=True, at=at, source="thank_you", text_version="newsletter-v1"
        )
        # when the confirmed double opt-in is written twice (a retry)
        written = [
            adapter.record_marketing_consent(customer, "kim@example.com", consent),
            adapter.record_marketing_consent(customer, "kim@example.com", consent),
        ]
        # then the customer is subscribed as of the confirmation
        assert written == [True, True]
        subscribed, when = harness.marketing_consent(customer)
        assert subscribed is True
        assert when is not None and datetime.fromisoformat(when) == at

    def test_marketing_consent_withdrawal_unsubscribes_the_customer(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        # given a subscribed customer
        customer = self._customer_id(harness, adapter)
        opted_in = MarketingConsent(
            opted_in=True, at=datetime(2026, 3, 2, tzinfo=UTC), source="thank_you",
            text_version="newsletter-v1",
        )  # fmt: skip
        assert adapter.record_marketing_consent(customer, "kim@example.com", opted_in)
        # when an unsubscribe's withdrawal is written twice (a retry)
        at = datetime(2026, 4, 1, 8, 15, tzinfo=UTC)
        withdrawn = MarketingConsent(
            opted_in=False, at=at, source="unsubscribe_link", text_version="newsletter-v1"
        )
        written = [
            adapter.record_marketing_consent(customer, "kim@example.com", withdrawn)
            for _ in range(2)
        ]
        # then the customer is unsubscribed as of the unsubscribe
        assert written == [True, True]
        subscribed, when = harness.marketing_consent(customer)
        assert subscribed is False
        assert when is not None and datetime.fromisoformat(when) == at

    def test_marketing_consent_of_a_guest_or_unknown_customer_is_not_written(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        consent = MarketingConsent(
            opted_in=True, at=datetime(2026, 3, 2, tzinfo=UTC), source="email", text_version="v1"
        )
        assert adapter.record_marketing_consent(None, "a@example.com", consent) is False
        assert adapter.record_marketing_consent("987654321", "a@example.com", consent) is False

    def test_customer_tags_are_added_once_and_others_stay(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        customer = self._customer_id(harness, adapter)
        before = harness.customer_tags(customer)
        # when the pre-sale tag is added three times (a retried job), then another
        written = [adapter.tag_customer(customer, ["vip-presale-fruehjahr"]) for _ in range(3)]
        written.append(adapter.tag_customer(customer, ["vip-presale-sommer"]))
        # then each tag is there once, after the customer's own
        assert written == [True, True, True, True]
        after = harness.customer_tags(customer)
        assert after == [*before, "vip-presale-fruehjahr", "vip-presale-sommer"]

    def test_customer_tags_are_removed_and_others_stay(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        customer = self._customer_id(harness, adapter)
        before = harness.customer_tags(customer)
        assert adapter.tag_customer(customer, ["vip-presale-herbst", "stammkunde-x"])
        # (Shopify's GraphQL answers a customer's tags sorted)
        assert sorted(adapter.customer_tags(customer) or []) == sorted(
            harness.customer_tags(customer)
        )
        # when the pre-sale tag is removed twice (a retried job)
        removed = [adapter.untag_customer(customer, ["vip-presale-herbst"]) for _ in range(2)]
        # then it is gone, and only it
        assert removed == [True, True]
        assert harness.customer_tags(customer) == [*before, "stammkunde-x"]
        assert sorted(adapter.customer_tags(customer) or []) == sorted([*before, "stammkunde-x"])

    def test_customer_tags_of_a_guest_or_unknown_customer_are_not_written(
        self, adapter: Platform
    ) -> None:
        assert adapter.tag_customer(None, ["vip"]) is False
        assert adapter.tag_customer("email:kim@example.com", ["vip"]) is False
        assert adapter.tag_customer("987654321", ["vip"]) is False
        assert adapter.untag_customer(None, ["vip"]) is False
        assert adapter.untag_customer("email:kim@example.com", ["vip"]) is False
        assert adapter.untag_customer("987654321", ["vip"]) is False
        assert adapter.customer_tags(None) is None
        assert adapter.customer_tags("987654321") is None

    def test_customer_loyalty_outage_is_unavailable(
        self, harness: ContractHarness, adapter: Platform
    ) -> None:
        customer = self._customer_id(harness, adapter)
        value = CustomerLoyalty(balance=99, currency="EUR")
        harness.inject("5xx", count=-1)
        with pytest.raises(PlatformUnavailableError):
            harness.adapter(max_attempts=2).write_customer_loyalty(customer, value)
        harness.clear_faults()
        assert harness.adapter().write_customer_loyalty(customer, value)
        assert harness.customer_loyalty(customer) == [value.to_json_value()]
