"""Follow-ups: the planned messages; one suppression list keyed by address; consents can be
withdrawn.

The link tables of ``r0008_links`` stay the one place for consents (double opt-in proof) and
spent link nonces. ``suppressions`` is keyed by the address now (an unsubscribe link names a
message, whose address is suppressed); rows of ``r0008_links`` without an address are dropped
(they named a link subject no one reads). ``consents`` gains ``withdrawn_at``: an unsubscribe
withdraws the opt-in and keeps the proof.

Revision ID: r0009_messages
Revises: r0008_links
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0009_messages"
down_revision: str | None = "r0008_links"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("customer_key", sa.String(320), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("template", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        _at("due_at"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("sent_at", nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("leased_by", sa.String(255), nullable=True),
        _at("leased_until", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("shop", "key", name="uq_messages_shop_key"),
    )
    op.create_index("ix_messages_state_due_at", "messages", ["state", "due_at"])
    op.create_index("ix_messages_shop_customer_key", "messages", ["shop", "customer_key"])
    op.create_index("ix_messages_shop_order_id", "messages", ["shop", "order_id"])
    _suppressions_by_address()
    op.add_column("consents", _at("withdrawn_at", nullable=True))


def _rows(query: str) -> list[sa.Row[object]]:
    return list(op.get_bind().execute(sa.text(query)))


def _insert(rows: list[dict[str, object]]) -> None:
    """Copy rows as they were read (untyped binds: SQLite's stored text stays as it was)."""
    if rows:
        op.get_bind().execute(
            sa.text(
                "INSERT INTO suppressions (shop, email, reason, subject, created_at)"
                " VALUES (:shop, :email, :reason, :subject, :created_at)"
            ),
            rows,
        )


def _suppressions_by_address() -> None:
    old = _rows(
        "SELECT shop, lower(trim(email)) AS email, min(reason) AS reason, min(subject) AS subject,"
        " min(created_at) AS created_at FROM suppressions WHERE email IS NOT NULL"
        " GROUP BY shop, lower(trim(email))"
    )
    op.drop_table("suppressions")
    op.create_table(
        "suppressions",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("shop", "email", name="pk_suppressions"),
    )
    _insert([dict(r._mapping) for r in old])


def _suppressions_by_subject() -> None:
    old = _rows("SELECT shop, email, reason, subject, created_at FROM suppressions")
    op.drop_table("suppressions")
    op.create_table(
        "suppressions",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("reason", sa.String(64), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("shop", "subject", name="pk_suppressions"),
    )
    rows = [
        {**r._mapping, "subject": f"email:{r.email}", "reason": str(r.reason)[:64]} for r in old
    ]
    _insert(rows)


def downgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("withdrawn_at")
    _suppressions_by_subject()
    op.drop_index("ix_messages_shop_order_id", table_name="messages")
    op.drop_index("ix_messages_shop_customer_key", table_name="messages")
    op.drop_index("ix_messages_state_due_at", table_name="messages")
    op.drop_table("messages")
