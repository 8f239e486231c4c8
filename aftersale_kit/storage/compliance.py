"""Privacy duties: export what is stored about a customer, erase it, erase a whole shop.

What counts as the customer's data: events linked to the customer or to one of their orders
(raw webhook bodies hold names and addresses), decisions, ledger rows, coupons and stored
confirmation content of those orders, and their follow-ups: messages, newsletter consents,
suppression entries, survey answers and complaints (:mod:`._mail_privacy`).

Redaction keeps the facts the shop needs for budgets and dedupe, without the person: event
bodies and headers are emptied (the row stays, so a redelivery is still recognised as a
duplicate), stored content is deleted, and the customer key on decisions, ledger rows and coupons
is replaced by a random pseudonym. Consequence: per-customer limits and cooldowns start afresh for
a redacted customer; usage limits and budgets are unchanged.

Finding the customer: by the keys they are counted under (the customer id, ``email:<address>``
for guests), the order ids the caller names, and, for an e-mail address, the events whose body
still held (:mod:`.retention`) has it in an order's e-mail field, which links a registered
customer's id to their address. After the bodies are pruned, name the customer id or the orders
as well (the WordPress plugin passes the user id and the customer's orders).

Exactly once: a row is erased once. A second request for the same customer (a retried call,
the CLI after the plugin) finds nothing left and returns zero counts; it draws no new pseudonym
over rows already pseudonymised.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update

from ._loyalty_privacy import anonymise_shop, export_accounts, redact_accounts
from ._mail_privacy import export_follow_ups, redact_follow_ups
from ._sql import from_micros, utcnow
from .codec import decision_to_dict
from .coupons import coupon_from_row
from .decisions import record_from_row
from .ledger import entry_from_row
from .order_facts import facts_from_row
from .tables import (
    auth_requests,
    blocks,
    closures,
    consents,
    coupons,
    credentials,
    decisions,
    events,
    jobs,
    ledger,
    link_nonces,
    messages,
    order_facts,
    order_keys,
    quarantine,
    redemptions,
    refunds,
    shops,
    suppressions,
    survey_answers,
)

__all__ = ["customer_key", "customer_keys", "export_customer", "redact_customer", "redact_shop"]


def customer_key(*, customer_id: str | None, email: str | None) -> str | None:
    """The key usage is counted under: the customer id, or ``email:<lowercased>`` for guests."""
    if customer_id:
        return customer_id
    if email and email.strip():
        return f"email:{email.strip().lower()}"
    return None


def customer_keys(*, customer_id: str | None, email: str | None) -> list[str]:
    """Every key the customer may be stored under (id and e-mail form)."""
    keys = []
    if customer_id:
        keys.append(customer_id)
    if email and email.strip():
        keys.append(f"email:{email.strip().lower()}")
    if not keys:
        raise ValueError("name the customer: pass customer_id, email or both")
    return keys


def _body_emails(body: bytes) -> set[str]:
    """The customer's e-mail fields of an order webhook body (Shopify: ``email``,
    ``contact_email``, ``customer.email``; WooCommerce: ``billing.email``), lower case. Only
    these fields: an address quoted elsewhere (a note, a gift message) does not make the order
    the customer's."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return set()
    if not isinstance(data, dict):
        return set()
    found = [data.get("email"), data.get("contact_email")]
    for nested in ("customer", "billing"):
        part = data.get(nested)
        if isinstance(part, dict):
            found.append(part.get("email"))
    return {f.strip().lower() for f in found if isinstance(f, str) and f.strip()}


def _linked_by_body(
    conn: Connection, *, shop: str, email: str, batch: int = 500
) -> tuple[set[str], set[str]]:
    """Orders and customer keys of the events whose body names ``email`` (bodies still held,
    see :mod:`.retention`). Links a registered customer's id to their e-mail address."""
    wanted = email.strip().lower()
    orders: set[str] = set()
    keys: set[str] = set()
    last = 0
    while True:
        rows = conn.execute(
            select(events.c.id, events.c.order_id, events.c.customer_key, events.c.body)
            .where(
                events.c.shop == shop,
                events.c.id > last,
                events.c.redacted_at.is_(None),
                func.length(events.c.body) > 0,
            )
            .order_by(events.c.id)
            .limit(batch)
        ).all()
        for row in rows:
            if wanted in _body_emails(bytes(row.body)):
                orders.update([row.order_id] if row.order_id else [])
                keys.update([row.customer_key] if row.customer_key else [])
        if len(rows) < batch:
            return orders, keys
        last = rows[-1].id


