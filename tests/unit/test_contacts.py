"""ContactBook against a scripted address book: FSync then ISync, deletions, E.164 matching on all
12 fields, errors (against the emulator: tests/integration/test_contacts_emulator.py). The allowlist
is a rule, not the book's: tests/unit/test_decide.py, tests/integration/test_pipeline_emulator.py and
the e2e tests."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from address_book_kit import ACME, CHARLIE, page

from rcinbox.clock import FakeClock
from rcinbox.errors import PlatformError, ServerError
from rcinbox.service.contacts import Contact, ContactBook
from rcinbox.wire import PHONE_FIELDS, AddressBookSync


class FakeSource:
    """Implements just ``address_book_sync``; answers are scripted, calls recorded."""

    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str | None, str]] = []
        self.active = 0
        self.max_active = 0
        self.gate: asyncio.Event | None = None

    async def address_book_sync(self, sync_token: str | None, ext: str = "~") -> AddressBookSync:
        self.calls.append((sync_token, ext))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.gate is not None:
                await self.gate.wait()
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return AddressBookSync.model_validate(answer)
        finally:
            self.active -= 1


async def test_first_refresh_is_a_full_sync_then_incremental_with_the_token() -> None:
    source = FakeSource(
        page([CHARLIE, ACME], "t1"),
        page(
            [
                {"id": 13, "availability": "Alive", "firstName": "Dana", "homePhone2": "+14155550101"},
                {"id": 12, "availability": "Deleted"},
            ],
            "t2",
            "ISync",
        ),
        page([], "t3", "ISync"),
    )
    book = ContactBook(source, "62264425016")
    assert book.lookup("+14155550100") is None and not book.loaded

    await book.refresh()
    assert book.lookup("+14155550100") == Contact("Charlie", "Williams", "Charlie Williams", "11")
    assert book.lookup("+14155550103") == Contact(None, None, "Acme Supplies", "12")

    await book.refresh()
    assert book.lookup("+14155550101") == Contact("Dana", None, "Dana", "13")
    assert book.lookup("+14155550103") is None  # deleted
    assert book.lookup("+14155550100") is not None  # unchanged contacts stay

    await book.refresh()
    assert source.calls == [(None, "62264425016"), ("t1", "62264425016"), ("t2", "62264425016")]
    assert len(book) == 2


async def test_a_changed_contact_replaces_its_old_numbers() -> None:
    moved = {**CHARLIE, "mobilePhone": "+14155550199"}
    source = FakeSource(page([CHARLIE], "t1"), page([moved], "t2", "ISync"))
    book = ContactBook(source, "1")
    await book.refresh()
    await book.refresh()
    assert book.lookup("+14155550100") is None
    assert book.lookup("+14155550199") is not None


@pytest.mark.parametrize("field", PHONE_FIELDS)
async def test_every_phone_field_matches_in_e164(field: str) -> None:
    source = FakeSource(page([{"id": 5, "firstName": "Eli", field: "+1 (415) 555-0102"}], "t"))
    book = ContactBook(source, "1")
    await book.refresh()
    for spelling in ("+14155550102", "(415) 555-0102", "415.555.0102", "+1 415 555 0102"):
        found = book.lookup(spelling)
        assert found is not None and found.first_name == "Eli"
    assert book.lookup("+14155550103") is None


async def test_a_refused_sync_token_falls_back_to_a_full_sync() -> None:
    refused = PlatformError(400, "CMN-101", "Parameter [syncToken] value is invalid")
    source = FakeSource(page([CHARLIE, ACME], "t1"), refused, page([ACME], "t9"))
    book = ContactBook(source, "1")
    await book.refresh()
    await book.refresh()
    assert source.calls[1:] == [("t1", "1"), (None, "1")]
    assert book.lookup("+14155550100") is None  # the full sync is the whole truth
    assert book.lookup("+14155550103") is not None


async def test_a_failed_refresh_raises_and_keeps_the_cache() -> None:
    source = FakeSource(page([CHARLIE], "t1"), ServerError(503, "CMN-211", "Service temporarily unavailable"))
    book = ContactBook(source, "1")
    await book.refresh()
    with pytest.raises(ServerError):
        await book.refresh()
    assert book.lookup("+14155550100") is not None


async def test_concurrent_refreshes_run_one_at_a_time() -> None:
    source = FakeSource(page([CHARLIE], "t1"), page([], "t2", "ISync"))
    source.gate = asyncio.Event()
    book = ContactBook(source, "1")
    both = asyncio.gather(book.refresh(), book.refresh())
    await asyncio.sleep(0)
    source.gate.set()
    await asyncio.wait_for(both, 5)
    assert source.max_active == 1
    assert source.calls == [(None, "1"), ("t1", "1")]


async def test_refresh_if_older_than() -> None:
    source = FakeSource(page([CHARLIE], "t1"), page([], "t2", "ISync"))
    clock = FakeClock()
    book = ContactBook(source, "1", clock=clock)
    assert await book.refresh_if_older_than(300) is True
    clock.advance(299)
    assert await book.refresh_if_older_than(300) is False
    clock.advance(1)
    assert await book.refresh_if_older_than(300) is True
    assert len(source.calls) == 2
