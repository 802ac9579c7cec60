"""``kv`` rows that several processes share: one locked for a block (what replicas renew their
shared OAuth session under, :mod:`rcinbox.platform.vault`), and one created once by whichever
process comes first (:func:`setdefault`: the WebHook's verification token, the dashboard's
session key and generated password).

:func:`locked` makes sure the row exists (an empty value; ``ON CONFLICT DO NOTHING``, so two
replicas creating it at once is fine), then opens one transaction and reads the row ``FOR
UPDATE``: another process asking for the same row waits until the block ends (committed, or
rolled back on an error). On SQLite the transaction's write lock (``BEGIN IMMEDIATE``) does the
same for the one process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import Executable, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcinbox.clock import Clock
from rcinbox.store.engine import insert_new, transaction
from rcinbox.store.schema import kv


@dataclass
class LockedKv:
    """The row's value as read under the lock (``None``: empty), and how to replace it."""

    key: str
    value: str | None
    conn: AsyncConnection
    clock: Clock

    async def put(self, value: str) -> None:
        await self.conn.execute(
            update(kv).where(kv.c.key == self.key).values(value=value, updated_at=self.clock.now())
        )
        self.value = value


async def setdefault(engine: AsyncEngine, clock: Clock, key: str, value: str) -> str:
    """The row's value, ``value`` written first when there was none (or it was empty): of two
    processes creating it at once, both get the one that was written first."""
    async with transaction(engine) as conn:
        await conn.execute(_create_if_missing(conn.dialect.name, key, clock, value))
        await conn.execute(
            update(kv).where(kv.c.key == key, kv.c.value == "").values(value=value, updated_at=clock.now())
        )
        stored = await conn.scalar(select(kv.c.value).where(kv.c.key == key))
    return str(stored)


@asynccontextmanager
async def locked(engine: AsyncEngine, clock: Clock, key: str) -> AsyncIterator[LockedKv]:
    async with transaction(engine) as conn:
        await conn.execute(_create_if_missing(conn.dialect.name, key, clock))
    async with transaction(engine) as conn:
        value = await conn.scalar(select(kv.c.value).where(kv.c.key == key).with_for_update())
        yield LockedKv(key, value or None, conn, clock)


def _create_if_missing(dialect: str, key: str, clock: Clock, value: str = "") -> Executable:
    return insert_new(dialect, kv, {"key": key, "value": value, "updated_at": clock.now()})
