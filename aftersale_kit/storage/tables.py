"""The schema, as SQLAlchemy Core tables. Alembic migrations create exactly this (a test compares).

Conventions: every row belongs to a shop (``shop`` is the shop's domain, e.g.
``example.myshopify.com``); ids are strings except the surrogate keys; JSON is stored as text
written by :mod:`aftersale_kit.storage.codec`; money is an integer of millionths
(``cost_micros``) so that sums are exact on both engines; timestamps are UTC, timezone-aware in
Python (``timestamptz`` on PostgreSQL, ISO text on SQLite).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "auth_requests",
    "blocks",
    "closures",
    "consents",
    "coupons",
    "credentials",
    "decisions",
    "events",
    "jobs",
    "ledger",
    "link_nonces",
    "loyalty_accounts",
    "loyalty_cards",
    "loyalty_events",
    "loyalty_movements",
    "loyalty_redemptions",
    "messages",
    "metadata",
    "order_facts",
    "order_keys",
    "quarantine",
    "redemptions",
    "refunds",
    "shops",
    "suppressions",
    "survey_answers",
]


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both engines; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"timestamp {value.isoformat()} has no timezone; pass an aware datetime, "
                "e.g. datetime.now(UTC)"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# BIGINT surrogate keys on PostgreSQL; SQLite only auto-increments an "INTEGER PRIMARY KEY".
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

shops = Table(
    "shops",
    metadata,
    Column("shop", String(255), nullable=False),
    Column("platform", String(32), nullable=False),
    #: ``active`` or ``uninstalled`` (:class:`~aftersale_kit.storage.records.ShopState`).
    Column("state", String(16), nullable=False),
    Column("installed_at", UtcDateTime(), nullable=True),
    Column("uninstalled_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("shop"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("topic", String(128), nullable=False),
    #: Stable over redeliveries; composed by the adapter (e.g. topic and event id).
    Column("dedupe_key", String(512), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("body", LargeBinary(), nullable=False),
    #: JSON object of the headers the adapter keeps (signature, ids, timestamps).
    Column("headers", Text(), nullable=False),
    Column("order_id", String(64), nullable=True),
    Column("customer_key", String(320), nullable=True),
    Column("redacted_at", UtcDateTime(), nullable=True),
    UniqueConstraint("shop", "dedupe_key"),
    Index(None, "shop", "order_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("idempotency_key", String(512), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("event_id", BigInteger(), nullable=True),
    #: ``pending``, ``claimed``, ``done`` or ``dead``.
    Column("status", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("max_attempts", Integer(), nullable=False),
    Column("run_at", UtcDateTime(), nullable=False),
    Column("locked_by", String(128), nullable=True),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    UniqueConstraint("shop", "idempotency_key"),
    Index(None, "status", "run_at"),
    Index(None, "status", "locked_until"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("event_kind", String(32), nullable=False),
    Column("customer_key", String(320), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=False),
    #: The :class:`~aftersale_kit.core.decision.Decision` as JSON.
    Column("body", Text(), nullable=False),
    #: Which of several events of one kind (the refund id of a ``refund_created``), else "".
    Column("ref", String(64), nullable=False, server_default=""),
    UniqueConstraint("shop", "order_id", "event_kind", "ref"),
    Index(None, "shop", "customer_key"),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("campaign_id", String(128), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("decision_id", BigInteger(), nullable=False),
    Column("customer_key", String(320), nullable=True),
    #: ``booking`` (+1 use, +cost) or ``reversal`` (-1 use, -cost).
    Column("entry", String(16), nullable=False),
    Column("uses", Integer(), nullable=False),
    Column("cost_micros", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=False),
    #: When the cost counts (a reversal repeats its booking's time, so it nets out in that
    #: budget period).
    Column("booked_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("reason", Text(), nullable=True),
    #: A booking's step (its decision's ``ref``), a reversal's booking ref, a rebooking's
    #: coupon key.
    Column("ref", String(512), nullable=False, server_default=""),
    UniqueConstraint("shop", "order_id", "campaign_id", "entry", "ref"),
    Index(None, "shop", "campaign_id", "booked_at"),
    Index(None, "shop", "campaign_id", "customer_key"),
)

coupons = Table(
    "coupons",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("campaign_id", String(128), nullable=False),
    #: The planned action's key (``shop:order:campaign:index``).
    Column("idempotency_key", String(512), nullable=False),
    Column("code", String(255), nullable=False),
    #: ``code`` in lower case: how redemptions find it (WooCommerce lower-cases codes).
    Column("code_key", String(255), nullable=False, server_default=""),
    Column("platform_id", String(255), nullable=True),
    #: ``planned``, ``issued``, ``used`` or ``deactivated``.
    Column("status", String(16), nullable=False),
    Column("customer_key", String(320), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("shop", "idempotency_key"),
    Index(None, "shop", "order_id"),
    Index(None, "shop", "code"),
    Index(None, "shop", "code_key"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("refund_id", String(64), nullable=False),
    Column("amount_micros", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=False),
    #: JSON list of ``[line_item_id, quantity, subtotal or null]``; NULL: lines unknown.
    Column("lines", Text(), nullable=True),
    Column("shipping_micros", BigInteger(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
    UniqueConstraint("shop", "order_id", "refund_id"),
)

closures = Table(
    "closures",
    metadata,
    Column("shop", String(255), nullable=False),
    Column("order_id", String(64), nullable=False),
    #: Why: ``order_cancelled`` or ``refunded``.
    Column("reason", String(32), nullable=False),
    Column("closed_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("shop", "order_id"),
)

redemptions = Table(
    "redemptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("code", String(255), nullable=False),
    #: The issued coupon's key (``coupons.idempotency_key``).
    Column("coupon_key", String(512), nullable=False),
    Column("campaign_id", String(128), nullable=False),
    Column("issuing_order_id", String(64), nullable=False),
    Column("issuing_customer_key", String(320), nullable=True),
    Column("redeeming_order_id", String(64), nullable=False),
    Column("redeeming_customer_key", String(320), nullable=True),
    Column("amount_micros", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("redeemed_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    #: Set when the redeeming order was cancelled or refunded in full (cost given back).
    Column("reversed_at", UtcDateTime(), nullable=True),
    UniqueConstraint("shop", "coupon_key", "redeeming_order_id"),
    Index(None, "shop", "campaign_id", "redeemed_at"),
    Index(None, "shop", "redeeming_order_id"),
    #: A customer's care cost (``r0010_results``).
    Index(None, "shop", "redeeming_customer_key"),
)

blocks = Table(
    "blocks",
    metadata,
    Column("shop", String(255), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("shop", "order_id"),
)

#: Signed deliveries on order topics whose body is not a usable order (see
#: :mod:`aftersale_kit.storage.quarantine`): kept outside the job queue until replayed.
quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("topic", String(128), nullable=False),
    #: A digest of the body: a redelivery of the same body is the same row.
    Column("dedupe_key", String(512), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("body", LargeBinary(), nullable=False),
    #: JSON object of the platform headers (the signature too: a replay verifies again).
    Column("headers", Text(), nullable=False),
    Column("replayed_at", UtcDateTime(), nullable=True),
    UniqueConstraint("shop", "dedupe_key"),
)

#: WooCommerce order keys from the webhooks: thank-you page tokens are checked against these.
order_keys = Table(
    "order_keys",
    metadata,
    Column("shop", String(255), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("order_key", String(128), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("shop", "order_id"),
)

#: API credentials a shop's connection produced (tokens, keys), each a Fernet token (text) that
#: only the service's key opens (:mod:`aftersale_kit.storage.credentials`); never plaintext.
credentials = Table(
    "credentials",
    metadata,
    Column("shop", String(255), nullable=False),
    #: What it is: ``access_token`` (Shopify) or ``rest_keys`` (WooCommerce).
    Column("kind", String(32), nullable=False),
    Column("ciphertext", Text(), nullable=False),
    #: When the platform stops accepting it; ``None``: until revoked.
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("shop", "kind"),
)

#: Pending connection requests (OAuth ``state``, WooCommerce ``user_id``): single use.
auth_requests = Table(
    "auth_requests",
    metadata,
    Column("nonce", String(64), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("shop", String(255), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    PrimaryKeyConstraint("nonce"),
)

# -- loyalty (docs/loyalty.md) ----------------------------------------------------------------

#: One account per (shop, customer): ``account`` is the program's key (the platform customer id,
#: or ``email:<address>`` for a guest). ``account``, ``customer_id`` and ``email`` are the only
#: personal data; redaction replaces the key by a pseudonym and clears the other two, the
#: amounts stay (they are the shop's liability). ``pending``/``available``/``debt`` are the
#: running totals, checked against the journal's sums (:func:`.loyalty.check`); ``state`` is what
#: the journal replays to (JSON, :mod:`._loyalty_snapshot`), written with every booking.
loyalty_accounts = Table(
    "loyalty_accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("account", String(320), nullable=False),
    Column("customer_id", String(64), nullable=True),
    Column("email", String(320), nullable=True),
    Column("pending", BigInteger(), nullable=False),
    Column("available", BigInteger(), nullable=False),
    Column("debt", BigInteger(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("redacted_at", UtcDateTime(), nullable=True),
    Column("state", Text(), nullable=True),
    UniqueConstraint("shop", "account"),
)

#: The append-only journal: one row per booked movement (``core.loyalty.ledger.Booking``).
loyalty_movements = Table(
    "loyalty_movements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("account_id", BigInteger(), nullable=False),
    #: The movement's idempotency key (``earn:<order>``, ``release:<grant>``, ...).
    Column("key", String(512), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("points", BigInteger(), nullable=False),
    Column("pending_delta", BigInteger(), nullable=False),
    Column("available_delta", BigInteger(), nullable=False),
    Column("source", String(16), nullable=False),
    Column("ref", String(512), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("grant_key", String(512), nullable=True),
    Column("release_at", UtcDateTime(), nullable=True),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("coupon", String(255), nullable=True),
    #: The order's merchandise value for tiers by spend (earned: +, reversed: the share -).
    Column("spend_micros", BigInteger(), nullable=True),
    #: The tier an earning was computed with (a reversal uses the same).
    Column("tier", String(128), nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("booked_at", UtcDateTime(), nullable=False),
    UniqueConstraint("shop", "account_id", "key"),
    Index(None, "account_id", "id"),
)

#: One stamp card's state per account (JSON of ``core.loyalty.stamps.CardState``).
loyalty_cards = Table(
    "loyalty_cards",
    metadata,
    Column("account_id", BigInteger(), nullable=False),
    Column("card", String(128), nullable=False),
    Column("shop", String(255), nullable=False),
    Column("state", Text(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("account_id", "card"),
)

#: Redemptions: the points spent and the coupon bought with them (its life is in ``coupons``
#: under ``coupon_key``). ``state``: ``active`` or ``cancelled`` (the points came back).
loyalty_redemptions = Table(
    "loyalty_redemptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("account_id", BigInteger(), nullable=False),
    #: The ``redeemed`` movement's key (``redeem:<request>``).
    Column("key", String(512), nullable=False),
    Column("option_id", String(128), nullable=False),
    Column("points", BigInteger(), nullable=False),
    Column("coupon_code", String(255), nullable=False),
    Column("coupon_key", String(512), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("shop", "key"),
    UniqueConstraint("shop", "coupon_key"),
)

#: Events for follow-up messages (``expiry_reminder``), once per ``key``; a later sender reads them.
loyalty_events = Table(
    "loyalty_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("account_id", BigInteger(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(512), nullable=False),
    Column("points", BigInteger(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    UniqueConstraint("shop", "key"),
    Index(None, "shop", "kind", "sent_at"),
)


#: Spent link tokens (``mail.tokens``): a nonce is recorded once, which makes a link single-use.
link_nonces = Table(
    "link_nonces",
    metadata,
    Column("shop", String(255), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("used_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("shop", "nonce"),
)

#: One survey answer per order: the one-click rating, then the short form (``answered_at``).
survey_answers = Table(
    "survey_answers",
    metadata,
    Column("shop", String(255), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("rating", Integer(), nullable=False),
    Column("satisfied", Boolean(), nullable=True),
    Column("delivery_ok", Boolean(), nullable=True),
    Column("payment_ok", Boolean(), nullable=True),
    Column("wait", String(32), nullable=True),
    Column("comment", Text(), nullable=True),
    Column("shipping_method", String(255), nullable=True),
    Column("rated_at", UtcDateTime(), nullable=False),
    Column("answered_at", UtcDateTime(), nullable=True),
    PrimaryKeyConstraint("shop", "order_id"),
    Index(None, "shop", "rated_at"),
)

#: Newsletter double opt-in, the proof under UWG section 7: who asked, where, for which text,
#: when the confirmation mail went out and when the customer confirmed.
consents = Table(
    "consents",
    metadata,
    Column("shop", String(255), nullable=False),
    #: What the signup link named (an order id); one consent request per subject.
    Column("subject", String(255), nullable=False),
    Column("email", String(320), nullable=False),
    Column("customer_id", String(64), nullable=True),
    Column("source", String(64), nullable=False),
    Column("text_version", String(64), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("confirmed_at", UtcDateTime(), nullable=True),
    #: When an unsubscribe withdrew the opt-in (the proof stays; it no longer counts).
    Column("withdrawn_at", UtcDateTime(), nullable=True),
    PrimaryKeyConstraint("shop", "subject"),
    Index(None, "shop", "email"),
)

#: The shop's suppression list: addresses that get no more follow-ups (one row per address;
#: :meth:`~.ports.LinkStore.unsubscribe` writes it, the mail sweep reads it).
suppressions = Table(
    "suppressions",
    metadata,
    Column("shop", String(255), nullable=False),
    #: Normalised (trimmed, lower-cased).
    Column("email", String(320), nullable=False),
    #: Why (e.g. ``unsubscribe_link``, ``one-click``, an operator's note); the first stays.
    Column("reason", String(255), nullable=False),
    #: What the unsubscribe link named (a message's row id), when a link did it.
    Column("subject", String(255), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("shop", "email"),
)

#: Follow-up e-mails, one row per planned message (:mod:`.messages`). ``state``: ``planned``,
#: ``deferred`` (both wait for ``due_at``), ``sent``, ``failed``, ``cancelled``, ``held_back``.
#: ``key`` is the planned message's key (``<action key>:<occurrence>``): unique per (shop, order,
#: campaign, action, occurrence); the Message-ID is derived from it.
messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shop", String(255), nullable=False),
    Column("key", String(512), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("customer_key", String(320), nullable=True),
    Column("email", String(320), nullable=True),
    Column("campaign_id", String(128), nullable=False),
    Column("occurrence", Integer(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("template", String(128), nullable=False),
    Column("purpose", String(16), nullable=False),
    #: JSON: what the template needs (order number, months, locale, name, the order's consent).
    Column("data", Text(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", Text(), nullable=True),
    Column("message_id", String(255), nullable=True),
    Column("attempts", Integer(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    #: The SMTP server's last reply.
    Column("reply", Text(), nullable=True),
    Column("leased_by", String(255), nullable=True),
    Column("leased_until", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    #: Set just before the end of data goes to the SMTP server, cleared with the outcome.
    Column("handed_over_at", UtcDateTime(), nullable=True),
    UniqueConstraint("shop", "key"),
    Index(None, "state", "due_at"),
    Index(None, "leased_until"),
    Index(None, "shop", "customer_key"),
    Index(None, "shop", "order_id"),
)

#: What the results need of each order the service decided (:mod:`.order_facts`): its value and
#: margin in the shop currency, the goods refunded so far and whose order it is. Written with
#: every step in the same transaction (one row per order, updated as refunds arrive).
order_facts = Table(
    "order_facts",
    metadata,
    Column("shop", String(255), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("customer_key", String(320), nullable=True),
    Column("customer_id", String(64), nullable=True),
    #: Normalised (trimmed, lower-cased).
    Column("email", String(320), nullable=True),
    Column("placed_at", UtcDateTime(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("net_micros", BigInteger(), nullable=False),
    Column("margin_micros", BigInteger(), nullable=False),
    Column("refunded_micros", BigInteger(), nullable=False),
    #: Why the order is closed (``order_cancelled``, ``refund_created``), else NULL.
    Column("closed", String(32), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("shop", "order_id"),
    Index(None, "shop", "customer_key"),
    Index(None, "shop", "placed_at"),
)
