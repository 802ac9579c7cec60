"""A full address-book sync is parsed off the event loop (review of issue 3, finding 10)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from address_book_kit import ACME, CHARLIE, page

from rcinbox.service.contacts import ContactBook
from rcinbox.wire import AddressBookSync, ContactRecord


class ReadRecorder(tuple[ContactRecord, ...]):
    """The records of an address-book answer, remembering which threads read them."""

    readers: set[int]

    def __iter__(self) -> Iterator[ContactRecord]:
        self.readers.add(threading.get_ident())
        return super().__iter__()


class OneFullBook:
    """The address book's answer to a full sync, its records read-recorded."""

    def __init__(self, answer: AddressBookSync) -> None:
        self.records = ReadRecorder(answer.records)
        self.records.readers = set()
        self.answer = answer.model_copy(update={"records": self.records})

    async def address_book_sync(self, sync_token: str | None, ext: str = "~") -> AddressBookSync:
        return self.answer


async def test_a_full_sync_is_parsed_in_a_worker_thread() -> None:
    source = OneFullBook(AddressBookSync.model_validate(page([CHARLIE, ACME], "t1")))
    book = ContactBook(source, "62264425016")
    await book.refresh()
    contact = book.lookup("(415) 555-0100")
    assert contact is not None and contact.first_name == "Charlie"
    assert source.records.readers and threading.get_ident() not in source.records.readers
