"""Loyalty: accounts with running totals, the movement journal, stamp cards, redemptions and
follow-up events.

Revision ID: r0007_loyalty
Revises: r0006_credentials
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0007_loyalty"
down_revision: str | None = "r0006_credentials"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "loyalty_accounts",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("account", sa.String(320), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("pending", sa.BigInteger(), nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("debt", sa.BigInteger(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("redacted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_accounts"),
        sa.UniqueConstraint("shop", "account", name="uq_loyalty_accounts_shop_account"),
    )
    op.create_table(
        "loyalty_movements",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("pending_delta", sa.BigInteger(), nullable=False),
        sa.Column("available_delta", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(512), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("grant_key", sa.String(512), nullable=True),
        _at("release_at", nullable=True),
        _at("expires_at", nullable=True),
        sa.Column("coupon", sa.String(255), nullable=True),
        sa.Column("spend_micros", sa.BigInteger(), nullable=True),
        sa.Column("tier", sa.String(128), nullable=True),
        _at("at"),
        _at("booked_at"),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_movements"),
        sa.UniqueConstraint(
            "shop", "account_id", "key", name="uq_loyalty_movements_shop_account_id_key"
        ),
    )
    op.create_index("ix_loyalty_movements_account_id_id", "loyalty_movements", ["account_id", "id"])
    op.create_table(
        "loyalty_cards",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("card", sa.String(128), nullable=False),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("account_id", "card", name="pk_loyalty_cards"),
    )
    op.create_table(
        "loyalty_redemptions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("option_id", sa.String(128), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("coupon_code", sa.String(255), nullable=False),
        sa.Column("coupon_key", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_redemptions"),
        sa.UniqueConstraint("shop", "key", name="uq_loyalty_redemptions_shop_key"),
        sa.UniqueConstraint("shop", "coupon_key", name="uq_loyalty_redemptions_shop_coupon_key"),
    )
    op.create_table(
        "loyalty_events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        _at("due_at"),
        _at("created_at"),
        _at("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_events"),
        sa.UniqueConstraint("shop", "key", name="uq_loyalty_events_shop_key"),
    )
    op.create_index(
        "ix_loyalty_events_shop_kind_sent_at", "loyalty_events", ["shop", "kind", "sent_at"]
    )


def downgrade() -> None:
    op.drop_table("loyalty_events")
    op.drop_table("loyalty_redemptions")
    op.drop_table("loyalty_cards")
    op.drop_index("ix_loyalty_movements_account_id_id", table_name="loyalty_movements")
    op.drop_table("loyalty_movements")
    op.drop_table("loyalty_accounts")
