"""SQLite, the embedded default (``sqlite+aiosqlite:///path``).

- The engine: the database file and its WAL/shared-memory companions private (0600, in a 0700
  directory), aiosqlite through :mod:`rcinbox.store.sqlite_driver` (one hand-off per statement), at
  most :data:`POOL_SIZE` connections, and per connection WAL journal, foreign keys, a busy timeout,
  ``synchronous=NORMAL``, a small WAL (checkpointed every :data:`WAL_AUTOCHECKPOINT_PAGES` pages,
  cut back to :data:`WAL_SIZE_LIMIT` bytes) and ``BEGIN IMMEDIATE`` for writing transactions (so
  concurrent writers wait for the lock instead of failing on upgrade; reads use a plain ``BEGIN``).
- One writer at a time in the process (``serial_writes``: :func:`rcinbox.store.engine.writer_turn`).
- A write refused for a full disk (``SQLITE_FULL``): :func:`after_full_disk` checkpoints the WAL
  (``wal_checkpoint(TRUNCATE)``: copied into the database, its file truncated, its space given back).
- Search: the FTS5 table ``messages_fts`` (schema ``SEARCH_DDL``, migration 0006), ranked by bm25,
  with FTS5's own snippet.
- Accepting messages (:func:`insert_messages`): ``INSERT … ON CONFLICT DO NOTHING RETURNING`` with
  the rows as one multi-row ``VALUES`` (SQLAlchemy's ``insertmanyvalues``; preparing a statement is
  cheap here).
- ``unindexed(column)`` compiles to ``+table.column`` here: SQLite then does not drive the query
  from an index of that column.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Float,
    Integer,
    column,
    event,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.sqlite import insert as _insert
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.elements import ColumnClause

from rcinbox.errors import StoreError
from rcinbox.private import private_dir, private_file, tighten
from rcinbox.store import sqlite_driver
from rcinbox.store.dialects import Parsed
from rcinbox.store.engine import READ_ONLY, Unindexed, reading
from rcinbox.store.schema import messages

log = logging.getLogger("rcinbox.pipeline")

BUSY_TIMEOUT_MS = 10_000
WAL_AUTOCHECKPOINT_PAGES = 100  # ~400 KB of WAL, then SQLite copies it into the database
WAL_SIZE_LIMIT = 512 * 1024  # bytes the WAL file is cut back to whenever SQLite restarts it
POOL_SIZE = 5  # connections (each an aiosqlite thread): one writer at a time, a few readers
SNIPPET_WORDS = 12
MARK_START, MARK_END = "\x02", "\x03"  # around each word found, in the snippet (as search.py reads)

serial_writes = True
_fts = table("messages_fts", column("rowid", Integer), column("rank", Float))
_FTS: ColumnClause[Any] = literal_column("messages_fts")


def create_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        private_dir(path.parent)
        private_file(path)  # SQLite gives the -wal/-shm files the database file's mode
        tighten(*companions(path))
    pool = {"pool_size": POOL_SIZE, "max_overflow": 0} if database not in ("", ":memory:") else {}
    engine = create_async_engine(
        url,
        module=sqlite_driver.dbapi(),  # one hand-off to the driver's thread per statement
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
        **pool,
    )
    _configure(engine)
    return engine


def companions(path: Path) -> tuple[Path, Path]:
    """The WAL and shared-memory files SQLite keeps next to the database ``path``."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def _configure(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
            "PRAGMA synchronous=NORMAL",
            f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}",
            f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock up front (no failed upgrade later); readers never block writers.
        # The BEGIN goes to the driver's thread with the transaction's first statement.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        driver: sqlite_driver.Connection = connection.connection.dbapi_connection
        driver.begin_with_next("BEGIN" if read_only else "BEGIN IMMEDIATE")


async def after_full_disk(engine: AsyncEngine) -> bool:
    """Copy the WAL into the database and truncate its file to zero bytes
    (``PRAGMA wal_checkpoint(TRUNCATE)``); ``True`` when it completed. It needs room for the pages
    the database file gains, so on a disk that is still full it fails (logged, ``False``) and
    succeeds at a later retry."""
    try:
        async with reading(engine) as conn:  # a deferred BEGIN that reads nothing: holds no snapshot
            result = await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, frames, copied = (int(value) for value in result.one())
    except StoreError as exc:
        log.debug("could not checkpoint the WAL: %s", exc, extra={"action": "store.checkpoint"})
        return False
    log.info(
        "checkpointed the WAL (%s of %s pages%s)",
        copied,
        frames,
        ", readers still on it" if busy else ", file truncated",
        extra={"action": "store.checkpoint"},
    )
    return not busy


_INSERTS: dict[tuple[str, ...], Executable] = {}


async def insert_messages(
    conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> set[tuple[Any, ...]]:
    """Insert ``messages`` rows, skipping those whose ``key`` is taken (``ON CONFLICT DO
    NOTHING``); the keys of the rows inserted."""
    if not rows:
        return set()
    statement = _INSERTS.get(tuple(key))
    if statement is None:
        statement = _INSERTS[tuple(key)] = (
            _insert(messages)
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(*(messages.c[name] for name in key))
        )
    result = await conn.execute(statement, list(rows))
    return {tuple(found) for found in result.all()}


def fts_query(parsed: Parsed) -> str:
    """The FTS5 query: the number's digits as the start of a number's form, else every word
    quoted (its syntax means nothing), the last one a prefix, all required, in any column."""
    if parsed.number is not None:
        return f'number : "{parsed.number}"*'
    quoted = ['"' + word.replace('"', '""') + '"' for word in parsed.words]
    quoted[-1] += "*"
    return " ".join(quoted)


async def search_rows(
    conn: AsyncConnection, parsed: Parsed, extension_id: str | None, limit: int, offset: int
) -> Sequence[Any]:
    """Per match (best first: bm25, lower is better): the message's columns, ``snippet`` (the
    words found between ``MARK_START``/``MARK_END``), ``rank`` and ``total``."""
    where: list[ColumnElement[bool]] = [_FTS.op("MATCH")(fts_query(parsed))]
    if extension_id is not None:  # checked per match: an index on it would run the match per text
        where.append(Unindexed(messages.c.extension_id) == extension_id)
    found = _fts.join(messages, messages.c.id == _fts.c.rowid)
    counting = select(func.count()).where(*where)  # the index alone, unless filtered by extension
    counted = counting.select_from(_fts if extension_id is None else found).scalar_subquery()
    snippet = func.snippet(_FTS, 2, MARK_START, MARK_END, "…", SNIPPET_WORDS)
    statement = (
        select(
            messages.c.id,
            messages.c.extension_id,
            messages.c.sender,
            messages.c.sender_name,
            messages.c.created_at,
            snippet.label("snippet"),
            _fts.c.rank,
            counted.label("total"),
        )
        .select_from(found)
        .where(*where)
        .order_by(_fts.c.rank)  # rank alone: FTS5 sorts by it itself (another key sorts every match)
        .limit(limit)
        .offset(offset)
    )
    return (await conn.execute(statement)).mappings().all()
