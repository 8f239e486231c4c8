"""Follow-up messages: the hand-over mark and the index the claim's contact check reads.

``messages.handed_over_at`` is written (under the worker's lease) just before the end of data
goes to the SMTP server and cleared with the outcome; a message found so after its lease ran
out was handed over by a worker that stopped before it read the reply: it is counted as sent,
not sent again. ``ix_messages_leased_until`` serves the claim's look at the contacts other
workers are writing to. Down drops both; nothing is lost (a mark only matters while a worker
is sending).

Revision ID: r0012_message_handover
Revises: r0011_loyalty_state
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0012_message_handover"
down_revision: str | None = "r0011_loyalty_state"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "messages", sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_messages_leased_until", "messages", ["leased_until"])


def downgrade() -> None:
    op.drop_index("ix_messages_leased_until", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("handed_over_at")
