"""Baseline: the schema of rcinbox 0.1.0, which created it with ``create_all`` and kept no version.

An archive made by that release (tables there, no ``alembic_version``) is stamped with this
revision, not run through it. Written out in full, not imported from ``schema.py``: a migration
describes its own moment and must not change when the schema module does.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite auto-increments INTEGER PRIMARY KEY only
WHEN = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", PK, primary_key=True, autoincrement=True)


def _message_pk(ondelete: str = "CASCADE", *, nullable: bool = False, unique: bool = False) -> sa.Column[int]:
    fk = sa.ForeignKey("messages.id", ondelete=ondelete)
    return sa.Column("message_pk", PK, fk, nullable=nullable, unique=unique)


def upgrade() -> None:
    op.create_table(
        "messages",
        _id(),
        sa.Column("extension_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("sender_name", sa.String(255)),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("receiving_number", sa.String(64)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.String(64)),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("raw", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", WHEN),
        sa.Column("last_error", sa.Text),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.UniqueConstraint("extension_id", "message_id", name="uq_messages_extension_message"),
    )
    op.create_index("ix_messages_state_due", "messages", ["state", "next_attempt_at"])
    op.create_index("ix_messages_sender", "messages", ["sender"])
    op.create_table(
        "attachments",
        _id(),
        _message_pk(),
        sa.Column("attachment_id", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger),
        sa.Column("sha256", sa.String(64)),
        sa.Column("path", sa.Text),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("stored_at", WHEN, nullable=False),
        sa.UniqueConstraint("message_pk", "attachment_id", name="uq_attachments_message_attachment"),
    )
    op.create_table(
        "decisions",
        _id(),
        _message_pk(unique=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("reply_text", sa.Text),
        sa.Column("reply_from", sa.String(64)),
        sa.Column("reply_to", sa.String(64)),
        sa.Column("handle", sa.String(64), nullable=False),
        sa.Column("facts", sa.JSON, nullable=False),
        sa.Column("decided_at", WHEN, nullable=False),
        sa.Column("message_sha256", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "outbox",
        _id(),
        _message_pk(unique=True),
        sa.Column("extension_id", sa.String(64), nullable=False),
        sa.Column("from_number", sa.String(64), nullable=False),
        sa.Column("to_number", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("handle", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", WHEN),
        sa.Column("lease_until", WHEN),
        sa.Column("claimed_at", WHEN),
        sa.Column("platform_message_id", sa.String(64)),
        sa.Column("last_error", sa.Text),
        sa.Column("queued_at", WHEN, nullable=False),
        sa.Column("sent_at", WHEN),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index("ix_outbox_state_due", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_ledger", "outbox", ["to_number", "handle", "queued_at"])
    op.create_table(
        "opt_outs",
        sa.Column("number", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("keyword", sa.String(64), nullable=False),
        _message_pk("SET NULL", nullable=True),
        sa.Column("at", WHEN, nullable=False),
    )
    op.create_table(
        "kv",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in ("kv", "opt_outs", "outbox", "decisions", "attachments", "messages"):
        op.drop_table(table)
