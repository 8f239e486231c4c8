"""Results: ``order_facts``, what the results need of each decided order (value, margin, refunded
goods, whose it is), written with every step so that redemptions and care cost can be joined to
the orders' value without storing the orders; an index on the redeeming customer of
``redemptions`` (a customer's care cost is read before each decision that needs it).

Orders decided before this revision have no row: their redemptions count with an unknown (zero)
revenue until a later step of the redeeming order records it.

Revision ID: r0010_results
Revises: r0009_messages
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0010_results"
down_revision: str | None = "r0009_messages"
branch_labels: str | None = None
depends_on: str | None = None


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "order_facts",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("customer_key", sa.String(320), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        _at("placed_at"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("net_micros", sa.BigInteger(), nullable=False),
        sa.Column("margin_micros", sa.BigInteger(), nullable=False),
        sa.Column("refunded_micros", sa.BigInteger(), nullable=False),
        sa.Column("closed", sa.String(32), nullable=True),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("shop", "order_id", name="pk_order_facts"),
    )
    op.create_index("ix_order_facts_shop_customer_key", "order_facts", ["shop", "customer_key"])
    op.create_index("ix_order_facts_shop_placed_at", "order_facts", ["shop", "placed_at"])
    op.create_index(
        "ix_redemptions_shop_redeeming_customer_key",
        "redemptions",
        ["shop", "redeeming_customer_key"],
    )


def downgrade() -> None:
    op.drop_index("ix_redemptions_shop_redeeming_customer_key", table_name="redemptions")
    op.drop_index("ix_order_facts_shop_placed_at", table_name="order_facts")
    op.drop_index("ix_order_facts_shop_customer_key", table_name="order_facts")
    op.drop_table("order_facts")
