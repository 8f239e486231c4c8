"""Quarantined deliveries (signed, on an order topic, not a usable order) and WooCommerce order
keys kept from the webhooks (thank-you page tokens are checked against them).

Revision ID: r0005_quarantine
Revises: r0002_timeline
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "r0005_quarantine"
down_revision: str | None = "r0002_timeline"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("dedupe_key", sa.String(512), nullable=False),
        _ts("received_at", nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        _ts("replayed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
        sa.UniqueConstraint("shop", "dedupe_key", name="uq_quarantine_shop_dedupe_key"),
    )
    op.create_table(
        "order_keys",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("order_key", sa.String(128), nullable=False),
        _ts("recorded_at", nullable=False),
        sa.PrimaryKeyConstraint("shop", "order_id", name="pk_order_keys"),
    )


def downgrade() -> None:
    op.drop_table("order_keys")
    op.drop_table("quarantine")
