"""Initial schema: shops, events, jobs, decisions, ledger, coupons, blocks.

Revision ID: r0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "shops",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _ts("installed_at", nullable=True),
        _ts("uninstalled_at", nullable=True),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("shop", name="pk_shops"),
    )
    op.create_table(
        "events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("dedupe_key", sa.String(512), nullable=False),
        _ts("received_at", nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("customer_key", sa.String(320), nullable=True),
        _ts("redacted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("shop", "dedupe_key", name="uq_events_shop_dedupe_key"),
    )
    op.create_index("ix_events_shop_order_id", "events", ["shop", "order_id"])
    op.create_table(
        "jobs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(512), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        _ts("run_at", nullable=False),
        sa.Column("locked_by", sa.String(128), nullable=True),
        _ts("locked_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("shop", "idempotency_key", name="uq_jobs_shop_idempotency_key"),
    )
    op.create_index("ix_jobs_status_run_at", "jobs", ["status", "run_at"])
    op.create_index("ix_jobs_status_locked_until", "jobs", ["status", "locked_until"])
    op.create_table(
        "decisions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("event_kind", sa.String(32), nullable=False),
        sa.Column("customer_key", sa.String(320), nullable=True),
        _ts("decided_at", nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint(
            "shop", "order_id", "event_kind", name="uq_decisions_shop_order_id_event_kind"
        ),
    )
    op.create_index("ix_decisions_shop_customer_key", "decisions", ["shop", "customer_key"])
    op.create_table(
        "ledger",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("decision_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_key", sa.String(320), nullable=True),
        sa.Column("entry", sa.String(16), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _ts("booked_at", nullable=False),
        _ts("recorded_at", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger"),
        sa.UniqueConstraint(
            "shop",
            "order_id",
            "campaign_id",
            "entry",
            name="uq_ledger_shop_order_id_campaign_id_entry",
        ),
    )
    op.create_index(
        "ix_ledger_shop_campaign_id_booked_at", "ledger", ["shop", "campaign_id", "booked_at"]
    )
    op.create_index(
        "ix_ledger_shop_campaign_id_customer_key",
        "ledger",
        ["shop", "campaign_id", "customer_key"],
    )
    op.create_table(
        "coupons",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("idempotency_key", sa.String(512), nullable=False),
        sa.Column("code", sa.String(255), nullable=False),
        sa.Column("platform_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("customer_key", sa.String(320), nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coupons"),
        sa.UniqueConstraint("shop", "idempotency_key", name="uq_coupons_shop_idempotency_key"),
    )
    op.create_index("ix_coupons_shop_order_id", "coupons", ["shop", "order_id"])
    op.create_index("ix_coupons_shop_code", "coupons", ["shop", "code"])
    op.create_table(
        "blocks",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("shop", "order_id", name="pk_blocks"),
    )


def downgrade() -> None:
    for table in ("blocks", "coupons", "ledger", "decisions", "jobs", "events", "shops"):
        op.drop_table(table)
