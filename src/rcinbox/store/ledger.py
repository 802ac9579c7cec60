"""The ledger reads: opt-out state and the automated texts already sent (or queued) that concern
a counterpart. Keyed by :func:`rcinbox.numbers.same_key` on read as on write."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.numbers import same_key
from rcinbox.store.engine import reading
from rcinbox.store.outbox_queue import LEDGER_STATES, ledger_time
from rcinbox.store.records import SenderHistory
from rcinbox.store.schema import opt_outs, outbox


async def opted_out(engine: AsyncEngine, number: str) -> bool:
    async with reading(engine) as conn:
        state = await conn.scalar(select(opt_outs.c.state).where(opt_outs.c.number == same_key(number)))
    return state == "opted_out"


async def last_reply_at(engine: AsyncEngine, counterpart: str, handle: str) -> datetime | None:
    query = select(func.max(ledger_time())).where(
        outbox.c.to_number == same_key(counterpart),
        outbox.c.kind == "reply",
        outbox.c.handle == handle,
        outbox.c.state.in_(LEDGER_STATES),
    )
    async with reading(engine) as conn:
        return cast(datetime | None, await conn.scalar(query))


async def history(engine: AsyncEngine, sender: str) -> SenderHistory:
    """One query: the last reply to ``sender`` per handle, and the last escalation about them."""
    key = same_key(sender)
    query = (
        select(outbox.c.kind, outbox.c.handle, func.max(ledger_time()).label("last"))
        .where(
            outbox.c.state.in_(LEDGER_STATES),
            or_(
                and_(outbox.c.to_number == key, outbox.c.kind == "reply"),
                and_(outbox.c.about == key, outbox.c.kind == "escalation"),
            ),
        )
        .group_by(outbox.c.kind, outbox.c.handle)
    )
    async with reading(engine) as conn:
        rows = (await conn.execute(query)).all()
    replies = {row.handle: row.last for row in rows if row.kind == "reply"}
    escalations = [row.last for row in rows if row.kind == "escalation"]
    return SenderHistory(replies, max(escalations, default=None))


async def automated_count(engine: AsyncEngine, counterpart: str, since: datetime) -> int:
    """Automated texts to ``counterpart`` (any handle, replies and escalations) since ``since``."""
    query = select(func.count()).where(
        outbox.c.to_number == same_key(counterpart),
        outbox.c.state.in_(LEDGER_STATES),
        ledger_time() >= since,
    )
    async with reading(engine) as conn:
        return int(await conn.scalar(query) or 0)
