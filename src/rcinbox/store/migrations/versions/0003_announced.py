"""``messages.announced`` and ``messages.handed_over_at``: a message is parsed once, at intake.

Until now the worker re-parsed every message from its ``raw`` envelope, because two things it
needs were only there: the MMS attachments as the notification announced them (each one's id,
uri, content type, size, and a ``problem`` for a malformed entry or a ``note`` for an odd one) and
the envelope's ``timestamp`` (when the platform handed the text over: the "too old" rule's age).
New rows get both columns at intake. Old rows get them here, parsed from ``raw`` by exactly the
rules rcinbox 0.1.0 applied (fixed below, whatever the code says later), and keep their ``raw``
unchanged: it is covered by the decision record's hash chain (``decisions.message_sha256``).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MAX_ATTACHMENT_ID = 64
MAX_CONTENT_TYPE = 255
MAX_SIZE = 2**63 - 1
OCTETS = "application/octet-stream"
messages = sa.table(
    "messages",
    sa.column("id", sa.Integer),
    sa.column("raw", sa.JSON),
    sa.column("announced", sa.JSON),
    sa.column("handed_over_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on every dialect (a constant default: no table copy on SQLite).
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("announced", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("handed_over_at", sa.DateTime(timezone=True)))
    conn = op.get_bind()
    naive = conn.dialect.name == "sqlite"  # the store keeps naive UTC there, aware UTC elsewhere
    changes = []
    for row in conn.execute(sa.select(messages.c.id, messages.c.raw)):
        raw = row.raw if isinstance(row.raw, Mapping) else {}
        body = raw.get("body")
        refs = _attachments(body.get("attachments")) if isinstance(body, Mapping) else []
        handed = _time(raw.get("timestamp"))
        if naive and handed is not None:
            handed = handed.replace(tzinfo=None)
        if refs or handed is not None:
            changes.append({"pk": row.id, "refs": refs, "handed": handed})
    if changes:
        conn.execute(
            sa.update(messages)
            .where(messages.c.id == sa.bindparam("pk"))
            .values(announced=sa.bindparam("refs"), handed_over_at=sa.bindparam("handed")),
            changes,
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("handed_over_at")
        batch.drop_column("announced")


def _time(value: object) -> datetime | None:
    """The envelope's ``timestamp`` as rcinbox 0.1.0 read it (ISO-8601, UTC when no offset)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _attachments(value: object) -> list[dict[str, Any]]:
    """``body.attachments`` as rcinbox 0.1.0 parsed it; the shape the store writes at intake."""
    if value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        return [_malformed("#0", "body.attachments is not a list")]
    refs: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        where = f"body.attachments[{i}]"
        if not isinstance(item, Mapping):
            refs.append(_malformed(f"#{i}", f"{where} is not an object"))
        elif item.get("type") == "MmsAttachment":
            try:
                refs.append(_attachment(item, where, i))
            except ValueError as exc:
                refs.append(_malformed(_plain_id(item.get("id"), i), str(exc)))
    return refs


def _ref(
    att_id: str,
    uri: str,
    content_type: str,
    size: int | None,
    problem: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    return {
        "id": att_id,
        "uri": uri,
        "contentType": content_type,
        "size": size,
        "problem": problem,
        "note": note,
    }


def _malformed(att_id: str, problem: str) -> dict[str, Any]:
    return _ref(att_id, "", OCTETS, None, problem=problem)


def _plain_id(value: object, index: int) -> str:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text if 0 < len(text) <= MAX_ATTACHMENT_ID else f"#{index}"


def _attachment(entry: Mapping[str, Any], where: str, index: int) -> dict[str, Any]:
    uri, content_type, size = entry.get("uri"), entry.get("contentType"), entry.get("size")
    if not isinstance(uri, str) or not uri:
        raise ValueError(f"{where}.uri is missing or not a string")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise ValueError(f"{where}.size is not a non-negative integer")
    att_id = entry.get("id")
    if isinstance(att_id, bool) or not isinstance(att_id, str | int) or str(att_id) == "":
        raise ValueError(f"{where}.id is missing or not a string/number")
    notes = []
    if size is not None and size > MAX_SIZE:
        notes.append(f"declared size {_digits(size)} is out of range: treated as unknown")
        size = None
    if len(str(att_id)) > MAX_ATTACHMENT_ID:
        notes.append(f"id longer than {MAX_ATTACHMENT_ID} characters: kept as #{index}")
    if not isinstance(content_type, str) or not content_type or len(content_type) > MAX_CONTENT_TYPE:
        content_type = OCTETS
    return _ref(_plain_id(att_id, index), uri, content_type, size, note="; ".join(notes) or None)


def _digits(number: int) -> str:
    text = str(number)
    return text if len(text) <= 24 else f"{text[:10]}…({len(text)} digits)"
