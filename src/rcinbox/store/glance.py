"""A glance at the inbox for the dashboard's status page: the last text's time and sender, and how
many are not handled yet (one extension, or all). Today's counts are :mod:`rcinbox.store.status`'s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.store.engine import reading
from rcinbox.store.schema import messages

HANDLED = ("done", "failed")


@dataclass(frozen=True)
class Glance:
    last_at: datetime | None
    last_sender: str | None
    to_handle: int


async def glance(engine: AsyncEngine, extension_id: str | None = None) -> Glance:
    where = [messages.c.extension_id == extension_id] if extension_id else []
    async with reading(engine) as conn:
        pending = await conn.scalar(
            select(func.count()).select_from(messages).where(messages.c.state.not_in(HANDLED), *where)
        )
        last = (
            await conn.execute(
                select(messages.c.received_at, messages.c.sender)
                .where(*where)
                .order_by(messages.c.id.desc())
                .limit(1)
            )
        ).first()
    return Glance(last[0] if last else None, last[1] if last else None, int(pending or 0))
