"""Attachments that outlive a replica: ``attachment_bodies`` holds attachments stored in the
database (``RCINBOX_ATTACHMENT_STORAGE=database``, the default on PostgreSQL), one row per distinct
content keyed by its SHA-256; a stored attachment whose ``path`` is NULL is read from there. And
``attachments.claimed_by``: the replica (its heartbeat id) whose download of a pending attachment is
in flight, so two replicas never fetch one attachment at once and a gone replica's downloads are
due again at once. Existing rows keep their files and are claimed by nobody.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment_bodies",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("attachments") as table:
        table.add_column(sa.Column("claimed_by", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("attachments") as table:
        table.drop_column("claimed_by")
    op.drop_table("attachment_bodies")
