"""The dashboard's reads of one extension stay proportional to what they find: the search and
today's counts let their full-text match or time range drive the query (an index on the
extension would have SQLite run the match once per text of the extension: a search of a
100,000-text archive ran for minutes), and the conversations of one extension group the texts on
the index of migration 0007."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pipeline_fakes import EXT
from sqlalchemy import event
from store_kit import sqlite_only
from views_kit import START, opened, text_in

from rcinbox.clock import FakeClock
from rcinbox.store import Store

pytestmark = sqlite_only  # SQLite's query plans (EXPLAIN QUERY PLAN)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    async with opened(store_url, FakeClock(START)) as store:
        await text_in(store, "Is the shop open on Saturday?")
        yield store


async def plans(store: Store, read: Callable[[Store], Awaitable[Any]]) -> list[str]:
    """The query plan of each statement ``read`` runs (SQLite's EXPLAIN QUERY PLAN lines)."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        await read(store)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    lines = []
    async with store.engine.connect() as conn:
        for statement, parameters in seen:
            raw = await conn.get_raw_connection()
            cursor = await raw.driver_connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            lines += [row[3] for row in await cursor.fetchall()]
    return lines


async def test_a_search_of_one_extension_runs_the_match_once(store: Store) -> None:
    for query in ("saturday", "+1 415-555-0100"):
        lines = await plans(store, lambda s, q=query: s.search(q, extension_id=EXT))
        assert lines, query
        assert not any("USING" in line and "extension" in line for line in lines), lines
        assert all(":M" in line for line in lines if "messages_fts" in line), lines
        assert not any("INDEX 0:=M" in line for line in lines), lines  # a match per row of another table
        assert (await s_found(store, query)) == 1


async def s_found(store: Store, query: str) -> int:
    return (await store.search(query, extension_id=EXT)).total


async def test_todays_counts_of_one_extension_read_the_day_not_the_extension(store: Store) -> None:
    lines = await plans(store, lambda s: s.day_counts(ZoneInfo("UTC"), extension_id=EXT, now=START))
    assert any("ix_messages_received_at" in line for line in lines), lines
    assert (await store.day_counts(ZoneInfo("UTC"), extension_id=EXT, now=START)).received == 1


async def test_the_conversations_of_one_extension_group_on_its_index(store: Store) -> None:
    lines = await plans(store, lambda s: s.conversations(extension_id=EXT))
    assert any("ix_messages_extension_sender" in line for line in lines), lines
    assert [c.texts for c in (await store.conversations(extension_id=EXT)).items] == [1]
