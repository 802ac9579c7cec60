"""``messages.before_first_start``: the catch-up's "sent before rcinbox first started" becomes a column.

rcinbox 0.1.0 kept that fact as a marker key (``rcinboxBeforeFirstStart: true``) inside the
synthetic envelope it archived in ``raw``. New rows get the column at intake and no marker. Old
rows whose ``raw`` carries the marker get the column set here, and keep their ``raw`` unchanged:
``raw`` is covered by the decision record's hash chain (``decisions.message_sha256``), so editing
it would make every later decision fail verification.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MARKER = "rcinboxBeforeFirstStart"  # the key rcinbox 0.1.0 wrote; fixed here, whatever the code says later
messages = sa.table(
    "messages",
    sa.column("id", sa.Integer),
    sa.column("raw", sa.JSON),
    sa.column("before_first_start", sa.Boolean),
)


def upgrade() -> None:
    # A plain ALTER TABLE … ADD COLUMN on every dialect (a string default: no table copy on SQLite).
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("before_first_start", sa.Boolean, nullable=False, server_default="0"))
    conn = op.get_bind()
    candidates = sa.select(messages.c.id, messages.c.raw).where(
        sa.cast(messages.c.raw, sa.Text).like(f"%{MARKER}%")  # narrows; the check below decides
    )
    marked = [row.id for row in conn.execute(candidates) if _marked(row.raw)]
    if marked:
        conn.execute(sa.update(messages).where(messages.c.id.in_(marked)).values(before_first_start=True))


def _marked(raw: object) -> bool:
    """Exactly what rcinbox 0.1.0 read: the envelope's top-level marker is ``true``."""
    return isinstance(raw, dict) and raw.get(MARKER) is True


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("before_first_start")
