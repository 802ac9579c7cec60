"""Smart replies: the decision records what the classifier understood; opt-outs keep their words;
the outbox carries escalations.

- ``decisions.intent``, ``confidence``, ``backend``, ``reply_kind`` (nullable): the chosen intent,
  how sure the classifier was, which backend, and which reply was chosen (``vacation`` or an
  intent's). NULL for every decision taken before: the hash chain covers these columns only when
  they are set, so old rows still verify (:mod:`rcinbox.store.chain`).
- ``opt_outs.words`` (the text that opted out) and ``opt_outs.confidence`` (the classifier's, for a
  fuzzy opt-out; NULL for an exact keyword). NULL for old rows (their ``keyword`` column holds the
  first 64 characters of the text, as before).
- ``outbox.kind`` (``reply`` | ``escalation``, old rows ``reply``) and ``outbox.about`` (an
  escalation: the number of the sender it is about, so "once per sender per window" is one
  indexed query). One inbound message may now have one row of each kind: ``UNIQUE(message_pk)``
  becomes ``UNIQUE(message_pk, kind)``. SQLite cannot drop a constraint in place, so there the
  outbox table is copied (nothing references it: no cascade); elsewhere it is altered in place.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
OLD_UNIQUE = (
    "outbox_message_pk_key"  # PostgreSQL's name for 0001's UNIQUE(message_pk); named so below for SQLite
)
NEW_UNIQUE = "uq_outbox_message_kind"


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("intent", sa.String(16)))
        batch.add_column(sa.Column("confidence", sa.Float))
        batch.add_column(sa.Column("backend", sa.String(16)))
        batch.add_column(sa.Column("reply_kind", sa.String(16)))
    with op.batch_alter_table("opt_outs") as batch:
        batch.add_column(sa.Column("words", sa.Text))
        batch.add_column(sa.Column("confidence", sa.Float))
    sqlite = op.get_bind().dialect.name == "sqlite"
    copy = {"copy_from": _outbox_0003(), "recreate": "always"} if sqlite else {}
    with op.batch_alter_table("outbox", **copy) as batch:  # type: ignore[arg-type]
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="reply"))
        batch.add_column(sa.Column("about", sa.String(64)))
        batch.drop_constraint(OLD_UNIQUE, type_="unique")
        batch.create_unique_constraint(NEW_UNIQUE, ["message_pk", "kind"])
    op.create_index("ix_outbox_about", "outbox", ["about", "kind"])


def downgrade() -> None:
    op.drop_index("ix_outbox_about", "outbox")
    op.execute("DELETE FROM outbox WHERE kind <> 'reply'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(NEW_UNIQUE, type_="unique")
        batch.create_unique_constraint(OLD_UNIQUE, ["message_pk"])
        batch.drop_column("about")
        batch.drop_column("kind")
    with op.batch_alter_table("opt_outs") as batch:
        batch.drop_column("confidence")
        batch.drop_column("words")
    with op.batch_alter_table("decisions") as batch:
        for column in ("reply_kind", "backend", "confidence", "intent"):
            batch.drop_column(column)


def _outbox_0003() -> sa.Table:
    """The outbox as 0001 created it (0002 and 0003 left it alone), its unique constraint named."""
    return sa.Table(
        "outbox",
        sa.MetaData(),
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("message_pk", PK, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
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
        sa.UniqueConstraint("message_pk", name=OLD_UNIQUE),
        sa.Index("ix_outbox_state_due", "state", "next_attempt_at"),
        sa.Index("ix_outbox_ledger", "to_number", "handle", "queued_at"),
    )
