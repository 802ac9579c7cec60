"""Searching the archive (SQLite FTS5): by number in any common format, by name, by words (accents
and case folded), ranked, with a snippet, paged, per extension; the index follows every insert,
update and delete of ``messages`` (triggers), and migration 0006 indexes an existing archive."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from archive_kit import v0_archive
from pipeline_fakes import CHARLIE, EXT
from sqlalchemy import delete, text, update
from views_kit import DANA, EXT2, START, opened, text_in

from rcinbox.clock import FakeClock
from rcinbox.store import Store
from rcinbox.store.schema import messages
from rcinbox.store.search import match, pieces


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with opened(store_url, clock) as store:
        yield store


async def found(store: Store, query: str, **kwargs: str) -> list[str]:
    return [hit.snippet_text for hit in (await store.search(query, **kwargs)).page.items]


def test_what_a_person_types_becomes_a_safe_query() -> None:
    assert match("+1 650-555-0100") == 'number : "6505550100"*'
    assert match("(650) 555-0100") == 'number : "6505550100"*'
    assert match("16505550100") == 'number : "6505550100"*'
    assert match("555.0100") == 'number : "5550100"*'
    assert match('pipe "burst" OR NOT *') == '"pipe" """burst""" "OR" "NOT"*'
    assert match("café") == '"café"*'
    assert match("  ") is None and match("- ...") is None


async def test_a_number_in_any_common_format_finds_its_texts(store: Store) -> None:
    await text_in(store, "from charlie", sender=CHARLIE)  # +14155550100
    await text_in(store, "from dana", sender=DANA)  # +14155550111
    for typed in ("+1 415-555-0100", "(415) 555-0100", "4155550100", "14155550100", "555-0100", "0100"):
        assert await found(store, typed) == ["from charlie"], typed
    assert sorted(await found(store, "415 555")) == ["from charlie", "from dana"]  # the start of a number
    assert await found(store, "555-0199") == []


async def test_names_and_words_are_found_whatever_the_case_and_accents(store: Store) -> None:
    await text_in(store, "Is the café open on Saturday?", name="José Álvarez")
    await text_in(store, "Call me back", sender=DANA, name="Dana Lee")
    assert await found(store, "jose") == ["Is the café open on Saturday?"]
    assert await found(store, "CAFE sat") == ["Is the café open on Saturday?"]  # the last word: a prefix
    assert await found(store, "dana call") == ["Call me back"]
    assert await found(store, "dana saturday") == []  # every word is required
    assert await found(store, 'call "back" AND NOT * ^ NEAR(') == []  # FTS5 syntax means nothing
    assert await found(store, '"call" back)') == ["Call me back"]


async def test_results_are_ranked_with_a_snippet_and_paged(store: Store) -> None:
    long = " ".join(["filler"] * 30 + ["the", "pipe", "burst"] + ["filler"] * 30)
    await text_in(store, long)
    await text_in(store, "pipe pipe pipe")
    for i in range(3):
        await text_in(store, f"other text {i}")
    first = await store.search("pipe", size=1)
    second = await store.search("pipe", page=2, size=1)
    assert first.total == 2 and first.page.has_more and not second.page.has_more
    (best,), (other,) = first.page.items, second.page.items
    assert best.snippet_text == "pipe pipe pipe" and best.rank < other.rank
    assert ("pipe", True) in other.snippet and other.snippet_text.startswith("…")
    assert len(other.snippet_text.split()) <= 13  # a window around the word, not the whole text
    nothing = await store.search("   ")
    assert (nothing.total, nothing.page.items) == (0, ())


async def test_search_filters_by_extension(store: Store) -> None:
    await text_in(store, "hello one", ext=EXT)
    await text_in(store, "hello two", ext=EXT2)
    assert await found(store, "hello", extension_id=EXT2) == ["hello two"]
    assert (await store.search("hello", extension_id=EXT)).total == 1


def test_snippet_marks_become_pieces() -> None:
    assert pieces("…a \x02pipe\x03 b \x02burst\x03") == (
        ("…a ", False),
        ("pipe", True),
        (" b ", False),
        ("burst", True),
    )
    assert pieces("") == ()


async def test_the_index_follows_inserts_updates_and_deletes(store: Store, backend: str) -> None:
    pk = await text_in(store, "original words", name="Old Name")
    async with store.engine.begin() as conn:
        await conn.execute(
            update(messages).where(messages.c.id == pk).values(text="edited words", sender_name="New Name")
        )
    assert await found(store, "original") == [] and await found(store, "old") == []
    assert await found(store, "edited") == ["edited words"] and await found(store, "new name") == [
        "edited words"
    ]
    async with store.engine.begin() as conn:
        await conn.execute(update(messages).where(messages.c.id == pk).values(state="done"))  # not indexed
        await conn.execute(update(messages).where(messages.c.id == pk).values(sender=DANA))
    assert await found(store, "555-0111") == ["edited words"] and await found(store, "555-0100") == []
    async with store.engine.begin() as conn:
        await conn.execute(delete(messages).where(messages.c.id == pk))
    assert await found(store, "edited") == []
    if backend == "sqlite":  # FTS5's index agrees with its content, row for row (PostgreSQL's is its own)
        async with store.engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
            )


async def test_migration_0006_indexes_an_existing_archive(tmp_path: Path) -> None:
    path = v0_archive(tmp_path / "data")
    conn = sqlite3.connect(path)
    (texts,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    conn.close()
    async with await Store.open(f"sqlite+aiosqlite:///{path}") as store:
        everything = await store.search("1")  # every text of that archive has a number
        words = await found(store, "first start")
        async with store.engine.begin() as db:
            await db.execute(
                text("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
            )
    assert texts == 4 and words == ["sent before the first start"]
    assert everything.total == 4
