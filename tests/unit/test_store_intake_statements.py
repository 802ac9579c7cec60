"""What the store's intake sends the database (store/intake.py, each backend's ``insert_messages``):
a batch of accepted messages is one ``INSERT … ON CONFLICT DO NOTHING RETURNING``, with no read of
the known keys first and not one statement per row; on PostgreSQL that statement's text is the
same for every batch size (the rows travel as one array per column), so a connection prepares it
once; a value longer than its column is refused there, never cut short; and what is read back is
the same whichever way a message came in."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from pipeline_fakes import envelope
from sqlalchemy import event

from rcinbox.errors import StoreError
from rcinbox.events import InboundMessage, Party
from rcinbox.store import Store

on_postgresql = pytest.mark.parametrize("backend", ["postgresql"])


def message(mid: str, **changes: Any) -> InboundMessage:
    parsed = InboundMessage.from_notification(
        envelope(message_id=mid, sender=f"+1415555{int(mid) % 10_000:04d}", sender_name="Zoë Ü"), "sync"
    )
    return dataclasses.replace(parsed, **changes)


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL of every statement the store executes in the block (BEGIN/COMMIT aside)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)


async def test_a_catch_up_batch_is_one_insert_statement(store: Store) -> None:
    assert await store.accept(message("5"))
    batch = [message(str(i)) for i in range(300)] + [message("7")]
    with statements(store) as seen:
        new = await store.accept_many(batch)
    assert new == [i != 5 for i in range(300)] + [False]  # already there; twice in the batch
    assert [sql.split()[0] for sql in seen] == ["INSERT"]
    assert len(await store.due(limit=500)) == 300


async def test_concurrent_accepts_are_one_insert_statement_per_transaction(store: Store) -> None:
    before = store.intake.transactions
    with statements(store) as seen:
        new = await asyncio.gather(*(store.accept(message(str(i))) for i in range(40)))
    assert new == [True] * 40
    assert [sql.split()[0] for sql in seen] == ["INSERT"] * (store.intake.transactions - before)


@on_postgresql
async def test_postgresql_sends_one_statement_text_for_every_batch_size(store: Store) -> None:
    with statements(store) as seen:
        await store.accept_many([message("1")])
        await store.accept_many([message(str(i)) for i in range(10, 17)])
        await store.accept_many([message(str(i)) for i in range(100, 400)])
        await asyncio.gather(*(store.accept(message(str(i))) for i in range(500, 530)))
    assert len(seen) >= 4
    assert len(set(seen)) == 1, "one text: prepared once per connection, whatever the batch size"


@on_postgresql
async def test_postgresql_refuses_a_value_longer_than_its_column_instead_of_cutting_it(store: Store) -> None:
    # Intake (rcinbox.events) never lets such an id in; the store is the backstop. Cut to the
    # column's 64 characters, the second would pass for a copy of the first.
    long_ids = [message("1", message_id="9" * 64 + end) for end in "12"]
    with pytest.raises(StoreError, match="too long"):
        await store.accept_many(long_ids)
    outcomes = await asyncio.gather(*(store.accept(m) for m in long_ids), return_exceptions=True)
    assert all(isinstance(outcome, StoreError) for outcome in outcomes)
    assert await store.due() == []


async def test_a_message_reads_back_the_same_whichever_way_it_came_in(store: Store) -> None:
    created = datetime(2026, 11, 27, 10, 0, 0, 123000, tzinfo=UTC)
    one = message("1", text='Grüße 👋 "quoted" \\ back', created_at=created, handed_over_at=None)
    two = dataclasses.replace(one, message_id="2", sender=Party(one.sender.phone_number))  # no name
    assert await store.accept(one)
    assert await store.accept_many([two]) == [True]
    first, second = [await store.find_message(one.extension_id, mid) for mid in ("1", "2")]
    assert first is not None and second is not None
    assert (first.inbound(), second.inbound()) == (one, two)
    assert first.raw == second.raw == one.raw
    assert (first.source, first.state, first.attempts) == ("sync", "received", 0)
    assert first.received_at.tzinfo == second.received_at.tzinfo == UTC
    same = {
        "pk": first.pk,
        "message_id": "1",
        "sender_name": first.sender_name,
        "received_at": first.received_at,
    }
    assert dataclasses.replace(second, **same) == first
