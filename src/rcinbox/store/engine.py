"""Everything dialect-specific about the store, in one place.

- :func:`create_engine`: the async engine; for SQLite (aiosqlite) WAL journal, foreign keys,
  a busy timeout and ``BEGIN IMMEDIATE`` for writing transactions (so concurrent writers wait for
  the lock instead of failing on upgrade; reads use a plain ``BEGIN`` and never hold the write
  lock), at most :data:`POOL_SIZE` connections, and one writer at a time in the process
  (:func:`transaction` waits its turn before it begins, the intake's first: :mod:`rcinbox.store.turns`);
  for PostgreSQL nothing special (concurrent writers are its job).
- :func:`transaction` / :func:`reading`: connections whose driver errors come out as
  :class:`Duplicate` (a unique constraint refused the write: deduplication),
  :class:`~rcinbox.errors.StoreFull` (the disk is full) or :class:`~rcinbox.errors.StoreError`
  (anything else, including a value the driver cannot bind: ``UnicodeEncodeError``,
  ``OverflowError``) — the one place they are translated. Intake (:mod:`rcinbox.events`) keeps such
  values out; this is the backstop.
- A full disk, on SQLite: the WAL is kept small (checkpointed every
  :data:`WAL_AUTOCHECKPOINT_PAGES` pages and cut back to :data:`WAL_SIZE_LIMIT` bytes, where SQLite's
  defaults let it grow to about 4 MB and keep that space), and a write refused with ``SQLITE_FULL``
  triggers :func:`checkpoint` (``wal_checkpoint(TRUNCATE)``: the WAL is copied into the database and
  its file truncated, giving its space back) before :class:`~rcinbox.errors.StoreFull` is raised.
  The caller retries later; once there is room again the writes succeed.
- :func:`is_unique_violation`: tells a unique-constraint violation from other integrity errors.
- :func:`upsert`: ``INSERT … ON CONFLICT (key) DO UPDATE`` (same syntax on both dialects,
  built with each dialect's ``insert``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from importlib import import_module
from pathlib import Path
from typing import Any

from sqlalchemy import Column, ColumnElement, Executable, Table, event, literal_column
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from rcinbox.errors import StoreError, StoreFull
from rcinbox.private import private_dir, private_file, tighten
from rcinbox.store import sqlite_driver
from rcinbox.store.turns import WriterTurn

log = logging.getLogger("rcinbox.pipeline")

BUSY_TIMEOUT_MS = 10_000
WAL_AUTOCHECKPOINT_PAGES = 100  # ~400 KB of WAL, then SQLite copies it into the database
WAL_SIZE_LIMIT = 512 * 1024  # bytes the WAL file is cut back to whenever SQLite restarts it
READ_ONLY = "rcinbox_read_only"  # execution option set by :func:`reading`
POOL_SIZE = 5  # SQLite connections (each an aiosqlite thread): one writer at a time, a few readers

# SQLite: the writing turn per engine, with the event loop it belongs to (its futures are that loop's).
_TURNS: weakref.WeakKeyDictionary[AsyncEngine, tuple[asyncio.AbstractEventLoop, WriterTurn]] = (
    weakref.WeakKeyDictionary()
)


class Duplicate(Exception):
    """A unique constraint refused the write: the row is already there."""


@contextmanager
def translated() -> Iterator[None]:
    """Driver errors inside the block become :class:`Duplicate` or :class:`StoreError`."""
    try:
        yield
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise Duplicate(_reason(exc)) from exc
        raise StoreError(f"the database refused the write: {_reason(exc)}") from exc
    except SQLAlchemyError as exc:
        if is_disk_full(exc):
            raise StoreFull(f"the database's disk is full: {_reason(exc)}") from exc
        raise StoreError(f"database error: {_reason(exc)}") from exc
    except (UnicodeError, OverflowError) as exc:  # the driver could not bind a value (never shown)
        raise StoreError(f"the database cannot store a value: {type(exc).__name__}") from exc


def is_disk_full(exc: SQLAlchemyError) -> bool:
    """True when the driver reported a full disk (SQLite ``SQLITE_FULL``, PostgreSQL ``53100``)."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return False
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate is not None:
        return bool(sqlstate == "53100")
    name = getattr(orig, "sqlite_errorname", None)
    if name is not None:
        return bool(name == "SQLITE_FULL")
    return "database or disk is full" in str(orig)


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own message (never the SQL statement or its parameters)."""
    orig = getattr(exc, "orig", None)
    return f"{type(orig).__name__}: {orig}" if orig is not None else type(exc).__name__


@asynccontextmanager
async def transaction(engine: AsyncEngine, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
    """One read-write transaction, committed when the block ends without an error. A full disk
    rolls it back, gives the WAL's space back (:func:`checkpoint`) and raises ``StoreFull``.
    On SQLite it first waits for its turn among the process's writers (:func:`writer_turn`;
    ``urgent``: before the others); never open one inside another."""
    try:
        async with writer_turn(engine, urgent=urgent):
            with translated():
                async with engine.begin() as conn:
                    yield conn
    except StoreFull:
        await checkpoint(engine)
        raise


@asynccontextmanager
async def writer_turn(engine: AsyncEngine, *, urgent: bool = False) -> AsyncIterator[None]:
    """SQLite: hold the process's one writing turn for the block (:mod:`rcinbox.store.turns`;
    taken before a pooled connection, so a writer waiting for it holds none). PostgreSQL: no wait."""
    if engine.dialect.name != "sqlite":
        yield
        return
    loop = asyncio.get_running_loop()
    owner, turn = _TURNS.get(engine, (None, None))
    if owner is not loop or turn is None:
        turn = WriterTurn()
        _TURNS[engine] = (loop, turn)
    async with turn.held(urgent=urgent):
        yield


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads (rolled back at the end); on SQLite it takes no write lock."""
    with translated():
        async with engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY: True})
            yield conn


