"""One decision at a time per sender across the replicas sharing one database.

Within one process the pipeline's lanes (:mod:`rcinbox.service.lanes`) already decide one
sender's texts one after another, which is what makes "one reply per sender" (the repeat
interval, the loop fuse) hold: each decision reads the replies the earlier ones queued. Behind a
load balancer one sender's texts reach different replicas at once, and two decisions that both
read "no reply yet" would both queue one. So on PostgreSQL a decision takes the sender's turn
first: a session advisory lock keyed by the number (:func:`rcinbox.store.lease.lock_key`), held
on a connection of its own from reading the facts until its conclusion is committed. A replica
that dies mid-decision gives the turn up with its connection.

At most :data:`HELD` turns are held at once per process, so the connections they keep leave
the pool's others to the reads and writes the decisions make (no deadlock on the pool). SQLite
(one process) needs no turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.store.engine import connected
from rcinbox.store.lease import lock_key
from rcinbox.waiting import Changes

HELD = 5  # turns held at once per process (the pool has 10 + 10 connections)
WAIT = text("SELECT pg_advisory_lock(:key)")
GIVE_BACK = text("SELECT pg_advisory_unlock(:key)")


def turn_key(number: str) -> int:
    return lock_key(f"rcinbox.sender:{number}")


class SenderTurns:
    """PostgreSQL advisory locks, one per sender's number."""

    def __init__(self, engine: AsyncEngine, held: int = HELD) -> None:
        self.engine = engine
        self._slots = asyncio.Semaphore(held)
        self.waiting = 0  # turns asked for and not yet given (another process holds them)
        self.changes = Changes()  # notified when a wait begins or ends

    @contextlib.asynccontextmanager
    async def turn(self, number: str) -> AsyncIterator[None]:
        key = {"key": turn_key(number)}
        async with self._slots, connected(self.engine) as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            self._waiting(+1)
            try:
                await conn.execute(WAIT, key)
            except BaseException:
                # cancelled (or failed) while waiting: the lock may still be granted to this
                # session later, so the session ends instead of going back to the pool
                await asyncio.shield(conn.invalidate())
                raise
            finally:
                self._waiting(-1)
            try:
                yield
            finally:
                await asyncio.shield(conn.execute(GIVE_BACK, key))

    def _waiting(self, change: int) -> None:
        self.waiting += change
        self.changes.notify()
