"""Many messages archived in one transaction (the catch-up's intake: thousands of texts at once),
and how far their handling got (:func:`intake_states`).

:func:`insert_new` inserts the ``messages`` rows of a batch in one transaction with the statement
:meth:`Store.accept <rcinbox.store.Store.accept>` uses
(:func:`rcinbox.store.intake.insert_returning_keys`: ``INSERT … ON CONFLICT (extension_id,
message_id) DO NOTHING RETURNING`` the keys inserted; the rows as one multi-row ``VALUES`` on
SQLite, as one array per column on PostgreSQL) and says which ones were new. Deduplication is the
unique constraint's, so a row another writer inserted meanwhile (another replica, on PostgreSQL)
is simply not new: no read first, no retry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.store.engine import reading, transaction
from rcinbox.store.intake import Key, insert_returning_keys, key
from rcinbox.store.schema import messages


async def insert_new(engine: AsyncEngine, rows: Sequence[Mapping[str, Any]]) -> list[bool]:
    """Insert the rows (``messages`` values) whose ``(extension_id, message_id)`` is not archived
    yet (nor earlier in ``rows``); returns, per row, whether it was inserted."""
    if not rows:
        return []
    firsts: dict[Key, Mapping[str, Any]] = {}
    for row in rows:
        firsts.setdefault(key(row), row)
    async with transaction(engine) as conn:
        inserted = await insert_returning_keys(conn, list(firsts.values()))
    return [key(row) in inserted and firsts[key(row)] is row for row in rows]


async def intake_states(engine: AsyncEngine, source: str, since: datetime) -> dict[str, int]:
    """Per state, how many messages from ``source`` were archived since ``since``."""
    query = (
        select(messages.c.state, func.count())
        .where(messages.c.source == source, messages.c.received_at >= since)
        .group_by(messages.c.state)
    )
    async with reading(engine) as conn:
        return {str(state): int(count) for state, count in (await conn.execute(query)).all()}