def _scope(
    conn: Connection,
    *,
    shop: str,
    customer_id: str | None,
    email: str | None,
    order_ids: Iterable[str],
) -> tuple[list[str], list[str]]:
    """``(keys, orders)``: every key the customer is stored under and every order of theirs."""
    keys = customer_keys(customer_id=customer_id, email=email)
    found = set(order_ids)
    if email and email.strip():
        linked_orders, linked_keys = _linked_by_body(conn, shop=shop, email=email)
        found |= linked_orders
        keys += sorted(k for k in linked_keys - set(keys) if not k.startswith("redacted:"))
    for table in (decisions, coupons, events, ledger, order_facts):
        rows = conn.execute(
            select(table.c.order_id)
            .where(table.c.shop == shop, table.c.customer_key.in_(keys))
            .distinct()
        ).scalars()
        found.update(r for r in rows if r is not None)
    return keys, sorted(found)


def export_customer(
    conn: Connection,
    *,
    shop: str,
    customer_id: str | None,
    email: str | None,
    order_ids: Iterable[str] = (),
) -> dict[str, Any]:
    keys, orders = _scope(
        conn, shop=shop, customer_id=customer_id, email=email, order_ids=order_ids
    )

    def mine(table: Any) -> Any:
        return table.c.shop == shop, or_(
            table.c.customer_key.in_(keys), table.c.order_id.in_(orders)
        )

    decision_rows = conn.execute(select(decisions).where(*mine(decisions)).order_by(decisions.c.id))
    coupon_rows = conn.execute(select(coupons).where(*mine(coupons)).order_by(coupons.c.id))
    ledger_rows = conn.execute(select(ledger).where(*mine(ledger)).order_by(ledger.c.id))
    event_rows = conn.execute(select(events).where(*mine(events)).order_by(events.c.id))
    block_rows = conn.execute(
        select(blocks.c.order_id, blocks.c.payload).where(
            blocks.c.shop == shop, blocks.c.order_id.in_(orders)
        )
    )
    return {
        "shop": shop,
        "customer": {"id": customer_id, "email": email, "keys": keys},
        "orders": orders,
        "decisions": [
            {
                "id": r.id,
                "order_id": r.order_id,
                "event_kind": r.event_kind.value,
                "decision": decision_to_dict(r.decision),
            }
            for r in map(record_from_row, decision_rows)
        ],
        "coupons": [
            {
                "order_id": c.order_id,
                "campaign_id": c.campaign_id,
                "code": c.code,
                "status": c.status.value,
                "created_at": c.created_at.isoformat(),
            }
            for c in map(coupon_from_row, coupon_rows)
        ],
        "ledger": [
            {
                "order_id": e.order_id,
                "campaign_id": e.campaign_id,
                "entry": e.entry,
                "cost": str(e.cost),
                "currency": e.currency,
                "booked_at": e.booked_at.isoformat(),
            }
            for e in map(entry_from_row, ledger_rows)
        ],
        "events": [
            {
                "topic": m["topic"],
                "order_id": m["order_id"],
                "received_at": m["received_at"].isoformat(),
                "body": bytes(m["body"]).decode("utf-8", errors="replace"),
            }
            for m in (r._mapping for r in event_rows)
        ],
        "blocks": {order_id: json.loads(payload) for order_id, payload in block_rows},
        "redemptions": _redemptions(conn, shop=shop, keys=keys, orders=orders),
        "order_facts": [
            {
                "order_id": f.order_id,
                "customer_id": f.customer_id,
                "email": f.email,
                "placed_at": f.placed_at.isoformat(),
                "currency": f.currency,
                "net": str(f.net),
                "margin": str(f.margin),
                "refunded": str(f.refunded),
                "closed": f.closed,
            }
            for f in map(
                facts_from_row,
                (
                    r._mapping
                    for r in conn.execute(
                        select(order_facts)
                        .where(*mine(order_facts))
                        .order_by(order_facts.c.placed_at, order_facts.c.order_id)
                    )
                ),
            )
        ],
        "loyalty": export_accounts(conn, shop=shop, keys=keys),
        "quarantined": [
            {
                "topic": m["topic"],
                "received_at": m["received_at"].isoformat(),
                "reason": m["reason"],
                "body": bytes(m["body"]).decode("utf-8", errors="replace"),
            }
            for m in _quarantined(conn, shop=shop, email=email)
        ],
        **export_follow_ups(conn, shop=shop, keys=keys, email=email, orders=orders),
    }


def _quarantined(conn: Connection, *, shop: str, email: str | None) -> list[Any]:
    """Quarantined deliveries whose body names the customer's e-mail (in the order's e-mail
    fields; they are not usable orders, so nothing else links them to a customer)."""
    if not email:
        return []
    wanted = email.strip().lower()
    rows = conn.execute(
        select(quarantine).where(quarantine.c.shop == shop).order_by(quarantine.c.id)
    )
    return [r._mapping for r in rows if wanted in _body_emails(bytes(r.body))]


