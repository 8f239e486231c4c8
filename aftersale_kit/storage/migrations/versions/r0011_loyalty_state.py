"""Loyalty: each account keeps what its journal replays to (``loyalty_accounts.state``).

A booking reads the account's ledger state from its row instead of replaying its whole journal
(:mod:`aftersale_kit.storage._loyalty_snapshot`). The column is empty for the accounts that
exist at the upgrade: each is replayed from its journal once, at its next booking, which writes
the state (the journal stays the truth; ``loyalty check`` compares the two). Down drops the
column; nothing is lost, the journal holds everything.

Revision ID: r0011_loyalty_state
Revises: r0010_results
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0011_loyalty_state"
down_revision: str | None = "r0010_results"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("loyalty_accounts", sa.Column("state", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loyalty_accounts") as batch:
        batch.drop_column("state")
