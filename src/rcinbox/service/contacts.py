"""ContactBook: the owner's RingCentral address book, cached in memory.

The address book is a Heavy-group API (10 requests a minute by default), so it is never queried per
message. :meth:`ContactBook.refresh` runs ``address-book-sync``: a full sync (``FSync``) the first
time, then incremental syncs (``ISync``) with the ``syncToken`` of the previous answer, which return
only the contacts created, changed or deleted since (``availability`` ``Deleted``/``Purged`` removes
a contact). A sync token the platform refuses (400) falls back to one full sync. The token lives in
memory only: the cache itself is in memory, so after a restart a full sync is needed anyway.

:meth:`ContactBook.lookup` compares numbers in E.164 (``phonenumbers``, default region US) across all
twelve phone fields of a contact; it answers only "is this number in the address book, under which
name" (the rules' allowlist is applied by :mod:`rcinbox.rules.recheck`, not here). The service
decides how often to refresh (:meth:`ContactBook.refresh_if_older_than`); a failed refresh raises
and leaves the previous cache in place. A full sync's records are parsed in a worker thread (the
numbers of a large book take a while to normalise; the webhook has a 3 s budget) and the new cache
is swapped in whole, so lookups meanwhile see the previous one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from rcinbox.clock import SYSTEM, Clock
from rcinbox.errors import PlatformError
from rcinbox.numbers import same_key
from rcinbox.wire import AddressBookSync, ContactRecord

_GONE = ("Deleted", "Purged")


@dataclass(frozen=True)
class Contact:
    """A contact of the address book."""

    first_name: str | None = None
    last_name: str | None = None
    display: str | None = None
    contact_id: str | None = None


class AddressBookSource(Protocol):
    """The one :class:`~rcinbox.platform.client.PlatformClient` method the book needs."""

    async def address_book_sync(self, sync_token: str | None, ext: str = "~") -> AddressBookSync: ...


class ContactBook:
    """The address book of one extension, kept current with address-book-sync."""

    def __init__(
        self,
        client: AddressBookSource,
        extension_id: str,
        *,
        clock: Clock = SYSTEM,
    ) -> None:
        self.client = client
        self.extension_id = extension_id
        self._clock = clock
        self._contacts: dict[str, tuple[Contact, frozenset[str]]] = {}
        self._index: dict[str, Contact] = {}
        self._token: str | None = None
        self._lock = asyncio.Lock()
        self.refreshed_at: float | None = None

    def __repr__(self) -> str:
        return f"ContactBook(ext={self.extension_id}, contacts={len(self._contacts)}, synced={self.loaded})"

    def __len__(self) -> int:
        return len(self._contacts)

    @property
    def loaded(self) -> bool:
        return self.refreshed_at is not None

    def lookup(self, number: str) -> Contact | None:
        """The contact with this number (any of the 12 phone fields), else ``None``."""
        return self._index.get(same_key(number))

    def is_contact(self, number: str) -> bool:
        return self.lookup(number) is not None

    async def refresh(self) -> None:
        """FSync the first time, ISync afterwards; one sync at a time."""
        async with self._lock:
            await self._sync()

    async def refresh_if_older_than(self, seconds: float) -> bool:
        """Refresh when never loaded or last refreshed more than ``seconds`` ago; True if it ran."""
        async with self._lock:
            if self.refreshed_at is not None and self._clock.monotonic() - self.refreshed_at < seconds:
                return False
            await self._sync()
            return True

    async def _sync(self) -> None:
        token = self._token
        try:
            body = await self.client.address_book_sync(token, self.extension_id)
        except PlatformError as exc:
            if token is None or exc.status != 400:
                raise
            token = None  # the platform no longer knows our token: start over
            body = await self.client.address_book_sync(None, self.extension_id)
        if token is None:  # a full book can be large: parse its numbers off the event loop
            await asyncio.to_thread(self._apply, body, full=True)
        else:
            self._apply(body, full=False)

    def _apply(self, body: AddressBookSync, *, full: bool) -> None:
        contacts = {} if full else dict(self._contacts)
        for record in body.records:
            if record.id is None:
                continue
            if record.availability in _GONE:
                contacts.pop(record.id, None)
            else:
                contacts[record.id] = _contact(record.id, record)
        self._contacts = contacts
        self._index = _index(contacts)
        self._token = body.sync_info.sync_token or None
        self.refreshed_at = self._clock.monotonic()


def _contact(contact_id: str, record: ContactRecord) -> tuple[Contact, frozenset[str]]:
    first = _text(record.first_name) or _text(record.nick_name)
    last = _text(record.last_name)
    display = " ".join(part for part in (first, last) if part) or _text(record.company)
    numbers = frozenset(same_key(value) for value in record.phone_numbers)
    return Contact(first, last, display, contact_id), numbers


def _index(contacts: Mapping[str, tuple[Contact, frozenset[str]]]) -> dict[str, Contact]:
    """Number → contact; when two contacts share a number, the one with a first name wins, then the
    lowest id (stable across refreshes)."""
    index: dict[str, Contact] = {}
    for _, (contact, numbers) in sorted(
        contacts.items(), key=lambda item: (item[1][0].first_name is None, item[0])
    ):
        for number in numbers:
            index.setdefault(number, contact)
    return index


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
