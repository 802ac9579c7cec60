"""SQLite locking: a read never holds the write lock, so readers cannot stall the writers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from rcinbox.store.engine import create_engine, reading, transaction


async def test_an_open_read_does_not_block_a_write(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}")
    try:
        async with transaction(engine) as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        async with reading(engine) as reader:
            await reader.execute(text("SELECT count(*) FROM t"))  # a read transaction is now open

            async def write() -> None:
                async with transaction(engine) as conn:
                    await conn.execute(text("INSERT INTO t VALUES (1)"))

            # With BEGIN IMMEDIATE on reads this would wait for the 10 s busy timeout and fail.
            await asyncio.wait_for(write(), timeout=2)
        async with reading(engine) as reader:
            assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    finally:
        await engine.dispose()
