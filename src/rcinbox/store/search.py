"""Search across the archive by number, name and text (SQLite FTS5), ranked, with a snippet, paged.

The index (:data:`rcinbox.store.schema.SEARCH_DDL`, migration 0006) holds per inbound message the
sender's number in the forms people type (all its digits, the last 10, 7 and 4), the sender's name
(the platform's ``from.name``) and the text, folded for case and accents; triggers keep it in step
with ``messages``. :func:`match` turns what a person typed into an FTS5 query, never letting its
syntax through:

- something that looks like a phone number ("+1 650-555-0100", "(650) 555-0100", "6505550100",
  "555-0100", "0100": digits, spaces and ``+ - . ( ) /`` only, at least 3 digits) searches the
  numbers: its last 10 digits (a country code or a trunk 0 aside) as the start of a number's form;
- anything else: every word, each quoted (so ``AND``, ``"`` or ``*`` mean nothing), the last one
  as a prefix (a word being typed), all of them required, in any column.

Results are ranked by FTS5's bm25, each with a snippet of the text around the
words found, in one statement per page with the number of matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, column, func, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnClause

from rcinbox.errors import StoreError
from rcinbox.store.engine import reading, unindexed
from rcinbox.store.records import Page, page_window
from rcinbox.store.schema import messages

MARK_START, MARK_END = "\x02", "\x03"  # around each word found, in the snippet (control characters)
SNIPPET_WORDS = 12
_NUMBERISH = re.compile(r"[\d\s+\-.()/]+")
_fts = table("messages_fts", column("rowid", Integer), column("rank", Float))
_FTS: ColumnClause[Any] = literal_column("messages_fts")


@dataclass(frozen=True)
class Hit:
    pk: int  # the message
    extension_id: str
    sender: str
    sender_name: str | None
    created_at: datetime
    snippet: tuple[tuple[str, bool], ...]  # the text around what matched: (piece, matched?)
    rank: float  # bm25: lower is better

    @property
    def snippet_text(self) -> str:
        return "".join(piece for piece, _ in self.snippet)


@dataclass(frozen=True)
class Results:
    query: str  # as typed
    page: Page[Hit]
    total: int  # matches in all (0 also for a query with nothing to search for)


def match(query: str) -> str | None:
    """The FTS5 query for what a person typed (``None``: nothing to search for)."""
    text = query.strip()
    digits = re.sub(r"\D", "", text)
    if _NUMBERISH.fullmatch(text) and len(digits) >= 3:
        return f'number : "{digits[-10:]}"*'
    words = [word for word in text.split() if any(c.isalnum() for c in word)]
    if not words:
        return None
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


async def search(
    engine: AsyncEngine, query: str, extension_id: str | None, number: int, size: int
) -> Results:
    limit, offset = page_window(number, size)
    fts_query = match(query)
    if fts_query is None:
        return Results(query, Page((), number, size, False), 0)
    if engine.dialect.name != "sqlite":
        raise StoreError("searching the archive needs SQLite (its FTS5 index)")
    where: list[ColumnElement[bool]] = [_FTS.op("MATCH")(fts_query)]
    if extension_id is not None:  # checked per match: an index on it would run the match per text
        where.append(unindexed(messages.c.extension_id) == extension_id)
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
    async with reading(engine) as conn:
        rows = (await conn.execute(statement)).mappings().all()
    hits = [_hit(row) for row in rows]
    total = int(rows[0]["total"]) if rows else 0
    return Results(query, Page(tuple(hits[:size]), number, size, len(hits) > size), total)


def pieces(snippet: str) -> tuple[tuple[str, bool], ...]:
    """A snippet with its marks as (piece, matched?) pairs, the marks gone."""
    parts: list[tuple[str, bool]] = []
    for i, chunk in enumerate(snippet.split(MARK_START)):
        if i == 0:
            inside, after = "", chunk
        else:
            inside, _, after = chunk.partition(MARK_END)
        parts.extend((piece, matched) for piece, matched in ((inside, True), (after, False)) if piece)
    return tuple(parts)


def _hit(row: Any) -> Hit:
    return Hit(
        pk=row["id"],
        extension_id=row["extension_id"],
        sender=row["sender"],
        sender_name=row["sender_name"],
        created_at=row["created_at"],
        snippet=pieces(row["snippet"] or ""),
        rank=float(row["rank"]),
    )
