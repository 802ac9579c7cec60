"""The archive as ``rcinbox messages`` shows it: the latest messages, newest first, each with its
decision (with what the classifier understood), its reply (state, why it failed, and the text when
it was sent), its escalation and its attachments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
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
    reply, escalation = outbox.alias("reply"), outbox.alias("escalation")
    query = (
        select(messages, decisions.c.action, decisions.c.reason, reply.c.state.label("reply_state"))
        .add_columns(reply.c.last_error.label("reply_error"), reply.c.text.label("reply_text"))
        .add_columns(count.label("attachment_count"))
        .add_columns(decisions.c.intent, decisions.c.confidence, decisions.c.backend, decisions.c.reply_kind)
        .add_columns(
            escalation.c.to_number.label("escalation_to"), escalation.c.state.label("escalation_state")
        )
        .outerjoin(decisions, decisions.c.message_pk == messages.c.id)
        .outerjoin(reply, and_(reply.c.message_pk == messages.c.id, reply.c.kind == "reply"))
        .outerjoin(
            escalation, and_(escalation.c.message_pk == messages.c.id, escalation.c.kind == "escalation")
        )
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
        intent=row["intent"],
        confidence=row["confidence"],
        backend=row["backend"],
        reply_kind=row["reply_kind"],
        escalation_to=row["escalation_to"],
        escalation_state=row["escalation_state"],
    )