async def checkpoint(engine: AsyncEngine) -> bool:
    """SQLite: copy the WAL into the database and truncate its file to zero bytes
    (``PRAGMA wal_checkpoint(TRUNCATE)``); ``True`` when it completed. It needs room for the pages
    the database file gains, so on a disk that is still full it fails (logged, ``False``) and
    succeeds at a later retry. Other dialects have nothing to do."""
    if engine.dialect.name != "sqlite":
        return True
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


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://…``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            private_dir(path.parent)
            private_file(path)  # SQLite gives the -wal/-shm files the database file's mode
            tighten(*sqlite_companions(path))
        pool = {"pool_size": POOL_SIZE, "max_overflow": 0} if database not in ("", ":memory:") else {}
        engine = create_async_engine(
            url,
            module=sqlite_driver.dbapi(),  # one hand-off to the driver's thread per statement
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
            **pool,
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def sqlite_companions(path: Path) -> tuple[Path, Path]:
    """The WAL and shared-memory files SQLite keeps next to the database ``path``."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def _configure_sqlite(engine: AsyncEngine) -> None:
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


def unindexed(column: Column[Any]) -> ColumnElement[Any]:
    """``+table.column``: the same value, but SQLite will not look it up by an index. For a filter
    that must not drive the query (a full-text match, a time range) when an index would start from
    it: SQLite then runs the match once per row of that index instead of once in all."""
    return literal_column(f"+{column.table.name}.{column.name}", column.type)


def is_unique_violation(exc: IntegrityError) -> bool:
    """True when ``exc`` is a UNIQUE/PRIMARY KEY violation (not NOT NULL, FK, CHECK)."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate is not None:  # PostgreSQL drivers
        return bool(sqlstate == "23505")
    name = getattr(orig, "sqlite_errorname", None)  # sqlite3 (Python ≥ 3.11)
    if name is not None:
        return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
    return "UNIQUE constraint failed" in str(orig)


def upsert_statement(
    dialect: str,
    table: Table,
    values: Mapping[str, Any],
    key: Sequence[str],
    *,
    only_if: ColumnElement[bool] | None = None,
) -> Executable:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET <other columns> [WHERE only_if]``."""
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"upsert is not implemented for the {dialect} dialect")
    module = import_module(f"sqlalchemy.dialects.{dialect}")  # the one in use (PostgreSQL's is ~2 MB)
    statement = module.insert(table).values(**values)
    updates = {name: statement.excluded[name] for name in values if name not in key}
    upserting: Executable = statement.on_conflict_do_update(
        index_elements=list(key), set_=updates, where=only_if
    )
    return upserting


async def upsert(
    conn: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    key: Sequence[str],
    *,
    only_if: ColumnElement[bool] | None = None,
) -> None:
    """Insert ``values``; on a conflict on ``key`` update the other columns (if ``only_if``)."""
    await conn.execute(upsert_statement(conn.dialect.name, table, values, key, only_if=only_if))
