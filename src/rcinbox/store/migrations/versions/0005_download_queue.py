"""Attachments are downloaded on their own queue, after the decision: ``attachments`` rows exist
from the moment a message is archived, in state ``pending`` until the download worker records the
outcome (``stored`` or ``refused``) or gives up (``failed``).

- ``attachments.attempts`` (0 for old rows), ``next_attempt_at`` (a pending download's retry
  time) and ``last_error`` (why the last attempt failed); an index on ``(state, next_attempt_at)``
  for the worker's "what is due" query. Plain ``ALTER TABLE … ADD COLUMN`` (no table copy).
- Until now a message was archived only once every attachment had an outcome, so an archived
  message has a row for each one it announced. Should one lack it anyway, it is queued here as
  ``pending`` (an announcement intake found malformed is ``refused`` at once, as the worker
  records it). A message still ``received`` gets its rows when the pipeline archives it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

messages = sa.table(
    "messages",
    sa.column("id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("announced", sa.JSON),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
attachments = sa.table(
    "attachments",
    sa.column("message_pk", sa.Integer),
    sa.column("attachment_id", sa.String),
    sa.column("content_type", sa.String),
    sa.column("size", sa.BigInteger),
    sa.column("state", sa.String),
    sa.column("reason", sa.Text),
    sa.column("uri", sa.Text),
    sa.column("stored_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("last_error", sa.Text))
    op.create_index("ix_attachments_state_due", "attachments", ["state", "next_attempt_at"])
    conn = op.get_bind()
    known = {
        (pk, att)
        for pk, att in conn.execute(sa.select(attachments.c.message_pk, attachments.c.attachment_id))
    }
    missing = []
    columns = messages.c.id, messages.c.announced, messages.c.updated_at  # queued when last updated
    for pk, announced, updated in conn.execute(sa.select(*columns).where(messages.c.state != "received")):
        for ref in announced if isinstance(announced, list) else []:
            if isinstance(ref, Mapping) and (pk, ref.get("id")) not in known:
                missing.append(_row(pk, ref, updated))
    if missing:
        conn.execute(sa.insert(attachments), missing)


def downgrade() -> None:
    op.execute("DELETE FROM attachments WHERE state IN ('pending', 'failed')")
    op.drop_index("ix_attachments_state_due", "attachments")
    with op.batch_alter_table("attachments") as batch:
        for column in ("last_error", "next_attempt_at", "attempts"):
            batch.drop_column(column)


def _row(pk: int, ref: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A queued download for ``ref`` (as 0003 and intake write ``messages.announced``)."""
    problem, note = ref.get("problem"), ref.get("note")
    return {
        "message_pk": pk,
        "attachment_id": ref["id"],
        "content_type": ref["contentType"],
        "size": ref.get("size"),
        "state": "pending" if problem is None else "refused",
        "reason": f"malformed: {problem}" if problem is not None else (f"note: {note}" if note else None),
        "uri": str(ref["uri"])[:2000],
        "stored_at": now,
    }
