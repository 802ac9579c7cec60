"""The replicas sharing this database, as their heartbeats say: each writes a ``kv`` row
(``replica.<id>``: host and pid) every few seconds and removes it when it stops; a replica whose
row is older than ``within`` seconds counts as gone (killed, frozen, cut off). How many are live
decides each one's part of RingCentral's rate limits (:mod:`rcinbox.service.membership`), and
the replies a gone replica had in flight (``outbox.claimed_by``) are due again at once
(:func:`end_orphan_claims`; reconciled against the platform before any is sent again). A replica
about to send with a stale heartbeat first asks :func:`holds`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.clock import Clock
from rcinbox.store.engine import reading, transaction, upsert
from rcinbox.store.schema import kv, outbox

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


def claimed_by_gone(
    claimed_by: ColumnElement[str | None], now: datetime, within: float
) -> ColumnElement[bool]:
    """A claim held by a replica whose heartbeat is older than ``within`` s at ``now`` (or gone)."""
    since = now - timedelta(seconds=within)
    alive = exists().where(kv.c.key == literal(PREFIX) + claimed_by, kv.c.updated_at >= since)
    return and_(claimed_by.is_not(None), ~alive)


async def end_orphan_claims(engine: AsyncEngine, clock: Clock, within: float) -> int:
    """End the claims of replicas whose heartbeat is older than ``within`` s (or gone): their
    rows in flight are due now; how many."""
    now = clock.now()
    ending = (
        update(outbox)
        .where(
            outbox.c.state == "sending",
            outbox.c.next_attempt_at.is_(None),
            outbox.c.lease_until > now,
            claimed_by_gone(outbox.c.claimed_by, now, within),
        )
        .values(lease_until=now, updated_at=now)
    )
    async with transaction(engine) as conn:
        return int((await conn.execute(ending)).rowcount)


async def holds(
    engine: AsyncEngine, clock: Clock, replica: str, about: str, row_id: int, skew: float
) -> bool:
    """Whether ``replica`` still holds its claim on outbox row ``row_id`` (not ended, not taken
    over), after saying it is alive (committed first: from then on the others leave its claims
    alone). An ended claim's lease ends at the ender's "now", which may be up to ``skew`` seconds
    ahead of this clock: a lease ending that soon counts as ended. The row is read ``FOR UPDATE``:
    an ending of the claim being written meanwhile is waited for and seen."""
    await beat(engine, clock, replica, about)
    mine = (
        select(outbox.c.id)
        .where(
            outbox.c.id == row_id,
            outbox.c.state == "sending",
            outbox.c.claimed_by == replica,
            outbox.c.next_attempt_at.is_(None),
            outbox.c.lease_until > clock.now() + timedelta(seconds=skew),
        )
        .with_for_update()
    )
    async with transaction(engine) as conn:
        return await conn.scalar(mine) is not None
