"""Search across the archive by number, name and text, ranked, with a snippet, paged.

Each backend has its index (:mod:`rcinbox.store.dialects`): on SQLite the FTS5 table of
:data:`rcinbox.store.schema.SEARCH_DDL` (migration 0006), on PostgreSQL a GIN index over a
``tsvector`` (:data:`~rcinbox.store.schema.PG_SEARCH_DDL`, migration 0008). Both hold per message
the sender's number in the forms people type (all its digits, the last 10, 7 and 4), the sender's
name (the platform's ``from.name``) and the text, folded for case and accents, and follow every
insert, update and delete of ``messages``. :func:`parse` reads what a person typed, never letting
a query syntax through:

- something that looks like a phone number ("+1 650-555-0100", "(650) 555-0100", "6505550100",
  "555-0100", "0100": digits, spaces and ``+ - . ( ) /`` only, at least 3 digits) searches the
  numbers: its last 10 digits (a country code or a trunk 0 aside) as the start of a number's form;
- anything else: every word (each taken literally: ``AND``, ``"`` or ``*`` mean nothing), the
  last one as a prefix (a word being typed), all of them required, in any column.

Results are ranked (best first: SQLite's bm25, PostgreSQL's ``ts_rank``), each with a snippet of
the text around the words found, in one statement per page with the number of matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from rcinbox.store.dialects import backend
from rcinbox.store.engine import reading
from rcinbox.store.records import Page, page_window

MARK_START, MARK_END = "\x02", "\x03"  # around each word found, in the snippet (control characters)
_NUMBERISH = re.compile(r"[\d\s+\-.()/]+")


@dataclass(frozen=True)
class Hit:
    pk: int  # the message
    extension_id: str
    sender: str
    sender_name: str | None
    created_at: datetime
    snippet: tuple[tuple[str, bool], ...]  # the text around what matched: (piece, matched?)
    rank: float  # lower is better (SQLite: bm25; PostgreSQL: minus ts_rank)

    @property
    def snippet_text(self) -> str:
        return "".join(piece for piece, _ in self.snippet)


@dataclass(frozen=True)
class Results:
    query: str  # as typed
    page: Page[Hit]
    total: int  # matches in all (0 also for a query with nothing to search for)


@dataclass(frozen=True)
class Parsed:
    """What a person typed: digits a number's form starts with, or words (the last one a prefix)."""

    number: str | None = None
    words: tuple[str, ...] = ()


def parse(query: str) -> Parsed | None:
    """What a person typed, for the search (``None``: nothing to search for)."""
    text = query.strip()
    digits = re.sub(r"\D", "", text)
    if _NUMBERISH.fullmatch(text) and len(digits) >= 3:
        return Parsed(number=digits[-10:])
    words = tuple(word for word in text.split() if any(c.isalnum() for c in word))
    return Parsed(words=words) if words else None


def match(query: str) -> str | None:
    """The FTS5 query (SQLite) for what a person typed (``None``: nothing to search for)."""
    from rcinbox.store.dialects.sqlite import fts_query

    parsed = parse(query)
    return None if parsed is None else fts_query(parsed)


async def search(
    engine: AsyncEngine, query: str, extension_id: str | None, number: int, size: int
) -> Results:
    limit, offset = page_window(number, size)
    parsed = parse(query)
    if parsed is None:
        return Results(query, Page((), number, size, False), 0)
    async with reading(engine) as conn:
        rows = await backend(engine.dialect.name).search_rows(conn, parsed, extension_id, limit, offset)
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
