"""Shop credentials kept encrypted (tokens, keys) and pending connection requests.

Revision ID: r0006_credentials
Revises: r0005_quarantine
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0006_credentials"
down_revision: str | None = "r0005_quarantine"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shop", "kind", name="pk_credentials"),
    )
    op.create_table(
        "auth_requests",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("shop", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name="pk_auth_requests"),
    )


def downgrade() -> None:
    op.drop_table("auth_requests")
    op.drop_table("credentials")
