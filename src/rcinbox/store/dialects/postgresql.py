"""PostgreSQL (``postgresql+asyncpg://user:password@host/database``), for installations that
outgrow one SQLite file (``pip install 'rcinbox[postgres]'``).

- The engine: asyncpg, a pool of :data:`POOL_SIZE` connections (plus :data:`OVERFLOW`), each
  checked before use (``pool_pre_ping``: a restarted server costs one failed ping, not a failed
  write), connecting within :data:`CONNECT_TIMEOUT` seconds. Writers run concurrently
  (``serial_writes`` is off): locking and unique constraints are PostgreSQL's job, and the store's
  reads and writes are written for that (deduplication by constraint, ``ON CONFLICT``, claims that
  re-check their row's state).
- A write refused for a full disk (``53100``): nothing to give back here (the server manages its
  WAL); the caller backs off and retries as on SQLite.
- Accepting messages (:func:`insert_messages`): ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO
  NOTHING RETURNING``, one array parameter per column, so one statement text for every batch size:
  each connection prepares it once and the server keeps one plan (a multi-row ``VALUES`` would be
  a new statement, parsed and planned, for every batch size the group commit happens to form).
- Search: a GIN index over ``messages.search_vector``, a stored generated column
  (``messages_search_vector(sender, sender_name, text)``: the number's forms, weight A; the name,
  B; the text, C; case and accents folded), built by :data:`~rcinbox.store.schema.PG_SEARCH_DDL`
  (a fresh database and migration 0008); ranked by ``ts_rank`` over the stored vectors, the
  snippet by ``ts_headline``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Executable,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY as _ARRAY
from sqlalchemy.dialects.postgresql import REGCONFIG as _REGCONFIG
from sqlalchemy.dialects.postgresql import TSVECTOR as _TSVECTOR
from sqlalchemy.dialects.postgresql import insert as _insert
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeEngine

from rcinbox.errors import ConfigError
from rcinbox.store.dialects import Parsed
from rcinbox.store.schema import SEARCH_COLUMN, messages

POOL_SIZE = 10
OVERFLOW = 10
CONNECT_TIMEOUT = 10.0  # seconds: an unreachable server is reported, not waited on for a minute
MARK_START, MARK_END = "\x02", "\x03"  # around each word found, in the snippet (as search.py reads)
HEADLINE = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=12, MinWords=6"
_TOKEN = re.compile(r"[^\W_]+")

serial_writes = False


def create_engine(url: URL) -> AsyncEngine:
    if url.get_driver_name() != "asyncpg":
        raise ConfigError(
            f"the database URL {url.render_as_string(hide_password=True)} names the driver "
            f"{url.get_driver_name()!r}: rcinbox talks to PostgreSQL through asyncpg "
            "(postgresql+asyncpg://user:password@host/database)"
        )
    if find_spec("asyncpg") is None:
        raise ConfigError("PostgreSQL needs the asyncpg driver: pip install 'rcinbox[postgres]'")
    return create_async_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=OVERFLOW,
        pool_pre_ping=True,
        connect_args={"timeout": CONNECT_TIMEOUT, "server_settings": {"application_name": "rcinbox"}},
    )


async def after_full_disk(engine: AsyncEngine) -> bool:
    """Nothing to give back: PostgreSQL manages its WAL itself."""
    return True


async def insert_messages(
    conn: AsyncConnection, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> set[tuple[Any, ...]]:
    """Insert ``messages`` rows (every one with the same columns), skipping those whose ``key`` is
    taken (``ON CONFLICT DO NOTHING``); the keys of the rows inserted. One statement for any number
    of rows: each column is one array parameter, ``unnest``-ed into rows (so the statement, and
    the server's prepared plan of it, is the same for every batch size)."""
    if not rows:
        return set()
    names = tuple(rows[0])
    arrays: dict[str, list[Any]] = {}
    for name in names:
        values = [row[name] for row in rows]
        if _is_json(name):  # as JSON text (an array of lists would be taken for more dimensions)
            serialize = messages.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            values = [serialize(value) for value in values] if serialize else values
        arrays[name] = values
    result = await conn.execute(_unnest_insert(names, tuple(key)), arrays)
    return {tuple(found) for found in result.all()}


_UNNEST_INSERTS: dict[tuple[tuple[str, ...], tuple[str, ...]], Executable] = {}


def _unnest_insert(names: tuple[str, ...], key: tuple[str, ...]) -> Executable:
    statement = _UNNEST_INSERTS.get((names, key))
    if statement is None:
        arrays = [bindparam(name, type_=_ARRAY(_element_type(name))) for name in names]
        source = func.unnest(*arrays).table_valued(*names).render_derived()
        columns = [cast(source.c[name], JSON) if _is_json(name) else source.c[name] for name in names]
        statement = _UNNEST_INSERTS[(names, key)] = (
            _insert(messages)
            .from_select(list(names), select(*columns))
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(*(messages.c[name] for name in key))
        )
    return statement


def _is_json(name: str) -> bool:
    return isinstance(messages.c[name].type, JSON)


def _element_type(name: str) -> TypeEngine[Any]:
    """The array parameter's element type: JSON as text (cast back in the statement); a string
    column's without its length (a cast to ``varchar(64)[]`` would cut a longer value short; the
    column itself refuses it, as a one-row insert does)."""
    type_ = messages.c[name].type
    return Text() if isinstance(type_, JSON | String) else type_


def fold(text: str) -> str:
    """Accents off and lower case, as ``messages_search_vector`` folds what it indexes."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def tsquery(parsed: Parsed) -> str | None:
    """The ``to_tsquery('simple', …)`` text: the number's digits as the start of a number's form
    (weight A), else every word (its letters and digits only, so no syntax gets through; the
    pieces of one word in a row), all required, the last one a prefix. ``None``: nothing to find."""
    if parsed.number is not None:
        return f"'{parsed.number}':*A"
    words = [_TOKEN.findall(fold(word)) for word in parsed.words]
    words = [tokens for tokens in words if tokens]
    if not words:
        return None
    quoted = [[f"'{token}'" for token in tokens] for tokens in words]
    quoted[-1][-1] += ":*"
    return " & ".join("(" + " <-> ".join(tokens) + ")" for tokens in quoted)


async def search_rows(
    conn: AsyncConnection, parsed: Parsed, extension_id: str | None, limit: int, offset: int
) -> Sequence[Any]:
    """Per match (best first): the message's columns, ``snippet`` (the words found between
    ``MARK_START``/``MARK_END``, "…" where the text goes on), ``rank`` (lower is better) and
    ``total``."""
    text = tsquery(parsed)
    if text is None:
        return []
    query = func.to_tsquery(literal("simple").cast(_REGCONFIG), text)
    vector = literal_column(f"{messages.name}.{SEARCH_COLUMN}", _TSVECTOR)
    rank = func.ts_rank(vector, query)
    where: list[ColumnElement[bool]] = [vector.op("@@")(query)]
    if extension_id is not None:
        where.append(messages.c.extension_id == extension_id)
    statement = (
        select(
            messages.c.id,
            messages.c.extension_id,
            messages.c.sender,
            messages.c.sender_name,
            messages.c.created_at,
            messages.c.text,
            func.ts_headline(literal("simple").cast(_REGCONFIG), messages.c.text, query, HEADLINE).label(
                "snippet"
            ),
            (-rank).label("rank"),
            func.count().over().label("total"),
        )
        .where(*where)
        .order_by(rank.desc(), messages.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = (await conn.execute(statement)).mappings().all()
    return [{**row, "snippet": _ellipsized(row["snippet"] or "", row["text"] or "")} for row in rows]


def _ellipsized(snippet: str, text: str) -> str:
    """``snippet`` with "…" where ``text`` goes on before or after it (punctuation alone is kept)."""
    shown = snippet.replace(MARK_START, "").replace(MARK_END, "")
    at = text.find(shown) if shown else -1
    if at < 0:
        return snippet
    before, after = text[:at], text[at + len(shown) :]
    before = "…" if any(c.isalnum() for c in before) else before
    after = "…" if any(c.isalnum() for c in after) else after
    return f"{before}{snippet}{after}"
