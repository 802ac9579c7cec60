"""Who leads among the replicas sharing one database: a lease on the database itself.

One replica at a time holds the RingCentral subscription and the scheduled work (renewal,
catch-up, address-book sync, token upkeep); every replica takes webhook deliveries and sends
replies. :class:`Lease` is what :mod:`rcinbox.service.leadership` asks:

- :class:`SoleLease` (SQLite): always held. One process per data directory is already certain
  (the data directory's lock, :mod:`rcinbox.datalock`), so the one process leads.
- :class:`AdvisoryLease` (PostgreSQL): a session-level advisory lock
  (``pg_try_advisory_lock``) on a connection of its own, kept open while held. PostgreSQL
  releases it when that connection ends, so a replica that dies (even by SIGKILL: the kernel
  closes its socket, the server ends the session) gives it up at once and another takes it on
  its next try. :meth:`AdvisoryLease.held` asks the server whether this session still holds it
  (``pg_locks``), with a time limit: a leader that cannot tell steps down.

Safety never rests on the lease: a reply is claimed from the outbox row by row, and a message
is archived once by its unique key, so two replicas briefly both leading (the old leader not yet
aware that its connection is gone) duplicate only harmless work (a renewal, a catch-up read).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("rcinbox.leadership")

NAME = "rcinbox.leader"
ASK_WITHIN = 5.0  # seconds an answer from the database may take before the lease counts as lost


def lock_key(name: str = NAME) -> int:
    """The advisory lock's 64-bit key: stable across versions and processes (not ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class Lease(Protocol):
    async def acquire(self) -> bool:
        """Take the lease if free (or already ours); ``False`` when another holds it or the
        database cannot be reached."""
        ...

    async def held(self) -> bool:
        """Whether it is still ours (``False`` too when the database does not answer in time)."""
        ...

    async def release(self) -> None:
        """Give it up (nothing when not held); never raises."""
        ...


class SoleLease:
    """The only process on its database: always the leader."""

    async def acquire(self) -> bool:
        return True

    async def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLease:
    """A PostgreSQL session-level advisory lock held on a connection of its own."""

    def __init__(self, engine: AsyncEngine, name: str = NAME, *, within: float = ASK_WITHIN) -> None:
        self.engine = engine
        self.key = lock_key(name)
        self.within = within
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        try:
            async with asyncio.timeout(self.within):
                if self._conn is None:
                    conn = await self.engine.connect()
                    self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                got = await self._conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.debug("leader lease: could not ask the database: %s", type(exc).__name__)
            await self._drop()
            return False
        if not got:  # another replica leads; keep no connection open while we wait
            await self._drop()
        return bool(got)

    async def held(self) -> bool:
        if self._conn is None:
            return False
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objsubid = 1 AND pid = pg_backend_pid()"
            " AND ((classid::bigint << 32) | objid::bigint) = :key"  # a bigint key's two halves
        )
        try:
            async with asyncio.timeout(self.within):
                mine = await self._conn.scalar(query, {"key": self.key})
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("leader lease: the database did not confirm it (%s)", type(exc).__name__)
            await self._drop()
            return False
        if not mine:
            await self._drop()
        return bool(mine)

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            async with asyncio.timeout(self.within):
                await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except (SQLAlchemyError, OSError, TimeoutError):
            pass  # closing the session below releases it anyway
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except (SQLAlchemyError, OSError):
                # a connection already broken: let the pool forget it
                await conn.invalidate()
