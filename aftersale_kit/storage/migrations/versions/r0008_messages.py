"""Follow-ups: the planned messages, confirmed double opt-ins, unsubscribes, spent link nonces.

Revision ID: r0008_messages
Revises: r0007_loyalty
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0008_messages"
down_revision: str | None = "r0007_loyalty"
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
    op.create_table(
        "contact_consents",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        _at("confirmed_at"),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("text_version", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("shop", "email", name="pk_contact_consents"),
    )
    op.create_table(
        "unsubscribes",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        _at("at"),
        sa.PrimaryKeyConstraint("shop", "email", name="pk_unsubscribes"),
    )
    op.create_table(
        "mail_nonces",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        _at("used_at"),
        sa.PrimaryKeyConstraint("shop", "nonce", name="pk_mail_nonces"),
    )


def downgrade() -> None:
    op.drop_table("mail_nonces")
    op.drop_table("unsubscribes")
    op.drop_table("contact_consents")
    op.drop_index("ix_messages_shop_order_id", table_name="messages")
    op.drop_index("ix_messages_shop_customer_key", table_name="messages")
    op.drop_index("ix_messages_state_due_at", table_name="messages")
    op.drop_table("messages")
