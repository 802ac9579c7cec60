"""The SQLite driver seam (store/sqlite_driver.py): one hand-off to aiosqlite's thread per
statement, one per commit or rollback, none for a transaction that ran nothing; errors come out
as they did (SQLAlchemy's exceptions, then the store's), and the connection stays usable."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from queue import SimpleQueue
from typing import Any

import aiosqlite.core
import pytest
from pipeline_fakes import envelope
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.errors import StoreError
from rcinbox.events import InboundMessage
from rcinbox.store import Store
from rcinbox.store.dialects import sqlite as store_engine
from rcinbox.store.engine import Duplicate, create_engine, reading, transaction


class HandOffs(SimpleQueue[Any]):
    """aiosqlite's job queue (one per connection), counting the jobs put on it: the hand-offs."""

    count = 0

    def put_nowait(self, item: Any) -> None:
        HandOffs.count += 1
        super().put_nowait(item)


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> type[HandOffs]:
    monkeypatch.setattr(aiosqlite.core, "SimpleQueue", HandOffs)
    HandOffs.count = 0
    return HandOffs


class Statements:
    """The statements SQLAlchemy sends to the driver."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


@pytest.fixture
async def engine(tmp_path: Path, hand_offs: type[HandOffs]) -> AsyncIterator[AsyncEngine]:
    """An engine whose connections' hand-offs are counted (``hand_offs``)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with transaction(engine) as conn:  # also opens the pool's first connection
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_a_write_transaction_costs_one_hand_off_per_statement_and_one_for_the_commit(
    engine: AsyncEngine, hand_offs: type[HandOffs]
) -> None:
    start = hand_offs.count
    async with transaction(engine) as conn:
        await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
        await conn.execute(text("UPDATE t SET v = 'b' WHERE v = 'a'"))
    assert hand_offs.count - start == 3 + 1  # before: 12 (cursor, execute, fetch, close; BEGIN; rollback)


async def test_a_read_costs_one_hand_off_per_statement_and_one_for_the_rollback(
    engine: AsyncEngine, hand_offs: type[HandOffs]
) -> None:
    start = hand_offs.count
    async with reading(engine) as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    assert hand_offs.count - start == 1 + 1  # before: 8


async def test_a_transaction_that_ran_nothing_costs_no_hand_off(
    engine: AsyncEngine, hand_offs: type[HandOffs]
) -> None:
    start = hand_offs.count
    async with transaction(engine):
        pass
    assert hand_offs.count == start


async def test_a_store_write_hands_off_once_per_statement_plus_the_commit(
    tmp_path: Path, hand_offs: type[HandOffs]
) -> None:
    message = InboundMessage.from_notification(envelope(sender="+14155550001", text="hi"), "webhook")
    async with await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}") as store:
        statements = Statements(store.engine)
        start = hand_offs.count
        await store.accept(message)
        assert statements.count > 0
        assert hand_offs.count - start == statements.count + 1


async def test_results_read_as_before_rows_rowcount_lastrowid_returning_executemany(
    engine: AsyncEngine,
) -> None:
    async with transaction(engine) as conn:
        inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('x')"))
        assert inserted.lastrowid == 1
        many = await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "y"}, {"v": "z"}])
        assert many.rowcount == 2
        returned = await conn.execute(text("INSERT INTO t (v) VALUES ('w') RETURNING id, v"))
        assert returned.all() == [(4, "w")]
        updated = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
        assert updated.rowcount == 3
        rows = await conn.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert list(rows.keys()) == ["id", "v"]
        assert rows.all() == [(1, "x"), (2, "y!"), (3, "z!"), (4, "w!")]
        assert (await conn.execute(text("SELECT v FROM t WHERE id = 99"))).first() is None


async def test_a_unique_violation_is_sqlalchemys_integrity_error_and_the_store_s_duplicate(
    engine: AsyncEngine,
) -> None:
    async with transaction(engine) as conn:
        await conn.execute(text("INSERT INTO t (v) VALUES ('same')"))
    async with engine.connect() as conn:
        with pytest.raises(exc.IntegrityError) as raised:
            await conn.execute(text("INSERT INTO t (v) VALUES ('same')"))
        assert isinstance(raised.value.orig, sqlite3.IntegrityError)
        assert raised.value.orig.sqlite_errorname == "SQLITE_CONSTRAINT_UNIQUE"
    with pytest.raises(Duplicate):
        async with transaction(engine) as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('first of the two')"))
            await conn.execute(text("INSERT INTO t (v) VALUES ('same')"))
    async with transaction(engine) as conn:  # rolled back, and the connection works on
        rows = (await conn.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all()
        await conn.execute(text("INSERT INTO t (v) VALUES ('next')"))
    assert rows == ["same"]


async def test_a_failed_commit_is_rolled_back_and_the_next_transaction_begins(
    engine: AsyncEngine,
) -> None:
    async with transaction(engine) as conn:
        await conn.execute(
            text("CREATE TABLE child (parent INTEGER REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED)")
        )
    with pytest.raises(StoreError, match="FOREIGN KEY constraint failed") as raised:
        async with transaction(engine) as conn:
            await conn.execute(text("INSERT INTO child VALUES (42)"))  # checked at COMMIT
    assert isinstance(raised.value.__cause__, exc.IntegrityError)
    async with transaction(engine) as conn:  # no "cannot start a transaction within a transaction"
        await conn.execute(text("INSERT INTO t (v) VALUES ('after')"))
    async with reading(engine) as conn:
        assert (await conn.execute(text("SELECT count(*) FROM child"))).scalar_one() == 0
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1


async def test_a_write_waits_for_the_lock_at_its_first_statement_and_fails_when_it_stays_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "locked.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        async with transaction(engine) as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(StoreError, match="database is locked") as raised:
            async with transaction(engine) as conn:
                await conn.execute(text("SELECT count(*) FROM t"))
        assert isinstance(raised.value.__cause__, exc.OperationalError)
        other.execute("ROLLBACK")
        async with transaction(engine) as conn:
            await conn.execute(text("SELECT count(*) FROM t"))  # BEGIN IMMEDIATE: the lock is ours
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        async with reading(engine) as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    finally:
        other.close()
        await engine.dispose()


async def test_a_closed_driver_connection_is_an_operational_error(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.close()  # type: ignore[union-attr]
        with pytest.raises(exc.OperationalError, match="no active connection"):
            await conn.execute(text("SELECT 1"))
    async with reading(engine) as conn:  # the pool replaced it
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_statements_on_many_connections_at_once_keep_their_own_results(
    engine: AsyncEngine,
) -> None:
    async def read(n: int) -> int:
        async with reading(engine) as conn:
            value: int = (await conn.execute(text("SELECT :n"), {"n": n})).scalar_one()
            return value

    assert await asyncio.gather(*(read(n) for n in range(20))) == list(range(20))
