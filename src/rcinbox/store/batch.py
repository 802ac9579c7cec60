"""Many messages archived in one transaction (the catch-up's intake: thousands of texts at once),
and how far their handling got (:func:`intake_states`).

:func:`insert_new` inserts the ``messages`` rows of a batch that are not archived yet, with one
multi-row ``INSERT`` in one transaction, and says which ones were new. Deduplication stays the
database's: on SQLite the writing transaction holds the write lock from its ``BEGIN IMMEDIATE``,
so the rows found missing are still missing when they are inserted; where another writer could
insert one meanwhile (PostgreSQL), the unique constraint refuses the batch and the caller archives
its messages one at a time instead (:class:`~rcinbox.store.engine.Duplicate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.store.engine import reading, transaction
from rcinbox.store.schema import messages

CHUNK = 200  # rows per statement (bound parameters stay far below SQLite's limit)


async def insert_new(engine: AsyncEngine, rows: Sequence[Mapping[str, Any]]) -> list[bool]:
    """Insert the rows (``messages`` values) whose ``(extension_id, message_id)`` is not archived
    yet (nor earlier in ``rows``); returns, per row, whether it was inserted. Raises
    :class:`~rcinbox.store.engine.Duplicate` when another writer inserted one meanwhile."""
    if not rows:
        return []
    keys = [(row["extension_id"], row["message_id"]) for row in rows]
    async with transaction(engine) as conn:
        known: set[tuple[str, str]] = set()
        by_extension: dict[str, list[str]] = {}
        for ext, mid in keys:
            by_extension.setdefault(ext, []).append(mid)
        for ext, ids in by_extension.items():
            for start in range(0, len(ids), CHUNK):
                query = select(messages.c.message_id).where(
                    messages.c.extension_id == ext, messages.c.message_id.in_(ids[start : start + CHUNK])
                )
                known.update((ext, str(mid)) for mid in (await conn.scalars(query)).all())
        new: list[bool] = []
        fresh: list[Mapping[str, Any]] = []
        for key, row in zip(keys, rows, strict=True):
            new.append(key not in known)
            if key not in known:
                known.add(key)
                fresh.append(row)
        for start in range(0, len(fresh), CHUNK):
            await conn.execute(insert(messages), list(fresh[start : start + CHUNK]))
    return new


async def intake_states(engine: AsyncEngine, source: str, since: datetime) -> dict[str, int]:
    """Per state, how many messages from ``source`` were archived since ``since``."""
    query = (
        select(messages.c.state, func.count())
        .where(messages.c.source == source, messages.c.received_at >= since)
        .group_by(messages.c.state)
    )
    async with reading(engine) as conn:
        return {str(state): int(count) for state, count in (await conn.execute(query)).all()}
