"""Shop state, stored content, and the privacy duties: export, redact customer, redact shop."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from storage_builders import NOW, SHOP, config, coupon_campaign, decider, order

from aftersale_kit.core.model import EventKind
from aftersale_kit.storage import ShopState, Store

OTHER = "other.myshopify.com"


def seed(store: Store, *, shop: str = SHOP) -> int:
    """An order of customer c1 (anna@example.org): event, decision, coupon, content."""
    store.accept_event(
        shop=shop,
        platform="shopify",
        topic="orders/paid",
        dedupe_key="orders/paid:1",
        received_at=NOW,
        body=json.dumps({"id": 1, "email": "anna@example.org", "name": "Anna"}).encode(),
    )
    [job] = store.jobs(shop=shop)
    assert job.event_id is not None
    store.link_event(job.event_id, order_id="1", customer_key="c1")
    the_order = order("1", customer_id="c1", email="anna@example.org")
    settings_config = config(coupon_campaign())
    if shop == SHOP:
        store.decide_once(
            shop=shop,
            order_id="1",
            event_kind=EventKind.ORDER_PAID,
            customer_key="c1",
            decide=decider(settings_config, the_order),
            now=NOW,
        )
    store.save_blocks(shop, "1", {"blocks": [{"name": "thank_you", "html": "Danke, Anna!"}]})
    return job.event_id


def test_shop_state_follows_install_and_uninstall(store: Store) -> None:
    assert store.shop_state(SHOP) is None
    active = store.set_shop_state(shop=SHOP, platform="shopify", state=ShopState.ACTIVE, now=NOW)
    assert (active.state, active.installed_at, active.uninstalled_at) == (
        ShopState.ACTIVE,
        NOW,
        None,
    )
    later = NOW + timedelta(days=3)
    gone = store.set_shop_state(
        shop=SHOP, platform="shopify", state=ShopState.UNINSTALLED, now=later
    )
    assert (gone.state, gone.installed_at, gone.uninstalled_at) == (
        ShopState.UNINSTALLED,
        NOW,
        later,
    )
    back = store.set_shop_state(
        shop=SHOP, platform="shopify", state=ShopState.ACTIVE, now=later + timedelta(days=1)
    )
    assert (back.state, back.uninstalled_at) == (ShopState.ACTIVE, None)


def test_blocks_are_saved_replaced_and_loaded(store: Store) -> None:
    assert store.load_blocks(SHOP, "1") is None
    store.save_blocks(SHOP, "1", {"v": 1, "text": "Grüße"})
    store.save_blocks(SHOP, "1", {"v": 2, "text": "Grüße"})
    assert store.load_blocks(SHOP, "1") == {"v": 2, "text": "Grüße"}
    assert store.load_blocks(OTHER, "1") is None


def test_export_lists_everything_stored_about_the_customer(store: Store) -> None:
    seed(store)
    exported = store.export_customer(SHOP, customer_id="c1", email="Anna@Example.org")
    assert exported["orders"] == ["1"]
    assert exported["customer"]["keys"] == ["c1", "email:anna@example.org"]
    assert [d["order_id"] for d in exported["decisions"]] == ["1"]
    assert [c["status"] for c in exported["coupons"]] == ["planned"]
    assert [e["entry"] for e in exported["ledger"]] == ["booking"]
    assert "Anna" in exported["events"][0]["body"]
    assert exported["blocks"] == {"1": {"blocks": [{"name": "thank_you", "html": "Danke, Anna!"}]}}
    json.dumps(exported)  # JSON-ready


def test_redacting_a_customer_erases_the_person_and_keeps_the_budget(store: Store) -> None:
    # given a customer with an order, and another customer untouched
    event_id = seed(store)
    # when the customer is redacted
    counts = store.redact_customer(SHOP, customer_id="c1", email="anna@example.org")
    # then the webhook body, content and customer key are gone
    assert counts["events"] == 1 and counts["blocks"] == 1 and counts["ledger"] == 1
    event = store.event(event_id)
    assert event is not None
    assert (event.body, dict(event.headers), event.customer_key) == (b"", {}, None)
    assert event.redacted
    assert store.load_blocks(SHOP, "1") is None
    [entry] = store.ledger(SHOP)
    assert entry.customer_key is not None and entry.customer_key.startswith("redacted:")
    exported = store.export_customer(SHOP, customer_id="c1")
    assert (exported["orders"], exported["decisions"], exported["coupons"]) == ([], [], [])
    # but the campaign's usage still counts, and the event is still recognised as a duplicate
    assert store.counters().usage_count(SHOP, "welcome-back") == 1
    assert not store.accept_event(
        shop=SHOP,
        platform="shopify",
        topic="orders/paid",
        dedupe_key="orders/paid:1",
        received_at=NOW,
        body=b"{}",
    )


def test_redact_needs_a_customer(store: Store) -> None:
    with pytest.raises(ValueError, match="pass customer_id, email or both"):
        store.redact_customer(SHOP)


def test_redacting_a_shop_deletes_only_that_shop(store: Store) -> None:
    seed(store)
    seed(store, shop=OTHER)
    store.set_shop_state(shop=SHOP, platform="shopify", state=ShopState.UNINSTALLED)
    counts = store.redact_shop(SHOP)
    assert counts["events"] == 1 and counts["decisions"] == 1 and counts["shops"] == 1
    assert store.shop_state(SHOP) is None
    assert store.jobs(shop=SHOP) == [] and store.ledger(SHOP) == []
    assert store.export_customer(SHOP, customer_id="c1")["orders"] == []
    assert store.export_customer(OTHER, customer_id="c1")["orders"] == ["1"]


def test_an_email_finds_a_registered_customer_through_the_bodies_still_held(store: Store) -> None:
    # given Anna's order, stored under her customer id c1; her address is in the body only
    seed(store)
    # and another order that quotes her address in a note, not as the buyer's e-mail
    store.accept_event(
        shop=SHOP,
        platform="shopify",
        topic="orders/paid",
        dedupe_key="orders/paid:2",
        received_at=NOW,
        body=json.dumps({"id": 2, "email": "bob@example.org", "note": "anna@example.org"}).encode(),
    )
    # when she asks by e-mail alone (other case)
    exported = store.export_customer(SHOP, email="Anna@Example.org")
    # then her order and decision are found, the note's order is not
    assert exported["orders"] == ["1"]
    assert [d["order_id"] for d in exported["decisions"]] == ["1"]
    assert "c1" in exported["customer"]["keys"]


def test_erasing_twice_erases_once_and_keeps_the_amounts(store: Store) -> None:
    # given Anna's order with its booking of 5.00
    seed(store)
    [booked] = store.ledger(SHOP)
    # when she is erased by e-mail (and the order id), then the same request comes again
    first = store.redact_customer(SHOP, email="anna@example.org", order_ids=["1"])
    [after_first] = store.ledger(SHOP)
    second = store.redact_customer(SHOP, email="anna@example.org", order_ids=["1"])
    # then the first erased her rows, the second found nothing left
    assert (first["events"], first["blocks"], first["decisions"], first["ledger"]) == (1, 1, 1, 1)
    assert (second["events"], second["blocks"], second["decisions"], second["ledger"]) == (
        0,
        0,
        0,
        0,
    )
    # and the booking keeps its amount; its pseudonym did not change on the second request
    [after_second] = store.ledger(SHOP)
    assert (after_second.cost, after_second.currency) == (booked.cost, booked.currency)
    assert booked.cost == Decimal("5.00")
    assert after_second.customer_key == after_first.customer_key != booked.customer_key


def test_redemptions_are_exported_erased_to_a_pseudonym_and_deleted_with_the_shop(
    store: Store,
) -> None:
    from sqlalchemy import select

    from aftersale_kit.core.money import Money
    from aftersale_kit.storage import timeline
    from aftersale_kit.storage.tables import redemptions

    # given Anna's coupon, redeemed by Bob (customer c2) on his order 2
    seed(store)
    [coupon] = store.coupons_for_order(SHOP, "1")
    with store.db.write() as conn:
        recorded = timeline.record_redemption(
            conn,
            shop=SHOP,
            code=coupon.code,
            amount=Money.of("5.00", "EUR"),
            order=order("2", customer_id="c2", email="bob@example.org"),
            redeeming_customer_key="c2",
            at=NOW,
            now=NOW,
        )
    assert recorded is not None
    # when Bob asks for his data, then the redemption is in it, with its amount
    [redeemed] = store.export_customer(SHOP, customer_id="c2")["redemptions"]
    assert (redeemed["redeeming_order_id"], redeemed["currency"]) == ("2", "EUR")
    assert Decimal(redeemed["amount"]) == Decimal("5.00")
    # when Bob is erased, then his key is gone from the redemption, the amount stays
    counts = store.redact_customer(SHOP, customer_id="c2")
    assert counts["redemptions"] == 1
    with store.db.read() as conn:
        row = conn.execute(select(redemptions)).one()._mapping
    assert row["redeeming_customer_key"].startswith("redacted:")
    assert row["issuing_customer_key"] == "c1" and row["amount_micros"] == 5_000_000
    assert store.export_customer(SHOP, customer_id="c2")["redemptions"] == []
    # when the shop is redacted, then the redemption goes with it
    assert store.redact_shop(SHOP)["redemptions"] == 1


def test_order_facts_are_exported_erased_to_a_pseudonym_and_deleted_with_the_shop(
    store: Store,
) -> None:
    from aftersale_kit.core.order_facts import order_facts
    from aftersale_kit.storage import order_facts as facts_rows

    # given Anna's order's facts (her id and address among them) and Bob's
    settings = config(coupon_campaign()).settings
    with store.db.write() as conn:
        for the_order in (
            order("1", customer_id="c1", email="Anna@Example.org"),
            order("2", customer_id="c2", email="bob@example.org"),
        ):
            facts_rows.write(conn, order_facts(the_order, settings), now=NOW)
    # when Anna asks for her data, then her order's facts are in it, and only hers
    [mine] = store.export_customer(SHOP, customer_id="c1")["order_facts"]
    assert (mine["order_id"], mine["customer_id"], mine["email"]) == (
        "1",
        "c1",
        "anna@example.org",
    )
    # when Anna is erased, then who she is goes, the order's figures stay for the results
    assert store.redact_customer(SHOP, customer_id="c1")["order_facts"] == 1
    anna, bob = store.order_facts(SHOP)
    assert anna.customer_key is not None and anna.customer_key.startswith("redacted:")
    assert (anna.customer_id, anna.email, anna.placed_at) == (None, None, NOW)
    assert (bob.customer_key, bob.email) == ("c2", "bob@example.org")
    assert store.export_customer(SHOP, customer_id="c1")["order_facts"] == []
    # and erasing her again finds nothing left to erase
    assert (
        store.redact_customer(SHOP, customer_id="c1", email="anna@example.org")["order_facts"] == 0
    )
    # when the shop is redacted, then the rows go with it
    assert store.redact_shop(SHOP)["order_facts"] == 2
    assert store.order_facts(SHOP) == []
