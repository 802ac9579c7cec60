"""The replicas sharing this database, as their heartbeats say: each writes a ``kv`` row
(``replica.<id>``: host and pid) every few seconds and removes it when it stops; a replica whose
row is older than ``within`` seconds counts as gone (killed, frozen, cut off). How many are live
decides each one's part of RingCentral's rate limits (:mod:`rcinbox.service.membership`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.clock import Clock
from rcinbox.store.engine import reading, transaction, upsert
from rcinbox.store.schema import kv

PREFIX = "replica."


async def beat(engine: AsyncEngine, clock: Clock, replica: str, about: str) -> None:
    async with transaction(engine) as conn:
        await upsert(conn, kv, {"key": PREFIX + replica, "value": about, "updated_at": clock.now()}, ["key"])


async def live(engine: AsyncEngine, clock: Clock, within: float) -> int:
    since = clock.now() - timedelta(seconds=within)
    async with reading(engine) as conn:
        count = await conn.scalar(
            select(func.count()).where(kv.c.key.startswith(PREFIX, autoescape=True), kv.c.updated_at >= since)
        )
    return int(count or 0)


async def leave(engine: AsyncEngine, replica: str) -> None:
    async with transaction(engine) as conn:
        await conn.execute(delete(kv).where(kv.c.key == PREFIX + replica))
