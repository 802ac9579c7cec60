"""A full disk under the SQLite store, without a small volume or root: SQLite's own ``SQLITE_FULL``.

:func:`small_pages` creates the database with 512-byte pages before the store opens it, so every
message and decision row (the raw notification, the facts: more than a page) needs new pages.
:class:`FullDisk` caps every connection of the store's engine at the database's current size
(``PRAGMA max_page_count``) and uses up its free pages, so the next write that needs room fails
with ``SQLITE_FULL`` as it does on a full volume; :meth:`FullDisk.free` lifts the cap: space is back.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event

from rcinbox.errors import StoreError
from rcinbox.store import Store

PAGE_SIZE = 512
FILLER = "x" * 400  # about one 512-byte page per row
NO_CAP = 4294967294  # SQLite's largest max_page_count


def small_pages(db: Path) -> Path:
    """Create the SQLite database ``db`` empty, with 512-byte pages (before any store opens it)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        conn.execute("CREATE TABLE page_size_probe (x)")  # the first write fixes the page size
        conn.execute("DROP TABLE page_size_probe")
        assert conn.execute("PRAGMA page_size").fetchone() == (PAGE_SIZE,)
    return db


class FullDisk:
    """Fills the store's database up (:meth:`fill`) and gives the room back (:meth:`free`).

    The cap is set on every checkout of a pooled connection (the pool's ``checkout`` event), so the
    running service's connections are capped without replacing the pool: disposing of a pool while
    the service has a connection checked out strands that connection (it is checked back into the
    old pool, which nothing closes: an aiosqlite connection garbage-collected unclosed)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pages: int | None = None  # the cap; None: room again
        self.fillers = 0
        event.listen(store.engine.sync_engine, "checkout", self._limit)

    def _limit(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count={self.pages or NO_CAP}")
        cursor.close()

    async def fill(self) -> None:
        """From now on the database cannot grow, and no free page is left in it."""
        async with self.store.engine.connect() as conn:
            self.pages = int((await conn.exec_driver_sql("PRAGMA page_count")).scalar_one())
        for _ in range(100_000):
            try:
                await self.store.kv_put(f"test.filler.{self.fillers}", FILLER)
            except StoreError:
                return
            self.fillers += 1
        raise AssertionError("the capped database never filled up")

    async def free(self) -> None:
        """Space came back: the database may grow again (each connection at its next checkout)."""
        self.pages = None
