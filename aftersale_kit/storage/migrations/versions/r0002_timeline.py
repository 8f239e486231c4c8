"""The order's timeline: decisions per step (ref), ledger refs, refunds, closures, redemptions.

Revision ID: r0002_timeline
Revises: r0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "r0002_timeline"
down_revision: str | None = "r0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # SQLite cannot alter a constraint in place: batch mode copies the table.
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("ref", sa.String(64), nullable=False, server_default=""))
        batch.drop_constraint("uq_decisions_shop_order_id_event_kind", type_="unique")
        batch.create_unique_constraint(
            "uq_decisions_shop_order_id_event_kind_ref", ["shop", "order_id", "event_kind", "ref"]
        )
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(sa.Column("ref", sa.String(512), nullable=False, server_default=""))
        batch.drop_constraint("uq_ledger_shop_order_id_campaign_id_entry", type_="unique")
        batch.create_unique_constraint(
            "uq_ledger_shop_order_id_campaign_id_entry_ref",
            ["shop", "order_id", "campaign_id", "entry", "ref"],
        )
    with op.batch_alter_table("coupons") as batch:
        batch.add_column(sa.Column("code_key", sa.String(255), nullable=False, server_default=""))
    op.execute("UPDATE coupons SET code_key = lower(code)")
    op.create_index("ix_coupons_shop_code_key", "coupons", ["shop", "code_key"])
    op.create_table(
        "refunds",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("refund_id", sa.String(64), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lines", sa.Text(), nullable=True),
        sa.Column("shipping_micros", sa.BigInteger(), nullable=True),
        _ts("created_at", nullable=True),
        _ts("recorded_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_refunds"),
        sa.UniqueConstraint(
            "shop", "order_id", "refund_id", name="uq_refunds_shop_order_id_refund_id"
        ),
    )
    op.create_table(
        "closures",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        _ts("closed_at", nullable=False),
        sa.PrimaryKeyConstraint("shop", "order_id", name="pk_closures"),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("coupon_key", sa.String(512), nullable=False),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("issuing_order_id", sa.String(64), nullable=False),
        sa.Column("issuing_customer_key", sa.String(320), nullable=True),
        sa.Column("redeeming_order_id", sa.String(64), nullable=False),
        sa.Column("redeeming_customer_key", sa.String(320), nullable=True),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _ts("redeemed_at", nullable=False),
        _ts("recorded_at", nullable=False),
        _ts("reversed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_redemptions"),
        sa.UniqueConstraint(
            "shop",
            "coupon_key",
            "redeeming_order_id",
            name="uq_redemptions_shop_coupon_key_redeeming_order_id",
        ),
    )
    op.create_index(
        "ix_redemptions_shop_campaign_id_redeemed_at",
        "redemptions",
        ["shop", "campaign_id", "redeemed_at"],
    )
    op.create_index(
        "ix_redemptions_shop_redeeming_order_id", "redemptions", ["shop", "redeeming_order_id"]
    )


def downgrade() -> None:
    for table in ("redemptions", "closures", "refunds"):
        op.drop_table(table)
    op.drop_index("ix_coupons_shop_code_key", table_name="coupons")
    with op.batch_alter_table("coupons") as batch:
        batch.drop_column("code_key")
    with op.batch_alter_table("ledger") as batch:
        batch.drop_constraint("uq_ledger_shop_order_id_campaign_id_entry_ref", type_="unique")
        batch.create_unique_constraint(
            "uq_ledger_shop_order_id_campaign_id_entry",
            ["shop", "order_id", "campaign_id", "entry"],
        )
        batch.drop_column("ref")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint("uq_decisions_shop_order_id_event_kind_ref", type_="unique")
        batch.create_unique_constraint(
            "uq_decisions_shop_order_id_event_kind", ["shop", "order_id", "event_kind"]
        )
        batch.drop_column("ref")
