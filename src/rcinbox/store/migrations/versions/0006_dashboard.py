"""The dashboard's data: a full-text search index over the archive, and the history of lifted
opt-outs.

- On SQLite: the view ``messages_search`` (per message: the sender's number in the forms people
  type, the sender's name, the text), the FTS5 table ``messages_fts`` whose external content it is,
  and the triggers on ``messages`` that keep the index in step (insert, delete, an update of the
  sender, the name or the text). Every archived message is indexed here (FTS5's ``rebuild`` reads
  the view). The statements are those of ``schema.SEARCH_DDL`` (a migration imports nothing from
  rcinbox; a test compares a migrated archive with a fresh one, statement for statement). Another
  database gets no index (the search is SQLite's).
- ``opt_out_lifts``: who lifted which opt-out, when and why (never deleted).
- The index on ``messages.sender`` becomes one on ``(sender, created_at)``: the conversations'
  "last text per counterpart" reads it alone (the queries by sender use it as before). Indexes
  on ``messages.received_at`` and ``decisions.decided_at``: today's counts read one day's rows.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

SEARCH_DDL = (
    """CREATE VIEW messages_search (id, number, name, text) AS SELECT id,
    CASE WHEN ltrim(sender, '+') <> '' AND ltrim(sender, '+') NOT GLOB '*[^0-9]*'
    THEN ltrim(sender, '+') || ' ' || substr(ltrim(sender, '+'), -10) || ' ' ||
    substr(ltrim(sender, '+'), -7) || ' ' || substr(ltrim(sender, '+'), -4)
    ELSE sender END, coalesce(sender_name, ''), text FROM messages""",
    """CREATE VIRTUAL TABLE messages_fts USING fts5(number, name, text,
    content='messages_search', content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, number, name, text)
    SELECT id, number, name, text FROM messages_search WHERE id = new.id; END""",
    """CREATE TRIGGER messages_fts_delete BEFORE DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, number, name, text)
    SELECT 'delete', id, number, name, text FROM messages_search WHERE id = old.id; END""",
    """CREATE TRIGGER messages_fts_unindex BEFORE UPDATE OF sender, sender_name, text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, number, name, text)
    SELECT 'delete', id, number, name, text FROM messages_search WHERE id = old.id; END""",
    """CREATE TRIGGER messages_fts_reindex AFTER UPDATE OF sender, sender_name, text ON messages BEGIN
    INSERT INTO messages_fts (rowid, number, name, text)
    SELECT id, number, name, text FROM messages_search WHERE id = new.id; END""",
)
SEARCH_DROP = (
    "DROP TRIGGER messages_fts_reindex",
    "DROP TRIGGER messages_fts_unindex",
    "DROP TRIGGER messages_fts_delete",
    "DROP TRIGGER messages_fts_insert",
    "DROP TABLE messages_fts",
    "DROP VIEW messages_search",
)


def upgrade() -> None:
    op.drop_index("ix_messages_sender", "messages")
    op.create_index("ix_messages_sender_created", "messages", ["sender", "created_at"])
    op.create_index("ix_messages_received_at", "messages", ["received_at"])
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])
    op.create_table(
        "opt_out_lifts",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("opted_out_at", WHEN, nullable=False),
        sa.Column("keyword", sa.String(64), nullable=False),
        sa.Column("words", sa.Text),
        sa.Column("confidence", sa.Float),
        sa.Column("message_pk", PK, sa.ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
        sa.Column("lifted_by", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("lifted_at", WHEN, nullable=False),
    )
    op.create_index("ix_opt_out_lifts_number", "opt_out_lifts", ["number", "lifted_at"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in SEARCH_DDL:
            op.execute(statement)
        op.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")  # the archive so far


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SEARCH_DROP:
            op.execute(statement)
    op.drop_index("ix_opt_out_lifts_number", "opt_out_lifts")
    op.drop_table("opt_out_lifts")
    op.drop_index("ix_decisions_decided_at", "decisions")
    op.drop_index("ix_messages_received_at", "messages")
    op.drop_index("ix_messages_sender_created", "messages")
    op.create_index("ix_messages_sender", "messages", ["sender"])
