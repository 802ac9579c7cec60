"""The outbox queue: durable automated replies, claimed before they are sent.

Row life: ``queued`` (due at ``next_attempt_at``) → :meth:`OutboxQueue.claim_many` marks it
``sending`` in a transaction committed *before* the platform is called (in flight:
``next_attempt_at`` NULL, ``lease_until`` = when the claim expires) → ``sent`` (with the platform
message id), ``failed`` (with the reason) or, given up on a send whose outcome stayed unknown,
``unknown`` (counted by the ledger, never sent again). A send whose outcome is unknown (network
error, 5xx, crash) leaves the row ``sending``; it becomes due again through :meth:`retry_later`, through the
lease running out (a sender that died or lost its database), or at once at start-up
(:meth:`recover_in_flight`, single-instance deployments), and the sender reconciles it against
the platform's message store before sending again. A claim is one conditional
``UPDATE … RETURNING``, so of several senders (a process's concurrent sends, replicas) exactly one
holds a row. The queue's writes go one transaction at a time per process, so its concurrent
sends never make SQLite wait out its busy timeout ("database is locked"), and the writes that
wait meanwhile (other sends' claims and outcomes) are committed together in the next one (group
commit: a burst of replies costs a few transactions, not two per reply). The outbox is also the
replies ledger: non-failed rows (``unknown`` included) are automated texts. A row is a ``reply``
to the sender or an ``escalation`` about them (``about``) to the owner's escalation number; the
message is ``done`` when its last active row finishes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, Select, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcinbox.clock import Clock
from rcinbox.store.engine import reading, transaction
from rcinbox.store.records import OutboxKind, OutboxRow, OutboxState
from rcinbox.store.schema import messages, opt_outs, outbox

LEDGER_STATES: tuple[OutboxState, ...] = ("queued", "sending", "sent", "unknown")
_ACTIVE: tuple[OutboxState, ...] = ("queued", "sending")
DEFAULT_LEASE = timedelta(minutes=10)  # far longer than one send with the client's own retries
T = TypeVar("T")


def ledger_time() -> ColumnElement[Any]:
    """When an automated text counts as sent: ``sent_at``, or ``queued_at`` while pending."""
    return func.coalesce(outbox.c.sent_at, outbox.c.queued_at)


def _due_at() -> ColumnElement[Any]:
    """When an active row is next due: its retry time, or the end of its lease while in flight."""
    return func.coalesce(outbox.c.next_attempt_at, outbox.c.lease_until)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(outbox.c.state.in_(_ACTIVE), _due_at() <= now)


def _next_due_query(after: datetime | None) -> Select[Any]:
    query = select(func.min(_due_at())).where(outbox.c.state.in_(_ACTIVE))
    return query if after is None else query.where(_due_at() > after)


@dataclass(frozen=True)
class Claim:
    row: OutboxRow
    reconcile: bool  # the row was already ``sending``: a previous attempt may have reached the platform
    opted_out: bool = False  # the counterpart's opt-out state, read in the claim's transaction


@dataclass(eq=False)
class _Write(Generic[T]):
    work: Callable[[AsyncConnection], Awaitable[T]]
    done: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class OutboxQueue:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._writing = asyncio.Lock()
        self._waiting: list[_Write[Any]] = []

    async def _write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """``work(conn)`` in a write transaction, committed when this returns. One transaction at
        a time: the writes that arrive meanwhile go together in the next one."""
        write = _Write(work)
        self._waiting.append(write)
        try:
            async with self._writing:
                if not write.done.done():
                    await self._commit_waiting(write)
        except asyncio.CancelledError:
            if write in self._waiting:  # not written
                self._waiting.remove(write)
            raise
        return write.done.result()

    async def _commit_waiting(self, own: _Write[Any]) -> None:
        batch, self._waiting = self._waiting, []
        try:
            async with transaction(self.engine) as conn:
                results = [await write.work(conn) for write in batch]
        except Exception as exc:  # the store itself (a full disk): every write of the batch failed
            for write in batch:
                write.done.set_exception(exc)
            return
        except BaseException:  # cancelled: rolled back; the others go in the next transaction
            self._waiting[:0] = [write for write in batch if write is not own]
            raise
        for write, result in zip(batch, results, strict=True):
            write.done.set_result(result)

    async def recover_in_flight(self) -> int:
        """At start-up of the only sender: rows left in flight by a crash are due now (to be
        reconciled) instead of when their lease runs out."""
        now = self.clock.now()
        recovering = (
            update(outbox)
            .where(outbox.c.state == "sending", outbox.c.next_attempt_at.is_(None))
            .values(lease_until=now, updated_at=now)
        )

        async def recover(conn: AsyncConnection) -> int:
            return int((await conn.execute(recovering)).rowcount)

        return await self._write(recover)

    async def due(
        self,
        limit: int = 50,
        *,
        skip_ids: Collection[int] = (),
        skip_extensions: Collection[str] = (),
        skip_counterparts: Collection[str] = (),
    ) -> list[OutboxRow]:
        """Rows due now, soonest first, leaving out those ids, extensions and counterparts (what
        the sender has in flight)."""
        return (await self.due_and_next(limit, skip_ids, skip_extensions, skip_counterparts))[0]

    async def due_and_next(
        self,
        limit: int = 50,
        skip_ids: Collection[int] = (),
        skip_extensions: Collection[str] = (),
        skip_counterparts: Collection[str] = (),
    ) -> tuple[list[OutboxRow], datetime | None]:
        """:meth:`due`, and when the next row is due after now (:meth:`next_due`), in one read."""
        now = self.clock.now()
        query: Select[Any] = select(outbox).where(_due(now))
        if skip_ids:
            query = query.where(outbox.c.id.not_in(list(skip_ids)))
        if skip_extensions:
            query = query.where(outbox.c.extension_id.not_in(list(skip_extensions)))
        if skip_counterparts:
            query = query.where(outbox.c.to_number.not_in(list(skip_counterparts)))
        async with reading(self.engine) as conn:
            rows = (await conn.execute(query.order_by(_due_at(), outbox.c.id).limit(limit))).mappings().all()
            later = await conn.scalar(_next_due_query(now))
        return [_row(row) for row in rows], cast(datetime | None, later)

    async def next_due(self, after: datetime | None = None) -> datetime | None:
        """When the next active row is due (only those due later than ``after``, if given)."""
        async with reading(self.engine) as conn:
            return cast(datetime | None, await conn.scalar(_next_due_query(after)))

    async def depth(self) -> dict[str, tuple[int, datetime]]:
        """Per kind (``reply``, ``escalation``) with rows not finished yet (queued or in flight):
        how many, and when the oldest of them was queued (the metrics read it at each scrape)."""
        query = (
            select(outbox.c.kind, func.count(), func.min(outbox.c.queued_at))
            .where(outbox.c.state.in_(_ACTIVE))
            .group_by(outbox.c.kind)
        )
        async with reading(self.engine) as conn:
            rows = (await conn.execute(query)).all()
        return {kind: (count, oldest) for kind, count, oldest in rows}

    async def get(self, row_id: int) -> OutboxRow | None:
        async with reading(self.engine) as conn:
            row = (await conn.execute(select(outbox).where(outbox.c.id == row_id))).mappings().one_or_none()
        return None if row is None else _row(row)

    async def for_message(self, message_pk: int, kind: OutboxKind = "reply") -> OutboxRow | None:
        query = select(outbox).where(outbox.c.message_pk == message_pk, outbox.c.kind == kind)
        async with reading(self.engine) as conn:
            row = (await conn.execute(query)).mappings().one_or_none()
        return None if row is None else _row(row)

    async def claim(
        self, row_id: int, lease: timedelta = DEFAULT_LEASE, claimant: str | None = None
    ) -> Claim | None:
        """Mark a due row ``sending`` for ``lease`` (committed); ``None`` if it is not due or
        another sender holds it."""
        claims = await self.claim_many([row_id], lease, claimant)
        return claims[0] if claims else None

    async def claim_many(
        self, row_ids: Collection[int], lease: timedelta = DEFAULT_LEASE, claimant: str | None = None
    ) -> list[Claim]:
        """Mark these rows ``sending`` for ``lease`` (committed) by ``claimant`` (a replica's
        heartbeat id, :mod:`rcinbox.store.members`), those still due; the claims, in
        no particular order, each with its counterpart's opt-out state read in the same
        transaction. One conditional ``UPDATE … RETURNING``: of concurrent claims of a row exactly
        one gets it. The rows are picked by ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL: a row
        another sender's claim is writing is passed over, not waited for; SQLite, whose writer
        holds the database, has no row locks and leaves the clause out)."""
        if not row_ids:
            return []
        now = self.clock.now()
        free = (
            select(outbox.c.id)
            .where(outbox.c.id.in_(list(row_ids)), _due(now))
            .with_for_update(skip_locked=True)
        )
        claiming = (
            update(outbox)
            .where(outbox.c.id.in_(free.scalar_subquery()), _due(now))
            .values(
                state="sending",
                attempts=outbox.c.attempts + 1,
                claimed_at=func.coalesce(outbox.c.claimed_at, now),
                next_attempt_at=None,
                lease_until=now + lease,
                claimed_by=claimant,
                updated_at=now,
            )
            .returning(*outbox.c)
        )

        async def claim(conn: AsyncConnection) -> list[Claim]:
            rows = [_row(row) for row in (await conn.execute(claiming)).mappings().all()]
            numbers = {row.to_number for row in rows}
            stopped = select(opt_outs.c.number).where(
                opt_outs.c.number.in_(list(numbers)), opt_outs.c.state == "opted_out"
            )
            opted_out = set((await conn.scalars(stopped)).all()) if numbers else set()
            # A row is ``queued`` until its first claim, which makes it ``sending`` for good: a
            # second attempt means a previous one may have reached the platform.
            return [Claim(row, row.attempts > 1, row.to_number in opted_out) for row in rows]

        return await self._write(claim)

    async def mark_sent(self, row_id: int, platform_message_id: str) -> None:
        await self._finish(row_id, "sent", platform_message_id=platform_message_id, sent_at=self.clock.now())

    async def mark_failed(self, row_id: int, reason: str) -> None:
        await self._finish(row_id, "failed", last_error=reason[:2000])

    async def mark_unknown(self, row_id: int, reason: str) -> None:
        """Given up, but the last attempt may have gone out: kept in the ledger, never resent."""
        await self._finish(row_id, "unknown", last_error=reason[:2000])

    async def retry_later(self, row_id: int, error: str, at: datetime) -> None:
        """Keep the row ``sending`` (outcome unknown or refused for now) and try again at ``at``."""
        later = (
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(
                next_attempt_at=at, lease_until=None, last_error=error[:2000], updated_at=self.clock.now()
            )
        )

        async def retry(conn: AsyncConnection) -> None:
            await conn.execute(later)

        await self._write(retry)

    async def known_platform_ids(self, ids: Collection[str]) -> set[str]:
        """Which of these platform message ids are already recorded for some outbox row."""
        if not ids:
            return set()
        query = select(outbox.c.platform_message_id).where(outbox.c.platform_message_id.in_(list(ids)))
        async with reading(self.engine) as conn:
            return {str(value) for value in (await conn.scalars(query)).all()}

    async def _finish(self, row_id: int, state: OutboxState, **values: Any) -> None:
        now = self.clock.now()
        message_pk = select(outbox.c.message_pk).where(outbox.c.id == row_id).scalar_subquery()
        others = select(outbox.c.id).where(outbox.c.message_pk == message_pk, outbox.c.state.in_(_ACTIVE))

        async def finish(conn: AsyncConnection) -> None:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id)
                .values(state=state, next_attempt_at=None, lease_until=None, updated_at=now, **values)
            )
            await conn.execute(
                update(messages)
                .where(messages.c.id == message_pk, messages.c.state == "decided", ~others.exists())
                .values(state="done", updated_at=now)
            )

        await self._write(finish)


def _row(row: Any) -> OutboxRow:
    return OutboxRow(
        **{name: row[name] for name in OutboxRow.__dataclass_fields__ if name != "id"}, id=row["id"]
    )
