"""A full address-book sync is parsed off the event loop (review of issue 3, finding 10)."""

from __future__ import annotations

import threading

import pytest
from test_contacts import ACME, CHARLIE, FakeSource, page

from rcinbox.service import contacts as contacts_module
from rcinbox.service.contacts import ContactBook


async def test_a_full_sync_normalises_numbers_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real = contacts_module.same_key

    def recording(number: str) -> str:
        threads.append(threading.get_ident())
        return real(number)

    monkeypatch.setattr(contacts_module, "same_key", recording)
    book = ContactBook(FakeSource(page([CHARLIE, ACME], "t1")), "62264425016")
    await book.refresh()
    contact = book.lookup("(415) 555-0100")
    assert contact is not None and contact.first_name == "Charlie"
    parsed = threads[: len(threads) - 1]  # the last call is the lookup above, on the loop
    assert parsed and threading.get_ident() not in parsed
