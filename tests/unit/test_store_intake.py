"""Group commit for ``Store.accept`` (store/intake.py): concurrent accepts share a transaction,
each caller still learns only once its own row is committed; duplicates are told per message, in
one batch and across batches; a store error reaches every caller it concerns and no other."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from disk_kit import FullDisk, small_pages
from pipeline_fakes import envelope
from sqlalchemy import event, text

from rcinbox.errors import StoreError, StoreFull
from rcinbox.events import InboundMessage
from rcinbox.store import Store
from rcinbox.store.dialects.sqlite import POOL_SIZE
from rcinbox.store.engine import create_engine, transaction


def message(mid: str, sender: str = "+14155550123") -> InboundMessage:
    return InboundMessage.from_notification(envelope(message_id=mid, sender=sender), "webhook")


async def committed(store: Store, mid: str) -> bool:
    """Whether another connection sees message ``mid`` (i.e. it is committed)."""
    return await store.find_message(message(mid).extension_id, mid) is not None


async def test_concurrent_accepts_share_few_transactions_and_each_is_new_once(store: Store) -> None:
    seen_committed: list[bool] = []

    async def accept(mid: str) -> bool:
        new = await store.accept(message(mid))
        seen_committed.append(await committed(store, mid))  # persist-then-ack: stored on return
        return new

    before = store.intake.transactions
    results = await asyncio.gather(*(accept(str(1000 + i)) for i in range(200)))
    assert results == [True] * 200
    assert seen_committed == [True] * 200
    assert store.intake.transactions - before <= 3  # one batch (a second and third at most)
    assert len(await store.due(limit=500)) == 200


async def test_a_lone_accept_is_written_at_once(store: Store) -> None:
    assert await asyncio.wait_for(store.accept(message("1")), timeout=5) is True
    assert await committed(store, "1")


async def test_duplicates_in_one_batch_and_across_batches(store: Store) -> None:
    first = await asyncio.gather(*(store.accept(message(mid)) for mid in ("1", "2", "1", "3", "2", "1")))
    assert first == [True, True, False, True, False, False]
    again = await asyncio.gather(*(store.accept(message(mid)) for mid in ("3", "4", "1", "4")))
    assert again == [False, True, False, False]
    assert len(await store.due()) == 4


async def test_a_full_disk_reaches_every_waiting_caller(tmp_path: Path) -> None:
    db = small_pages(tmp_path / "data" / "rcinbox.db")
    async with await Store.open(f"sqlite+aiosqlite:///{db}") as store:
        disk = FullDisk(store)
        await disk.fill()
        results = await asyncio.gather(
            *(store.accept(message(str(i))) for i in range(10)), return_exceptions=True
        )
        assert [type(r) for r in results] == [StoreFull] * 10
        assert all("disk is full" in str(r) for r in results)
        assert len({id(r) for r in results}) == 10  # each caller its own error (one traceback each)
        await disk.free()
        assert await asyncio.gather(*(store.accept(message(str(i))) for i in range(10))) == [True] * 10


async def test_a_row_the_database_refuses_fails_its_own_caller_only(store: Store) -> None:
    unstorable = dataclasses.replace(message("2"), text="lone \ud800 surrogate")  # intake never lets one in
    results = await asyncio.gather(
        store.accept(message("1")),
        store.accept(unstorable),
        store.accept(message("3")),
        store.accept(message("1")),
        return_exceptions=True,
    )
    assert results[0] is True and results[2] is True and results[3] is False
    assert isinstance(results[1], StoreError) and not isinstance(results[1], StoreFull)
    assert [await committed(store, mid) for mid in ("1", "2", "3")] == [True, False, True]


async def test_a_caller_that_gives_up_does_not_stop_the_others(store: Store) -> None:
    waiting = [asyncio.create_task(store.accept(message(str(i)))) for i in range(5)]
    waiting[1].cancel()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert [r for i, r in enumerate(results) if i != 1] == [True] * 4
    assert await store.accept(message("9")) is True


async def test_writers_take_turns_so_sqlite_never_says_locked(tmp_path: Path) -> None:
    """Twenty concurrent write transactions, each yielding between its statements, on connections
    that would fail at once on a held lock (busy timeout 0): none meets another's lock."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")

    @event.listens_for(engine.sync_engine, "connect")
    def impatient(dbapi_connection: Any, _record: Any) -> None:  # after the engine's own pragmas
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.close()

    async def write(n: int) -> None:
        async with transaction(engine) as conn:
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            await asyncio.sleep(0)  # another task runs here, wanting to write too
            await conn.execute(text("UPDATE t SET x = x + 1000 WHERE x = :n"), {"n": n})

    try:
        async with transaction(engine) as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        await asyncio.gather(*(write(n) for n in range(20)))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t WHERE x >= 1000"))).scalar_one() == 20
    finally:
        await engine.dispose()


async def test_the_pool_is_small(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    try:
        assert engine.pool.status().startswith(f"Pool size: {POOL_SIZE} ")
        assert getattr(engine.pool, "_max_overflow") == 0  # noqa: B009 (SQLAlchemy's, not public)
    finally:
        await engine.dispose()
