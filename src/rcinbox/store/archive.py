"""The archive as ``rcinbox messages`` shows it: the latest messages, newest first, each with its
decision, its reply (state, why it failed, and the text when it was sent) and its attachments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.store.engine import reading
from rcinbox.store.records import ArchiveEntry, AttachmentRecord
from rcinbox.store.schema import attachments, decisions, messages, outbox


async def recent(engine: AsyncEngine, limit: int) -> list[ArchiveEntry]:
    """The latest ``limit`` messages with their decision, reply and attachments, newest first."""
    count = (
        select(func.count())
        .where(attachments.c.message_pk == messages.c.id, attachments.c.state == "stored")
        .scalar_subquery()
    )
    query = (
        select(messages, decisions.c.action, decisions.c.reason, outbox.c.state.label("reply_state"))
        .add_columns(outbox.c.last_error.label("reply_error"), outbox.c.text.label("reply_text"))
        .add_columns(count.label("attachment_count"))
        .outerjoin(decisions, decisions.c.message_pk == messages.c.id)
        .outerjoin(outbox, outbox.c.message_pk == messages.c.id)
        .order_by(messages.c.id.desc())
        .limit(limit)
    )
    async with reading(engine) as conn:
        rows = (await conn.execute(query)).mappings().all()
        files = await conn.execute(
            select(attachments)
            .where(attachments.c.message_pk.in_([row["id"] for row in rows]))
            .order_by(attachments.c.id)
        )
        by_message: dict[int, list[AttachmentRecord]] = {}
        for file in files.mappings():
            by_message.setdefault(file["message_pk"], []).append(attachment(file))
    return [_entry(row, tuple(by_message.get(row["id"], ()))) for row in rows]


def attachment(row: Any) -> AttachmentRecord:
    return AttachmentRecord(**{name: row[name] for name in AttachmentRecord.__dataclass_fields__})


def _entry(row: Any, files: tuple[AttachmentRecord, ...]) -> ArchiveEntry:
    failed = row["reply_state"] in ("failed", "unknown")
    return ArchiveEntry(
        pk=row["id"],
        extension_id=row["extension_id"],
        message_id=row["message_id"],
        sender=row["sender"],
        sender_name=row["sender_name"],
        receiving_number=row["receiving_number"],
        text=row["text"],
        created_at=row["created_at"],
        state=row["state"],
        action=row["action"],
        reason=row["reason"],
        reply_state=row["reply_state"],
        attachments=int(row["attachment_count"] or 0),
        last_error=row["last_error"],
        reply_error=row["reply_error"] if failed else None,
        reply_text=row["reply_text"] if row["reply_state"] == "sent" else None,
        files=files,
    )
