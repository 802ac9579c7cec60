"""The archive as ``rcinbox messages`` shows it: the latest messages, newest first, each with its
decision (with what the classifier understood), its reply (state, why it failed, and the text when
it was sent), its escalation and its attachments."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.store.engine import reading
from rcinbox.store.records import ArchiveEntry, AttachmentRecord, archive_entry
from rcinbox.store.records import attachment as attachment  # (Store.attachments reads rows with it)
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
    return [archive_entry(row, tuple(by_message.get(row["id"], ()))) for row in rows]
