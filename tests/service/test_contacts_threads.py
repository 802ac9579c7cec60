"""A full address-book sync is parsed off the event loop (review of issue 3, finding 10)."""

from __future__ import annotations

import threading
from typing import Any

from test_contacts import ACME, CHARLIE, FakeSource, page

from rcinbox.service.contacts import ContactBook


class ReadRecorder(dict[str, Any]):
    """A contact record as the address book answers it, remembering which threads read it."""

    readers: set[int]

    def get(self, key: str, default: Any = None) -> Any:
        self.readers.add(threading.get_ident())
        return super().get(key, default)


def recorded(record: dict[str, Any]) -> ReadRecorder:
    copy = ReadRecorder(record)
    copy.readers = set()
    return copy


async def test_a_full_sync_is_parsed_in_a_worker_thread() -> None:
    records = [recorded(CHARLIE), recorded(ACME)]
    book = ContactBook(FakeSource(page(list(records), "t1")), "62264425016")
    await book.refresh()
    contact = book.lookup("(415) 555-0100")
    assert contact is not None and contact.first_name == "Charlie"
    readers = set().union(*(record.readers for record in records))
    assert readers and threading.get_ident() not in readers
