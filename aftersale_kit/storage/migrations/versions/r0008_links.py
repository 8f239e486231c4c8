"""Follow-up links: spent link nonces, survey answers, newsletter consents, suppressions.

Revision ID: r0008_links
Revises: r0007_loyalty
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0008_links"
down_revision: str | None = "r0007_loyalty"
branch_labels: str | None = None
depends_on: str | None = None


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "link_nonces",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        _at("used_at"),
        sa.PrimaryKeyConstraint("shop", "nonce", name="pk_link_nonces"),
    )
    op.create_table(
        "survey_answers",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=True),
        sa.Column("delivery_ok", sa.Boolean(), nullable=True),
        sa.Column("payment_ok", sa.Boolean(), nullable=True),
        sa.Column("wait", sa.String(32), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("shipping_method", sa.String(255), nullable=True),
        _at("rated_at"),
        _at("answered_at", nullable=True),
        sa.PrimaryKeyConstraint("shop", "order_id", name="pk_survey_answers"),
    )
    op.create_index("ix_survey_answers_shop_rated_at", "survey_answers", ["shop", "rated_at"])
    op.create_table(
        "consents",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("text_version", sa.String(64), nullable=False),
        _at("requested_at"),
        _at("confirmed_at", nullable=True),
        sa.PrimaryKeyConstraint("shop", "subject", name="pk_consents"),
    )
    op.create_index("ix_consents_shop_email", "consents", ["shop", "email"])
    op.create_table(
        "suppressions",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("reason", sa.String(64), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("shop", "subject", name="pk_suppressions"),
    )


def downgrade() -> None:
    op.drop_index("ix_consents_shop_email", table_name="consents")
    op.drop_table("consents")
    op.drop_index("ix_survey_answers_shop_rated_at", table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_table("link_nonces")
    op.drop_table("suppressions")
