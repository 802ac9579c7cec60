"""Group commit for :meth:`Store.accept <rcinbox.store.Store.accept>`: many concurrent accepts,
few transactions.

Each :meth:`Intake.accept` queues its message row and waits until that row is committed (or known
to be a duplicate): persist-then-ack holds for every caller. One writer task takes everything
queued (up to :data:`MAX_BATCH` rows) and inserts it in one transaction,
``INSERT … ON CONFLICT (extension_id, message_id) DO NOTHING RETURNING`` the keys it inserted;
whatever arrives meanwhile forms the next batch. No timer and no waiting for company: a lone
message is written at once, and under load the batches grow by themselves.

- Deduplication is still the unique constraint's: a caller whose key the insert did not return
  was already stored (``False``); of two copies in one batch the first is inserted and the other
  is a duplicate, so every message is ``True`` exactly once.
- A full disk (:class:`~rcinbox.errors.StoreFull`) reaches every caller of the batch as itself.
  Any other store error (:class:`~rcinbox.errors.StoreError`) fails the batch only until each of
  its rows has been tried alone: a row the database refuses fails its own caller, never the others.
- The writer waits for its turn among the store's writers, but before every other kind
  (:mod:`rcinbox.store.turns`): a transport is waiting to acknowledge.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.errors import StoreError, StoreFull
from rcinbox.store.engine import transaction
from rcinbox.store.schema import messages

log = logging.getLogger("rcinbox.pipeline")

MAX_BATCH = 256  # rows per transaction (20 columns each: far below SQLite's bound-parameter limit)
KEY = ("extension_id", "message_id")  # UNIQUE: the deduplication

Key = tuple[str, str]


class _Waiting:
    __slots__ = ("future", "key", "values")

    def __init__(self, values: Mapping[str, Any], future: asyncio.Future[bool]) -> None:
        self.values = values
        self.key: Key = (values["extension_id"], values["message_id"])
        self.future = future

    def settle(self, result: bool | Exception) -> None:
        if self.future.done():  # the caller gave up waiting (cancelled): nothing to tell
            return
        if isinstance(result, Exception):
            self.future.set_exception(_own_copy(result))
        else:
            self.future.set_result(result)


class Intake:
    """The message inserts of one store, committed in batches by a single writer task."""

    def __init__(self, engine: AsyncEngine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.transactions = 0  # committed batches (what tests and the curious look at)
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None
        self._statement: Executable | None = None

    def __repr__(self) -> str:
        return f"Intake({len(self._queue)} waiting, {self.transactions} batches)"

    async def accept(self, values: Mapping[str, Any]) -> bool:
        """Insert one message row (``values``: every column); ``True`` once it is committed,
        ``False`` if the message was already stored. Raises what the store raised."""
        waiting = _Waiting(values, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="rcinbox.store.intake")
        return await waiting.future

    async def close(self) -> None:
        """Let the writer finish what is queued (the store closes after it)."""
        if self._writer is not None:
            await asyncio.wait([self._writer])

    async def _write_all(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                await self._write(batch)
            except BaseException as exc:  # cancelled, or a bug: no caller may wait forever
                failure = exc if isinstance(exc, Exception) else StoreError("the intake was stopped")
                for waiting in [*batch, *self._queue]:
                    waiting.settle(failure)
                self._queue = []
                raise

    async def _write(self, batch: Sequence[_Waiting]) -> None:
        firsts: dict[Key, _Waiting] = {}
        for waiting in batch:
            firsts.setdefault(waiting.key, waiting)
        outcomes = await self._outcomes(list(firsts.values()))
        for waiting in batch:
            outcome = outcomes[waiting.key]
            if outcome is True and firsts[waiting.key] is not waiting:
                outcome = False  # the second copy of a message in one batch
            waiting.settle(outcome)

    async def _outcomes(self, rows: Sequence[_Waiting]) -> dict[Key, bool | StoreError]:
        """Per key: inserted, already there, or the store's error."""
        try:
            inserted = await self._insert([waiting.values for waiting in rows])
        except StoreFull as exc:
            return {waiting.key: exc for waiting in rows}
        except StoreError as exc:
            if len(rows) == 1:
                return {rows[0].key: exc}
            log.debug("a batch of %d rows was refused (%s): each row alone", len(rows), exc)
            outcomes: dict[Key, bool | StoreError] = {}
            for waiting in rows:  # only a row the database refuses fails its caller
                outcomes |= await self._outcomes([waiting])
            return outcomes
        return {waiting.key: waiting.key in inserted for waiting in rows}

    async def _insert(self, rows: list[Mapping[str, Any]]) -> set[Key]:
        async with transaction(self.engine, urgent=True) as conn:
            result = await conn.execute(self._insert_statement(conn.dialect.name), rows)
            inserted = {(row[0], row[1]) for row in result.all()}
        self.transactions += 1
        return inserted

    def _insert_statement(self, dialect: str) -> Executable:
        if self._statement is None:
            if dialect not in ("postgresql", "sqlite"):
                raise NotImplementedError(f"accept is not implemented for the {dialect} dialect")
            module = import_module(f"sqlalchemy.dialects.{dialect}")  # the one in use
            self._statement = (
                module.insert(messages)
                .on_conflict_do_nothing(index_elements=list(KEY))
                .returning(*(messages.c[name] for name in KEY))
            )
        return self._statement


def _own_copy(exc: Exception) -> Exception:
    """The same error for each caller, as its own instance (one raised in many tasks would gather
    every task's traceback), chained to the original."""
    mine = copy.copy(exc)
    mine.__cause__, mine.__traceback__ = exc, None
    return mine
