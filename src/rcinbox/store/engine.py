"""The store's connections and transactions, the same on every database; what differs between
them is in :mod:`rcinbox.store.dialects` (one module per backend: SQLite, PostgreSQL).

- :func:`create_engine`: the async engine for a URL, made by its backend.
- :func:`transaction` / :func:`reading`: connections whose driver errors come out as
  :class:`Duplicate` (a unique constraint refused the write: deduplication),
  :class:`~rcinbox.errors.StoreUnavailable` (no connection to the database: a wrong URL, a server
  down or unreachable, refused credentials; the message names the URL without its password),
  :class:`~rcinbox.errors.StoreFull` (the disk is full) or :class:`~rcinbox.errors.StoreError`
  (anything else, including a value the driver cannot bind: ``UnicodeEncodeError``,
  ``OverflowError``) — the one place they are translated. Intake (:mod:`rcinbox.events`) keeps such
  values out; this is the backstop. On SQLite a transaction first waits for the process's one
  writing turn (:func:`writer_turn`); a write refused for a full disk lets the backend give space
  back (SQLite checkpoints its WAL) before ``StoreFull`` is raised; the caller retries later.
- :func:`is_unique_violation`: tells a unique-constraint violation from other integrity errors.
- :func:`upsert`: ``INSERT … ON CONFLICT (key) DO UPDATE`` (same syntax on both dialects,
  built with each dialect's ``insert``).
- :class:`Unindexed`: a column a filter must not look up by an index (SQLite: ``+table.column``).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from importlib import import_module
from typing import Any

from sqlalchemy import Column, ColumnElement, Executable, Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from rcinbox.errors import ConfigError, StoreError, StoreFull, StoreUnavailable
from rcinbox.store.dialects import backend
from rcinbox.store.turns import WriterTurn

READ_ONLY = "rcinbox_read_only"  # execution option set by :func:`reading`

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
                async with connected(engine) as conn, conn.begin():
                    yield conn
    except StoreFull:
        await checkpoint(engine)
        raise


@asynccontextmanager
async def writer_turn(engine: AsyncEngine, *, urgent: bool = False) -> AsyncIterator[None]:
    """SQLite: hold the process's one writing turn for the block (:mod:`rcinbox.store.turns`;
    taken before a pooled connection, so a writer waiting for it holds none). PostgreSQL: no wait."""
    if not backend(engine.dialect.name).serial_writes:
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
        async with connected(engine) as conn:
            await conn.execution_options(**{READ_ONLY: True})
            yield conn


@asynccontextmanager
async def connected(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection from ``engine``'s pool for the block; failing to get one raises
    :class:`~rcinbox.errors.StoreUnavailable` naming the database (never its password)."""
    conn = engine.connect()
    try:
        await conn.start()
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        raise StoreUnavailable(f"cannot connect to the database {where(engine)}: {_failure(exc)}") from exc
    try:
        yield conn
    finally:
        await asyncio.shield(conn.close())


def where(engine: AsyncEngine) -> str:
    """The database as a person knows it: the SQLite file, else the URL without its password."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return url.database
    return url.render_as_string(hide_password=True)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, SQLAlchemyError):
        return str(getattr(exc, "orig", None) or type(exc).__name__)
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"


async def checkpoint(engine: AsyncEngine) -> bool:
    """After a write refused for a full disk: give space back as the backend can (SQLite:
    ``wal_checkpoint(TRUNCATE)``; :mod:`rcinbox.store.dialects.sqlite`); ``True`` when it did."""
    return await backend(engine.dialect.name).after_full_disk(engine)


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://…``)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"not a database URL: {exc}") from exc
    return backend(parsed.get_backend_name()).create_engine(parsed)


class Unindexed(ColumnElement[Any]):
    """``column``, but SQLite will not look it up by an index (``+table.column``; other databases:
    the column). For a filter that must not drive the query (a full-text match, a time range) when
    an index would start from it: SQLite then runs the match once per row of that index instead of
    once in all."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: Column[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _unindexed(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


def unindexed(column: Column[Any]) -> ColumnElement[Any]:
    """:class:`Unindexed` ``column``."""
    return Unindexed(column)


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
    statement = _insert(dialect, table).values(**values)
    updates = {name: statement.excluded[name] for name in values if name not in key}
    upserting: Executable = statement.on_conflict_do_update(
        index_elements=list(key), set_=updates, where=only_if
    )
    return upserting


def insert_new(dialect: str, table: Table, values: Mapping[str, Any]) -> Executable:
    """``INSERT … ON CONFLICT DO NOTHING``: a row whose key is there already adds nothing."""
    statement: Executable = _insert(dialect, table).values(**values).on_conflict_do_nothing()
    return statement


def _insert(dialect: str, table: Table) -> Any:
    """The dialect's own ``insert`` (with ``ON CONFLICT``), of the dialect in use only."""
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"ON CONFLICT is not implemented for the {dialect} dialect")
    return import_module(f"sqlalchemy.dialects.{dialect}").insert(table)  # PostgreSQL's is ~2 MB


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
