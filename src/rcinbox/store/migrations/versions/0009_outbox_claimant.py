"""Who holds a reply in flight: ``outbox.claimed_by``, the replica (its heartbeat id,
:mod:`rcinbox.store.members`) whose claim made the row ``sending``; NULL for a process alone.
A claim whose replica's heartbeat is gone is ended at once by the live replicas (the row is
reconciled against the platform's message store before it is sent again) instead of when its
lease runs out (10 minutes).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as table:
        table.add_column(sa.Column("claimed_by", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as table:
        table.drop_column("claimed_by")
