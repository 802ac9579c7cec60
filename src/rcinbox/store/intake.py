"""Group commit for :meth:`Store.accept <rcinbox.store.Store.accept>`: many concurrent accepts,
few transactions.

Each :meth:`Intake.accept` queues its message row and waits until that row is committed (or known
to be a duplicate): persist-then-ack holds for every caller. One writer task
(:mod:`rcinbox.store.batching`) takes everything queued (up to :data:`MAX_BATCH` rows) and inserts
it in one transaction, ``INSERT … ON CONFLICT (extension_id, message_id) DO NOTHING RETURNING``
the keys it inserted; whatever arrives meanwhile forms the next batch.

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

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcinbox.errors import StoreError, StoreFull
from rcinbox.store.batching import GroupCommit
from rcinbox.store.dialects import backend
from rcinbox.store.engine import transaction

log = logging.getLogger("rcinbox.pipeline")

MAX_BATCH = 256  # rows per transaction (20 columns each: far below SQLite's bound-parameter limit)
KEY = ("extension_id", "message_id")  # UNIQUE: the deduplication

Row = Mapping[str, Any]
Key = tuple[str, str]


class Intake(GroupCommit[Row, bool]):
    """The message inserts of one store, committed in batches by a single writer task."""

    name = "intake"

    def __init__(self, engine: AsyncEngine, max_batch: int = MAX_BATCH) -> None:
        super().__init__(max_batch)
        self.engine = engine

    async def accept(self, values: Row) -> bool:
        """Insert one message row (``values``: every column); ``True`` once it is committed,
        ``False`` if the message was already stored. Raises what the store raised."""
        return await self.submit(values)

    async def write(self, items: Sequence[Row]) -> list[bool | Exception]:
        firsts: dict[Key, Row] = {}
        for values in items:
            firsts.setdefault(key(values), values)
        outcomes = await self._outcomes(list(firsts.values()))
        results: list[bool | Exception] = []
        for values in items:
            outcome = outcomes[key(values)]
            if outcome is True and firsts[key(values)] is not values:
                outcome = False  # the second copy of a message in one batch
            results.append(outcome)
        return results

    async def _outcomes(self, rows: Sequence[Row]) -> dict[Key, bool | Exception]:
        """Per key: inserted, already there, or the store's error."""
        try:
            inserted = await self._insert(rows)
        except StoreFull as exc:
            return {key(values): exc for values in rows}
        except StoreError as exc:
            if len(rows) == 1:
                return {key(rows[0]): exc}
            log.debug("a batch of %d rows was refused (%s): each row alone", len(rows), exc)
            outcomes: dict[Key, bool | Exception] = {}
            for values in rows:  # only a row the database refuses fails its caller
                outcomes |= await self._outcomes([values])
            return outcomes
        return {key(values): key(values) in inserted for values in rows}

    async def _insert(self, rows: Sequence[Row]) -> set[Key]:
        async with transaction(self.engine, urgent=True) as conn:
            inserted = await insert_returning_keys(conn, rows)
        self.transactions += 1
        return inserted


async def insert_returning_keys(conn: AsyncConnection, rows: Sequence[Row]) -> set[Key]:
    """Insert ``rows`` (``messages`` values, no two with one key) with ``ON CONFLICT DO NOTHING``
    in one statement (each backend's own: :mod:`rcinbox.store.dialects`); the keys of those
    inserted (the others were already stored)."""
    inserted = await backend(conn.dialect.name).insert_messages(conn, rows, KEY)
    return {(str(ext), str(mid)) for ext, mid in inserted}


def key(values: Row) -> Key:
    return (values["extension_id"], values["message_id"])