def _mine_redeemed(shop: str, keys: list[str], orders: list[str]) -> Any:
    """Redemptions where the customer issued or redeemed the coupon (by key or order)."""
    r = redemptions.c
    return (r.shop == shop) & or_(
        r.issuing_customer_key.in_(keys),
        r.redeeming_customer_key.in_(keys),
        r.issuing_order_id.in_(orders),
        r.redeeming_order_id.in_(orders),
    )


def _redemptions(
    conn: Connection, *, shop: str, keys: list[str], orders: list[str]
) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(redemptions).where(_mine_redeemed(shop, keys, orders)).order_by(redemptions.c.id)
    )
    return [
        {
            "code": m["code"],
            "campaign_id": m["campaign_id"],
            "issuing_order_id": m["issuing_order_id"],
            "redeeming_order_id": m["redeeming_order_id"],
            "amount": str(from_micros(m["amount_micros"])),
            "currency": m["currency"],
            "redeemed_at": m["redeemed_at"].isoformat(),
        }
        for m in (row._mapping for row in rows)
    ]


def redact_customer(
    conn: Connection,
    *,
    shop: str,
    customer_id: str | None,
    email: str | None,
    order_ids: Iterable[str] = (),
    now: datetime,
) -> dict[str, int]:
    keys, orders = _scope(
        conn, shop=shop, customer_id=customer_id, email=email, order_ids=order_ids
    )
    pseudonym = f"redacted:{uuid.uuid4().hex}"
    counts: dict[str, int] = {}
    counts["events"] = conn.execute(
        update(events)
        .where(
            events.c.shop == shop,
            events.c.redacted_at.is_(None),
            or_(events.c.customer_key.in_(keys), events.c.order_id.in_(orders)),
        )
        .values(body=b"", headers="{}", customer_key=None, redacted_at=now)
    ).rowcount
    counts["blocks"] = conn.execute(
        delete(blocks).where(blocks.c.shop == shop, blocks.c.order_id.in_(orders))
    ).rowcount
    for name, table in (("decisions", decisions), ("ledger", ledger), ("coupons", coupons)):
        counts[name] = conn.execute(
            update(table)
            .where(table.c.shop == shop, table.c.customer_key.in_(keys))
            .values(customer_key=pseudonym)
        ).rowcount
    for column in ("issuing_customer_key", "redeeming_customer_key"):
        counts[f"redemptions.{column}"] = conn.execute(
            update(redemptions)
            .where(redemptions.c.shop == shop, redemptions.c[column].in_(keys))
            .values({column: pseudonym})
        ).rowcount
    counts["redemptions"] = counts.pop("redemptions.issuing_customer_key") + counts.pop(
        "redemptions.redeeming_customer_key"
    )
    # the order's value and margin stay (the shop's results), under the pseudonym, without who
    counts["order_facts"] = conn.execute(
        update(order_facts)
        .where(
            order_facts.c.shop == shop,
            or_(order_facts.c.customer_key.in_(keys), order_facts.c.order_id.in_(orders)),
            # only rows that still say who (erasing twice erases once)
            or_(
                order_facts.c.customer_key.in_(keys),
                order_facts.c.customer_id.is_not(None),
                order_facts.c.email.is_not(None),
            ),
        )
        .values(customer_key=pseudonym, customer_id=None, email=None)
    ).rowcount
    gone = [m["id"] for m in _quarantined(conn, shop=shop, email=email)]
    counts["quarantine"] = (
        conn.execute(delete(quarantine).where(quarantine.c.id.in_(gone))).rowcount if gone else 0
    )
    counts["loyalty_accounts"] = redact_accounts(
        conn, shop=shop, keys=keys, pseudonym=pseudonym, now=now
    )
    counts.update(
        redact_follow_ups(
            conn, shop=shop, keys=keys, email=email, orders=orders, pseudonym=pseudonym, now=now
        )
    )
    counts["orders"] = len(orders)
    return counts


def redact_shop(conn: Connection, *, shop: str, now: datetime | None = None) -> dict[str, int]:
    """Delete every row of the shop (after uninstall; Shopify's ``shop/redact``); its loyalty
    accounts are anonymised instead (the points are a liability the shop keeps)."""
    counts: dict[str, int] = {}
    counts["loyalty_accounts"] = anonymise_shop(
        conn, shop=shop, pseudonym=f"redacted:{uuid.uuid4().hex}", now=now or utcnow()
    )
    for table in (
        events,
        jobs,
        decisions,
        ledger,
        coupons,
        refunds,
        closures,
        redemptions,
        order_facts,
        quarantine,
        order_keys,
        messages,
        consents,
        suppressions,
        link_nonces,
        survey_answers,
    ):
        counts[table.name] = conn.execute(delete(table).where(table.c.shop == shop)).rowcount
    for table in (blocks, credentials, auth_requests, shops):
        counts[table.name] = conn.execute(delete(table).where(table.c.shop == shop)).rowcount
    return counts
