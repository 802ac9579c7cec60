"""The SQLite driver seam: SQLAlchemy's ``sqlite+aiosqlite`` dialect over aiosqlite, with one
hand-off to the connection's thread per statement.

aiosqlite runs each sqlite3 call as a job on the connection's own thread; every job is a future,
a ``call_soon_threadsafe`` and a wake-up of the event loop. SQLAlchemy's adapter makes three or
four per statement (create the cursor, execute, fetch the rows, close the cursor) and two more per
transaction (its ``BEGIN`` is a statement; the pool rolls a returned connection back). Here:

- :class:`Cursor`: ``execute``/``executemany`` are one job (create a cursor, execute, fetch every
  row, read ``description``/``rowcount``/``lastrowid``, close it); the answers are kept, so
  reading them and closing the cursor cost nothing. (Rows were fetched at once before as well.)
- :meth:`Connection.begin_with_next`: the ``BEGIN`` goes with the next statement, in its job
  (a ``BEGIN`` that only a ``COMMIT``/``ROLLBACK`` follows is dropped with it).
- ``commit``/``rollback`` are one job, or none when the connection is known to be outside a
  transaction (each job reports ``in_transaction``; sqlite3 does nothing then either).

Errors are sqlite3's own, raised from the job, so SQLAlchemy wraps them as before
(``IntegrityError``, ``OperationalError``: locked, busy, full disk). Durability is SQLite's: the
statements and the ``COMMIT`` are the same, in the same order. Server-side cursors (``stream()``,
unused by the store) keep SQLAlchemy's own. PostgreSQL (asyncpg) does not go through here.
:func:`dbapi` is handed to ``create_async_engine(module=...)``; aiosqlite's ``_execute`` (its
job queue) is the one private name used, hence its exact pin.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple, TypeVar

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncIODBAPIConnection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_T = TypeVar("_T")


class Outcome(NamedTuple):
    """All a statement's caller reads, taken on the connection's thread in the statement's job."""

    description: Any
    rows: list[Any]
    rowcount: int
    lastrowid: int | None
    in_transaction: bool


def _statement(
    conn: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, many: bool
) -> Outcome:
    """Runs on the connection's thread: ``begin`` (if any), then the statement, to the last row."""
    if begin is not None:
        conn.execute(begin)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return Outcome(description, rows, cursor.rowcount, cursor.lastrowid, conn.in_transaction)
    finally:
        cursor.close()


def _ending(conn: sqlite3.Connection, end: Callable[[], None]) -> bool:
    """Runs on the connection's thread: ``commit`` or ``rollback``; still in a transaction after?"""
    end()
    return conn.in_transaction


class Cursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor whose statement is one job; it holds no sqlite3 cursor in between."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    _adapt_connection: Connection

    def __init__(self, adapt_connection: Connection) -> None:  # no job: nothing to open yet
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]  # None before an INSERT, as sqlite3's

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._take(self._adapt_connection.statement(operation, parameters, many=False))

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._take(self._adapt_connection.statement(operation, seq_of_parameters, many=True))

    def _take(self, outcome: Outcome) -> None:
        self._description = outcome.description
        self._rows = collections.deque(outcome.rows)
        self._rowcount = outcome.rowcount
        self._lastrowid = outcome.lastrowid

    async def _async_soft_close(self) -> None:
        """Nothing to close on the thread: the sqlite3 cursor was closed in the statement's job."""

    def close(self) -> None:
        self._rows.clear()


class Connection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection adapter, with :class:`Cursor` and cheap transaction ends."""

    __slots__ = ("_begin", "_in_transaction")

    _cursor_cls = Cursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: AsyncIODBAPIConnection) -> None:
        super().__init__(dbapi, connection)
        self._begin: str | None = None
        self._in_transaction: bool | None = None  # None: not known (before a job, after an error)

    def begin_with_next(self, begin: str) -> None:
        """Run ``begin`` (``BEGIN`` or ``BEGIN IMMEDIATE``) in the next statement's job."""
        self._begin = begin

    def statement(self, operation: str, parameters: Any, *, many: bool) -> Outcome:
        begin, self._begin = self._begin, None
        conn = self._sqlite()
        outcome = self._job(partial(_statement, conn, begin, operation, parameters, many))
        self._in_transaction = outcome.in_transaction
        return outcome

    def commit(self) -> None:
        self._end(lambda conn: conn.commit)

    def rollback(self) -> None:
        self._end(lambda conn: conn.rollback)

    def _end(self, which: Callable[[sqlite3.Connection], Callable[[], None]]) -> None:
        if self._begin is not None:  # nothing ran since BEGIN: there is no transaction to end
            self._begin = None
            return
        if self._in_transaction is False or not self._connection._connection:
            return
        conn = self._sqlite()
        self._in_transaction = self._job(partial(_ending, conn, which(conn)))

    def _sqlite(self) -> sqlite3.Connection:
        try:
            conn: sqlite3.Connection = self._connection._conn
        except ValueError as error:  # "no active connection": closed
            self._handle_exception(error)
        return conn

    def _job(self, function: Callable[[], _T]) -> _T:
        """``function`` on the connection's thread: one hand-off."""
        self._in_transaction = None
        try:
            result: _T = await_(self._connection._execute(function))
        except Exception as error:
            self._handle_exception(error)
        return result


class DBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The module SQLAlchemy's aiosqlite dialect uses: aiosqlite's, handing out :class:`Connection`."""

    def connect(self, *arg: Any, **kw: Any) -> Connection:
        adapted = super().connect(*arg, **kw)
        return Connection(self, adapted._connection)


def dbapi() -> DBAPI:
    """A fresh module for ``create_async_engine(..., module=dbapi())``."""
    return DBAPI(aiosqlite, sqlite3)
