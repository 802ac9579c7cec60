"""What differs between the store's databases, one module per backend behind one seam:
:mod:`~rcinbox.store.dialects.sqlite` (the embedded default: aiosqlite, WAL, one writer, FTS5) and
:mod:`~rcinbox.store.dialects.postgresql` (asyncpg, a connection pool, concurrent writers, a
``tsvector`` GIN index). The rest of the store writes portable SQLAlchemy Core and asks
:func:`backend` for the rest:

- ``create_engine(url)``: the engine, configured for the database;
- ``serial_writes``: whether the process's writers take turns (:func:`rcinbox.store.engine.writer_turn`);
- ``after_full_disk(engine)``: what gives space back after a write refused for a full disk;
- ``insert_messages(conn, rows, key)``: accepted messages inserted, those whose key is taken
  skipped (``ON CONFLICT DO NOTHING``), the keys inserted returned (:mod:`rcinbox.store.intake`);
- ``search_rows(conn, parsed, extension_id, limit, offset)``: the archive's full-text search
  (:mod:`rcinbox.store.search` parses what a person typed; each backend runs it on its own index).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import Any, Protocol

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcinbox.errors import ConfigError

SUPPORTED = ("sqlite", "postgresql")


class Parsed(Protocol):
    """What a person typed into the search box, parsed (:class:`rcinbox.store.search.Parsed`)."""

    @property
    def number(self) -> str | None: ...  # digits a number's form starts with

    @property
    def words(self) -> tuple[str, ...]: ...  # every one required, the last one a prefix


class Backend(Protocol):
    serial_writes: bool

    def create_engine(self, url: URL) -> AsyncEngine: ...

    async def after_full_disk(self, engine: AsyncEngine) -> bool: ...

    async def insert_messages(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
    ) -> set[tuple[Any, ...]]: ...

    async def search_rows(
        self, conn: AsyncConnection, parsed: Parsed, extension_id: str | None, limit: int, offset: int
    ) -> Sequence[Any]: ...


def backend(name: str) -> Backend:
    """The backend of the dialect ``name`` (an engine's ``dialect.name``, a URL's backend name)."""
    if name not in SUPPORTED:
        raise ConfigError(f"unsupported database {name!r}: rcinbox stores in SQLite or PostgreSQL")
    module: Backend = import_module(f"rcinbox.store.dialects.{name}")
    return module
