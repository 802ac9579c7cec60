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
import contextlib
import hashlib
import logging
from typing import Any, Protocol

from sqlalchemy import TextClause, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("rcinbox.leadership")

NAME = "rcinbox.leader"
TAKE = text("SELECT pg_try_advisory_lock(:key)")
GIVE_BACK = text("SELECT pg_advisory_unlock(:key)")
MINE = text(  # a bigint key is held as its two 32-bit halves
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
    " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :key"
)
ASK_WITHIN = 5.0  # seconds an answer from the database may take before the lease counts as lost


def lock_key(name: str = NAME) -> int:
    """The advisory lock's 64-bit key: stable across versions and processes (not ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class Lease(Protocol):
    answered: bool  # the last question got an answer (so a refused take means another holds it)
    sole: bool  # always ours (the only process on its database): nobody else could lead

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

    answered = True
    sole = True

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
        self._ours = False  # taken once on this connection (a second take would stack: unlock once)
        self.answered = False
        self.sole = False

    async def acquire(self) -> bool:
        if self._ours:
            return await self.held()
        got = await self._ask(TAKE, "could not ask the database")
        if not got:  # another replica leads; keep no connection open while we wait
            await self._drop()
        self._ours = bool(got)
        return self._ours

    async def held(self) -> bool:
        if self._conn is None:
            return False
        mine = await self._ask(MINE, "the database did not confirm it", level=logging.WARNING)
        if not mine:
            await self._drop()
        return bool(mine)

    async def release(self) -> None:
        if self._conn is not None:
            await self._ask(GIVE_BACK, "could not give it back (ending the session does)")
            await self._drop()

    async def _ask(self, query: TextClause, failing: str, *, level: int = logging.DEBUG) -> Any:
        """One answer from the lease's connection (opened on first use), or ``None`` when the
        database fails or takes longer than :attr:`within` (then the connection is cut at once:
        a driver cancelling a query on a silent server waits seconds more for the server)."""
        asking = asyncio.ensure_future(self._answer(query))
        done, _ = await asyncio.wait({asking}, timeout=self.within)
        self.answered = bool(done) and asking.exception() is None
        if not done:
            asking.cancel()
            asking.add_done_callback(_forget)
            log.log(level, "leader lease: %s (no answer within %.0f s)", failing, self.within)
        elif (exc := asking.exception()) is not None:
            if not isinstance(exc, (SQLAlchemyError, OSError)):
                raise exc
            log.log(level, "leader lease: %s (%s)", failing, type(exc).__name__)
        else:
            return asking.result()
        await self._drop(broken=True)
        return None

    async def _answer(self, query: TextClause) -> Any:
        if self._conn is None:
            conn = await self.engine.connect()
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return await self._conn.scalar(query, {"key": self.key})

    async def _drop(self, *, broken: bool = False) -> None:
        """Let the connection go: back to the pool, or, ``broken`` (the database did not answer
        or failed), cut without a goodbye that a silent server would make us wait for."""
        conn, self._conn, self._ours = self._conn, None, False
        if conn is None:
            return
        if not broken:
            closing = asyncio.ensure_future(conn.close())
            done, _ = await asyncio.wait({closing}, timeout=self.within)
            if done and closing.exception() is None:
                return
            closing.add_done_callback(_forget)
        with contextlib.suppress(SQLAlchemyError, OSError):
            # asyncpg's own cut: SQLAlchemy's invalidate first tries a polite close for 2 s
            driver = (await conn.get_raw_connection()).driver_connection
            if callable(terminate := getattr(driver, "terminate", None)):
                terminate()
            await conn.invalidate()


def _forget(task: asyncio.Future[Any]) -> None:
    """Collect what a query abandoned after its time limit ended with (no "never retrieved")."""
    if not task.cancelled():
        task.exception()
